package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestNewRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0", "192.168.1.2:80", "example.com:80", "10.0.0.1:0", "127.0.0.1"} {
		if _, err := New(Options{Addr: addr, SigningKey: testKey()}); err == nil {
			t.Errorf("New(Addr %q) succeeded, want an error", addr)
		}
	}
	for _, addr := range []string{"", "127.0.0.1:0", "[::1]:0", "localhost:0"} {
		if _, err := New(Options{Addr: addr, SigningKey: testKey()}); err != nil {
			t.Errorf("New(Addr %q): %v", addr, err)
		}
	}
}

func TestStartListensOnLoopbackAndCloseStops(t *testing.T) {
	s, err := New(Options{SigningKey: testKey()})
	if err != nil {
		t.Fatal(err)
	}
	if s.Issuer() != "" {
		t.Fatalf("issuer before Start = %q", s.Issuer())
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err == nil {
		t.Fatal("second Start succeeded")
	}
	u, _ := url.Parse(s.Issuer())
	if u.Hostname() != "127.0.0.1" || u.Port() == "0" || u.Port() == "" {
		t.Fatalf("issuer %q is not 127.0.0.1:PORT", s.Issuer())
	}
	resp, err := http.Get(s.Issuer() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", u.Host); err == nil {
		c.Close()
		t.Fatal("port still accepts connections after Close")
	}
}

func TestDiscovery(t *testing.T) {
	s := start(t, Options{})
	iss := s.Issuer()
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		resp, err := http.Get(iss + path)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		err = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, err)
		}
		want := map[string]string{
			"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
			"revocation_endpoint": iss + "/revoke", "introspection_endpoint": iss + "/introspect",
			"userinfo_endpoint": iss + "/userinfo", "device_authorization_endpoint": iss + "/device/code",
			"jwks_uri": iss + "/jwks",
		}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s: %s = %v, want %s", path, k, m[k], v)
			}
		}
		if fmt.Sprint(m["code_challenge_methods_supported"]) != "[S256]" ||
			fmt.Sprint(m["response_types_supported"]) != "[code]" ||
			m["authorization_response_iss_parameter_supported"] != true ||
			fmt.Sprint(m["token_endpoint_auth_methods_supported"]) != "[none client_secret_basic client_secret_post]" ||
			fmt.Sprint(m["id_token_signing_alg_values_supported"]) != "[RS256]" ||
			!strings.Contains(fmt.Sprint(m["grant_types_supported"]), "urn:ietf:params:oauth:grant-type:device_code") ||
			!strings.Contains(fmt.Sprint(m["scopes_supported"]), "openid") {
			t.Errorf("%s: metadata %v", path, m)
		}
	}
	// The serve command prints json.Marshal(Metadata): the contract fields
	// come first and are all there.
	line, err := json.Marshal(s.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(line), `{"issuer":"`+iss+`","authorization_endpoint":`) || strings.Contains(string(line), "\n") {
		t.Errorf("metadata line %s", line)
	}
}

func TestJWKS(t *testing.T) {
	s := start(t, Options{})
	resp, err := http.Get(s.Metadata().JWKSURI)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 || set.Keys[0]["kty"] != "RSA" || set.Keys[0]["alg"] != "RS256" || set.Keys[0]["kid"] == "" || set.Keys[0]["d"] != "" {
		t.Fatalf("jwks %v", set)
	}
}

func TestHostHeaderChecked(t *testing.T) {
	s := start(t, Options{})
	for host, want := range map[string]int{"evil.example": 421, "127.0.0.1:1": 421, strings.TrimPrefix(s.Issuer(), "http://"): 200} {
		req, _ := http.NewRequest("GET", s.Issuer()+"/.well-known/openid-configuration", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %q: %d, want %d", host, resp.StatusCode, want)
		}
	}
	u, _ := url.Parse(s.Issuer())
	req, _ := http.NewRequest("GET", s.Issuer()+"/.well-known/openid-configuration", nil)
	req.Host = "localhost:" + u.Port()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("Host localhost:PORT: %d", resp.StatusCode)
	}
}

// The handler can be mounted on a test server of one's own; it then answers
// for the Host it is reached under.
func TestHandlerWithoutStart(t *testing.T) {
	s, err := New(Options{AutoApprove: true, SigningKey: testKey()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m Metadata
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if m.Issuer != ts.URL || m.TokenEndpoint != ts.URL+"/token" {
		t.Fatalf("metadata %+v for %s", m, ts.URL)
	}
}

// The request log must never contain a secret, even when secrets travel
// in the query or the body.
func TestLogNeverContainsSecrets(t *testing.T) {
	var mu sync.Mutex
	var log strings.Builder
	s := start(t, Options{AutoApprove: true, Logf: func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(&log, f+"\n", a...)
	}})
	conf := config(s, "openid")
	conf.ClientSecret = "secret-marker-xyz"
	conf.Endpoint.AuthStyle = 0
	tok := codeFlow(t, s, conf)
	getUserinfo(t, s, tok.AccessToken)
	refresh(t, s, tok.RefreshToken)
	introspect(t, s, tok.AccessToken)
	mu.Lock()
	defer mu.Unlock()
	out := log.String()
	if !strings.Contains(out, "POST /token -> 200") {
		t.Fatalf("log lacks the token request:\n%s", out)
	}
	for _, secret := range []string{tok.AccessToken, tok.RefreshToken, "secret-marker-xyz", "sbx-ac-", "code_challenge", "state=", "st-1"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	s := start(t, Options{})
	resp, err := http.Get(s.Metadata().TokenEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /token: %d", resp.StatusCode)
	}
}
