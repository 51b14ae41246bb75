package flow

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth/testkit"
)

// syncBuffer is a goroutine-safe Stderr for Run, which writes from its own
// goroutine while the test reads.
type syncBuffer = testkit.Buffer

// fakeBrowser records what it was asked to open and optionally plays the
// browser (play runs inside Open, like a browser command that blocks until
// the page has loaded).
type fakeBrowser struct {
	mu   sync.Mutex
	urls []string
	play func(ctx context.Context, authURL string) error
}

func (f *fakeBrowser) Open(ctx context.Context, u string) error {
	f.mu.Lock()
	f.urls = append(f.urls, u)
	f.mu.Unlock()
	if f.play != nil {
		return f.play(ctx, u)
	}
	return nil
}

func (f *fakeBrowser) opened() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.urls...)
}

// newClient is a browser-like HTTP client that keeps no idle connections
// (they would count as leaked goroutines) and does not follow redirects
// unless asked, so a redirect from the callback would be visible.
func newClient(follow bool) *http.Client {
	c := &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
		Timeout:   10 * time.Second,
	}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends one request; host, when set, overrides the Host header.
func do(t testing.TB, method, rawURL, host string) response {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := newClient(false).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

type outcome struct {
	res *Result
	err error
}

// running is a flow started in the background, with what the test needs to
// play the authorization server.
type running struct {
	authURL  string
	q        url.Values // the authorization request's parameters
	redirect *url.URL   // redirect_uri as sent
	callback string     // the loopback callback URL (differs from redirect in relay mode)
	stderr   *syncBuffer
	done     chan outcome
	cancel   context.CancelFunc
}

// start runs Run in the background and returns once the listener is up
// (OnURL is called after it is). A fake browser is always installed unless
// the test set one, so no test ever opens a real browser.
func start(t *testing.T, p Params) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	urls := make(chan string, 1)
	p.OnURL = func(u string) { urls <- u }
	if p.Browser == nil {
		p.Browser = &fakeBrowser{}
	}
	if p.AuthURL == "" {
		p.AuthURL = "https://auth.example/authorize"
	}
	if p.ClientID == "" {
		p.ClientID = "client-1"
	}
	stderr := &syncBuffer{}
	if p.Stderr == nil {
		p.Stderr = stderr
	}
	if p.Stdin == nil {
		p.Stdin = strings.NewReader("")
	}
	r := &running{stderr: stderr, done: make(chan outcome, 1), cancel: cancel}
	go func() {
		res, err := Run(ctx, p)
		r.done <- outcome{res, err}
	}()
	select {
	case r.authURL = <-urls:
	case o := <-r.done:
		// A flow fed from stdin may finish as soon as it has shown the
		// URL; both channels are then ready and select picks either.
		select {
		case r.authURL = <-urls:
			r.done <- o
		default:
			t.Fatalf("Run ended before showing the URL: %v", o.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run never showed the URL")
	}
	u, err := url.Parse(r.authURL)
	if err != nil {
		t.Fatal(err)
	}
	r.q = u.Query()
	r.redirect, err = url.Parse(r.q.Get("redirect_uri"))
	if err != nil {
		t.Fatal(err)
	}
	r.callback = r.redirect.String()
	if p.Mode == ModeRelay {
		// PORT.RANDOM forwards to /callback, PORT.NAME.RANDOM to
		// /callback/NAME (see relayState).
		parts := strings.Split(r.q.Get("state"), ".")
		path := "/callback"
		if len(parts) == 3 {
			path += "/" + parts[1]
		}
		r.callback = "http://127.0.0.1:" + parts[0] + path
	}
	return r
}

// callbackURL builds the callback the authorization server would redirect to.
func (r *running) callbackURL(params url.Values) string {
	return r.callback + "?" + params.Encode()
}

// good is a genuine response with the given code.
func (r *running) good(code string) url.Values {
	return url.Values{"code": {code}, "state": {r.q.Get("state")}}
}

func (r *running) wait(t *testing.T) (*Result, error) {
	t.Helper()
	select {
	case o := <-r.done:
		return o.res, o.err
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return")
		return nil, nil
	}
}

// stillWaiting fails if Run has already returned.
func (r *running) stillWaiting(t *testing.T) {
	t.Helper()
	select {
	case o := <-r.done:
		t.Fatalf("flow ended early: res=%v err=%v", o.res, o.err)
	default:
	}
}

// host is the listener's host:port.
func (r *running) host() string {
	u, _ := url.Parse(r.callback)
	return u.Host
}

// assertRefused checks the port no longer accepts connections.
func assertRefused(t *testing.T, hostPort string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", hostPort, time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after the flow ended", hostPort)
	}
}

// waitGoroutines polls (no fixed sleep) until the goroutine count is back
// to the baseline.
func waitGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= baseline {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutines: %d now, %d at start\n%s", n, baseline, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// assertNoSecrets fails if any secret appears in any of the texts.
func assertNoSecrets(t *testing.T, texts map[string]string, secrets ...string) {
	t.Helper()
	for name, text := range texts {
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("%s contains a secret %q:\n%s", name, s, text)
			}
		}
	}
}

// helperOutcome is testkit.Outcome under the field names this package's tests
// read.
type helperOutcome struct{ skipped, failed string }

// runOutcome runs f with a testing.TB that records a skip or a failure, and
// reports which f chose (testkit.RunOutcome).
func runOutcome(t *testing.T, f func(testing.TB)) helperOutcome {
	o := testkit.RunOutcome(t, f)
	return helperOutcome{skipped: o.Skipped, failed: o.Failed}
}
