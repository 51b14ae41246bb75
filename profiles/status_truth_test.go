package profiles

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth/provider/providertest"
	"github.com/sbctl/sbctl/auth/store"
)

// The health signal never lies (issue 7): a check that could not be made,
// a refresh that failed for a non-transient reason, a missing token and an
// access token the network calls lapsed each end in the status that tells
// the truth.

// userinfoProviderYAML: a generic provider checked through userinfo (no
// introspection endpoint), as many OIDC servers are.
func userinfoProviderYAML(name, base string) string {
	return fmt.Sprintf("  %s:\n    type: oauth2\n    auth_url: %s/authorize\n    token_url: %s/token\n    userinfo_url: %s/userinfo\n    client_id: c\n",
		name, base, base, base)
}

// Item 4: a verify that "could not check" for a non-transient reason (the
// server refused the app's credentials, an unexpected 4xx) leaves the
// status unknown with the reason in detail, never ok.
func TestVerifyNonTransientFailureIsUnknown(t *testing.T) {
	cases := map[string]func(w http.ResponseWriter){
		"invalid_client": func(w http.ResponseWriter) {
			providertest.WriteJSON(w, http.StatusUnauthorized, `{"error":"invalid_client","error_description":"client authentication failed"}`)
		},
		"unexpected 418": func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusTeapot)
			_, _ = w.Write([]byte("<html>I'm a teapot</html>"))
		},
	}
	for name, answer := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if r.URL.Path == "/introspect" {
					answer(w)
					return
				}
				w.WriteHeader(http.StatusNotFound)
			})
			w := newFaultWS(t, faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a"}))
			w.seed(t, "p", oldToken(time.Now().Add(time.Hour)))
			if v := w.status(t, "p"); v.Status != StatusOK {
				t.Fatalf("seeded status %s", v.Status)
			}
			res, err := w.m.Verify(context.Background(), []string{"p"}, false, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !res[0].Failed || res[0].Valid {
				t.Errorf("result %+v, want a failed check", res[0])
			}
			v := w.status(t, "p")
			if v.Status != StatusUnknown || v.Detail == "" {
				t.Errorf("status %s (%q) after a check that could not be made, want unknown with why", v.Status, v.Detail)
			}
			if res[0].Status != StatusUnknown {
				t.Errorf("result status %s, want unknown", res[0].Status)
			}
		})
	}
}

// Item 6: in no case does a failed refresh of an expired access token
// leave status ok (a refused client, an unexpected answer).
func TestFailedRefreshOfExpiredTokenIsNeverOK(t *testing.T) {
	cases := map[string]func(w http.ResponseWriter){
		"unauthorized_client": func(w http.ResponseWriter) {
			providertest.WriteJSON(w, http.StatusBadRequest, `{"error":"unauthorized_client"}`)
		},
		"html 404": func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte("<html>not found</html>"))
		},
		"200 without a token": func(w http.ResponseWriter) {
			providertest.WriteJSON(w, http.StatusOK, `{"ok":true}`)
		},
	}
	for name, answer := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) { answer(w) })
			w := newFaultWS(t, faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a"}))
			w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
			if _, err := w.m.Token(context.Background(), "p", DefaultMinTTL); err == nil {
				t.Fatal("Token succeeded with a refresh the server refused")
			}
			if v := w.status(t, "p"); v.Status == StatusOK {
				t.Errorf("status ok after a failed refresh of an expired access token (%s)", v.Detail)
			}
		})
	}
}

// Item 1: verify of a profile whose stored token was deleted by hand
// records not_connected (and the CLI exits 3), instead of "ok, never
// connected".
func TestVerifyMissingTokenIsNotConnected(t *testing.T) {
	t.Parallel()
	f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) { t.Errorf("unexpected request %s", r.URL.Path) })
	w := newFaultWS(t, faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a", "q": "a"}))
	w.seed(t, "p", oldToken(time.Now().Add(time.Hour)))
	if err := w.fs.Delete(context.Background(), store.ProfileKey("p")); err != nil {
		t.Fatal(err)
	}
	res, err := w.m.Verify(context.Background(), []string{"p"}, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Valid || res[0].Status != StatusNotConnected || !strings.Contains(res[0].Message, "no token is stored") {
		t.Errorf("result %+v, want not_connected", res[0])
	}
	if v := w.status(t, "p"); v.Status != StatusNotConnected {
		t.Errorf("status %s after verify found no token, want not_connected", v.Status)
	}
	// token agrees (and records it too).
	w.seed(t, "q", oldToken(time.Now().Add(time.Hour)))
	_ = w.fs.Delete(context.Background(), store.ProfileKey("q"))
	_, err = w.m.Token(context.Background(), "q", DefaultMinTTL)
	var nc *NotConnectedError
	if !errors.As(err, &nc) {
		t.Errorf("Token of a profile without a stored token: %v, want NotConnectedError", err)
	}
	if v := w.status(t, "q"); v.Status != StatusNotConnected {
		t.Errorf("status %s after token found no token, want not_connected", v.Status)
	}
}

// An expired access token is never a verdict on the grant (issue 8 item
// 5): the network says the access token lapsed before sbctl's estimate;
// verify renews and asks again.
func TestVerifyLapsedAccessTokenRenewsFirst(t *testing.T) {
	t.Parallel()
	f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/userinfo":
			if r.Header.Get("Authorization") == "Bearer AT-old" {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="The access token expired"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			providertest.WriteJSON(w, http.StatusOK, `{"sub":"u1","name":"User One"}`)
		case "/token":
			providertest.TokenAnswer(w, "AT-new", "RT-new")
		}
	})
	w := newFaultWS(t, faultConfig(userinfoProviderYAML("a", f.URL), map[string]string{"p": "a"}))
	w.seed(t, "p", oldToken(time.Now().Add(time.Hour)))
	res, err := w.m.Verify(context.Background(), []string{"p"}, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Valid || res[0].Status != StatusOK {
		t.Errorf("result %+v: a lapsed access token with a live refresh token was taken for a dead grant", res[0])
	}
	if n := len(f.Calls("/token")); n != 1 {
		t.Errorf("%d refresh requests, want 1", n)
	}
	if got := w.stored(t, "p"); got.AccessToken != "AT-new" {
		t.Errorf("stored %q, want the renewed token", got.AccessToken)
	}
}

// Issue 8 item 5 with introspection: a token imported a few seconds after
// it was issued lapses before sbctl's estimate; the server calls the
// access token inactive but the refresh token (the grant) active.
func TestVerifyIntrospectionLapsedAccessTokenIsNoVerdict(t *testing.T) {
	t.Parallel()
	f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/introspect":
			if r.Form.Get("token") == "RT-old" {
				providertest.WriteJSON(w, http.StatusOK, `{"active":true,"token_type":"refresh_token"}`)
				return
			}
			providertest.WriteJSON(w, http.StatusOK, `{"active":false}`)
		case "/token":
			providertest.TokenAnswer(w, "AT-new", "RT-new")
		}
	})
	w := newFaultWS(t, faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a"}))
	w.seed(t, "p", oldToken(time.Now().Add(3*time.Second)))
	res, err := w.m.Verify(context.Background(), []string{"p"}, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Valid || res[0].Status != StatusOK {
		t.Errorf("result %+v: an access token that lapsed early was taken for a dead grant", res[0])
	}
	if v := w.status(t, "p"); v.Status != StatusOK {
		t.Errorf("status %s", v.Status)
	}
}

// Issue 8 item 6: a clock 40 days ahead makes the refresh token look
// expired. That is a prediction: the network is still asked, and nothing
// is stored that outlives the wrong clock.
func TestWrongClockLeavesNoLastingVerdict(t *testing.T) {
	t.Parallel()
	f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
		providertest.TokenAnswer(w, "AT-new", "")
	})
	dir := t.TempDir()
	w := openFaultWS(t, dir, faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a"}), nil)
	tok := oldToken(time.Now().Add(-time.Minute))
	tok.RefreshExpiry = time.Now().Add(30 * 24 * time.Hour)
	w.seed(t, "p", tok)

	ahead := func() time.Time { return time.Now().Add(40 * 24 * time.Hour) }
	m, err := Open(Options{ConfigPath: w.m.ConfigPath(), StateDir: filepath.Join(dir, "state"), Store: w.fs, Now: ahead, Warn: w.warn, Sleep: w.sleep})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Token(context.Background(), "p", DefaultMinTTL); err != nil {
		t.Fatalf("Token with the clock 40 days ahead: %v (the network was not asked?)", err)
	}
	if n := len(f.Calls("/token")); n != 1 {
		t.Errorf("%d refresh requests, want 1: the network decides, not our clock", n)
	}
	if !strings.Contains(w.warn.String(), "ahead of") {
		t.Errorf("no warning about the clock: %q", w.warn.String())
	}
	// The clock is right again: nothing lasting was recorded.
	if v := w.status(t, "p"); v.Status != StatusOK {
		t.Errorf("status %s (%s) once the clock is right, want ok", v.Status, v.Detail)
	}
	if rec := w.record(t, "p"); rec.NeedsReauth {
		t.Errorf("a verdict from the wrong clock was stored: %+v", rec)
	}
}
