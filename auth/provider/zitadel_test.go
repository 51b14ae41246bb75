package provider

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/flow"
	"github.com/sbctl/sbctl/auth/oidctest"
)

// These tests run sbctl's provider layer against the zitadel/oidc example
// OP (auth/oidctest), a standards server this project did not write. What
// it does that matters here: its ID token carries only sub (profile claims
// are in userinfo, OIDC Core §5.4); its introspection endpoint takes only
// client_secret_basic or private_key_jwt, so a public client gets 401
// invalid_client there; it rotates refresh tokens and a refresh ends the
// previous access token; and oidctest makes it refuse a confidential client
// that authenticates by another method than the one it is registered for.

// zitadelProvider is an oidc provider for one of the OP's clients.
func zitadelProvider(t *testing.T, op *oidctest.OP, clientID string, style string) *Provider {
	t.Helper()
	secret := oidctest.ClientSecret
	if clientID == oidctest.PublicClient {
		secret = ""
	}
	p, err := New(Settings{
		Name: "zitadel", Type: TypeOIDC, Issuer: op.Issuer,
		ClientID: clientID, ClientSecret: secret,
		Scopes:     []string{"openid", "profile", "offline_access"},
		ClientAuth: style,
	}, nil)
	if err != nil {
		t.Fatalf("provider.New: %v", err)
	}
	return p
}

// zitadelConnect signs in through the browser flow with the ClickThrough
// browser and exchanges the code, as `sbctl reauth` does.
func zitadelConnect(t *testing.T, op *oidctest.OP, p *Provider) *auth.Token {
	t.Helper()
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	ep, err := p.Endpoints(ctx)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	res, err := flow.Run(ctx, flow.Params{
		AuthURL: ep.AuthURL, ClientID: p.ClientID(), Scopes: p.Scopes(),
		CallbackPath: p.RedirectPath(), PKCE: auth.PKCERequired,
		Issuer: ep.Issuer, RequireIss: ep.IssParameterSupported,
		Browser: op.Browser(cancel), Stderr: io.Discard, Timeout: 20 * time.Second,
	})
	if err != nil {
		t.Fatalf("browser flow: %v", err)
	}
	tok, err := p.Exchange(ctx, res.Code, res.CodeVerifier, res.RedirectURI)
	if err != nil {
		t.Fatalf("exchange: %v\nclient auth seen by the OP: %v", err, op.TokenAuth(p.ClientID()))
	}
	if tok.AccessToken == "" || !tok.HasRefresh() || tok.IDToken == "" {
		t.Fatalf("exchange gave %+v", tok)
	}
	// The example issues 5-minute access tokens.
	if left := time.Until(tok.Expiry); left < 4*time.Minute || left > 6*time.Minute {
		t.Errorf("access token expiry %v from now, want about 5 minutes", left)
	}
	return tok
}

// assertRenews refreshes tok and checks the rotation: a new refresh token,
// and the old one refused as a definite rejection.
func assertRenews(t *testing.T, p *Provider, tok *auth.Token) *auth.Token {
	t.Helper()
	ctx := t.Context()
	next, err := p.Renew(ctx, tok)
	if err != nil {
		t.Fatalf("renew: %v", err)
	}
	if next.AccessToken == "" || next.AccessToken == tok.AccessToken {
		t.Errorf("renew kept the access token")
	}
	if !next.HasRefresh() || next.RefreshToken == tok.RefreshToken {
		t.Errorf("renew did not store the rotated refresh token")
	}
	if _, err := p.Renew(ctx, tok); err == nil {
		t.Errorf("the OP accepted a spent refresh token")
	} else if _, ok := Definite(err); !ok {
		t.Errorf("a spent refresh token (invalid_grant) is not a definite rejection: %v", err)
	}
	return next
}

func TestZitadelPublicClient(t *testing.T) {
	t.Parallel()
	op := oidctest.Start(t)
	p := zitadelProvider(t, op, oidctest.PublicClient, "")
	tok := zitadelConnect(t, op, p)
	if got := op.TokenAuth(oidctest.PublicClient); !slices.Equal(got, []string{oidctest.AuthNone}) {
		t.Errorf("the public client authenticated at the token endpoint with %v, want only its client_id", got)
	}
	tok = assertRenews(t, p, tok)

	// Item 10: the ID token has only sub, so the name comes from userinfo.
	t.Run("Account", func(t *testing.T) {
		a, err := p.Account(t.Context(), tok)
		if err != nil {
			t.Fatalf("account: %v", err)
		}
		if a.ID != oidctest.UserID {
			t.Errorf("account id %q, want %q", a.ID, oidctest.UserID)
		}
		if a.Name != op.Username() && a.Name != oidctest.DisplayName {
			t.Errorf("account name %q, want %q or %q (from userinfo: the ID token carries only sub)", a.Name, op.Username(), oidctest.DisplayName)
		}
	})

	// Item 11: introspection refuses a public client (401 invalid_client,
	// and discovery says it takes only client_secret_basic and
	// private_key_jwt), so verify must ask userinfo instead.
	t.Run("Verify", func(t *testing.T) {
		v, err := p.Verify(t.Context(), tok)
		if err != nil {
			t.Fatalf("verify of a live grant: %v", err)
		}
		if !v.Valid {
			t.Fatalf("verify of a live grant: %+v", v)
		}
		if v.Check != CheckUserinfo {
			t.Errorf("verify answered by %q, want %q", v.Check, CheckUserinfo)
		}
	})
}

func TestZitadelConfidentialClient(t *testing.T) {
	t.Parallel()
	op := oidctest.Start(t)
	// client_auth: client_secret_basic in the config: what works today.
	p := zitadelProvider(t, op, oidctest.BasicClient, "basic")
	tok := zitadelConnect(t, op, p)

	v, err := p.Verify(t.Context(), tok)
	if err != nil || !v.Valid || v.Check != CheckIntrospection {
		t.Fatalf("verify by introspection: %+v, %v", v, err)
	}
	tok = assertRenews(t, p, tok)
	if v, err := p.Verify(t.Context(), tok); err != nil || !v.Valid {
		t.Fatalf("verify after renew: %+v, %v", v, err)
	}
	if got := op.TokenAuth(oidctest.BasicClient); slices.ContainsFunc(got, func(m string) bool { return m != oidctest.AuthBasic }) {
		t.Errorf("client auth at the token endpoint %v, want only %s", got, oidctest.AuthBasic)
	}
	if a, err := p.Account(t.Context(), tok); err != nil || a.ID != oidctest.UserID {
		t.Errorf("account %+v, %v", a, err)
	}
}

// TestZitadelVerifyLapsedAccessToken: when sbctl believes the access token
// has lapsed, verify asks about the grant. The example OP answers
// {"active":false} for every refresh token, live or not (its introspection
// reads access tokens only; RFC 7662 §2.2 lets a server do that), so an
// inactive answer about a refresh token is no proof of a dead grant.
func TestZitadelVerifyLapsedAccessToken(t *testing.T) {
	t.Parallel()
	op := oidctest.Start(t)
	p := zitadelProvider(t, op, oidctest.BasicClient, "basic")
	tok := zitadelConnect(t, op, p)
	p.SetClock(func() time.Time { return time.Now().Add(10 * time.Minute) })
	v, err := p.Verify(t.Context(), tok)
	if err == nil && !v.Valid {
		t.Fatalf("verify called a live grant dead (%s, reason %s): introspecting the refresh token says active:false at this server", v.Check, v.Reason)
	}
}

// TestZitadelRevokedGrantIsDead: once the grant is revoked, verify never
// calls it valid; with introspection (confidential client) the answer is a
// definite access_revoked; and renewing is refused as access_revoked
// (invalid_grant), the proof a public client has.
func TestZitadelRevokedGrantIsDead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, client string
		style        string
		bySbctl      bool // revoke with sbctl's own RFC 7009 call, else at the OP
	}{
		{"public/at the OP", oidctest.PublicClient, "", false},
		{"public/RFC 7009", oidctest.PublicClient, "", true},
		{"confidential/at the OP", oidctest.BasicClient, "basic", false},
		{"confidential/RFC 7009", oidctest.BasicClient, "basic", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			op := oidctest.Start(t)
			p := zitadelProvider(t, op, tc.client, tc.style)
			tok := zitadelConnect(t, op, p)
			if tc.bySbctl {
				if err := p.Revoke(t.Context(), tok); err != nil {
					t.Fatalf("revoke: %v", err)
				}
			} else if err := op.RevokeGrants(t.Context(), tc.client); err != nil {
				t.Fatal(err)
			}
			v, err := p.Verify(t.Context(), tok)
			switch {
			case err == nil && v.Valid:
				t.Fatalf("verify called a revoked grant valid (%s)", v.Check)
			case tc.client == oidctest.PublicClient:
				// Userinfo answers 403 "{}" for a revoked access token,
				// which proves nothing by itself; the refresh below is
				// the proof, and the domain (profiles) may use it.
				if err == nil {
					t.Logf("verify: valid=false reason=%q check=%s", v.Reason, v.Check)
				} else {
					t.Logf("verify could not decide: %v", err)
				}
			case err != nil:
				t.Fatalf("verify of a revoked grant could not decide: %v", err)
			case v.Reason != auth.ReasonAccessRevoked:
				t.Fatalf("verify of a revoked grant: reason %q (%s), want %q", v.Reason, v.Check, auth.ReasonAccessRevoked)
			}
			if _, err := p.Renew(t.Context(), tok); err == nil {
				t.Error("renew of a revoked grant worked")
			} else if r, ok := Definite(err); !ok || r != auth.ReasonAccessRevoked {
				t.Errorf("renew of a revoked grant: %v (definite %v, reason %q)", err, ok, r)
			}
		})
	}
}

// TestZitadelDefaultClientAuth is item 12: with no client_auth in the
// config, sbctl tries HTTP Basic first (RFC 6749 §2.3.1 makes servers
// support it), falls back to the form once on invalid_client, and keeps
// using what worked.
func TestZitadelDefaultClientAuth(t *testing.T) {
	t.Parallel()
	t.Run("registered for client_secret_basic", func(t *testing.T) {
		t.Parallel()
		op := oidctest.Start(t)
		p := zitadelProvider(t, op, oidctest.BasicClient, "")
		tok := zitadelConnect(t, op, p)
		if got := op.TokenAuth(oidctest.BasicClient); !slices.Equal(got, []string{oidctest.AuthBasic}) {
			t.Errorf("token endpoint saw %v, want [%s]", got, oidctest.AuthBasic)
		}
		if v, err := p.Verify(t.Context(), tok); err != nil || !v.Valid || v.Check != CheckIntrospection {
			t.Errorf("verify by introspection (Basic only at this server): %+v, %v", v, err)
		}
	})
	t.Run("registered for client_secret_post", func(t *testing.T) {
		t.Parallel()
		op := oidctest.Start(t)
		p := zitadelProvider(t, op, oidctest.PostClient, "")
		tok := zitadelConnect(t, op, p)
		if _, err := p.Renew(t.Context(), tok); err != nil {
			t.Fatalf("renew: %v", err)
		}
		want := []string{oidctest.AuthBasic, oidctest.AuthPost, oidctest.AuthPost}
		if got := op.TokenAuth(oidctest.PostClient); !slices.Equal(got, want) {
			t.Errorf("token endpoint saw %v, want %v (Basic once, then the form, remembered)", got, want)
		}
	})
}
