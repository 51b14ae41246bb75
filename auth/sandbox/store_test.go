package sandbox

import (
	"testing"
	"time"
)

// Long-running servers forget long-expired entries, but never a live
// grant's refresh tokens (rotated ones included: reuse detection).
func TestSweepForgetsOnlyWhatCannotMatter(t *testing.T) {
	clk := newClock()
	s := start(t, Options{AutoApprove: true, RotateRefresh: true, RefreshTTL: 30 * 24 * time.Hour, Now: clk.Now})
	tok := codeFlow(t, s, config(s))
	code, body := refresh(t, s, tok.RefreshToken)
	if code != 200 {
		t.Fatal(body)
	}
	clk.Advance(9 * 24 * time.Hour)
	if _, err := s.Issue(IssueRequest{ClientID: testClient}); err != nil { // triggers a sweep
		t.Fatal(err)
	}
	s.mu.Lock()
	_, atKept := s.st.access[tok.AccessToken]
	_, oldRTKept := s.st.refresh[tok.RefreshToken]
	codes := len(s.st.codes)
	s.mu.Unlock()
	if atKept || !oldRTKept || codes != 0 {
		t.Fatalf("access kept %v, rotated refresh kept %v, codes %d", atKept, oldRTKept, codes)
	}
	// Reuse detection still works on the old token.
	code, body = refresh(t, s, tok.RefreshToken)
	wantError(t, code, body, 400, "invalid_grant", "access_revoked")
}
