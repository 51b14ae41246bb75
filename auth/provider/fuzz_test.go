package provider

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sbctl/sbctl/auth"
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
		// What reaches a person has passed the one terminal-safe policy
		// (SECURITY 30): cleaning it again changes nothing.
		if d := strings.TrimSuffix(e.Description, "…"); auth.CleanText(d, 0) != d {
			t.Fatalf("description %q is not as auth.CleanText leaves it", e.Description)
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

// FuzzScrubSecrets: a secret the server echoes, in any of the forms a
// server produces (echoForms), amid any text, never comes out of
// sanitizeDescription whole outside a redaction marker, and the result is
// as auth.CleanText leaves it (SECURITY 14, 30).
func FuzzScrubSecrets(f *testing.F) {
	f.Add("correct horse battery staple", "client secret ", " is wrong", uint8(0))
	f.Add(`p@ss/w"rd&<x> y`, "", "", uint8(3))
	f.Add("abcdef", "abcde", "fabcdef", uint8(1))
	f.Add("ed]abc", "[redact", "", uint8(0))
	f.Add("sp  ace\tsecret", "\u200b", "\x1b[2J", uint8(5))
	f.Fuzz(func(t *testing.T, secret, before, after string, form uint8) {
		norm := auth.CleanText(secret, 0)
		if len(norm) < minSecret || len(secret) > 200 || len(before)+len(after) > 2000 {
			t.Skip()
		}
		forms := echoForms(secret)
		names := make([]string, 0, len(forms))
		for k := range forms {
			names = append(names, k)
		}
		slices.Sort(names)
		echo := forms[names[int(form)%len(names)]]
		out := sanitizeDescription(before+echo+after, []string{secret})
		shown := []string{norm}
		if e := auth.CleanText(echo, 0); len(e) >= minSecret {
			shown = append(shown, e)
		}
		for _, piece := range strings.Split(out, redacted) {
			for _, s := range shown {
				if strings.Contains(piece, s) {
					t.Fatalf("secret %q came out of %q as %q", s, before+echo+after, out)
				}
			}
		}
		if d := strings.TrimSuffix(out, "…"); auth.CleanText(d, 0) != d {
			t.Fatalf("%q is not as auth.CleanText leaves it", out)
		}
	})
}
