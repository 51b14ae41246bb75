package auth

import (
	"errors"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CleanText is the one policy for text a server (or anything outside
// sbctl) supplies that a person will read on a terminal: account names,
// scopes, error descriptions, a device flow's user code (SECURITY 30).
//
// It keeps every printable character of any script (teams name accounts
// in Japanese) and removes what could rewrite the terminal or mislead the
// reader: C0 and C1 controls (ESC and CSI start escape sequences; what
// follows them is left as plain, harmless text), DEL, bidirectional
// overrides, embeddings, isolates and marks (U+061C, U+200E–U+200F,
// U+202A–U+202E, U+2066–U+2069), zero-width characters and every other
// format character (Unicode Cf), line and paragraph separators, and
// invalid UTF-8. Runs of whitespace become one space, so the text is one
// line. max bounds the result in characters (0: no bound); a cut is
// marked with "…".
func CleanText(s string, max int) string {
	var b strings.Builder
	b.Grow(min(len(s), 4096))
	space, n := false, 0
	for i, w := 0, 0; i < len(s); i += w {
		var r rune
		r, w = utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w <= 1 {
			continue
		}
		if unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' {
			space = b.Len() > 0
			continue
		}
		if !safeRune(r) {
			continue
		}
		need := 1
		if space {
			need++
		}
		if max > 0 && n+need > max {
			b.WriteString("…")
			return b.String()
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		n += need
	}
	return b.String()
}

// safeRune reports whether r may reach a terminal as it is.
func safeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return false
	case unicode.Is(unicode.Cf, r): // bidi controls, zero-width, soft hyphen…
		return false
	case r >= 0xfff9 && r <= 0xfffb: // interlinear annotation
		return false
	}
	return unicode.IsPrint(r) || unicode.IsMark(r)
}

// CheckURL accepts an address a person is asked to open (a device flow's
// verification URI, a sign-in URL): absolute http(s), and nothing but
// printable ASCII, so it cannot carry escape sequences, bidi tricks or a
// look-alike host (SECURITY 30).
func CheckURL(raw string) error {
	if raw == "" {
		return errors.New("no address")
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c > '~' {
			return errors.New("the address holds characters other than printable ASCII")
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("the address is not an absolute http(s) URL")
	}
	if u.User != nil {
		return errors.New("the address holds a user name or password")
	}
	return nil
}
