package provider

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider/providertest"
)

const day = 24 * time.Hour

// clockCases put the server's clock (its Date header) at an offset from the
// local one (fixedNow). The first three are the fault-injection run's
// (issue 8 item 6): the local clock 2 h ahead, 31 days behind, 40 days
// ahead.
var clockCases = []struct {
	name   string
	offset time.Duration // server minus local
}{
	{"local clock 2h ahead", -2 * time.Hour},
	{"local clock 31 days behind", 31 * day},
	{"local clock 40 days ahead", -40 * day},
	{"server Date 2h ahead", 2 * time.Hour},
	{"server Date 31 days behind", -31 * day},
	{"server Date 40 days ahead", 40 * day},
	{"within the threshold", 3 * time.Minute},
}

// wantLifetimes checks a token answered with an access lifetime of access and
// a refresh lifetime of refresh (0: none) by a server whose clock read
// server, received when the local clock read local. Nobody knows whether
// the local clock will be put right before the token is used, so under both
// readings the access token must never look alive after it died, and the
// refresh token never look dead before it did.
func wantLifetimes(t *testing.T, tok *auth.Token, local, server time.Time, access, refresh time.Duration) {
	t.Helper()
	if d := local.Sub(server); d < ClockSkewThreshold && d > -ClockSkewThreshold {
		// Within the threshold the local receive time decides, as always.
		server = local
	}
	if tok.Expiry.After(server.Add(access)) {
		t.Errorf("access expiry %s is after the token dies by the server's clock (%s): `token` would print a dead token once the clock is right",
			tok.Expiry.Format(time.RFC3339), server.Add(access).Format(time.RFC3339))
	}
	if tok.Expiry.After(local.Add(access)) {
		t.Errorf("access expiry %s is after the token dies by the local clock (%s)", tok.Expiry.Format(time.RFC3339), local.Add(access).Format(time.RFC3339))
	}
	if !near(tok.Expiry, minTime(local, server).Add(access)) {
		t.Errorf("access expiry %s, want %s (the earlier reading)", tok.Expiry.Format(time.RFC3339), minTime(local, server).Add(access).Format(time.RFC3339))
	}
	if refresh == 0 {
		return
	}
	if tok.RefreshExpiry.Before(server.Add(refresh)) {
		t.Errorf("refresh expiry %s is before the grant ends by the server's clock (%s): a live grant would be called consent_expired",
			tok.RefreshExpiry.Format(time.RFC3339), server.Add(refresh).Format(time.RFC3339))
	}
	if tok.RefreshExpiry.Before(local.Add(refresh)) {
		t.Errorf("refresh expiry %s is before the grant ends by the local clock (%s)", tok.RefreshExpiry.Format(time.RFC3339), local.Add(refresh).Format(time.RFC3339))
	}
}

// Code exchange and refresh: the lifetimes are read against the server's
// Date when the clocks disagree by more than the threshold.
func TestTokenLifetimesJudgedByBothClocks(t *testing.T) {
	t.Parallel()
	for _, c := range clockCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			server := fixedNow.Add(c.offset)
			f.SetDate(server)
			f.Reply("POST /token", 200, `{"access_token":"at","token_type":"bearer","expires_in":3600,"refresh_token":"rt","refresh_token_expires_in":2592000}`)
			p := newProvider(t, Settings{Type: "oauth2", ClientID: "cli", AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/token")})
			tok, err := p.Exchange(ctx(t), "code", "verifier", "http://127.0.0.1/callback")
			if err != nil {
				t.Fatal(err)
			}
			wantLifetimes(t, tok, fixedNow, server, time.Hour, 30*day)
			if !tok.ObtainedAt.Equal(fixedNow) {
				t.Errorf("ObtainedAt %s, want the local receive time %s", tok.ObtainedAt, fixedNow)
			}
			tok, err = p.Renew(ctx(t), tok)
			if err != nil {
				t.Fatal(err)
			}
			wantLifetimes(t, tok, fixedNow, server, time.Hour, 30*day)
		})
	}
}

// Meta's swaps and refreshes read expires_in the same way.
func TestMetaLifetimesJudgedByBothClocks(t *testing.T) {
	t.Parallel()
	server := fixedNow.Add(-2 * time.Hour) // the local clock 2 h ahead
	t.Run("instagram refresh", func(t *testing.T) {
		t.Parallel()
		f, p := instagramFake(t)
		f.SetDate(server)
		f.Reply("GET /refresh_access_token", 200, `{"access_token":"ig-long-2","token_type":"bearer","expires_in":5184000}`)
		tok, err := p.Renew(ctx(t), &auth.Token{AccessToken: "ig-long", Expiry: fixedNow.Add(10 * day), ObtainedAt: fixedNow.Add(-50 * day)})
		if err != nil {
			t.Fatal(err)
		}
		wantLifetimes(t, tok, fixedNow, server, 5184000*time.Second, 0)
	})
	t.Run("facebook swap", func(t *testing.T) {
		t.Parallel()
		f, p := facebookFake(t)
		f.SetDate(server)
		f.Reply("GET /v23.0/oauth/access_token", 200, `{"access_token":"fb-long-2","token_type":"bearer","expires_in":5183944}`)
		tok, err := p.Renew(ctx(t), &auth.Token{AccessToken: "fb-long", Expiry: fixedNow.Add(10 * day)})
		if err != nil {
			t.Fatal(err)
		}
		wantLifetimes(t, tok, fixedNow, server, 5183944*time.Second, 0)
	})
}

// The device flow's token comes through x/oauth2 on HTTPClient(); the Date
// of that answer is what TokenFromOAuth2 reads the lifetimes against.
func TestOAuth2TokenLifetimesJudgedByBothClocks(t *testing.T) {
	t.Parallel()
	for _, c := range clockCases[:3] {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			server := fixedNow.Add(c.offset)
			f.SetDate(server)
			f.Reply("POST /token", 200, `{"access_token":"at","token_type":"bearer","expires_in":3600,"refresh_token":"rt","refresh_expires_in":2592000}`)
			p := newProvider(t, Settings{Type: "oauth2", ClientID: "cli", AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/token"), DeviceAuthURL: f.Endpoint("/device")})
			cfg, err := p.OAuth2Config(ctx(t), "")
			if err != nil {
				t.Fatal(err)
			}
			ot, err := cfg.Exchange(context.WithValue(ctx(t), oauth2.HTTPClient, p.HTTPClient()), "code")
			if err != nil {
				t.Fatal(err)
			}
			wantLifetimes(t, p.TokenFromOAuth2(ot), fixedNow, server, time.Hour, 30*day)
		})
	}
}

// A refresh token our clock calls expired is still offered to the server,
// which is the only one that knows: it renews a live grant, and refuses a
// dead one without rotating anything.
func TestRenewAsksTheNetworkWhenOurClockSaysTheRefreshTokenExpired(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.On("POST /token", func(w http.ResponseWriter, r *http.Request, s seen) {
		switch s.Form.Get("refresh_token") {
		case "live-rotating":
			providertest.WriteJSON(w, 200, `{"access_token":"at-2","expires_in":3600,"refresh_token":"rt-2","refresh_token_expires_in":2592000}`)
		case "live":
			providertest.WriteJSON(w, 200, `{"access_token":"at-3","expires_in":3600}`)
		default:
			providertest.WriteJSON(w, 400, `{"error":"invalid_grant","error_description":"Token is not active"}`)
		}
	})
	p := newProvider(t, Settings{Type: "oauth2", ClientID: "cli", AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/token")})
	lapsed := fixedNow.Add(-time.Hour)

	old := &auth.Token{AccessToken: "at-1", RefreshToken: "live-rotating", Expiry: lapsed, RefreshExpiry: lapsed}
	if ok, why := p.CanRenew(old, fixedNow); !ok {
		t.Errorf("CanRenew = false (%s): only the network can say the grant ended", why)
	}
	tok, err := p.Renew(ctx(t), old)
	if err != nil {
		t.Fatalf("Renew of a live grant our clock calls expired: %v", err)
	}
	if tok.AccessToken != "at-2" || !near(tok.RefreshExpiry, fixedNow.Add(30*day)) {
		t.Errorf("renewed %+v", tok)
	}

	// No refresh token in the answer: the old one is kept, but not its
	// expiry, which the server just proved wrong.
	tok, err = p.Renew(ctx(t), &auth.Token{AccessToken: "at-1", RefreshToken: "live", RefreshExpiry: lapsed})
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "live" || !tok.RefreshExpiry.IsZero() {
		t.Errorf("kept refresh token %q expiry %s, want live and unknown", tok.RefreshToken, tok.RefreshExpiry)
	}

	// A dead one: the server's refusal is the verdict, explained by the
	// lifetime that ended.
	_, err = p.Renew(ctx(t), &auth.Token{AccessToken: "at-1", RefreshToken: "dead", RefreshExpiry: lapsed})
	wantKind(t, err, KindDefinite, auth.ReasonConsentExpired)
	if n := f.Count("POST /token"); n != 3 {
		t.Errorf("%d token requests, want 3 (one per renewal)", n)
	}
}

// Meta's expired long-lived tokens: the network answers 190/463 for one
// that really expired, and renews one our clock misjudged.
func TestMetaRenewAsksTheNetworkWhenOurClockSaysExpired(t *testing.T) {
	t.Parallel()
	expiredAnswer := `{"error":{"message":"Error validating access token: Session has expired on Friday, 20-Nov-26 11:00:00 PST.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"A"}}`
	t.Run("facebook", func(t *testing.T) {
		t.Parallel()
		f, p := facebookFake(t)
		f.On("GET /v23.0/oauth/access_token", func(w http.ResponseWriter, r *http.Request, s seen) {
			if s.Query.Get("fb_exchange_token") == "live" {
				providertest.WriteJSON(w, 200, `{"access_token":"fb-2","token_type":"bearer","expires_in":5183944}`)
				return
			}
			providertest.WriteJSON(w, 400, expiredAnswer)
		})
		lapsed := fixedNow.Add(-time.Minute)
		tok, err := p.Renew(ctx(t), &auth.Token{AccessToken: "live", Expiry: lapsed})
		if err != nil || tok.AccessToken != "fb-2" || !near(tok.Expiry, fixedNow.Add(5183944*time.Second)) {
			t.Fatalf("renewed %+v, %v", tok, err)
		}
		_, err = p.Renew(ctx(t), &auth.Token{AccessToken: "dead", Expiry: lapsed})
		wantKind(t, err, KindDefinite, auth.ReasonExpired)
		if n := f.Count("GET /v23.0/oauth/access_token"); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
	t.Run("instagram", func(t *testing.T) {
		t.Parallel()
		f, p := instagramFake(t)
		f.On("GET /refresh_access_token", func(w http.ResponseWriter, r *http.Request, s seen) {
			if s.Query.Get("access_token") == "live" {
				providertest.WriteJSON(w, 200, `{"access_token":"ig-2","token_type":"bearer","expires_in":5184000}`)
				return
			}
			providertest.WriteJSON(w, 400, expiredAnswer)
		})
		old := fixedNow.Add(-61 * day)
		tok, err := p.Renew(ctx(t), &auth.Token{AccessToken: "live", Expiry: fixedNow.Add(-day), ObtainedAt: old})
		if err != nil || tok.AccessToken != "ig-2" {
			t.Fatalf("renewed %+v, %v", tok, err)
		}
		_, err = p.Renew(ctx(t), &auth.Token{AccessToken: "dead", Expiry: fixedNow.Add(-day), ObtainedAt: old})
		wantKind(t, err, KindDefinite, auth.ReasonExpired)
	})
}

// A renewal that works proves the old expiry wrong: the Facebook answer
// without expires_in does not carry over an expiry that has passed.
func TestMetaRenewDropsAnExpiryTheNetworkOverturned(t *testing.T) {
	t.Parallel()
	f, p := facebookFake(t)
	f.Reply("GET /v23.0/oauth/access_token", 200, `{"access_token":"fb-2","token_type":"bearer"}`)
	tok, err := p.Renew(ctx(t), &auth.Token{AccessToken: "live", Expiry: fixedNow.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Expiry.IsZero() {
		t.Errorf("expiry %s carried over, though the network just renewed the token", tok.Expiry)
	}
}

// debug_token's deadlines are the server's times: they are compared with the
// server's Date, so a local clock 40 days ahead does not end data access.
func TestDebugTokenJudgedByTheServersClock(t *testing.T) {
	t.Parallel()
	f, p := facebookFake(t)
	server := fixedNow.Add(-40 * day)
	f.SetDate(server)
	f.Reply("GET /v23.0/debug_token", 200, mustJSON(map[string]any{"data": map[string]any{
		"app_id": "app-id", "is_valid": true, "expires_at": server.Add(50 * day).Unix(),
		"data_access_expires_at": server.Add(30 * day).Unix()}}))
	v, err := p.Verify(ctx(t), &auth.Token{AccessToken: "t"})
	if err != nil || !v.Valid {
		t.Fatalf("verdict %+v, %v: a valid token whose data access ends in 30 days by the server's clock", v, err)
	}
	// Stored, they are read like lifetimes: the token's end the earlier
	// reading (the server's here), the data access's the later (ours).
	if !v.Expiry.Equal(server.Add(50*day)) || !v.DataAccessExpiry.Equal(fixedNow.Add(30*day)) {
		t.Errorf("expiry %s, data access %s; want %s and %s", v.Expiry, v.DataAccessExpiry, server.Add(50*day), fixedNow.Add(30*day))
	}
	// Really ended, by the server's clock too.
	f.Reply("GET /v23.0/debug_token", 200, mustJSON(map[string]any{"data": map[string]any{
		"app_id": "app-id", "is_valid": true, "expires_at": server.Add(50 * day).Unix(),
		"data_access_expires_at": server.Add(-time.Hour).Unix()}}))
	v, err = p.Verify(ctx(t), &auth.Token{AccessToken: "t"})
	if err != nil || v.Valid || v.Reason != auth.ReasonConsentExpired {
		t.Fatalf("verdict %+v, %v, want consent_expired", v, err)
	}
}

// ClockSkew reports the latest answer's Date against the local clock, for
// every answer, whoever sent the request.
func TestClockSkewFromEveryAnswer(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.Reply("POST /token", 200, `{"access_token":"at","expires_in":3600}`)
	p := newProvider(t, Settings{Type: "oauth2", ClientID: "cli", AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/token")})
	if _, _, ok := p.ClockSkew(); ok {
		t.Fatal("ClockSkew ok before any answer")
	}
	host := strings.TrimPrefix(f.URL, "http://")
	for _, c := range clockCases {
		f.SetDate(fixedNow.Add(c.offset))
		if _, err := p.Exchange(ctx(t), "code", "", "http://127.0.0.1/callback"); err != nil {
			t.Fatal(err)
		}
		skew, h, ok := p.ClockSkew()
		if !ok || h != host || skew != -c.offset {
			t.Errorf("%s: ClockSkew = %v %q %v, want %v %q", c.name, skew, h, ok, -c.offset, host)
		}
	}
	// x/oauth2's requests through HTTPClient count too; a refused one as well.
	f.SetDate(fixedNow.Add(time.Hour))
	f.Reply("POST /token", 400, `{"error":"authorization_pending"}`)
	cfg, err := p.OAuth2Config(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = cfg.Exchange(context.WithValue(ctx(t), oauth2.HTTPClient, p.HTTPClient()), "code")
	if skew, _, _ := p.ClockSkew(); skew != -time.Hour {
		t.Errorf("after x/oauth2's answer, skew %v, want -1h", skew)
	}
	// A Provider built on another's HTTPClient measures its own answers.
	q, err := New(Settings{Type: "oauth2", ClientID: "cli", AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/token")}, p.HTTPClient())
	if err != nil {
		t.Fatal(err)
	}
	q.SetClock(func() time.Time { return fixedNow.Add(10 * time.Minute) })
	_, _ = q.Exchange(ctx(t), "code", "", "http://127.0.0.1/callback")
	if skew, _, _ := q.ClockSkew(); skew != -50*time.Minute {
		t.Errorf("second Provider: skew %v, want -50m", skew)
	}
	if skew, _, _ := p.ClockSkew(); skew != -time.Hour {
		t.Errorf("first Provider's skew changed to %v by the second's answer", skew)
	}
}

// MeasureClock asks once, harmlessly: the discovery document for oidc, a
// HEAD of the token endpoint without its query otherwise; no secret, no
// redirect followed.
func TestMeasureClock(t *testing.T) {
	t.Parallel()
	t.Run("oidc discovery, redirect not followed", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		f.SetDate(fixedNow.Add(-2 * time.Hour))
		f.On("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request, s seen) {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		})
		f.Reply("GET /elsewhere", 200, `{}`)
		p := newProvider(t, Settings{Type: "oidc", ClientID: "cli", ClientSecret: "SECRET-7", Issuer: f.URL})
		skew, host, err := p.MeasureClock(ctx(t))
		if err != nil || skew != 2*time.Hour || host != strings.TrimPrefix(f.URL, "http://") {
			t.Fatalf("MeasureClock = %v %q %v, want 2h ahead", skew, host, err)
		}
		if n := f.Count("GET /elsewhere"); n != 0 {
			t.Errorf("the redirect was followed (%d requests)", n)
		}
		if s, _, ok := p.ClockSkew(); !ok || s != 2*time.Hour {
			t.Errorf("ClockSkew after MeasureClock = %v %v", s, ok)
		}
		if msg := SkewWarning(skew, host); !strings.Contains(msg, "the system clock is 2h ahead of "+host) || !strings.Contains(msg, "fix the system clock") {
			t.Errorf("SkewWarning = %q", msg)
		}
	})
	t.Run("token endpoint, no secret", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		f.SetDate(fixedNow.Add(31 * day))
		p := newProvider(t, Settings{Type: "facebook", ClientID: "app-id", ClientSecret: "SECRET-7",
			TokenURL: f.Endpoint("/v23.0/oauth/access_token?client_id=app-id")})
		skew, _, err := p.MeasureClock(ctx(t))
		if err != nil || skew != -31*day {
			t.Fatalf("MeasureClock = %v %v, want 31 days behind", skew, err)
		}
		reqs := f.Requests()
		if len(reqs) != 1 || reqs[0].Method != http.MethodHead || reqs[0].Path != "/v23.0/oauth/access_token" || len(reqs[0].Query) != 0 {
			t.Fatalf("requests %+v, want one HEAD of the token endpoint without its query", reqs)
		}
		if reqs[0].Header.Get("Authorization") != "" || reqs[0].HasBasic {
			t.Error("MeasureClock sent credentials")
		}
		if got := SkewWarning(skew, "graph.facebook.com"); !strings.Contains(got, "31 days behind graph.facebook.com") {
			t.Errorf("SkewWarning = %q", got)
		}
	})
	t.Run("a cached answer's Age counts", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		f.SetDate(fixedNow.Add(-2 * time.Hour))
		f.On("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request, s seen) {
			w.Header().Set("Age", "7200") // cached two hours ago by a CDN
			providertest.WriteJSON(w, 200, `{}`)
		})
		p := newProvider(t, Settings{Type: "oidc", ClientID: "cli", Issuer: f.URL})
		if skew, _, err := p.MeasureClock(ctx(t)); err != nil || skew != 0 {
			t.Fatalf("MeasureClock = %v %v, want no skew", skew, err)
		}
	})
	t.Run("offline", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		p := newProvider(t, Settings{Type: "oauth2", ClientID: "cli", AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/token")})
		f.Close()
		_, _, err := p.MeasureClock(ctx(t))
		e := wantKind(t, err, KindTransient, "")
		if !strings.Contains(e.Error(), "comparing the clock failed") {
			t.Errorf("message %q", e.Error())
		}
	})
	t.Run("no Date header", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		f.DropDate()
		p := newProvider(t, Settings{Type: "oauth2", ClientID: "cli", AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/token")})
		if _, _, err := p.MeasureClock(ctx(t)); !errors.Is(err, ErrNoDate) {
			t.Fatalf("err %v, want ErrNoDate", err)
		}
		if _, _, ok := p.ClockSkew(); ok {
			t.Error("ClockSkew ok from an answer without a Date")
		}
	})
}

func TestSkewWarningAndHumanDuration(t *testing.T) {
	t.Parallel()
	if got := SkewWarning(4*time.Minute, "h"); got != "" {
		t.Errorf("a skew within the threshold warns: %q", got)
	}
	for d, want := range map[time.Duration]string{
		40 * time.Second: "40s", 90 * time.Second: "1m30s", 7 * time.Minute: "7m", 12*time.Minute + 20*time.Second: "12m",
		2 * time.Hour: "2h", 150 * time.Minute: "2h30m", 47 * time.Hour: "47h",
		31 * day: "31 days", -40*day - time.Hour: "40 days",
	} {
		if got := HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// Introspection's exp about an active refresh token is the grant's end by
// the server, which verify passes on so a wrong stored one can be replaced.
func TestVerifyReportsTheRefreshExpiry(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	end := fixedNow.Add(30 * day).Truncate(time.Second)
	f.Reply("POST /introspect", 200, mustJSON(map[string]any{"active": true, "token_type": "refresh_token", "exp": end.Unix()}))
	p := newProvider(t, Settings{Type: "oauth2", ClientID: "cli", ClientSecret: "s", AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/token"), IntrospectURL: f.Endpoint("/introspect")})
	v, err := p.Verify(ctx(t), &auth.Token{AccessToken: "at", RefreshToken: "rt", RefreshExpiry: fixedNow.Add(-day)})
	if err != nil || !v.Valid || !v.RefreshExpiry.Equal(end) {
		t.Fatalf("verdict %+v, %v, want valid with refresh expiry %s", v, err, end)
	}
	// The local clock 31 days behind: the grant's end is the later
	// reading, the server's.
	f.SetDate(fixedNow.Add(31 * day))
	end = fixedNow.Add(61 * day).Truncate(time.Second)
	f.Reply("POST /introspect", 200, mustJSON(map[string]any{"active": true, "token_type": "refresh_token", "exp": end.Unix()}))
	v, err = p.Verify(ctx(t), &auth.Token{AccessToken: "at", RefreshToken: "rt"})
	if err != nil || !v.Valid || !v.RefreshExpiry.Equal(end) {
		t.Fatalf("verdict %+v, %v, want refresh expiry %s", v, err, end)
	}
	// An access token's exp: the earlier reading, ours.
	exp := fixedNow.Add(31*day + time.Hour).Truncate(time.Second)
	f.Reply("POST /introspect", 200, mustJSON(map[string]any{"active": true, "token_type": "access_token", "exp": exp.Unix()}))
	v, err = p.Verify(ctx(t), &auth.Token{AccessToken: "at"})
	if err != nil || !v.Valid || !v.Expiry.Equal(fixedNow.Add(time.Hour)) {
		t.Fatalf("verdict %+v, %v, want access expiry %s", v, err, fixedNow.Add(time.Hour))
	}
}
