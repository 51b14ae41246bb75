package profiles

// Fault injection for renewal (SPEC §1, §4 `token`/`refresh`/`verify`, §6;
// SECURITY 14, 18–23): fake token endpoints on 127.0.0.1 that fail in the
// ways real networks do, and what sbctl must make of each failure.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider"
	"github.com/sbctl/sbctl/auth/provider/providertest"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/auth/testkit"
)

const (
	faultMarker  = "MARKER-SECRET-1234"
	faultGSecret = "gsecret-7f3a"      // google client secret (from the store)
	faultASecret = "asecret-oauth2-91" // oauth2 client secret (from the store)
)

// ---------------------------------------------------------------------------
// The fake authorization server (providertest).

// newFaultServer starts a fake network on 127.0.0.1 whose every request goes
// to h, with the form already parsed and n, the 1-based count of requests
// to that path (and method).
func newFaultServer(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) *providertest.Server {
	t.Helper()
	f := providertest.New(t)
	f.SetFallback(func(w http.ResponseWriter, r *http.Request, req providertest.Request) {
		_ = r.ParseForm()
		h(w, r, req.N)
	})
	return f
}

// refreshTokens lists the refresh tokens sent to f's /token, in order.
func refreshTokens(f *providertest.Server) []string {
	var out []string
	for _, q := range f.Calls("POST /token") {
		out = append(out, q.Form.Get("refresh_token"))
	}
	return out
}

// ---------------------------------------------------------------------------
// Workspaces.

func oauth2ProviderYAML(name, base string) string {
	return fmt.Sprintf("  %s:\n    type: oauth2\n    auth_url: %s/authorize\n    token_url: %s/token\n    revoke_url: %s/revoke\n    introspect_url: %s/introspect\n    client_id: c\n",
		name, base, base, base, base)
}

// googleProviderYAML: a preset that does not rotate refresh tokens, with its
// token endpoint on the fake.
func googleProviderYAML(name, base string) string {
	return fmt.Sprintf("  %s:\n    type: google\n    token_url: %s/token\n    client_id: c\n", name, base)
}

func faultConfig(providers string, profiles map[string]string) string {
	var b strings.Builder
	b.WriteString("providers:\n" + providers + "profiles:\n")
	for _, name := range sortedKeys(profiles) {
		fmt.Fprintf(&b, "  %s:\n    provider: %s\n", name, profiles[name])
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

type faultWS struct {
	m    *Manager
	fs   *store.File
	dir  string
	warn *testkit.Buffer

	// The Manager's backoff waits, recorded instead of slept.
	mu     sync.Mutex
	sleeps []time.Duration
}

func (w *faultWS) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.sleeps = append(w.sleeps, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *faultWS) waits() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.sleeps...)
}

// openFaultWS writes cfg into dir and opens a Manager on a file store there,
// with its warnings captured; wrap, when set, wraps the file store.
func openFaultWS(t *testing.T, dir, cfg string, wrap func(store.Store) store.Store) *faultWS {
	t.Helper()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &faultWS{dir: dir, warn: &testkit.Buffer{}}
	w.fs = store.NewFile(filepath.Join(dir, "data"), nil)
	var st store.Store = w.fs
	if wrap != nil {
		st = wrap(w.fs)
	}
	m, err := Open(Options{ConfigPath: cfgPath, StateDir: filepath.Join(dir, "state"), Store: st, Warn: w.warn, Sleep: w.sleep})
	if err != nil {
		t.Fatal(err)
	}
	w.m = m
	ctx := context.Background()
	for _, kv := range [][2]string{{"g", faultGSecret}, {"a", faultASecret}} {
		if _, ok := m.config().Provider(kv[0]); ok {
			if err := w.fs.Set(ctx, store.ClientKey(kv[0]), kv[1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	return w
}

func newFaultWS(t *testing.T, cfg string) *faultWS {
	t.Helper()
	return openFaultWS(t, t.TempDir(), cfg, nil)
}

func oldToken(expiry time.Time) *auth.Token {
	return &auth.Token{AccessToken: "AT-old", RefreshToken: "RT-old", TokenType: "Bearer", Expiry: expiry,
		ObtainedAt: time.Now().Add(-2 * time.Hour)}
}

// seed stores the token and the state record `reauth` would have left.
func (w *faultWS) seed(t *testing.T, name string, tok *auth.Token) {
	t.Helper()
	ctx := context.Background()
	if err := store.PutToken(ctx, w.fs, name, tok); err != nil {
		t.Fatal(err)
	}
	if err := w.m.State.Update(ctx, func(s *State) error {
		rec := RecordFromToken(tok, tok.ObtainedAt)
		rec.Account = "@" + name
		s.Profiles[name] = rec
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func (w *faultWS) stored(t *testing.T, name string) *auth.Token {
	t.Helper()
	tok, err := store.GetToken(context.Background(), w.fs, name)
	if err != nil {
		t.Fatalf("reading the stored token of %s: %v", name, err)
	}
	return tok
}

func (w *faultWS) record(t *testing.T, name string) *Record {
	t.Helper()
	st, err := w.m.State.Load()
	if err != nil {
		t.Fatalf("loading the state: %v", err)
	}
	rec := st.Profiles[name]
	if rec == nil {
		t.Fatalf("no state record for %s", name)
	}
	return rec
}

func (w *faultWS) status(t *testing.T, name string) View {
	t.Helper()
	v, err := w.m.Show(context.Background(), name, 0)
	if err != nil {
		t.Fatalf("show %s: %v", name, err)
	}
	return v
}

func (w *faultWS) markerExists(name string) bool {
	_, err := os.Stat(w.m.markerPath(name))
	return err == nil
}

// stateTree is every file under the state directory, for leak checks.
func (w *faultWS) stateTree(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	root := filepath.Join(w.dir, "state")
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, rerr := os.ReadFile(path)
		if rerr == nil {
			fmt.Fprintf(&b, "== %s\n%s\n", path, data)
		}
		return nil
	})
	return b.String()
}

func assertTransient(t *testing.T, err error) *provider.Error {
	t.Helper()
	var nr *NeedsReauthError
	if errors.As(err, &nr) {
		t.Fatalf("a transient failure became needs_reauth: %v", err)
	}
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Kind != provider.KindTransient {
		t.Fatalf("want a transient provider error, got %T %v", err, err)
	}
	return pe
}

func assertUnknownNotDead(t *testing.T, w *faultWS, name string) {
	t.Helper()
	rec := w.record(t, name)
	if !rec.Unknown || rec.NeedsReauth || rec.Reason != "" || rec.LastError == "" {
		t.Errorf("state record after a transient failure: %+v; want unknown with the error, not needs_reauth", rec)
	}
	if v := w.status(t, name); v.Status != StatusUnknown {
		t.Errorf("status %q, want %q (%s)", v.Status, StatusUnknown, v.Detail)
	}
}

func assertOldTokenKept(t *testing.T, w *faultWS, name string) {
	t.Helper()
	if got := w.stored(t, name); got.AccessToken != "AT-old" || got.RefreshToken != "RT-old" {
		t.Errorf("stored token changed to %q/%q, want AT-old/RT-old", got.AccessToken, got.RefreshToken)
	}
}

// ---------------------------------------------------------------------------

// The presets these tests rely on rotate (or not) as assumed.
func TestFaultPresetsRotation(t *testing.T) {
	for name, want := range map[string]bool{"google": false, "oauth2": true, "x": true, "tiktok": true, "pinterest": true} {
		p, ok := provider.Lookup(name)
		if !ok || p.RotatesRefresh != want {
			t.Errorf("preset %s: RotatesRefresh=%v (found %v), want %v", name, p.RotatesRefresh, ok, want)
		}
	}
}

// 500 and 503 on a provider that does not rotate: retried with backoff
// (Token allows 2 retries: 3 requests), then a transient failure that marks
// the profile unknown, never needs_reauth, and keeps the old token.
func TestFaultServerErrorRetriedThenUnknown(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if status == 500 {
					providertest.WriteJSON(w, status, `{"error":"server_error"}`)
					return
				}
				w.WriteHeader(status)
				_, _ = w.Write([]byte("Service Unavailable"))
			})
			w := newFaultWS(t, faultConfig(googleProviderYAML("g", f.URL), map[string]string{"p": "g"}))
			w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))

			tok, err := w.m.Token(context.Background(), "p", DefaultMinTTL)
			if tok != "" {
				t.Errorf("Token returned %q for an expired token that could not be renewed", tok)
			}
			pe := assertTransient(t, err)
			if pe.Status != status {
				t.Errorf("error status %d, want %d", pe.Status, status)
			}
			calls := f.Calls("/token")
			if len(calls) != 3 {
				t.Fatalf("%d requests, want 3 (1 + 2 retries)", len(calls))
			}
			// Backoff: 500 ms ± 50 %, then 1 s ± 50 % (jitter).
			waits := w.waits()
			if len(waits) != 2 {
				t.Fatalf("waits %v, want 2 (one before each retry)", waits)
			}
			if g := waits[0]; g < 250*time.Millisecond || g > 750*time.Millisecond {
				t.Errorf("first retry after %v, want 500 ms ± 50 %%", g)
			}
			if g := waits[1]; g < 500*time.Millisecond || g > 1500*time.Millisecond {
				t.Errorf("second retry after %v, want 1 s ± 50 %%: the backoff did not grow", g)
			}
			for _, c := range calls {
				if c.Form.Get("refresh_token") != "RT-old" {
					t.Errorf("sent refresh token %q", c.Form.Get("refresh_token"))
				}
			}
			assertOldTokenKept(t, w, "p")
			assertUnknownNotDead(t, w, "p")
			if w.markerExists("p") {
				t.Error("a renewal marker was left for a provider that does not rotate")
			}
		})
	}
}

// `sbctl token --min-ttl 2h` with an access token still valid for an hour:
// a failed renewal gives the current token and a warning, not a failure.
func TestFaultServerErrorWithValidTokenReturnsCurrent(t *testing.T) {
	t.Parallel()
	f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	w := newFaultWS(t, faultConfig(googleProviderYAML("g", f.URL), map[string]string{"p": "g"}))
	w.seed(t, "p", oldToken(time.Now().Add(time.Hour)))

	tok, err := w.m.Token(context.Background(), "p", 2*time.Hour)
	if err != nil || tok != "AT-old" {
		t.Fatalf("Token = %q, %v; want the current token", tok, err)
	}
	if n := len(f.Calls("/token")); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	warn := w.warn.String()
	if !strings.Contains(warn, `warning: could not renew "p"`) || !strings.Contains(warn, "valid until") {
		t.Errorf("warning missing or unclear: %q", warn)
	}
	if strings.Contains(warn, "AT-old") || strings.Contains(warn, "RT-old") {
		t.Errorf("a token reached the warning: %q", warn)
	}
	assertOldTokenKept(t, w, "p")
	if rec := w.record(t, "p"); rec.NeedsReauth || !rec.Unknown {
		t.Errorf("record %+v", rec)
	}
}

// 429 with Retry-After: 1 → the retry waits that second and succeeds;
// Retry-After over 30 s → no wait at all, a failure that says when to retry.
func TestFaultRateLimitedRetryAfter(t *testing.T) {
	t.Run("1s", func(t *testing.T) {
		t.Parallel()
		f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			providertest.TokenAnswer(w, "AT-new", "")
		})
		w := newFaultWS(t, faultConfig(googleProviderYAML("g", f.URL), map[string]string{"p": "g"}))
		w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
		tok, err := w.m.Token(context.Background(), "p", DefaultMinTTL)
		if err != nil || tok != "AT-new" {
			t.Fatalf("Token = %q, %v", tok, err)
		}
		calls := f.Calls("/token")
		if len(calls) != 2 {
			t.Fatalf("%d requests, want 2", len(calls))
		}
		if waits := w.waits(); len(waits) != 1 || waits[0] != time.Second {
			t.Errorf("waited %v before the retry, want exactly 1 s (Retry-After)", waits)
		}
		if got := w.stored(t, "p"); got.AccessToken != "AT-new" || got.RefreshToken != "RT-old" {
			t.Errorf("stored %q/%q", got.AccessToken, got.RefreshToken)
		}
		if rec := w.record(t, "p"); rec.Unknown || rec.NeedsReauth || rec.LastRefreshedAt == nil {
			t.Errorf("record %+v", rec)
		}
	})
	t.Run("over 30s", func(t *testing.T) {
		t.Parallel()
		f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Retry-After", "31")
			w.WriteHeader(http.StatusTooManyRequests)
		})
		w := newFaultWS(t, faultConfig(googleProviderYAML("g", f.URL), map[string]string{"p": "g"}))
		w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
		_, err := w.m.Token(context.Background(), "p", DefaultMinTTL)
		if waits := w.waits(); len(waits) != 0 {
			t.Errorf("waited %v: a Retry-After over 30 s must fail at once", waits)
		}
		pe := assertTransient(t, err)
		if pe.RetryAfter != 31*time.Second || !strings.Contains(err.Error(), "try again in 31s") {
			t.Errorf("error %q (RetryAfter %v): should say when to try again", err, pe.RetryAfter)
		}
		if n := len(f.Calls("/token")); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
		assertOldTokenKept(t, w, "p")
		assertUnknownNotDead(t, w, "p")
	})
}

// SPEC §6: a transient failure "is retried with backoff only where the
// provider does not rotate refresh tokens". A rotating provider answering
// 503 gets exactly one request; the answer came, so nothing was rotated and
// the marker is cleared.
func TestFaultRotating503NotResent(t *testing.T) {
	t.Parallel()
	f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		providertest.WriteJSON(w, http.StatusServiceUnavailable, `{"error":"temporarily_unavailable"}`)
	})
	w := newFaultWS(t, faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a"}))
	w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
	_, err := w.m.Token(context.Background(), "p", DefaultMinTTL)
	assertTransient(t, err)
	if n := len(f.Calls("/token")); n != 1 {
		t.Errorf("a rotating provider got %d refresh requests for one renewal (refresh tokens %v); want exactly 1: SPEC §6 allows retries only for providers that do not rotate", n, refreshTokens(f))
	}
	if w.markerExists("p") {
		t.Error("the renewal marker is left after the server answered 503")
	}
	assertOldTokenKept(t, w, "p")
	assertUnknownNotDead(t, w, "p")
}

// SECURITY 22/23: the server rotates and the connection drops before the
// answer arrives. One request only, an ambiguous error that says it was not
// resent, the old token kept, the marker left. The next run, refused by a
// server with reuse detection, says clearly that the grant was lost.
func TestFaultRotatedThenDroppedIsAmbiguousAndLossReported(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	valid := map[string]bool{"RT-old": true}
	var issued []string
	f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		rt := r.Form.Get("refresh_token")
		mu.Lock()
		ok := valid[rt]
		var next string
		if ok {
			delete(valid, rt)
			next = fmt.Sprintf("RT-new-%d", n)
			valid[next] = true
			issued = append(issued, next)
		}
		mu.Unlock()
		switch {
		case !ok:
			providertest.InvalidGrant(w)
		case n == 1:
			providertest.DropConnection(t, w) // rotated, and the answer is lost
		default:
			providertest.TokenAnswer(w, fmt.Sprintf("AT-new-%d", n), next)
		}
	})
	w := newFaultWS(t, faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a"}))
	w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
	ctx := context.Background()

	_, err := w.m.Token(ctx, "p", DefaultMinTTL)
	pe := assertTransient(t, err)
	if !pe.Ambiguous || !strings.Contains(err.Error(), "not sent again") {
		t.Errorf("error %q (ambiguous=%v): must say the request may have been applied and was not resent", err, pe.Ambiguous)
	}
	if got := refreshTokens(f); len(got) != 1 {
		t.Fatalf("refresh requests %v, want exactly one (never replayed)", got)
	}
	mu.Lock()
	if len(issued) != 1 {
		t.Fatalf("the fake issued %v", issued)
	}
	mu.Unlock()
	assertOldTokenKept(t, w, "p")
	if !w.markerExists("p") {
		t.Fatal("the renewal marker was removed although the server may have rotated")
	}
	assertUnknownNotDead(t, w, "p")

	// The next run: RT-old is now refused (reuse detection).
	_, err = w.m.Token(ctx, "p", DefaultMinTTL)
	var nr *NeedsReauthError
	if !errors.As(err, &nr) {
		t.Fatalf("second Token: %T %v; want NeedsReauthError", err, err)
	}
	if nr.Reason != auth.ReasonAccessRevoked || !strings.Contains(err.Error(), "earlier sbctl") || !strings.Contains(err.Error(), "grant is lost") {
		t.Errorf("the loss is not reported clearly: reason %q, %q", nr.Reason, err)
	}
	if got := refreshTokens(f); len(got) != 2 || got[1] != "RT-old" {
		t.Errorf("refresh requests %v", got)
	}
	if w.markerExists("p") {
		t.Error("the marker outlived the definite answer")
	}
	if rec := w.record(t, "p"); !rec.NeedsReauth || rec.Reason != auth.ReasonAccessRevoked || rec.Unknown {
		t.Errorf("record %+v", rec)
	}
	if v := w.status(t, "p"); v.Status != StatusNeedsReauth {
		t.Errorf("status %q", v.Status)
	}
	// Known dead: no third request.
	if _, err := w.m.Token(ctx, "p", DefaultMinTTL); !errors.As(err, &nr) {
		t.Errorf("third Token: %v", err)
	}
	if n := len(f.Calls("/token")); n != 2 {
		t.Errorf("%d requests after the profile was known dead", n)
	}
}

// Timeouts are transient: a server slower than the deadline, and (on a
// rotating provider) a body cut off by the deadline after a 200, which is
// ambiguous and keeps the marker.
func TestFaultTimeouts(t *testing.T) {
	t.Run("slow server, non-rotating", func(t *testing.T) {
		t.Parallel()
		f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
			providertest.TokenAnswer(w, "AT-late", "")
		})
		w := newFaultWS(t, faultConfig(googleProviderYAML("g", f.URL), map[string]string{"p": "g"}))
		w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		tok, err := w.m.Token(ctx, "p", DefaultMinTTL)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Token took %v past a 300 ms deadline", d)
		}
		var nr *NeedsReauthError
		if tok != "" || err == nil || errors.As(err, &nr) {
			t.Fatalf("Token = %q, %v; want a temporary failure", tok, err)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %q does not say it timed out", err)
		}
		if n := len(f.Calls("/token")); n != 1 {
			t.Errorf("%d requests", n)
		}
		assertOldTokenKept(t, w, "p")
		if rec := w.record(t, "p"); rec.NeedsReauth {
			t.Errorf("record %+v", rec)
		}
		if v := w.status(t, "p"); v.Status == StatusNeedsReauth || v.Status == StatusExpired {
			t.Errorf("status %q after a timeout", v.Status)
		}
	})
	t.Run("body cut off, rotating", func(t *testing.T) {
		t.Parallel()
		f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "200")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"access_token":"AT-new","refresh_token":"RT-new",`))
			w.(http.Flusher).Flush()
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		})
		w := newFaultWS(t, faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a"}))
		w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		defer cancel()
		_, err := w.m.Token(ctx, "p", DefaultMinTTL)
		pe := assertTransient(t, err)
		if !pe.Ambiguous {
			t.Errorf("a 200 whose body was lost on a rotating provider is not reported as ambiguous: %v", err)
		}
		if n := len(f.Calls("/token")); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
		assertOldTokenKept(t, w, "p")
		if !w.markerExists("p") {
			t.Error("the marker was cleared although the server may have rotated")
		}
		assertUnknownNotDead(t, w, "p")
	})
}

// SECURITY 14: whatever the error body says (markers, the tokens sent, the
// client secret), none of it reaches an error, a RenewResult, a warning or
// the state directory.
func TestFaultErrorBodiesDoNotLeak(t *testing.T) {
	secrets := []string{faultMarker, "RT-old", "AT-old", faultASecret, faultGSecret, "<html>"}
	bodies := []struct {
		name   string
		status int
		ctype  string
		body   string
	}{
		{"non-JSON 400", 400, "text/html", "<html><body>" + faultMarker + " refresh_token=RT-old access_token=AT-old client_secret=" + faultASecret + "</body></html>"},
		{"JSON invalid_grant echoing", 400, "application/json", `{"error":"invalid_grant","error_description":"refresh token RT-old (access token AT-old, secret ` + faultASecret + `) revoked; trace ` + faultMarker + `","refresh_token":"RT-old","access_token":"AT-old","trace":"` + faultMarker + `"}`},
		{"JSON invalid_request echoing", 400, "application/json", `{"error":"invalid_request","error_description":"bad RT-old ` + faultMarker + `","access_token":"AT-old"}`},
		{"marker as the code", 401, "application/json", `{"error":"` + faultMarker + `","error_description":"` + faultMarker + `"}`},
		{"JSON 429 echoing", 429, "application/json", `{"error":"slow_down","error_description":"` + faultMarker + ` RT-old AT-old"}`},
	}
	for _, b := range bodies {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Content-Type", b.ctype)
				if b.status == 429 {
					w.Header().Set("Retry-After", "120") // fail at once
				}
				w.WriteHeader(b.status)
				_, _ = w.Write([]byte(b.body))
			})
			cfg := faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a"})
			var outputs []string
			// An expired token: Token fails.
			expired := newFaultWS(t, cfg)
			expired.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
			ctx := context.Background()
			tok, err := expired.m.Token(ctx, "p", DefaultMinTTL)
			if err == nil || tok != "" {
				t.Fatalf("Token = %q, %v", tok, err)
			}
			outputs = append(outputs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
			// renewOne's result, as `refresh -o json` would print it.
			p, _ := expired.m.Profile("p")
			res := expired.m.renewOne(ctx, p, renewOptions{Force: true})
			if res.Outcome == OutcomeRenewed || res.Outcome == OutcomeFresh {
				t.Fatalf("outcome %s", res.Outcome)
			}
			js, _ := json.Marshal(res)
			outputs = append(outputs, res.Message, string(js))
			if res.Err() != nil {
				outputs = append(outputs, res.Err().Error())
			}
			// A token still valid for an hour with --min-ttl 2h: a warning or
			// needs_reauth.
			valid := newFaultWS(t, cfg)
			valid.seed(t, "p", oldToken(time.Now().Add(time.Hour)))
			tok, err = valid.m.Token(ctx, "p", 2*time.Hour)
			if err != nil {
				outputs = append(outputs, err.Error())
			} else if tok != "AT-old" {
				t.Errorf("Token = %q", tok)
			}
			outputs = append(outputs, expired.warn.String(), valid.warn.String(),
				expired.stateTree(t), valid.stateTree(t))
			for _, out := range outputs {
				for _, s := range secrets {
					if strings.Contains(out, s) {
						t.Errorf("%q leaked into: %s", s, out)
					}
				}
			}
			if n := len(f.Calls("/token")); n != 3 {
				t.Errorf("%d requests, want 3 (one per renewal)", n)
			}
			assertOldTokenKept(t, expired, "p")
			assertOldTokenKept(t, valid, "p")
		})
	}
}

// Definite rejections: needs_reauth with the right reason, the old token
// kept (a reauth replaces it), one request, and no request afterwards.
func TestFaultDefiniteRejections(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		reason auth.Reason
	}{
		{"RFC 6749 invalid_grant", 400, `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`, auth.ReasonAccessRevoked},
		{"sandbox password_changed", 400, `{"error":"invalid_grant","reason":"password_changed"}`, auth.ReasonPasswordChanged},
		{"X dead refresh token", 400, `{"error":"invalid_request","error_description":"Value passed for the token was invalid."}`, auth.ReasonAccessRevoked},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				providertest.WriteJSON(w, c.status, c.body)
			})
			w := newFaultWS(t, faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a"}))
			w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
			ctx := context.Background()
			_, err := w.m.Token(ctx, "p", DefaultMinTTL)
			var nr *NeedsReauthError
			if !errors.As(err, &nr) || nr.Reason != c.reason {
				t.Fatalf("Token: %T %v; want NeedsReauthError (%s)", err, err, c.reason)
			}
			// What to do is the front end's to say: the error names the
			// profile that needs a reauth.
			if nr.Profile() != "p" {
				t.Errorf("error %q names profile %q, want p", err, nr.Profile())
			}
			if n := len(f.Calls("/token")); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
			assertOldTokenKept(t, w, "p")
			if w.markerExists("p") {
				t.Error("marker left after a definite answer")
			}
			rec := w.record(t, "p")
			if !rec.NeedsReauth || rec.Reason != c.reason || rec.Unknown || rec.Account != "@p" {
				t.Errorf("record %+v", rec)
			}
			if v := w.status(t, "p"); v.Status != StatusNeedsReauth || v.ReasonCode() != c.reason {
				t.Errorf("status %q reason %q", v.Status, v.ReasonCode())
			}
			if _, err := w.m.Token(ctx, "p", DefaultMinTTL); !errors.As(err, &nr) || nr.Reason != c.reason {
				t.Errorf("second Token: %v", err)
			}
			if n := len(f.Calls("/token")); n != 1 {
				t.Errorf("a profile known dead was renewed again (%d requests)", n)
			}
		})
	}
}

// Meta: renewal is fb_exchange_token at the preset's ExchangeURL, which the
// config cannot point elsewhere (there is no exchange_url key), so the 190/460
// body is exercised through `profiles verify` (debug_token, at introspect_url).
func TestFaultFacebookPasswordChangedViaDebugToken(t *testing.T) {
	t.Parallel()
	f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		providertest.WriteJSON(w, 200, `{"data":{"app_id":"c","is_valid":false,"error":{"code":190,"subcode":460,"message":"The session has been invalidated because the user changed their password."}}}`)
	})
	cfg := fmt.Sprintf("providers:\n  fb:\n    type: facebook\n    introspect_url: %s/debug_token\n    client_id: c\nprofiles:\n  p:\n    provider: fb\n", f.URL)
	w := newFaultWS(t, cfg)
	ctx := context.Background()
	if err := w.fs.Set(ctx, store.ClientKey("fb"), "fbsecret-123"); err != nil {
		t.Fatal(err)
	}
	w.seed(t, "p", &auth.Token{AccessToken: "AT-old", Expiry: time.Now().Add(30 * 24 * time.Hour), ObtainedAt: time.Now().Add(-time.Hour)})
	res, err := w.m.Verify(ctx, []string{"p"}, false, 0)
	if err != nil || len(res) != 1 {
		t.Fatalf("Verify: %v %v", res, err)
	}
	if res[0].Valid || res[0].Reason != auth.ReasonPasswordChanged || res[0].Failed {
		t.Errorf("result %+v, want password_changed", res[0])
	}
	if calls := f.Calls("/debug_token"); len(calls) != 1 || calls[0].Query.Get("input_token") != "AT-old" {
		t.Errorf("debug_token calls %+v", calls)
	}
	if rec := w.record(t, "p"); !rec.NeedsReauth || rec.Reason != auth.ReasonPasswordChanged {
		t.Errorf("record %+v", rec)
	}
	if got := w.stored(t, "p"); got.AccessToken != "AT-old" {
		t.Errorf("stored %+v", got)
	}
}

// SECURITY 20: invalid_grant, but the store now holds another refresh
// token (a reauth that does not take the renewal lock): retry once with it.
// Unchanged store: no retry. Never a loop.
func TestFaultInvalidGrantRereadsStoreOnce(t *testing.T) {
	newTok := func(rt string) *auth.Token {
		return &auth.Token{AccessToken: "AT-" + rt, RefreshToken: rt, Expiry: time.Now().Add(-time.Second), ObtainedAt: time.Now()}
	}
	for _, typ := range []string{"oauth2", "google"} {
		provYAML := oauth2ProviderYAML
		prov := "a"
		if typ == "google" {
			provYAML, prov = googleProviderYAML, "g"
		}
		t.Run(typ+"/store changed", func(t *testing.T) {
			t.Parallel()
			var w *faultWS
			f := newFaultServer(t, func(rw http.ResponseWriter, r *http.Request, n int) {
				switch r.Form.Get("refresh_token") {
				case "RT-old":
					// Someone else stores RT-new between our read and this answer.
					if err := store.PutToken(context.Background(), w.fs, "p", newTok("RT-new")); err != nil {
						t.Error(err)
					}
					providertest.InvalidGrant(rw)
				case "RT-new":
					providertest.TokenAnswer(rw, "AT-fresh", "RT-fresh")
				default:
					providertest.InvalidGrant(rw)
				}
			})
			w = newFaultWS(t, faultConfig(provYAML(prov, f.URL), map[string]string{"p": prov}))
			w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
			tok, err := w.m.Token(context.Background(), "p", DefaultMinTTL)
			if err != nil || tok != "AT-fresh" {
				t.Fatalf("Token = %q, %v; want a renewal with the refresh token found in the store", tok, err)
			}
			if got := refreshTokens(f); len(got) != 2 || got[0] != "RT-old" || got[1] != "RT-new" {
				t.Errorf("refresh requests %v, want [RT-old RT-new]", got)
			}
			if got := w.stored(t, "p"); got.AccessToken != "AT-fresh" || got.RefreshToken != "RT-fresh" {
				t.Errorf("stored %q/%q", got.AccessToken, got.RefreshToken)
			}
			if rec := w.record(t, "p"); rec.NeedsReauth || rec.Unknown {
				t.Errorf("record %+v", rec)
			}
			if w.markerExists("p") {
				t.Error("marker left after success")
			}
		})
		t.Run(typ+"/store unchanged", func(t *testing.T) {
			t.Parallel()
			f := newFaultServer(t, func(rw http.ResponseWriter, r *http.Request, n int) { providertest.InvalidGrant(rw) })
			w := newFaultWS(t, faultConfig(provYAML(prov, f.URL), map[string]string{"p": prov}))
			w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
			_, err := w.m.Token(context.Background(), "p", DefaultMinTTL)
			var nr *NeedsReauthError
			if !errors.As(err, &nr) || nr.Reason != auth.ReasonAccessRevoked {
				t.Fatalf("Token: %v", err)
			}
			if got := refreshTokens(f); len(got) != 1 {
				t.Errorf("refresh requests %v, want exactly one", got)
			}
		})
		t.Run(typ+"/store changes every time", func(t *testing.T) {
			t.Parallel()
			var w *faultWS
			f := newFaultServer(t, func(rw http.ResponseWriter, r *http.Request, n int) {
				if err := store.PutToken(context.Background(), w.fs, "p", newTok(fmt.Sprintf("RT-other-%d", n))); err != nil {
					t.Error(err)
				}
				providertest.InvalidGrant(rw)
			})
			w = newFaultWS(t, faultConfig(provYAML(prov, f.URL), map[string]string{"p": prov}))
			w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
			_, err := w.m.Token(context.Background(), "p", DefaultMinTTL)
			var nr *NeedsReauthError
			if !errors.As(err, &nr) {
				t.Fatalf("Token: %v", err)
			}
			if got := refreshTokens(f); len(got) != 2 || got[0] != "RT-old" || got[1] != "RT-other-1" {
				t.Errorf("refresh requests %v, want [RT-old RT-other-1] (retry once, never loop)", got)
			}
		})
	}
}

// SECURITY 20 + 23 together: the retry with the refresh token found in the
// store is itself lost after the server rotated it. The marker must then
// describe the token that was actually spent, so the next run can tell the
// user the grant was lost.
func TestFaultRetryWithStoredTokenLostIsReported(t *testing.T) {
	t.Parallel()
	var w *faultWS
	var mu sync.Mutex
	valid := map[string]bool{"RT-old": true}
	f := newFaultServer(t, func(rw http.ResponseWriter, r *http.Request, n int) {
		rt := r.Form.Get("refresh_token")
		mu.Lock()
		ok := valid[rt]
		delete(valid, rt)
		mu.Unlock()
		switch {
		case rt == "RT-old":
			// A reauth elsewhere replaced the grant: RT-old is dead, RT-new lives.
			mu.Lock()
			valid["RT-new"] = true
			mu.Unlock()
			if err := store.PutToken(context.Background(), w.fs, "p", &auth.Token{AccessToken: "AT-mid", RefreshToken: "RT-new", Expiry: time.Now().Add(-time.Second)}); err != nil {
				t.Error(err)
			}
			providertest.InvalidGrant(rw)
		case ok:
			// RT-new is spent (rotated to RT-newer), then the answer is lost.
			mu.Lock()
			valid["RT-newer"] = true
			mu.Unlock()
			providertest.DropConnection(t, rw)
		default:
			providertest.InvalidGrant(rw)
		}
	})
	w = newFaultWS(t, faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a"}))
	w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
	ctx := context.Background()
	_, err := w.m.Token(ctx, "p", DefaultMinTTL)
	if pe := assertTransient(t, err); !pe.Ambiguous {
		t.Errorf("not ambiguous: %v", err)
	}
	if got := refreshTokens(f); len(got) != 2 || got[1] != "RT-new" {
		t.Fatalf("refresh requests %v", got)
	}
	if !w.markerExists("p") {
		t.Fatal("no marker after a lost rotation")
	}
	_, err = w.m.Token(ctx, "p", DefaultMinTTL)
	var nr *NeedsReauthError
	if !errors.As(err, &nr) {
		t.Fatalf("second Token: %v", err)
	}
	if !strings.Contains(err.Error(), "earlier sbctl") {
		t.Errorf("the lost rotation of RT-new is not reported: %q; the marker still named RT-old (written before the SECURITY 20 retry), so the next run took it for stale", err)
	}
}

// The loss message names the network that may have replaced the refresh
// token. (A marker left by a process killed inside the window.)
func TestFaultLossMessageNamesProvider(t *testing.T) {
	t.Parallel()
	f := newFaultServer(t, func(rw http.ResponseWriter, r *http.Request, n int) { providertest.InvalidGrant(rw) })
	w := newFaultWS(t, faultConfig(oauth2ProviderYAML("acme", f.URL), map[string]string{"p": "acme"}))
	tok := oldToken(time.Now().Add(-time.Minute))
	w.seed(t, "p", tok)
	if err := w.m.writeMarker("p", tok, ""); err != nil {
		t.Fatal(err)
	}
	_, err := w.m.Token(context.Background(), "p", DefaultMinTTL)
	var nr *NeedsReauthError
	if !errors.As(err, &nr) || !strings.Contains(err.Error(), "earlier sbctl") {
		t.Fatalf("Token: %v", err)
	}
	if !strings.Contains(err.Error(), "after acme may already have replaced") {
		t.Errorf("the message blames the profile instead of the network: %q", err)
	}
}

// A failure that never reached the server (connection refused) cannot
// have rotated anything: the marker must go, or a later, unrelated
// rejection is misreported as a grant lost by a crashed sbctl.
func TestFaultConnectionRefusedClearsMarker(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	_ = ln.Close()
	dir := t.TempDir()
	w := openFaultWS(t, dir, faultConfig(oauth2ProviderYAML("a", dead), map[string]string{"p": "a"}), nil)
	w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
	ctx := context.Background()
	_, err = w.m.Token(ctx, "p", DefaultMinTTL)
	pe := assertTransient(t, err)
	if pe.Ambiguous || !strings.Contains(err.Error(), "refused") {
		t.Errorf("error %q (ambiguous=%v)", err, pe.Ambiguous)
	}
	assertOldTokenKept(t, w, "p")
	if w.markerExists("p") {
		t.Errorf("renewal marker left after a request that never reached the server (renew.go renewFailed keeps it whenever Status == 0)")
	}
	// The consequence: the server is back, and the user revoked the app.
	f := newFaultServer(t, func(rw http.ResponseWriter, r *http.Request, n int) { providertest.InvalidGrant(rw) })
	w2 := openFaultWS(t, dir, faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a"}), nil)
	_, err = w2.m.Token(ctx, "p", DefaultMinTTL)
	var nr *NeedsReauthError
	if !errors.As(err, &nr) {
		t.Fatalf("Token: %v", err)
	}
	if strings.Contains(err.Error(), "earlier sbctl") {
		t.Errorf("a plain revocation is misreported as a crash: %q", err)
	}
}

// recordingStore logs what the renewal does to the store, and whether the
// renewal marker existed at each write of the profile's token.
type recordingStore struct {
	store.Store
	markerPath string
	mu         sync.Mutex
	log        []string
}

func (s *recordingStore) Set(ctx context.Context, key, value string) error {
	err := s.Store.Set(ctx, key, value)
	if key == store.ProfileKey("p") {
		var t auth.Token
		_ = json.Unmarshal([]byte(value), &t)
		_, merr := os.Stat(s.markerPath)
		s.mu.Lock()
		s.log = append(s.log, fmt.Sprintf("set %s marker=%v", t.RefreshToken, merr == nil))
		s.mu.Unlock()
	}
	return err
}

func (s *recordingStore) Get(ctx context.Context, key string) (string, error) {
	v, err := s.Store.Get(ctx, key)
	if key == store.ProfileKey("p") && err == nil {
		var t auth.Token
		_ = json.Unmarshal([]byte(v), &t)
		s.mu.Lock()
		s.log = append(s.log, "get "+t.RefreshToken)
		s.mu.Unlock()
	}
	return v, err
}

func (s *recordingStore) events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

// SECURITY 18 / RFC 6749 §6: an answer without refresh_token keeps the old
// one; a new one replaces it, is stored and read back (while the marker
// still guards the window) before the access token is returned.
func TestFaultRefreshTokenKeptOrReplaced(t *testing.T) {
	t.Run("answer without refresh_token", func(t *testing.T) {
		t.Parallel()
		f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) { providertest.TokenAnswer(w, "AT-new", "") })
		w := newFaultWS(t, faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a"}))
		w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
		tok, err := w.m.Token(context.Background(), "p", DefaultMinTTL)
		if err != nil || tok != "AT-new" {
			t.Fatalf("Token = %q, %v", tok, err)
		}
		if got := w.stored(t, "p"); got.AccessToken != "AT-new" || got.RefreshToken != "RT-old" || !got.Expiry.After(time.Now().Add(50*time.Minute)) {
			t.Errorf("stored %+v; want AT-new with RT-old kept", got)
		}
		if rec := w.record(t, "p"); !rec.HasRefresh || rec.LastRefreshedAt == nil || rec.Account != "@p" {
			t.Errorf("record %+v", rec)
		}
	})
	t.Run("answer with a new refresh_token", func(t *testing.T) {
		t.Parallel()
		f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) { providertest.TokenAnswer(w, "AT-new", "RT-new") })
		var rs *recordingStore
		w := openFaultWS(t, t.TempDir(), faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a"}),
			func(s store.Store) store.Store {
				rs = &recordingStore{Store: s}
				return rs
			})
		rs.markerPath = w.m.markerPath("p")
		w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
		start := len(rs.events())
		tok, err := w.m.Token(context.Background(), "p", DefaultMinTTL)
		if err != nil || tok != "AT-new" {
			t.Fatalf("Token = %q, %v", tok, err)
		}
		ev := rs.events()[start:]
		// Expected: reads of RT-old, the write of RT-new with the marker
		// present, then the read-back of RT-new.
		i := -1
		for k, e := range ev {
			if strings.HasPrefix(e, "set ") {
				if i >= 0 {
					t.Errorf("stored twice: %v", ev)
				}
				i = k
			}
		}
		if i < 0 || ev[i] != "set RT-new marker=true" {
			t.Fatalf("store events %v: want RT-new written while the marker exists", ev)
		}
		if i+1 >= len(ev) || ev[i+1] != "get RT-new" {
			t.Errorf("store events %v: the new token is not read back right after it is written", ev)
		}
		if w.markerExists("p") {
			t.Error("marker left after the token was stored")
		}
		if got := w.stored(t, "p"); got.RefreshToken != "RT-new" || got.AccessToken != "AT-new" {
			t.Errorf("stored %+v", got)
		}
		if got := refreshTokens(f); len(got) != 1 || got[0] != "RT-old" {
			t.Errorf("refresh requests %v", got)
		}
	})
}

// `sbctl refresh --all` over mixed fakes: renewed / needs_reauth / failed
// (and a profile known dead is not contacted); the state is written once,
// at the end, with the right records.
func TestFaultRefreshMixedOutcomes(t *testing.T) {
	t.Parallel()
	okSrv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		providertest.TokenAnswer(w, "AT-ok-new", "RT-ok-new")
	})
	badSrv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) { providertest.InvalidGrant(w) })
	busySrv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	deadSrv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) { providertest.TokenAnswer(w, "AT-x", "") })
	providers := oauth2ProviderYAML("a", okSrv.URL) + oauth2ProviderYAML("b", badSrv.URL) +
		googleProviderYAML("g", busySrv.URL) + oauth2ProviderYAML("d", deadSrv.URL)
	w := newFaultWS(t, faultConfig(providers, map[string]string{"p-ok": "a", "p-bad": "b", "p-busy": "g", "p-dead": "d"}))
	for _, n := range []string{"p-ok", "p-bad", "p-busy", "p-dead"} {
		w.seed(t, n, oldToken(time.Now().Add(-time.Minute)))
	}
	ctx := context.Background()
	if err := w.m.State.Update(ctx, func(s *State) error {
		s.Profiles["p-dead"].NeedsReauth, s.Profiles["p-dead"].Reason = true, auth.ReasonPasswordChanged
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(w.m.State.Path)
	if err != nil {
		t.Fatal(err)
	}
	var progress []string
	lastDone, lastTotal := 0, 0
	res, err := w.m.Refresh(ctx, RefreshOptions{All: true, Progress: func(done, total int, r RenewResult) {
		progress = append(progress, r.Name)
		lastDone, lastTotal = done, total
		if now, _ := os.ReadFile(w.m.State.Path); string(now) != string(before) {
			t.Errorf("the state file was written while the refresh was running (after %s)", r.Name)
		}
	}})
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	// Progress reports the profiles contacted; p-dead is decided up front
	// and counted in done/total.
	if len(progress) != 3 || lastDone != 4 || lastTotal != 4 {
		t.Errorf("progress %v, done %d of %d", progress, lastDone, lastTotal)
	}
	by := map[string]RenewResult{}
	for _, r := range res {
		by[r.Name] = r
	}
	want := map[string]Outcome{"p-ok": OutcomeRenewed, "p-bad": OutcomeNeedsReauth, "p-busy": OutcomeFailed, "p-dead": OutcomeNeedsReauth}
	for n, o := range want {
		if by[n].Outcome != o {
			t.Errorf("%s: outcome %q (%s), want %q", n, by[n].Outcome, by[n].Message, o)
		}
	}
	if by["p-bad"].Reason != auth.ReasonAccessRevoked || by["p-dead"].Reason != auth.ReasonPasswordChanged {
		t.Errorf("reasons: bad %q, dead %q", by["p-bad"].Reason, by["p-dead"].Reason)
	}
	if n := len(busySrv.Calls("/token")); n != 4 {
		t.Errorf("the 503 provider (not rotating) got %d requests, want 4 (refresh allows 3 retries)", n)
	}
	if n := len(deadSrv.Calls("/token")); n != 0 {
		t.Errorf("a profile known dead was contacted %d times", n)
	}
	if n := len(okSrv.Calls("/token")) + len(badSrv.Calls("/token")); n != 2 {
		t.Errorf("%d requests to the ok and bad providers, want 2", n)
	}
	st, err := w.m.State.Load()
	if err != nil {
		t.Fatal(err)
	}
	if r := st.Profiles["p-ok"]; r == nil || r.NeedsReauth || r.Unknown || r.LastRefreshedAt == nil || r.ExpiresAt == nil ||
		!r.ExpiresAt.After(time.Now().Add(50*time.Minute)) || r.Account != "@p-ok" {
		t.Errorf("p-ok record %+v", r)
	}
	if r := st.Profiles["p-bad"]; r == nil || !r.NeedsReauth || r.Reason != auth.ReasonAccessRevoked || r.Unknown {
		t.Errorf("p-bad record %+v", r)
	}
	if r := st.Profiles["p-busy"]; r == nil || r.NeedsReauth || !r.Unknown || r.LastError == "" {
		t.Errorf("p-busy record %+v", r)
	}
	if r := st.Profiles["p-dead"]; r == nil || !r.NeedsReauth || r.Reason != auth.ReasonPasswordChanged {
		t.Errorf("p-dead record %+v", r)
	}
	if got := w.stored(t, "p-ok"); got.AccessToken != "AT-ok-new" || got.RefreshToken != "RT-ok-new" {
		t.Errorf("p-ok stored %+v", got)
	}
	for _, n := range []string{"p-bad", "p-busy", "p-dead"} {
		assertOldTokenKept(t, w, n)
	}
}

// `profiles verify` by RFC 7662 introspection: only active:true counts, and
// it clears an earlier needs_reauth.
func TestFaultVerifyIntrospection(t *testing.T) {
	t.Run("inactive", func(t *testing.T) {
		t.Parallel()
		f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			providertest.WriteJSON(w, 200, `{"active":false}`)
		})
		w := newFaultWS(t, faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a"}))
		w.seed(t, "p", oldToken(time.Now().Add(time.Hour)))
		res, err := w.m.Verify(context.Background(), []string{"p"}, false, 0)
		if err != nil || len(res) != 1 {
			t.Fatalf("Verify: %v %v", res, err)
		}
		if res[0].Valid || res[0].Failed || res[0].Reason != auth.ReasonAccessRevoked {
			t.Errorf("result %+v", res[0])
		}
		// The grant is asked about first: its refresh token (issue 7 item 5).
		calls := f.Calls("/introspect")
		if len(calls) == 0 || calls[0].Form.Get("token") != "RT-old" || calls[0].Form.Get("token_type_hint") != "refresh_token" {
			t.Errorf("introspection requests %+v", calls)
		}
		if n := len(f.Calls("/token")); n != 0 {
			t.Errorf("%d token requests for a valid access token", n)
		}
		if rec := w.record(t, "p"); !rec.NeedsReauth || rec.Reason != auth.ReasonAccessRevoked || rec.LastVerifiedAt == nil {
			t.Errorf("record %+v", rec)
		}
		if v := w.status(t, "p"); v.Status != StatusNeedsReauth {
			t.Errorf("status %q", v.Status)
		}
		assertOldTokenKept(t, w, "p")
	})
	t.Run("active clears needs_reauth", func(t *testing.T) {
		t.Parallel()
		exp := time.Now().Add(time.Hour).Unix()
		f := newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if r.Form.Get("token") == "RT-old" {
				providertest.WriteJSON(w, 200, `{"active":true}`) // a refresh token without a stated lifetime
				return
			}
			providertest.WriteJSON(w, 200, fmt.Sprintf(`{"active":true,"exp":%d}`, exp))
		})
		w := newFaultWS(t, faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a"}))
		w.seed(t, "p", oldToken(time.Now().Add(time.Hour)))
		ctx := context.Background()
		if err := w.m.State.Update(ctx, func(s *State) error {
			s.Profiles["p"].NeedsReauth, s.Profiles["p"].Reason, s.Profiles["p"].LastError = true, auth.ReasonAccessRevoked, "old"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.m.Token(ctx, "p", DefaultMinTTL); err == nil {
			t.Fatal("Token gave a token for a profile marked needs_reauth")
		}
		res, err := w.m.Verify(ctx, []string{"p"}, false, 0)
		if err != nil || len(res) != 1 || !res[0].Valid || res[0].Failed {
			t.Fatalf("Verify: %+v %v", res, err)
		}
		rec := w.record(t, "p")
		if rec.NeedsReauth || rec.Reason != "" || rec.LastError != "" || rec.Unknown || rec.LastVerifiedAt == nil {
			t.Errorf("record %+v", rec)
		}
		if v := w.status(t, "p"); v.Status != StatusOK {
			t.Errorf("status %q", v.Status)
		}
		tok, err := w.m.Token(ctx, "p", DefaultMinTTL)
		if err != nil || tok != "AT-old" {
			t.Errorf("Token after a good verify = %q, %v", tok, err)
		}
		if n := len(f.Calls("/token")); n != 0 {
			t.Errorf("%d token requests", n)
		}
	})
}
