package sandbox

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// callbackServer is a stand-in for a client's loopback listener: it hands
// every callback query it gets to the channel.
func callbackServer(t *testing.T) (string, <-chan url.Values) {
	t.Helper()
	got := make(chan url.Values, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.Query()
		_, _ = w.Write([]byte("signed in"))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/callback/sbx", got
}

func clickConfig(s *Server, redirect string) *oauth2.Config {
	conf := config(s, "openid")
	conf.RedirectURL = redirect
	return conf
}

// The click-through lands on the callback with the code, the state and iss,
// and Open returns only once it has.
func TestClickThroughReachesTheCallback(t *testing.T) {
	s := start(t, Options{AutoApprove: true})
	redirect, got := callbackServer(t)
	verifier := oauth2.GenerateVerifier()
	authURL := clickConfig(s, redirect).AuthCodeURL("st-click", oauth2.S256ChallengeOption(verifier))
	if err := (ClickThrough{}).Open(context.Background(), authURL); err != nil {
		t.Fatalf("Open: %v", err)
	}
	select {
	case q := <-got:
		if q.Get("code") == "" || q.Get("state") != "st-click" || q.Get("iss") != s.Issuer() {
			t.Errorf("callback query %v", q)
		}
	default:
		t.Fatal("Open returned before the callback was loaded")
	}
}

// A server that shows its approval page instead of redirecting: Open says
// so (the sign-in then prints the URL), and its error carries no state.
func TestClickThroughWithoutAutoApproveFails(t *testing.T) {
	s := start(t, Options{})
	redirect, got := callbackServer(t)
	authURL := clickConfig(s, redirect).AuthCodeURL("st-secret-4711", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	err := (ClickThrough{}).Open(context.Background(), authURL)
	if err == nil || !strings.Contains(err.Error(), "without redirecting to the callback") {
		t.Fatalf("Open = %v, want an error about the missing redirect", err)
	}
	if strings.Contains(err.Error(), "st-secret-4711") || strings.Contains(err.Error(), "code_challenge") {
		t.Errorf("the error repeats the authorization URL's query: %v", err)
	}
	if len(got) != 0 {
		t.Error("the callback was called")
	}
}

// Only loopback is visited: another host is refused before any request,
// and so is a redirect that leaves loopback.
func TestClickThroughStaysOnLoopback(t *testing.T) {
	for _, u := range []string{"https://id.example/authorize?redirect_uri=x", "http://192.0.2.1/authorize", "file:///etc/passwd", "http://[::1%25lo]/a"} {
		if err := (ClickThrough{}).Open(context.Background(), u); err == nil || !strings.Contains(err.Error(), "refusing to visit") {
			t.Errorf("Open(%s) = %v, want a refusal", u, err)
		}
	}
	var hits atomic.Int64
	bounce := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "http://192.0.2.1/callback?code=c", http.StatusFound)
	}))
	t.Cleanup(bounce.Close)
	err := (ClickThrough{}).Open(context.Background(), bounce.URL+"/authorize?redirect_uri="+url.QueryEscape("http://192.0.2.1/callback"))
	if err == nil || !strings.Contains(err.Error(), "refusing to visit http://192.0.2.1") {
		t.Errorf("a redirect off loopback: %v", err)
	}
	if hits.Load() != 1 {
		t.Errorf("%d requests to the loopback server, want 1", hits.Load())
	}
}

// Open ends when its context does, even while a page hangs.
func TestClickThroughStopsWithItsContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted, hanging := make(chan struct{}), make(chan struct{}, 1)
	go func() {
		// Accept and never answer, until the test closes the listener.
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
			close(accepted)
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			select {
			case hanging <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-accepted
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (ClickThrough{}).Open(ctx, "http://"+ln.Addr().String()+"/authorize") }()
	select {
	case <-hanging:
	case <-time.After(10 * time.Second):
		t.Fatal("the click-through never connected")
	}
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a cancelled click-through reported success")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Open did not return after its context ended")
	}
}
