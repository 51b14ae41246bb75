package flow

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/oauth2"
)

const (
	deviceCode    = "DEVICE-CODE-SECRET"
	accessToken   = "ACCESS-TOKEN-SECRET"
	refreshToken  = "REFRESH-TOKEN-SECRET"
	bodyMarker    = "BODY-MARKER-SECRET"
	userCode      = "WDJB-MJHT"
	verifyURI     = "https://example.com/device"
	deviceClient  = "device-client"
	deviceScope   = "openid profile"
	deviceExpires = 600
)

// deviceServer is an RFC 8628 authorization server whose token endpoint
// answers from a script: "pending", "slow_down", "success", "denied",
// "expired", "html" (a non-JSON 400 with a marker in the body) or "json"
// (an error JSON with a marker). After the script, it stays pending.
type deviceServer struct {
	mu       sync.Mutex
	script   []string
	interval int
	expires  int
	polls    []time.Time
	bad      []string // protocol violations seen
}

func (s *deviceServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method != "POST" || r.ParseForm() != nil {
		s.bad = append(s.bad, "not a form POST")
		w.WriteHeader(400)
		return
	}
	jsonReply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	switch r.URL.Path {
	case "/device":
		if r.Form.Get("client_id") != deviceClient || r.Form.Get("scope") != deviceScope {
			s.bad = append(s.bad, "device request "+r.Form.Encode())
		}
		jsonReply(200, map[string]any{
			"device_code": deviceCode, "user_code": userCode,
			"verification_uri": verifyURI, "verification_uri_complete": verifyURI + "?user_code=" + userCode,
			"expires_in": s.expires, "interval": s.interval,
		})
	case "/token":
		s.polls = append(s.polls, time.Now())
		if r.Form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code" || r.Form.Get("device_code") != deviceCode || r.Form.Get("client_id") != deviceClient {
			s.bad = append(s.bad, "token request "+r.Form.Encode())
		}
		step := "pending"
		if len(s.script) > 0 {
			step, s.script = s.script[0], s.script[1:]
		}
		switch step {
		case "pending":
			jsonReply(400, map[string]string{"error": "authorization_pending"})
		case "slow_down":
			jsonReply(400, map[string]string{"error": "slow_down"})
		case "denied":
			jsonReply(400, map[string]string{"error": "access_denied"})
		case "expired":
			jsonReply(400, map[string]string{"error": "expired_token"})
		case "json":
			jsonReply(401, map[string]string{"error": "invalid_client", "error_description": "bad client", "leak": bodyMarker})
		case "html":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(400)
			w.Write([]byte("<html>" + bodyMarker + " " + deviceCode + "</html>"))
		case "success":
			jsonReply(200, map[string]any{"access_token": accessToken, "token_type": "bearer", "refresh_token": refreshToken, "expires_in": 3600})
		}
	default:
		w.WriteHeader(404)
	}
}

func (s *deviceServer) pollTimes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.polls...)
}

func deviceConfig(base string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: deviceClient,
		Scopes:   strings.Fields(deviceScope),
		Endpoint: oauth2.Endpoint{DeviceAuthURL: base + "/device", TokenURL: base + "/token"},
	}
}

// TestDeviceHTTPServer runs against a real server on 127.0.0.1, in real
// time: one pending answer, then the token (about two seconds, the minimum
// interval x/oauth2 allows).
func TestDeviceHTTPServer(t *testing.T) {
	srv := &deviceServer{script: []string{"pending", "success"}, interval: 1, expires: deviceExpires}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	if !strings.HasPrefix(ts.URL, "http://127.0.0.1:") {
		t.Fatalf("server at %s", ts.URL)
	}
	var stderr syncBuffer
	var prompt DevicePrompt
	tok, err := DeviceFlow(context.Background(), deviceConfig(ts.URL), DeviceParams{Stderr: &stderr, OnPrompt: func(p DevicePrompt) { prompt = p }})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != accessToken || tok.RefreshToken != refreshToken {
		t.Fatalf("token %+v", tok)
	}
	if prompt.UserCode != userCode || prompt.VerificationURI != verifyURI || prompt.Expiry.IsZero() {
		t.Fatalf("prompt %+v", prompt)
	}
	polls := srv.pollTimes()
	if len(polls) != 2 || polls[1].Sub(polls[0]) < 900*time.Millisecond {
		t.Fatalf("polls %v", polls)
	}
	out := stderr.String()
	if !strings.Contains(out, verifyURI) || !strings.Contains(out, userCode) {
		t.Fatalf("stderr:\n%s", out)
	}
	assertNoSecrets(t, map[string]string{"stderr": out}, deviceCode, accessToken, refreshToken)
	if len(srv.bad) > 0 {
		t.Fatalf("protocol: %v", srv.bad)
	}
}

// handlerTransport serves requests in memory, so the device tests below can
// run in a synctest bubble, where the 5-second slow_down penalty passes on a
// fake clock.
type handlerTransport struct{ h http.Handler }

func (tr handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	tr.h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

type deviceRun struct {
	srv *deviceServer
	tok *oauth2.Token
	err error
	out string
}

// runDevice runs DeviceFlow against a script on a fake clock.
func runDevice(t *testing.T, script []string, expires int, p DeviceParams, cancelAfter time.Duration) deviceRun {
	t.Helper()
	var r deviceRun
	var stderr syncBuffer
	synctest.Test(t, func(t *testing.T) {
		r.srv = &deviceServer{script: script, interval: 1, expires: expires}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: handlerTransport{r.srv}})
		if cancelAfter > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			time.AfterFunc(cancelAfter, cancel)
			defer cancel()
		}
		p.Stderr = &stderr
		r.tok, r.err = DeviceFlow(ctx, deviceConfig("https://auth.example"), p)
	})
	r.out = stderr.String()
	return r
}

func TestDevicePendingSlowDownSuccess(t *testing.T) {
	r := runDevice(t, []string{"pending", "slow_down", "pending", "success"}, deviceExpires, DeviceParams{}, 0)
	srv, tok, err, out := r.srv, r.tok, r.err, r.out
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != accessToken {
		t.Fatalf("token %+v", tok)
	}
	polls := srv.pollTimes()
	var gaps []time.Duration
	for i := 1; i < len(polls); i++ {
		gaps = append(gaps, polls[i].Sub(polls[i-1]))
	}
	// interval 1 s; slow_down adds 5 s for this and every later poll.
	want := []time.Duration{time.Second, 6 * time.Second, 6 * time.Second}
	if len(gaps) != len(want) {
		t.Fatalf("gaps %v", gaps)
	}
	for i := range want {
		if gaps[i] != want[i] {
			t.Fatalf("gaps %v, want %v", gaps, want)
		}
	}
	assertNoSecrets(t, map[string]string{"stderr": out}, deviceCode, accessToken, refreshToken)
}

func TestDeviceErrors(t *testing.T) {
	err := runDevice(t, []string{"pending", "denied"}, deviceExpires, DeviceParams{}, 0).err
	if !errors.Is(err, ErrDenied) {
		t.Errorf("denied: %v", err)
	}
	err = runDevice(t, []string{"expired"}, deviceExpires, DeviceParams{}, 0).err
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired_token: %v", err)
	}
	// The server never approves: the code's own lifetime ends the polling.
	err = runDevice(t, nil, 30, DeviceParams{}, 0).err
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("code expiry: %v", err)
	}
	err = runDevice(t, nil, deviceExpires, DeviceParams{Timeout: 20 * time.Second}, 0).err
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Errorf("timeout: %v", err)
	}
	err = runDevice(t, nil, deviceExpires, DeviceParams{}, 10*time.Second).err
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: %v", err)
	}
	if _, err := Device(context.Background(), &oauth2.Config{ClientID: "x"}, nil); err == nil {
		t.Error("no device endpoint accepted")
	}
}

func TestDeviceErrorsHideBody(t *testing.T) {
	for _, step := range []string{"html", "json"} {
		r := runDevice(t, []string{step}, deviceExpires, DeviceParams{}, 0)
		err, out := r.err, r.out
		if err == nil {
			t.Fatalf("%s: no error", step)
		}
		assertNoSecrets(t, map[string]string{"error": err.Error(), "stderr": out}, bodyMarker, deviceCode)
		var ae *AuthError
		if step == "json" && (!errors.As(err, &ae) || ae.Code != "invalid_client" || ae.HTTPStatus != 401) {
			t.Errorf("json: %#v", err)
		}
	}
}
