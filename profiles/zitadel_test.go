package profiles

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/oidctest"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/auth/testkit"
)

// TestZitadelEndToEnd takes one profile through the domain against the
// zitadel/oidc example OP (auth/oidctest), with its public native client:
// connect, list/show, verify, a renewal forced by an expired access token,
// and a grant the user revoked at the provider.
func TestZitadelEndToEnd(t *testing.T) {
	t.Parallel()
	op := oidctest.Start(t)
	m, fs := newWorkspace(t, fmt.Sprintf(
		"providers:\n  zitadel:\n    type: oidc\n    issuer: %s\n    client_id: %s\n    scopes: [openid, profile, offline_access]\nprofiles:\n  zp:\n    provider: zitadel\n",
		op.Issuer, oidctest.PublicClient))

	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	var stderr testkit.Buffer
	res, err := m.Reauth(ctx, "zp", ReauthOptions{Browser: op.Browser(cancel), Stderr: &stderr, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("reauth: %v\n%s", err, stderr.String())
	}
	if res.Account.ID != oidctest.UserID || res.View.Status != StatusOK {
		t.Errorf("reauth result: account %+v, status %s", res.Account, res.View.Status)
	}
	tok, err := store.GetToken(ctx, fs, "zp")
	if err != nil || !tok.HasRefresh() || strings.Contains(stderr.String(), tok.AccessToken) {
		t.Fatalf("stored token: %v (refresh token %v)", err, tok != nil && tok.HasRefresh())
	}

	// Item 10: zitadel's ID token has only sub; the account name comes from
	// userinfo, and is the same on the connect line, in list and in show.
	t.Run("account", func(t *testing.T) {
		if n := res.Account.Name; n != op.Username() && n != oidctest.DisplayName {
			t.Errorf("connected as %q, want the user's name from userinfo (%q or %q)", n, op.Username(), oidctest.DisplayName)
		}
		views, err := m.List(ctx, Filter{})
		if err != nil || len(views) != 1 {
			t.Fatalf("list: %v, %v", views, err)
		}
		show, err := m.Show(ctx, "zp", 0)
		if err != nil {
			t.Fatal(err)
		}
		for what, v := range map[string]View{"list": views[0], "show": show} {
			if v.Status != StatusOK {
				t.Errorf("%s: status %s, want ok", what, v.Status)
			}
			if got := deref(v.Account); got == "" || got == "-" || got != res.Account.Name {
				t.Errorf("%s: account %q, want %q as on the connect line", what, got, res.Account.Name)
			}
		}
	})

	// Item 11: the public client cannot introspect at this server (401
	// invalid_client): verify must answer through userinfo.
	t.Run("verify", func(t *testing.T) {
		vr, err := m.Verify(ctx, []string{"zp"}, false, 1)
		if err != nil || len(vr) != 1 {
			t.Fatalf("verify: %v, %v", vr, err)
		}
		if !vr[0].Valid || vr[0].Failed {
			t.Errorf("verify of a live grant: %+v", vr[0])
		}
		if v, _ := m.Show(ctx, "zp", 0); v.Status != StatusOK {
			t.Errorf("status after verify %s (%s), want ok", v.Status, v.Detail)
		}
	})

	// An access token that has expired is renewed by `sbctl token`, and the
	// rotated refresh token is stored.
	t.Run("token renews", func(t *testing.T) {
		old, err := store.GetToken(ctx, fs, "zp")
		if err != nil {
			t.Fatal(err)
		}
		lapsed := *old
		lapsed.Expiry = time.Now().Add(-time.Minute)
		if err := store.PutToken(ctx, fs, "zp", &lapsed); err != nil {
			t.Fatal(err)
		}
		at, err := m.Token(ctx, "zp", 0)
		if err != nil {
			t.Fatalf("token: %v", err)
		}
		now, err := store.GetToken(ctx, fs, "zp")
		if err != nil {
			t.Fatal(err)
		}
		if at == old.AccessToken || at != now.AccessToken {
			t.Error("token did not return a renewed, stored access token")
		}
		if now.RefreshToken == old.RefreshToken || !time.Now().Before(now.Expiry) {
			t.Errorf("after renewal: refresh token rotated %v, expiry %v", now.RefreshToken != old.RefreshToken, now.Expiry)
		}
		if v, _ := m.Show(ctx, "zp", 0); v.Status != StatusOK {
			t.Errorf("status after renewal %s (%s)", v.Status, v.Detail)
		}
	})

	// The user removes the app's access at the provider: verify finds the
	// dead grant and says why.
	t.Run("revoked", func(t *testing.T) {
		if err := op.RevokeGrants(ctx, oidctest.PublicClient); err != nil {
			t.Fatal(err)
		}
		vr, err := m.Verify(ctx, []string{"zp"}, false, 1)
		if err != nil || len(vr) != 1 {
			t.Fatalf("verify: %v, %v", vr, err)
		}
		if vr[0].Valid || vr[0].Failed || vr[0].Reason != auth.ReasonAccessRevoked {
			t.Errorf("verify of a revoked grant: %+v", vr[0])
		}
		v, err := m.Show(ctx, "zp", 0)
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != StatusNeedsReauth || deref(v.Reason) != string(auth.ReasonAccessRevoked) {
			t.Errorf("after revocation: status %s, reason %q, detail %q; want needs_reauth, access_revoked", v.Status, deref(v.Reason), v.Detail)
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
