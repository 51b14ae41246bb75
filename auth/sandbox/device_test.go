package sandbox

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func poll(t *testing.T, s *Server, deviceCode string) (int, map[string]any) {
	t.Helper()
	code, body, _ := post(t, s.Metadata().TokenEndpoint, url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {deviceCode}, "client_id": {testClient},
	})
	return code, body
}

func getPage(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := noRedirect.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func hiddenField(t *testing.T, body, name string) string {
	t.Helper()
	marker := `name="` + name + `" value="`
	i := strings.Index(body, marker)
	if i < 0 {
		t.Fatalf("no %s field in %s", name, body)
	}
	rest := body[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

func TestDeviceFlowPendingThenApproved(t *testing.T) {
	clk := newClock()
	s := start(t, Options{Now: clk.Now})
	conf := config(s, "openid")
	da, err := conf.DeviceAuth(context.Background(), oauth2.SetAuthURLParam("login_hint", "hank"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(da.DeviceCode, "sbx-dc-") || len(da.UserCode) != 9 || da.VerificationURI != s.Issuer()+"/device" ||
		da.VerificationURIComplete != s.Issuer()+"/device?user_code="+da.UserCode || da.Interval != 5 || da.Expiry.IsZero() {
		t.Fatalf("device authorization %+v", da)
	}

	code, body := poll(t, s, da.DeviceCode)
	wantError(t, code, body, 400, "authorization_pending", "")
	code, body = poll(t, s, da.DeviceCode) // too soon
	wantError(t, code, body, 400, "slow_down", "")
	clk.Advance(5 * time.Second) // the interval is now 10s: still too soon
	code, body = poll(t, s, da.DeviceCode)
	wantError(t, code, body, 400, "slow_down", "")
	clk.Advance(15 * time.Second) // and now 15s
	code, body = poll(t, s, da.DeviceCode)
	wantError(t, code, body, 400, "authorization_pending", "")

	// The user opens the link and approves.
	status, page := getPage(t, da.VerificationURIComplete)
	if status != 200 || !strings.Contains(page, "hank@sandbox.test") {
		t.Fatalf("verification page %d %s", status, page)
	}
	form := url.Values{"user_code": {hiddenField(t, page, "user_code")}, "nonce": {hiddenField(t, page, "nonce")}, "decision": {"approve"}}
	bad := url.Values{"user_code": form["user_code"], "nonce": {"forged"}, "decision": {"approve"}}
	if code, _, _ := postPage(t, s.Issuer()+"/device", bad, ""); code != 400 {
		t.Fatalf("forged nonce: %d", code)
	}
	if code, _, _ := postPage(t, s.Issuer()+"/device", form, "https://evil.example"); code != 403 {
		t.Fatalf("cross-site approval: %d", code)
	}
	if code, _, body := postPage(t, s.Issuer()+"/device", form, s.Issuer()); code != 200 || !strings.Contains(body, "approved") {
		t.Fatalf("approval: %d %s", code, body)
	}

	code, body = poll(t, s, da.DeviceCode)
	if code != 200 || body["refresh_token"] == nil || body["id_token"] == nil {
		t.Fatalf("token: %d %v", code, body)
	}
	if _, u, _ := getUserinfo(t, s, body["access_token"].(string)); u["sub"] != "hank" {
		t.Fatalf("userinfo %v", u)
	}
	code, body = poll(t, s, da.DeviceCode)
	wantError(t, code, body, 400, "invalid_grant", "")
	if st := s.Stats(); st.DeviceAuthorizations != 1 || st.DevicePolls != 6 {
		t.Errorf("stats %+v", st)
	}
}

func TestDeviceFlowDeniedAndExpired(t *testing.T) {
	clk := newClock()
	s := start(t, Options{Now: clk.Now})
	conf := config(s)
	ctx := context.Background()

	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The code entry page, then a typed code in lower case with a space.
	if status, page := getPage(t, s.Issuer()+"/device"); status != 200 || !strings.Contains(page, `name="user_code"`) {
		t.Fatalf("entry page %d", status)
	}
	typed := strings.ToLower(strings.Replace(da.UserCode, "-", " ", 1))
	_, page := getPage(t, s.Issuer()+"/device?"+url.Values{"user_code": {typed}}.Encode())
	form := url.Values{"user_code": {hiddenField(t, page, "user_code")}, "nonce": {hiddenField(t, page, "nonce")}, "decision": {"deny"}}
	if code, _, _ := postPage(t, s.Issuer()+"/device", form, ""); code != 200 {
		t.Fatalf("deny: %d", code)
	}
	code, body := poll(t, s, da.DeviceCode)
	wantError(t, code, body, 400, "access_denied", "")

	da, err = conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Minute)
	code, body = poll(t, s, da.DeviceCode)
	wantError(t, code, body, 400, "expired_token", "")
	if status, _ := getPage(t, da.VerificationURIComplete); status != 400 {
		t.Fatalf("expired code page: %d", status)
	}
	if status, _ := getPage(t, s.Issuer()+"/device?user_code=BBBB-BBBB"); status != 400 {
		t.Fatalf("unknown code page: %d", status)
	}
	code, body = poll(t, s, "sbx-dc-unknown")
	wantError(t, code, body, 400, "invalid_grant", "")
}

// With AutoApprove, visiting verification_uri_complete approves; x/oauth2's
// poller then gets the token (after one real 1s interval).
func TestDeviceFlowAutoApproveWithOAuth2(t *testing.T) {
	s := start(t, Options{AutoApprove: true, DevicePollInterval: time.Millisecond})
	conf := config(s)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if da.Interval != 1 {
		t.Fatalf("interval %d, want 1 (rounded up to whole seconds)", da.Interval)
	}
	if status, page := getPage(t, da.VerificationURIComplete); status != http.StatusOK || !strings.Contains(page, "approved") {
		t.Fatalf("verification: %d %s", status, page)
	}
	tok, err := conf.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || !tok.Valid() {
		t.Fatalf("token %+v", tok)
	}
}
