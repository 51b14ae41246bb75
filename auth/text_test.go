package auth

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCleanText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Acme 広報", "Acme 広報"},
		{"\x1b]0;PWNED\x07\x1b[2Jread", "]0;PWNED[2Jread"},
		{"a\u009b31mb", "a31mb"},                       // C1 CSI
		{"admin\u202egnp.exe", "admingnp.exe"},         // right-to-left override
		{"\u200fname\u200e\u061c", "name"},             // RLM, LRM, ALM
		{"zero\u200bwidth\u2060\ufeff", "zerowidth"},   // zero-width space, word joiner, BOM
		{"line\u2028two\u2029three", "line two three"}, // separators become one line
		{"tab\tand\r\nnewline", "tab and newline"},
		{"  many   spaces  ", "many spaces"},
		{"bad\xffutf8", "badutf8"},
		{"e\u0301", "e\u0301"}, // a combining mark stays
	}
	for _, c := range cases {
		if got := CleanText(c.in, 0); got != c.want {
			t.Errorf("CleanText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := CleanText(strings.Repeat("あ", 10), 4); got != "ああああ…" {
		t.Errorf("bounded: %q", got)
	}
}

func TestCheckURL(t *testing.T) {
	for _, ok := range []string{"https://example.com/device", "http://127.0.0.1:8080/activate?x=1"} {
		if err := CheckURL(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"", "javascript:alert(1)", "file:///etc/passwd", "https://exa\u202emple.com", "https://example.com/\x1b[2J",
		"https://example.com/\u0085", "https://exämple.com", "https://user:pw@example.com", "//example.com", "https://example.com/a b",
	} {
		if err := CheckURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzCleanText: whatever goes in, nothing that can drive a terminal
// comes out, and the result is one line of valid UTF-8.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"\x1b[31mred", "\u202eevil", "ok 広報", "\u0085\u2028\r\n", "\xff\xfe"} {
		f.Add(s, 10)
	}
	f.Add("0000 00", 5) // a space before the cut once made it one too long
	f.Fuzz(func(t *testing.T, in string, max int) {
		if max < 0 || max > 1000 {
			max = 0
		}
		out := CleanText(in, max)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8: %q", out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
				t.Fatalf("CleanText(%q) kept %U", in, r)
			}
		}
		if strings.Contains(out, "  ") || strings.TrimSpace(out) != out {
			t.Fatalf("whitespace not collapsed: %q", out)
		}
		if max > 0 && utf8.RuneCountInString(out) > max+1 {
			t.Fatalf("longer than %d: %q", max, out)
		}
	})
}
