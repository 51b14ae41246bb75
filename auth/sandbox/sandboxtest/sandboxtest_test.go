package sandboxtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth/flow"
	"github.com/sbctl/sbctl/auth/sandbox"
	"github.com/sbctl/sbctl/auth/sandbox/sandboxtest"
)

// The click-through is a sign-in opener; this is the interface match the
// sandbox cannot state itself (it does not import the client).
var _ flow.Opener = sandboxtest.ClickThrough()

// A whole sign-in: a started sandbox approves at once, the click-through
// brings the code to the flow's loopback listener, and the sandbox is gone
// once the test that started it has ended.
func TestStartSignInAndCleanup(t *testing.T) {
	var issuer string
	t.Run("sign-in", func(t *testing.T) {
		srv := sandboxtest.Start(t, sandbox.Options{})
		issuer = srv.Issuer()
		if u, err := url.Parse(issuer); err != nil || u.Hostname() != "127.0.0.1" || u.Port() == "0" {
			t.Fatalf("issuer %q, want http://127.0.0.1:PORT", issuer)
		}
		res, err := flow.Run(context.Background(), flow.Params{
			AuthURL: srv.Metadata().AuthorizationEndpoint, ClientID: "sandboxtest", Issuer: issuer, RequireIss: true,
			Browser: sandboxtest.ClickThrough(), Stderr: io.Discard, Timeout: 20 * time.Second,
		})
		if err != nil {
			t.Fatalf("sign-in: %v", err)
		}
		if !strings.HasPrefix(res.Code, "sbx-ac-") || res.Iss != issuer {
			t.Errorf("result code prefix %q, iss %q", res.Code[:min(len(res.Code), 7)], res.Iss)
		}
		if n := srv.Stats().AuthorizeRequests; n != 1 {
			t.Errorf("%d authorization requests, want 1", n)
		}
	})
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(issuer, "http://"), time.Second); err == nil {
		c.Close()
		t.Errorf("the sandbox %s still listens after its test ended", issuer)
	}
}

// Told otherwise, the sandbox shows its approval page, and the click-through
// says it could not get through.
func TestStartWithApprovalPage(t *testing.T) {
	srv := sandboxtest.StartWithApprovalPage(t, sandbox.Options{AutoApprove: true})
	q := url.Values{"response_type": {"code"}, "client_id": {"c"}, "redirect_uri": {"http://127.0.0.1:9/callback"},
		"state": {"s"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
	err := sandboxtest.ClickThrough().Open(context.Background(), srv.Metadata().AuthorizationEndpoint+"?"+q.Encode())
	if err == nil || !strings.Contains(err.Error(), "without redirecting") {
		t.Fatalf("click-through past an approval page: %v", err)
	}
}

// The caller's options are kept (here: rotation on one server, not on the
// other), and Listen refuses what the sandbox refuses.
func TestStartKeepsOptions(t *testing.T) {
	for _, rotate := range []bool{true, false} {
		srv := sandboxtest.Start(t, sandbox.Options{RotateRefresh: rotate})
		tr, err := srv.Issue(sandbox.IssueRequest{ClientID: "c", Scopes: []string{"offline_access"}})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.PostForm(srv.Metadata().TokenEndpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {"c"}})
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			RefreshToken string `json:"refresh_token"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("refresh: %s, %v", resp.Status, err)
		}
		if rotated := body.RefreshToken != ""; rotated != rotate {
			t.Errorf("RotateRefresh %v: a new refresh token came back: %v", rotate, rotated)
		}
	}
	if _, err := sandboxtest.Listen(sandbox.Options{Addr: "0.0.0.0:0"}); err == nil {
		t.Error("Listen accepted a non-loopback address")
	}
}
