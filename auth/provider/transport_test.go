package provider

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider/providertest"
)

// Every request, sbctl's own and x/oauth2's through HTTPClient, carries
// sbctl's User-Agent, and HTTPClient keeps the timeout and follows no
// redirect.
func TestHTTPClientIsTheProvidersTransport(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.On("POST /device/code", func(w http.ResponseWriter, r *http.Request, s seen) {
		providertest.WriteJSON(w, 200, `{"device_code":"dc-1","user_code":"ABCD-EFGH","verification_uri":"https://id.example/device","expires_in":600,"interval":1}`)
	})
	f.On("POST /token", func(w http.ResponseWriter, r *http.Request, s seen) {
		providertest.WriteJSON(w, 200, `{"access_token":"at-1","token_type":"Bearer","expires_in":60,"refresh_token":"rt-1"}`)
	})
	f.On("POST /moved", func(w http.ResponseWriter, r *http.Request, s seen) {
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	f.Reply("POST /elsewhere", 200, `{}`)
	f.Reply("GET /big", 200, strings.Repeat(" ", 2*maxBody))
	p, err := New(Settings{Type: "oauth2", ClientID: "dev-cli", AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/token"),
		DeviceAuthURL: f.Endpoint("/device/code")}, &http.Client{Timeout: 7 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hc := p.HTTPClient()
	if hc.Timeout != 7*time.Second {
		t.Errorf("timeout %v, want the caller's 7s", hc.Timeout)
	}

	cfg, err := p.OAuth2Config(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	octx := context.WithValue(ctx(t), oauth2.HTTPClient, hc)
	if _, err := cfg.DeviceAuth(octx); err != nil {
		t.Fatal(err)
	}
	// DeviceAccessToken waits the server's interval before it polls; the
	// token request it then makes is x/oauth2's, as this one is.
	if _, err := cfg.Exchange(octx, "code"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "rt-0"}); err != nil {
		t.Fatal(err)
	}
	reqs := f.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	big, err := hc.Get(f.Endpoint("/big"))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, big.Body)
	big.Body.Close()
	if n > maxBody {
		t.Errorf("read %d bytes of an answer, want at most %d", n, maxBody)
	}
	for _, s := range reqs {
		if ua := s.Header.Get("User-Agent"); ua != userAgent {
			t.Errorf("%s %s: User-Agent %q, want %q", s.Method, s.Path, ua, userAgent)
		}
		if a := s.Header.Get("Accept"); a != "application/json" {
			t.Errorf("%s %s: Accept %q", s.Method, s.Path, a)
		}
	}

	req, _ := http.NewRequestWithContext(ctx(t), http.MethodPost, f.Endpoint("/moved"), strings.NewReader("device_code=dc-1"))
	resp, err := hc.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Errorf("a redirect of a POST was answered with HTTP %d, want an error naming its host", resp.StatusCode)
	}
	if f.Count("POST /elsewhere") != 0 {
		t.Error("a POST was followed through a redirect")
	}
}

// The caller's own User-Agent on a request made through HTTPClient is
// replaced, not doubled, and the caller's client is left as it was.
func TestHTTPClientLeavesCallersClientAlone(t *testing.T) {
	t.Parallel()
	base := &http.Client{Timeout: time.Second}
	p, err := New(Settings{Type: "x", ClientID: "c"}, base)
	if err != nil {
		t.Fatal(err)
	}
	if base.Transport != nil || base.CheckRedirect != nil {
		t.Error("New changed the caller's client")
	}
	if p.HTTPClient() == base {
		t.Error("HTTPClient hands out the caller's client itself")
	}
}

// dnsFailure is what net/http returns for a host name that does not exist.
func dnsFailure(_ context.Context, _, addr string) (net.Conn, error) {
	host, _, _ := net.SplitHostPort(addr)
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
}

// A typo'd host is not something to wait out: the message says to check
// the URL, and the failure stays transient (status unknown, never
// needs_reauth).
func TestUnresolvableHost(t *testing.T) {
	t.Parallel()
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: dnsFailure}}
	p, err := New(Settings{Name: "acme", Type: "oidc", Issuer: "https://id.acme.exmaple", ClientID: "c"}, hc)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "r"})
	e := wantKind(t, err, KindTransient, "")
	msg := e.Error()
	for _, want := range []string{"id.acme.exmaple", "could not be resolved", "check the provider's URL or issuer in the config"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "try again later") {
		t.Errorf("a typo'd host is not a reason to wait: %s", msg)
	}
}
