package auth

import (
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func TestParseImport(t *testing.T) {
	cases := []struct {
		name, in string
		check    func(*Token) bool
	}{
		{"bare token", "EAAB-secret-token\n", func(t *Token) bool {
			return t.AccessToken == "EAAB-secret-token" && t.TokenType == "Bearer" && t.Expiry.IsZero()
		}},
		{"expiry", `{"access_token":"a","expiry":"2026-12-01T00:00:00Z"}`, func(t *Token) bool { return t.Expiry.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) }},
		{"expiry with offset", `{"access_token":"a","expiry":"2026-12-01T09:00:00+09:00"}`, func(t *Token) bool { return t.Expiry.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) }},
		{"expires_in", `{"access_token":"a","expires_in":3600}`, func(t *Token) bool { return t.Expiry.Equal(now.Add(time.Hour)) }},
		{"expires_in as string", `{"access_token":"a","expires_in":"3600"}`, func(t *Token) bool { return t.Expiry.Equal(now.Add(time.Hour)) }},
		{"expires_in 0 means no expiry", `{"access_token":"a","expires_in":0}`, func(t *Token) bool { return t.Expiry.IsZero() }},
		{"refresh", `{"access_token":"a","refresh_token":"r","refresh_expires_in":86400,"token_type":"bearer"}`, func(t *Token) bool {
			return t.RefreshToken == "r" && t.RefreshExpiry.Equal(now.Add(24*time.Hour)) && t.TokenType == "bearer"
		}},
		{"refresh_expiry", `{"access_token":"a","refresh_token":"r","refresh_expiry":"2027-01-01T00:00:00Z"}`, func(t *Token) bool { return t.RefreshExpiry.Year() == 2027 }},
		{"refresh_token_expires_in alias", `{"access_token":"a","refresh_token":"r","refresh_token_expires_in":86400}`, func(t *Token) bool { return t.RefreshExpiry.Equal(now.Add(24 * time.Hour)) }},
		{"scope", `{"access_token":"a","scope":"read write"}`, func(t *Token) bool { return len(t.Scopes) == 2 }},
		{"whitespace", "  \n{\"access_token\":\" a \"}\n\n", func(t *Token) bool { return t.AccessToken == "a" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, _, err := ParseImport(strings.NewReader(tc.in), now)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(tok) {
				t.Errorf("got %+v", tok)
			}
			if !tok.ObtainedAt.Equal(now) {
				t.Error("ObtainedAt not set")
			}
		})
	}
}

func TestParseImportErrors(t *testing.T) {
	const secret = "SECRET-MARKER-42"
	cases := map[string]string{
		"":                                   "no token on stdin",
		`{"refresh_token":"` + secret + `"}`: "no access_token",
		`{"access_token":"` + secret + `"`:   "not valid JSON",
		`{"access_token":"` + secret + `","expiry":"tomorrow"}`:                            "not an RFC 3339 time",
		`{"access_token":"` + secret + `","expires_in":-5}`:                                "expires_in",
		`{"access_token":"` + secret + `","expires_in":1,"expiry":"2026-01-01T00:00:00Z"}`: "both expiry and expires_in",
		`{"access_token":"` + secret + `","refresh_expires_in":60}`:                        "no refresh_token",
		`{"access_token":"` + secret + `"} {}`:                                             "extra data",
		`{"access_token":42}`:                                                              "must be a string",
		secret + "\nsecond line":                                                           "several lines",
		"two words " + secret:                                                              "spaces",
		// JSON that is not an object is not a bare token either (issue 7
		// item 8): `jq .access_token` without -r prints a quoted string.
		`"` + secret + `"`:      "a JSON string, not an object",
		`["` + secret + `", 2]`: "a JSON array",
		"null":                  "JSON null",
		"12345":                 "a JSON number",
		"true":                  "JSON true",
		// A field of the wrong type is named, not "not valid JSON".
		`{"access_token":"` + secret + `","expires_in":"soon"}`:  `expires_in "soon" is not a number of seconds`,
		`{"access_token":"` + secret + `","expires_in":true}`:    "expires_in must be a number of seconds",
		`{"access_token":"` + secret + `","refresh_token":7}`:    "refresh_token must be a string",
		`{"access_token":"` + secret + `","expiry":1735689600}`:  "expiry must be an RFC 3339 time",
		`{"access_token":"` + secret + `","scope":["a"]}`:        "scope must be a string",
		`{"access_token":"` + secret + `","expires_in":{"s":1}}`: "expires_in must be a number of seconds",
	}
	for in, want := range cases {
		_, _, err := ParseImport(strings.NewReader(in), now)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", in, err, want)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%q: error leaks the token: %v", in, err)
		}
	}
	if _, _, err := ParseImport(strings.NewReader(strings.Repeat("a", MaxImportSize+1)), now); err == nil {
		t.Error("oversized input accepted")
	}
}

func TestParseImportSuggestsJqRaw(t *testing.T) {
	_, _, err := ParseImport(strings.NewReader(`"AT-quoted-by-jq"`+"\n"), now)
	if err == nil || !strings.Contains(err.Error(), "jq -r") {
		t.Fatalf("err %v, want a hint about jq -r", err)
	}
}

func TestParseImportReportsIgnoredFields(t *testing.T) {
	_, ignored, err := ParseImport(strings.NewReader(`{"access_token":"a","expire_in":60,"user_id":"1","scope":"x"}`), now)
	if err != nil || strings.Join(ignored, ",") != "expire_in,user_id" {
		t.Fatalf("ignored %v, err %v", ignored, err)
	}
}

// FuzzParseImport: never panics, never puts the input in an error, and a
// success always has an access token.
func FuzzParseImport(f *testing.F) {
	for _, s := range []string{`{"access_token":"a","expires_in":3600,"refresh_token":"r"}`, "bare-token", `{"access_token":"a","expiry":"2026-12-01T00:00:00Z"}`, `{"expires_in":1e309}`, "{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		tok, _, err := ParseImport(strings.NewReader(in), now)
		if err != nil {
			if len(in) >= 12 && strings.Contains(err.Error(), strings.TrimSpace(in)) && strings.TrimSpace(in) != "" {
				t.Fatalf("error echoes the input: %v", err)
			}
			return
		}
		if tok.AccessToken == "" {
			t.Fatal("success without an access token")
		}
		if CheckTokenText("", tok.AccessToken) != nil || CheckTokenText("", tok.RefreshToken) != nil {
			t.Fatal("a token with spaces or control characters was accepted")
		}
	})
}
