package flow

// Which test proves which SECURITY.md item:
//
//	 1 loopback bind            TestListenerIsLoopback, TestListenFallsBack
//	 2 redirect from bound addr TestListenerIsLoopback
//	 3 OS port / busy fixed     TestTwoFlowsTwoPorts, TestFixedPortBusy, TestFixedPort
//	 4 closed after, no leaks   TestSuccessClosesPort, TestCancelClosesPort, TestTimeout, TestNoGoroutineLeft
//	 5 Host, GET, exact path    TestWrongHostRefused, TestOtherPathsAndMethods
//	 6 state                    TestBadStateKeepsWaiting, TestStateEntropy, FuzzCallback, FuzzParsePasted
//	 7 state before error=      TestErrorWithBadStateIgnored, TestDenied
//	 8 one callback             TestSecondCallbackRefused, TestSimultaneousCallbacks
//	 9 PKCE                     TestPKCE, TestEndToEndMockOIDC
//	10 iss                      TestIss, TestCheckOrder
//	11 code redeemed once       (the exchange is the provider layer's; here: one
//	                            callback only, and the code is returned once)
//	12 browser                  TestDefaultOpener*, TestOpenerFailurePrintsURL, TestNoBrowser
//	13 static page              TestCallbackPageIsStatic
//	14 no secrets in output     TestNoSecretsInOutput, TestDeviceErrorsHideBody, TestDeviceHTTPServer
//	28 path per provider, iss   TestSecurity28*, TestRelayFlowProviderPath, TestCallbackPathChecked, FuzzCallback
//	29 device tokens checked    TestSecurity29DeviceFlowRefusesUnprintableTokens
//	30 server text, URLs        TestSecurity30*, TestAuthErrorText
//	32 browser environment      TestSecurity32BrowserGetsNoSecrets, TestSecretEnv
//	 - repeated parameters      TestCallbackRefusesRepeatedParams, TestRelayPageRefusesRepeatedParams
//	 - listener before browser  TestListenerUpBeforeBrowser
//	 - manual mode              TestManual*
//	 - relay mode               TestRelay*
//	 - device flow              TestDevice*

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sbctl/sbctl/auth"
)

func TestSuccess(t *testing.T) {
	r := start(t, Params{Scopes: []string{"a", "b"}})
	resp := do(t, "GET", r.callbackURL(r.good("the-code")), "")
	if resp.status != 200 || !strings.Contains(resp.body, "Signed in") {
		t.Fatalf("callback: %d %q", resp.status, resp.body)
	}
	res, err := r.wait(t)
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != "the-code" || res.RedirectURI != r.q.Get("redirect_uri") || res.CodeVerifier == "" {
		t.Fatalf("result %+v", *res)
	}
	for k, want := range map[string]string{"response_type": "code", "client_id": "client-1", "scope": "a b", "code_challenge_method": "S256"} {
		if got := r.q.Get(k); got != want {
			t.Errorf("auth URL %s = %q, want %q", k, got, want)
		}
	}
}

func TestListenerIsLoopback(t *testing.T) {
	r := start(t, Params{})
	defer r.cancel()
	u := r.redirect
	if u.Scheme != "http" || u.Path != "/callback" {
		t.Fatalf("redirect_uri %s", u)
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsLoopback() {
		t.Fatalf("redirect_uri host %q is not a loopback IP literal", u.Hostname())
	}
	if u.Hostname() != "127.0.0.1" {
		t.Fatalf("redirect_uri host %q, want 127.0.0.1", u.Hostname())
	}
	// The URI names the port actually bound: something is listening there.
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatalf("nothing listens at the redirect_uri's address: %v", err)
	}
	c.Close()
	// And nothing on the other interfaces of this port (it is not 0.0.0.0).
	if addrs, _ := net.InterfaceAddrs(); len(addrs) > 0 {
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLoopback() || ipn.IP.To4() == nil {
				continue
			}
			c, err := net.DialTimeout("tcp", net.JoinHostPort(ipn.IP.String(), u.Port()), time.Second)
			if err == nil {
				c.Close()
				t.Fatalf("the listener is reachable on %s", ipn.IP)
			}
		}
	}
}

func TestListenFallsBack(t *testing.T) {
	// 192.0.2.1 (TEST-NET-1) is not a local address, so it cannot be bound;
	// the next host must be tried.
	ln, err := listenLoopback([]string{"192.0.2.1", "127.0.0.1"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if !ln.Addr().(*net.TCPAddr).IP.IsLoopback() {
		t.Fatalf("bound %s", ln.Addr())
	}
	// A non-loopback address that can be bound is refused anyway.
	if _, err := listenLoopback([]string{"0.0.0.0"}, 0); err == nil {
		t.Fatal("listened on 0.0.0.0")
	}
	if got := loopbackHosts(true); len(got) != 2 || got[0] != "127.0.0.1" || got[1] != "::1" {
		t.Fatalf("hosts %v", got)
	}
}

func TestTwoFlowsTwoPorts(t *testing.T) {
	a := start(t, Params{})
	b := start(t, Params{})
	if a.redirect.Host == b.redirect.Host {
		t.Fatalf("both flows use %s", a.redirect.Host)
	}
	// Each listener answers only its own state.
	if resp := do(t, "GET", a.callbackURL(b.good("x")), ""); resp.status != 400 {
		t.Fatalf("a accepted b's state: %d", resp.status)
	}
	do(t, "GET", b.callbackURL(b.good("code-b")), "")
	do(t, "GET", a.callbackURL(a.good("code-a")), "")
	ra, err := a.wait(t)
	if err != nil || ra.Code != "code-a" {
		t.Fatalf("a: %v %v", ra, err)
	}
	rb, err := b.wait(t)
	if err != nil || rb.Code != "code-b" {
		t.Fatalf("b: %v %v", rb, err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}

func TestFixedPort(t *testing.T) {
	port := freePort(t)
	r := start(t, Params{Port: port})
	if r.redirect.String() != "http://127.0.0.1:"+strconv.Itoa(port)+"/callback" {
		t.Fatalf("redirect_uri %s", r.redirect)
	}
	do(t, "GET", r.callbackURL(r.good("c")), "")
	if _, err := r.wait(t); err != nil {
		t.Fatal(err)
	}
}

func TestFixedPortBusy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	_, err = Run(context.Background(), Params{AuthURL: "https://a.example/auth", ClientID: "c", Port: port, Browser: &fakeBrowser{}, Stderr: &syncBuffer{}})
	var busy *PortInUseError
	if !errors.As(err, &busy) || busy.Port != port {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(port)) || !strings.Contains(err.Error(), "redirect_port") {
		t.Fatalf("message does not name the port and the fix: %v", err)
	}

	// Two flows on the same fixed port: the second one is told.
	ln.Close()
	r := start(t, Params{Port: port})
	defer r.cancel()
	_, err = Run(context.Background(), Params{AuthURL: "https://a.example/auth", ClientID: "c", Port: port, Browser: &fakeBrowser{}, Stderr: &syncBuffer{}})
	if !errors.As(err, &busy) {
		t.Fatalf("second flow on a busy port: %v", err)
	}
}

func TestListenerUpBeforeBrowser(t *testing.T) {
	var dialErr error
	fb := &fakeBrowser{play: func(_ context.Context, authURL string) error {
		u, _ := url.Parse(authURL)
		ru, _ := url.Parse(u.Query().Get("redirect_uri"))
		c, err := net.Dial("tcp", ru.Host)
		if err == nil {
			c.Close()
		}
		dialErr = err
		// A real response from inside the opener, like a browser command
		// that blocks until the page loaded.
		resp := do(t, "GET", ru.String()+"?"+url.Values{"code": {"c"}, "state": {u.Query().Get("state")}}.Encode(), "")
		if resp.status != 200 {
			return fmt.Errorf("status %d", resp.status)
		}
		return nil
	}}
	res, err := Run(context.Background(), Params{AuthURL: "https://a.example/auth", ClientID: "c", Browser: fb, Stderr: &syncBuffer{}})
	if err != nil {
		t.Fatal(err)
	}
	if dialErr != nil {
		t.Fatalf("listener not up when the browser opened: %v", dialErr)
	}
	if res.Code != "c" || len(fb.opened()) != 1 {
		t.Fatalf("res %v opened %v", res, fb.opened())
	}
}

func TestSuccessClosesPort(t *testing.T) {
	r := start(t, Params{})
	do(t, "GET", r.callbackURL(r.good("c")), "")
	if _, err := r.wait(t); err != nil {
		t.Fatal(err)
	}
	assertRefused(t, r.host())
}

func TestCancelClosesPort(t *testing.T) {
	r := start(t, Params{})
	r.cancel()
	_, err := r.wait(t)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	assertRefused(t, r.host())
}

func TestTimeout(t *testing.T) {
	r := start(t, Params{Timeout: 200 * time.Millisecond})
	_, err := r.wait(t)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "timed out after 200ms") || !strings.Contains(msg, "--timeout") {
		t.Fatalf("message: %s", msg)
	}
	assertRefused(t, r.host())
}

func TestTimeoutMessage(t *testing.T) {
	if got := (&TimeoutError{After: 5 * time.Minute}).Error(); !strings.Contains(got, "timed out after 5m ") || !strings.Contains(got, "--timeout 10m") {
		t.Fatal(got)
	}
}

func TestNoGoroutineLeft(t *testing.T) {
	baseline := runtime.NumGoroutine()

	// success
	r := start(t, Params{})
	do(t, "GET", r.callbackURL(r.good("c")), "")
	r.wait(t)
	// denied
	r = start(t, Params{})
	do(t, "GET", r.callbackURL(url.Values{"error": {"access_denied"}, "state": {r.q.Get("state")}}), "")
	r.wait(t)
	// cancel
	r = start(t, Params{})
	r.cancel()
	r.wait(t)
	// timeout
	r = start(t, Params{Timeout: 50 * time.Millisecond})
	r.wait(t)
	// a browser that plays the callback from inside Open
	fb := &fakeBrowser{play: func(_ context.Context, u string) error {
		q, _ := url.Parse(u)
		do(t, "GET", q.Query().Get("redirect_uri")+"?"+url.Values{"code": {"c"}, "state": {q.Query().Get("state")}}.Encode(), "")
		return nil
	}}
	if _, err := Run(context.Background(), Params{AuthURL: "https://a.example/x", ClientID: "c", Browser: fb, Stderr: &syncBuffer{}}); err != nil {
		t.Fatal(err)
	}
	// an opener that blocks until told to stop
	blocking := OpenerFunc(func(ctx context.Context, _ string) error { <-ctx.Done(); return nil })
	r = start(t, Params{Browser: blocking})
	do(t, "GET", r.callbackURL(r.good("c")), "")
	r.wait(t)
	// manual mode with a pipe on stdin, ended by the browser: the stdin
	// reader is unblocked (read deadline) without the pipe being closed.
	pr, pw := newPipe(t)
	r = start(t, Params{Mode: ModeManual, Stdin: pr})
	do(t, "GET", r.callbackURL(r.good("c")), "")
	r.wait(t)

	waitGoroutines(t, baseline)
	pw.Close()
}

func TestBadStateKeepsWaiting(t *testing.T) {
	r := start(t, Params{})
	state := r.q.Get("state")
	bad := []url.Values{
		{"code": {"evil"}, "state": {"wrong"}},
		{"code": {"evil"}},                                  // missing
		{"code": {"evil"}, "state": {""}},                   // empty
		{"code": {"evil"}, "state": {state, "wrong"}},       // repeated parameter
		{"code": {"evil"}, "state": {"wrong", state}},       // repeated, right one second
		{"code": {"evil"}, "state": {state[:len(state)-1]}}, // prefix
		{"code": {"evil"}, "state": {state + "x"}},          // longer
		{"code": {"evil", "evil2"}, "state": {state}},       // repeated code
	}
	for _, q := range bad {
		resp := do(t, "GET", r.callbackURL(q), "")
		if resp.status < 400 || resp.status > 499 {
			t.Errorf("%v: status %d", q, resp.status)
		}
		if !strings.Contains(resp.body, "not accepted") {
			t.Errorf("%v: body %q", q, resp.body)
		}
		r.stillWaiting(t)
	}
	do(t, "GET", r.callbackURL(r.good("real")), "")
	res, err := r.wait(t)
	if err != nil || res.Code != "real" {
		t.Fatalf("%v %v", res, err)
	}
	// Replaying the accepted callback (same state) finds the port closed.
	assertRefused(t, r.host())
}

func TestStateEntropy(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		s, err := newState()
		if err != nil {
			t.Fatal(err)
		}
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) != 32 {
			t.Fatalf("state %q: %d bytes, %v", s, len(b), err)
		}
		if seen[s] {
			t.Fatal("state repeated")
		}
		seen[s] = true
	}
	if stateEqual("", "") || stateEqual("x", "") || !stateEqual("abc", "abc") || stateEqual("abc", "abd") {
		t.Fatal("stateEqual")
	}
}

func TestErrorWithBadStateIgnored(t *testing.T) {
	r := start(t, Params{})
	for _, q := range []url.Values{
		{"error": {"access_denied"}, "state": {"bad"}},
		{"error": {"access_denied"}},
	} {
		if resp := do(t, "GET", r.callbackURL(q), ""); resp.status != 400 {
			t.Fatalf("%v: %d", q, resp.status)
		}
		r.stillWaiting(t)
	}
	do(t, "GET", r.callbackURL(r.good("c")), "")
	if res, err := r.wait(t); err != nil || res.Code != "c" {
		t.Fatalf("%v %v", res, err)
	}
}

func TestDenied(t *testing.T) {
	r := start(t, Params{})
	resp := do(t, "GET", r.callbackURL(url.Values{"error": {"access_denied"}, "error_description": {"The user said no"}, "state": {r.q.Get("state")}}), "")
	if resp.status != 200 || !strings.Contains(resp.body, "not completed") {
		t.Fatalf("%d %q", resp.status, resp.body)
	}
	_, err := r.wait(t)
	if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "denied access") {
		t.Fatalf("err = %v", err)
	}
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Code != "access_denied" || ae.Description != "The user said no" {
		t.Fatalf("err = %#v", err)
	}

	// Another error code ends the flow too, and is not "denied".
	r = start(t, Params{})
	do(t, "GET", r.callbackURL(url.Values{"error": {"invalid_scope"}, "error_description": {"bad\x1b[2Jscope"}, "state": {r.q.Get("state")}}), "")
	_, err = r.wait(t)
	if errors.Is(err, ErrDenied) || !errors.As(err, &ae) || ae.Code != "invalid_scope" {
		t.Fatalf("err = %v", err)
	}
	if strings.ContainsRune(err.Error(), 0x1b) {
		t.Fatalf("terminal escape in the error: %q", err)
	}
}

func TestSecondCallbackRefused(t *testing.T) {
	// The handler on its own: the flow ends after the first, so through the
	// network the second would find the port closed.
	cb := newCallback(&checker{state: "s"}, "127.0.0.1:1", "/callback")
	first := serve(cb, "GET", "/callback", "127.0.0.1:1", "code=c1&state=s")
	second := serve(cb, "GET", "/callback", "127.0.0.1:1", "code=c2&state=s")
	if first.Code != 200 || second.Code != 409 {
		t.Fatalf("statuses %d, %d", first.Code, second.Code)
	}
	if v := <-cb.done; v.code != "c1" {
		t.Fatalf("verdict %+v", v)
	}
	select {
	case v := <-cb.done:
		t.Fatalf("second verdict %+v", v)
	default:
	}
}

func TestSimultaneousCallbacks(t *testing.T) {
	r := start(t, Params{})
	const n = 8
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	startLine := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-startLine
			req := r.callbackURL(r.good("code-" + strconv.Itoa(i)))
			resp, err := newClient(false).Get(req)
			if err != nil {
				statuses <- 0 // refused once closed
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}(i)
	}
	close(startLine)
	wg.Wait()
	close(statuses)
	ok := 0
	for s := range statuses {
		switch {
		case s == 200:
			ok++
		case s == 0 || (s >= 400 && s < 500):
		default:
			t.Errorf("status %d", s)
		}
	}
	if ok != 1 {
		t.Fatalf("%d callbacks accepted, want 1", ok)
	}
	if res, err := r.wait(t); err != nil || !strings.HasPrefix(res.Code, "code-") {
		t.Fatalf("%v %v", res, err)
	}
}

func TestWrongHostRefused(t *testing.T) {
	r := start(t, Params{})
	_, port, _ := net.SplitHostPort(r.host())
	for _, h := range []string{"evil.example", "evil.example:" + port, "localhost:" + port, "127.0.0.1", "127.0.0.1:1", "[::1]:" + port} {
		resp := do(t, "GET", r.callbackURL(r.good("evil")), h)
		if resp.status != 421 {
			t.Errorf("Host %q: %d", h, resp.status)
		}
		r.stillWaiting(t)
	}
	do(t, "GET", r.callbackURL(r.good("real")), "")
	if res, err := r.wait(t); err != nil || res.Code != "real" {
		t.Fatalf("%v %v", res, err)
	}
}

func TestOtherPathsAndMethods(t *testing.T) {
	r := start(t, Params{})
	base := "http://" + r.host()
	q := "?" + r.good("evil").Encode()
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/", 404},
		{"GET", "/favicon.ico", 404},
		{"GET", "/callback/", 404},
		{"GET", "/callbackx", 404},
		{"GET", "/CALLBACK", 404},
		{"POST", "/callback", 405},
		{"PUT", "/callback", 405},
		{"HEAD", "/callback", 405},
		{"OPTIONS", "/callback", 405},
	} {
		resp := do(t, c.method, base+c.path+q, "")
		if resp.status != c.status {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.status, c.status)
		}
		if c.status == 405 && resp.header.Get("Allow") != "GET" {
			t.Errorf("%s: Allow %q", c.method, resp.header.Get("Allow"))
		}
		r.stillWaiting(t)
	}
	do(t, "GET", r.callbackURL(r.good("real")), "")
	if res, err := r.wait(t); err != nil || res.Code != "real" {
		t.Fatalf("%v %v", res, err)
	}
}

func TestIss(t *testing.T) {
	const iss = "https://id.example"
	r := start(t, Params{Issuer: iss})
	st := r.q.Get("state")
	for _, bad := range []string{"https://other.example", "https://id.example/", "", "HTTPS://ID.EXAMPLE"} {
		if resp := do(t, "GET", r.callbackURL(url.Values{"code": {"evil"}, "state": {st}, "iss": {bad}}), ""); resp.status != 400 {
			t.Errorf("iss %q: %d", bad, resp.status)
		}
		r.stillWaiting(t)
	}
	// Mix-up: a wrong iss with error= is rejected before the error is acted on.
	do(t, "GET", r.callbackURL(url.Values{"error": {"access_denied"}, "state": {st}, "iss": {"https://other.example"}}), "")
	r.stillWaiting(t)
	do(t, "GET", r.callbackURL(url.Values{"code": {"c"}, "state": {st}, "iss": {iss}}), "")
	res, err := r.wait(t)
	if err != nil || res.Code != "c" || res.Iss != iss {
		t.Fatalf("%v %v", res, err)
	}

	// Required: a response without iss is refused.
	r = start(t, Params{Issuer: iss, RequireIss: true})
	if resp := do(t, "GET", r.callbackURL(r.good("evil")), ""); resp.status != 400 {
		t.Fatalf("missing iss: %d", resp.status)
	}
	r.stillWaiting(t)
	do(t, "GET", r.callbackURL(url.Values{"code": {"c"}, "state": {r.q.Get("state")}, "iss": {iss}}), "")
	if res, err := r.wait(t); err != nil || res.Code != "c" {
		t.Fatalf("%v %v", res, err)
	}

	// Not required and absent: fine.
	r = start(t, Params{Issuer: iss})
	do(t, "GET", r.callbackURL(r.good("c")), "")
	if res, err := r.wait(t); err != nil || res.Iss != "" {
		t.Fatalf("%v %v", res, err)
	}

	// RequireIss without an issuer is a configuration error.
	if _, err := Run(context.Background(), Params{AuthURL: "https://a.example/", ClientID: "c", RequireIss: true}); err == nil {
		t.Fatal("RequireIss without Issuer accepted")
	}
}

func TestCallbackPageIsStatic(t *testing.T) {
	payload := `<script>alert(1)</script>"'><img src=x onerror=alert(2)>`
	r := start(t, Params{})
	st := r.q.Get("state")
	check := func(name string, resp response) {
		t.Helper()
		for k, want := range map[string]string{
			"Content-Security-Policy": "default-src 'none'",
			"Referrer-Policy":         "no-referrer",
			"X-Content-Type-Options":  "nosniff",
			"Cache-Control":           "no-store",
			"Content-Type":            "text/html; charset=utf-8",
		} {
			if got := resp.header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", name, k, got, want)
			}
		}
		if resp.header.Get("Location") != "" || (resp.status >= 300 && resp.status < 400) {
			t.Errorf("%s: redirect %d %q", name, resp.status, resp.header.Get("Location"))
		}
		for _, s := range []string{"<script", "alert", "onerror", "the-code-123", st} {
			if strings.Contains(resp.body, s) {
				t.Errorf("%s: body reflects %q:\n%s", name, s, resp.body)
			}
		}
	}
	check("wrong state", do(t, "GET", r.callbackURL(url.Values{"error": {"x"}, "error_description": {payload}, "state": {"bad"}, "redirect_uri": {"https://evil.example"}}), ""))
	check("404", do(t, "GET", "http://"+r.host()+"/"+url.PathEscape(payload)+"?next=https://evil.example", ""))
	check("success", do(t, "GET", r.callbackURL(url.Values{"code": {"the-code-123"}, "state": {st}, "error_description": {payload}, "next": {"https://evil.example"}}), ""))
	r.wait(t)

	r = start(t, Params{})
	check("failure", do(t, "GET", r.callbackURL(url.Values{"error": {"server_error"}, "error_description": {payload}, "state": {r.q.Get("state")}}), ""))
	r.wait(t)
}

func TestPKCE(t *testing.T) {
	for _, c := range []struct {
		kind      auth.PKCE
		challenge func(v string) string
	}{
		{auth.PKCERequired, func(v string) string {
			s := sha256.Sum256([]byte(v))
			return base64.RawURLEncoding.EncodeToString(s[:])
		}},
		// A network that merely accepts PKCE gets S256 all the same.
		{auth.PKCEOptional, func(v string) string {
			s := sha256.Sum256([]byte(v))
			return base64.RawURLEncoding.EncodeToString(s[:])
		}},
		{auth.PKCEHex, func(v string) string {
			s := sha256.Sum256([]byte(v))
			return hex.EncodeToString(s[:])
		}},
	} {
		r := start(t, Params{PKCE: c.kind})
		do(t, "GET", r.callbackURL(r.good("c")), "")
		res, err := r.wait(t)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(res.CodeVerifier); n < 43 || n > 128 {
			t.Fatalf("%v: verifier length %d", c.kind, n)
		}
		if got, want := r.q.Get("code_challenge"), c.challenge(res.CodeVerifier); got != want {
			t.Errorf("%v: challenge %q, want %q", c.kind, got, want)
		}
		if m := r.q.Get("code_challenge_method"); m != "S256" {
			t.Errorf("%v: method %q", c.kind, m)
		}
	}
	r := start(t, Params{PKCE: auth.PKCEUnsupported})
	do(t, "GET", r.callbackURL(r.good("c")), "")
	res, err := r.wait(t)
	if err != nil || res.CodeVerifier != "" || r.q.Has("code_challenge") || r.q.Has("code_challenge_method") {
		t.Fatalf("none: %v %v %v", res, err, r.q)
	}
	// Two flows never share a verifier.
	if a, b := newPKCE(auth.PKCERequired), newPKCE(auth.PKCERequired); a.verifier == b.verifier {
		t.Fatal("verifier reused")
	}
}

func TestAuthURLShape(t *testing.T) {
	r := start(t, Params{
		AuthURL:       "https://www.tiktok.com/v2/auth/authorize/?lang=en",
		ClientIDParam: "client_key",
		ClientID:      "ck",
		Scopes:        []string{"user.info.basic", "video.publish"},
		ScopeSep:      ",",
		ExtraParams:   url.Values{"access_type": {"offline"}, "prompt": {"consent"}},
		PKCE:          auth.PKCEHex,
	})
	defer r.cancel()
	u, _ := url.Parse(r.authURL)
	if u.Host != "www.tiktok.com" || u.Path != "/v2/auth/authorize/" {
		t.Fatalf("url %s", u)
	}
	for k, want := range map[string]string{"client_key": "ck", "client_id": "", "scope": "user.info.basic,video.publish", "lang": "en", "access_type": "offline", "prompt": "consent", "response_type": "code"} {
		if got := r.q.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestParamsRejected(t *testing.T) {
	base := Params{AuthURL: "https://a.example/auth", ClientID: "c", Browser: &fakeBrowser{}, Stderr: &syncBuffer{}}
	for name, mod := range map[string]func(p *Params){
		"http auth URL":       func(p *Params) { p.AuthURL = "http://a.example/auth" },
		"javascript auth URL": func(p *Params) { p.AuthURL = "javascript:alert(1)" },
		"no client":           func(p *Params) { p.ClientID = "" },
		"override state":      func(p *Params) { p.ExtraParams = url.Values{"state": {"fixed"}} },
		"override challenge":  func(p *Params) { p.ExtraParams = url.Values{"code_challenge_method": {"plain"}} },
		"override redirect":   func(p *Params) { p.ExtraParams = url.Values{"redirect_uri": {"https://evil.example"}} },
		"override client key": func(p *Params) { p.ClientIDParam = "client_key"; p.ExtraParams = url.Values{"client_key": {"x"}} },
		"device":              func(p *Params) { p.Mode = ModeDevice },
		"unknown mode":        func(p *Params) { p.Mode = "carrier-pigeon" },
		"bad port":            func(p *Params) { p.Port = 70000 },
		"bad path":            func(p *Params) { p.CallbackPath = "callback" },
		"relay without URL":   func(p *Params) { p.Mode = ModeRelay },
		"relay over http":     func(p *Params) { p.Mode = ModeRelay; p.RelayURL = "http://relay.example/" },
		"unknown PKCE":        func(p *Params) { p.PKCE = "plain" },
	} {
		p := base
		mod(&p)
		if _, err := Run(context.Background(), p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// http is fine on loopback (the sandbox, mockoidc).
	p := base
	p.AuthURL = "http://127.0.0.1:9/auth"
	p.Timeout = time.Millisecond
	if _, err := Run(context.Background(), p); !errors.Is(err, ErrTimeout) {
		t.Fatalf("loopback http auth URL: %v", err)
	}
}

func TestNoBrowser(t *testing.T) {
	fb := &fakeBrowser{}
	r := start(t, Params{NoBrowser: true, Browser: fb})
	do(t, "GET", r.callbackURL(r.good("c")), "")
	if _, err := r.wait(t); err != nil {
		t.Fatal(err)
	}
	if len(fb.opened()) != 0 {
		t.Fatal("opened a browser with NoBrowser")
	}
	if !strings.Contains(r.stderr.String(), "Open this URL in a browser to continue:\n"+r.authURL+"\n") {
		t.Fatalf("stderr:\n%s", r.stderr)
	}
}

func TestOpenerFailurePrintsURL(t *testing.T) {
	failing := OpenerFunc(func(context.Context, string) error { return errors.New("no browser here") })
	r := start(t, Params{Browser: failing})
	// The message comes from Run's goroutine; poll for it.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(r.stderr.String(), r.authURL) {
		if time.Now().After(deadline) {
			t.Fatalf("URL not printed:\n%s", r.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	out := r.stderr.String()
	if !strings.Contains(out, "no browser here") || !strings.Contains(out, "Open this URL in a browser to continue:\n"+r.authURL+"\n") {
		t.Fatalf("stderr:\n%s", out)
	}
	r.stillWaiting(t)
	do(t, "GET", r.callbackURL(r.good("c")), "")
	if res, err := r.wait(t); err != nil || res.Code != "c" {
		t.Fatalf("%v %v", res, err)
	}
}

func TestNoSecretsInOutput(t *testing.T) {
	// Success with a browser: nothing secret on stderr or in the result's
	// string form.
	r := start(t, Params{})
	do(t, "GET", r.callbackURL(r.good("SECRET-CODE-1")), "")
	res, err := r.wait(t)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecrets(t, map[string]string{
		"stderr":     r.stderr.String(),
		"result %v":  fmt.Sprintf("%v %+v %#v %v %+v %#v", res, res, res, *res, *res, *res),
		"result (*)": res.String(),
	}, "SECRET-CODE-1", res.CodeVerifier, r.q.Get("state"))

	// Bad pastes, a bad callback and a denial in manual mode: no code on
	// stderr or in the error, no state in the error (stderr shows the URL,
	// state included, by design in manual mode).
	pr, pw := newPipe(t)
	r = start(t, Params{Mode: ModeManual, Stdin: pr})
	st := r.q.Get("state")
	fmt.Fprintln(pw, r.redirect.String()+"?code=SECRET-CODE-2&state=wrong")
	fmt.Fprintln(pw, r.redirect.String()+"?code=SECRET-CODE-3")
	waitFor(t, "two reasons", func() bool { return strings.Count(r.stderr.String(), "Paste the address") == 2 })
	do(t, "GET", r.callbackURL(url.Values{"code": {"SECRET-CODE-4"}, "state": {st + "x"}}), "")
	do(t, "GET", r.callbackURL(url.Values{"error": {"access_denied"}, "state": {st}}), "")
	_, err = r.wait(t)
	pw.Close()
	assertNoSecrets(t, map[string]string{"stderr": r.stderr.String(), "error": err.Error()},
		"SECRET-CODE-2", "SECRET-CODE-3", "SECRET-CODE-4")
	assertNoSecrets(t, map[string]string{"error": err.Error()}, st)

	// Timeout with a browser: neither state nor challenge anywhere.
	r = start(t, Params{Timeout: 10 * time.Millisecond})
	_, err = r.wait(t)
	assertNoSecrets(t, map[string]string{"stderr": r.stderr.String(), "error": err.Error()}, r.q.Get("state"), r.q.Get("code_challenge"))
}

// TestAuthErrorText: the server's error code and description reach the
// person through auth.CleanText, bounded (64 and 300 characters).
func TestAuthErrorText(t *testing.T) {
	e := newAuthError("invalid_scope\x1b[2J", "bidi\u202eevil\nline "+strings.Repeat("x", 400))
	if e.Code != "invalid_scope[2J" {
		t.Errorf("code %q", e.Code)
	}
	if !strings.HasPrefix(e.Description, "bidievil line x") || !strings.HasSuffix(e.Description, "…") || utf8.RuneCountInString(e.Description) != 301 {
		t.Errorf("description %q", e.Description)
	}
}

func TestFmtDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{5 * time.Minute: "5m", 90 * time.Second: "1m30s", 2 * time.Hour: "2h", 200 * time.Millisecond: "200ms"} {
		if got := fmtDuration(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}
