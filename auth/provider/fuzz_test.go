package provider

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzClassify: any answer classifies without panicking, and what reaches
// the message is bounded, printable and never a raw non-JSON body.
func FuzzClassify(f *testing.F) {
	seeds := []string{
		`{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`,
		`{"error":{"message":"x","type":"OAuthException","code":190,"error_subcode":460}}`,
		`{"serviceErrorCode":65601,"message":"revoked","status":401}`,
		`{"error":{"code":"access_token_invalid","message":"m","log_id":"l"}}`,
		`{"active":false,"status":"expired"}`,
		`{"error":"invalid_grant","reason":"password_changed"}`,
		`{"error":{"code":401,"status":"UNAUTHENTICATED","errors":[{"reason":"authError"}]}}`,
		`{"error_type":"OAuthException","code":400,"error_message":"bad"}`,
		`{"error":{"code":1e400}}`, `{"error":{"code":"190","error_subcode":-1}}`, `{"error":null}`,
		`<html>` + marker + `</html>`, ``, `{`, `[]`, `"str"`,
	}
	for _, s := range seeds {
		f.Add(400, s, "")
		f.Add(401, s, `Bearer error="invalid_token", error_description="x"`)
	}
	f.Add(429, "", "")
	f.Fuzz(func(t *testing.T, status int, body, challenge string) {
		h := http.Header{}
		if challenge != "" {
			h.Set("WWW-Authenticate", challenge)
			h.Set("Retry-After", challenge)
		}
		e := Classify(status, h, []byte(body), "fuzz")
		if e == nil {
			t.Fatal("nil error")
		}
		if n := utf8.RuneCountInString(e.Description); n > maxDescription+1 {
			t.Fatalf("description of %d runes", n)
		}
		if len(e.Code) > maxCode {
			t.Fatalf("code of %d bytes", len(e.Code))
		}
		if e.Kind == KindTransient && e.Reason != "" {
			t.Fatal("transient with a reason")
		}
		if e.Kind == KindDefinite && e.Reason == "" {
			t.Fatal("definite without a reason")
		}
		if e.RetryAfter < 0 || e.RetryAfter > maxRetryAfter {
			t.Fatalf("RetryAfter %v", e.RetryAfter)
		}
		msg := e.Error()
		if n := utf8.RuneCountInString(msg); n > 1200 {
			t.Fatalf("message of %d characters", n)
		}
		for _, r := range e.Description {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("control character in description %q", e.Description)
			}
		}
		trimmed := strings.TrimSpace(body)
		if !strings.HasPrefix(trimmed, "{") && challenge == "" && (e.Description != "" || e.Code != "") {
			t.Fatalf("a non-JSON body reached the message: %q", msg)
		}
		if strings.Contains(msg, marker) {
			t.Fatalf("marker in message %q", msg)
		}
	})
}
