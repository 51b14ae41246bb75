package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// testKey is shared by every test server: generating a 2048-bit key per
// server would dominate the run time under -race.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// clock is a settable time source; tests move it instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// start runs a server with AutoApprove, a shared key and the given clock.
func start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.SigningKey == nil {
		opts.SigningKey = testKey()
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

const (
	testClient   = "sbctl-test"
	testRedirect = "http://127.0.0.1:49152/callback"
)

func config(s *Server, scopes ...string) *oauth2.Config {
	m := s.Metadata()
	return &oauth2.Config{
		ClientID: testClient,
		Endpoint: oauth2.Endpoint{
			AuthURL: m.AuthorizationEndpoint, TokenURL: m.TokenEndpoint,
			DeviceAuthURL: m.DeviceAuthorizationEndpoint, AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: testRedirect,
		Scopes:      scopes,
	}
}

// noRedirect stops at the first redirect, as a browser handing the
// loopback redirect to the client's listener would.
var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}

// authorize runs the browser's part of the code flow against an
// auto-approving server and returns the callback's query.
func authorize(t testing.TB, authURL string) url.Values {
	t.Helper()
	resp, err := noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("authorize: status %d, want 302: %s", resp.StatusCode, b)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; !strings.HasPrefix(authURL, "http") || got != redirectOf(t, authURL) {
		t.Fatalf("redirected to %q, want the redirect_uri %q", got, redirectOf(t, authURL))
	}
	return loc.Query()
}

func redirectOf(t testing.TB, authURL string) string {
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("redirect_uri")
}

// codeFlow gets a token through the full code flow with PKCE.
func codeFlow(t testing.TB, s *Server, conf *oauth2.Config, opts ...oauth2.AuthCodeOption) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	q := authorize(t, conf.AuthCodeURL("st-1", append(opts, oauth2.S256ChallengeOption(verifier))...))
	if q.Get("state") != "st-1" || q.Get("iss") != s.Issuer() || q.Get("code") == "" {
		t.Fatalf("callback query %v", q)
	}
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// post sends a form and decodes the JSON answer (nil for an empty body).
func post(t testing.TB, endpoint string, form url.Values, mod ...func(*http.Request)) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest("POST", endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, m := range mod {
		m(req)
	}
	return do(t, req)
}

func do(t testing.TB, req *http.Request) (int, map[string]any, http.Header) {
	t.Helper()
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if len(strings.TrimSpace(string(b))) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: status %d, body not JSON: %q", req.Method, req.URL.Path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode, m, resp.Header
}

// refresh asks for a refresh_token grant as a public client.
func refresh(t testing.TB, s *Server, rt string) (int, map[string]any) {
	t.Helper()
	code, body, _ := post(t, s.Metadata().TokenEndpoint, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {testClient},
	})
	return code, body
}

// wantError checks an RFC 6749 §5.2 error with our reason extension.
func wantError(t testing.TB, status int, body map[string]any, wantStatus int, wantCode, wantReason string) {
	t.Helper()
	if status != wantStatus || body["error"] != wantCode {
		t.Fatalf("got %d %v, want %d error=%s", status, body, wantStatus, wantCode)
	}
	if got, _ := body["reason"].(string); got != wantReason {
		t.Fatalf("reason = %q, want %q (body %v)", got, wantReason, body)
	}
}

func introspect(t testing.TB, s *Server, token string) map[string]any {
	t.Helper()
	code, body, _ := post(t, s.Metadata().IntrospectionEndpoint, url.Values{"token": {token}, "client_id": {testClient}})
	if code != http.StatusOK {
		t.Fatalf("introspect: %d %v", code, body)
	}
	return body
}

func getUserinfo(t testing.TB, s *Server, token string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.Metadata().UserinfoEndpoint, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return do(t, req)
}
