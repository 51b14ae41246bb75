package provider

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sbctl/sbctl/auth"
)

// Limits on what of a server's words reaches a message.
const (
	// maxDescription is room for a server's whole explanation (Hydra's
	// invalid_client says which method the client is registered for in
	// about 400 characters) while still bounding what reaches a terminal.
	maxDescription = 500
	maxCode        = 64
	// maxScan bounds the work on a hostile description before it is cut.
	maxScan = 4096
)

const redacted = "[redacted]"

// sanitizeDescription makes a server's error_description fit to print:
// the text is first made terminal-safe and one line by auth.CleanText (the
// one policy for server text, SECURITY 30), then our own secrets, in every
// form a server may echo them, are replaced, then anything that looks like
// a token; at most maxDescription runes. Servers do echo what they were
// sent ("invalid refresh token abc…").
//
// The order matters: a secret echoed with its whitespace doubled or
// converted, or with a zero-width character in it, only matches once the
// text is normalised, so scrubbing comes after normalising and looks for
// the normalised forms of each secret.
func sanitizeDescription(s string, secrets []string) string {
	if s == "" {
		return ""
	}
	forms := secretForms(secrets)
	// Cleaning stops after enough text to show maxDescription runes and to
	// find in it any secret that starts within maxScan of the beginning:
	// what lies beyond is never shown, so a secret cut there leaks nothing.
	window := maxScan
	for _, f := range forms {
		window = max(window, maxScan+utf8.RuneCountInString(f))
	}
	s = auth.CleanText(s, window)
	s = scrubSecrets(s, forms)
	s = redactTokenLike(s)
	return truncate(s, maxDescription)
}

// sanitizeCode keeps an error code only if it looks like one: short, from
// the RFC 6749 vocabulary's characters, and not a token.
func sanitizeCode(s string, secrets []string) string {
	if s == "" || len(s) > maxCode {
		return ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return ""
		}
	}
	if looksLikeToken(s) || scrubSecrets(s, secretForms(secrets)) != s {
		return ""
	}
	return s
}

// minSecret: shorter values are not scrubbed: replacing every "ab" would
// garble the text without protecting anything (real tokens and secrets
// are long).
const minSecret = 6

// secretForms lists how a server can echo each secret it was sent, each
// normalised as sanitizeDescription normalises the text it searches: as
// sent; form-encoded with + or %20 for a space, in upper- or lower-case
// hex (a query, a form body, HTTP Basic's encoded parts); path-escaped
// (which leaves @ & = + as they are); and as inside a JSON string, with
// Go's escapes (\u0026), without them, and with PHP's \/. Whitespace
// doubled or converted needs no form of its own: the normalised text has
// single spaces, as the normalised secret has. Order does not matter:
// scrubSecrets marks every form before it rebuilds the text.
func secretForms(secrets []string) []string {
	var out []string
	add := func(f string) {
		if f = auth.CleanText(f, 0); len(f) >= minSecret && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	for _, sec := range secrets {
		if len(sec) < minSecret {
			continue
		}
		q := url.QueryEscape(sec)
		p := strings.ReplaceAll(q, "+", "%20")
		js := jsonInner(sec, true)
		for _, f := range []string{sec, q, p, lowerHex(q), lowerHex(p), url.PathEscape(sec),
			js, jsonInner(sec, false), strings.ReplaceAll(js, "/", `\/`)} {
			add(f)
		}
	}
	return out
}

// jsonInner is s as written inside a JSON string, without the quotes.
func jsonInner(s string, escapeHTML bool) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	if enc.Encode(s) != nil {
		return s
	}
	out := strings.TrimSuffix(b.String(), "\n")
	return strings.TrimSuffix(strings.TrimPrefix(out, `"`), `"`)
}

// lowerHex writes every %XX escape of s in lower case.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = toLower(b[i+1]), toLower(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func toLower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// scrubSecrets replaces every occurrence of every form, overlapping ones
// included, by one marker per run: the text is marked first and rebuilt
// once, so replacing one form can neither hide another (two forms that
// overlap) nor create one out of the marker and its neighbours.
func scrubSecrets(s string, forms []string) string {
	var mask []bool
	for _, f := range forms {
		for from := 0; from < len(s); {
			i := strings.Index(s[from:], f)
			if i < 0 {
				break
			}
			if mask == nil {
				mask = make([]bool, len(s))
			}
			for j := from + i; j < from+i+len(f); j++ {
				mask[j] = true
			}
			// Next search from the following rune: occurrences may overlap.
			_, w := utf8.DecodeRuneInString(s[from+i:])
			from += i + max(w, 1)
		}
	}
	if mask == nil {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case !mask[i]:
			b.WriteByte(s[i])
		case i == 0 || !mask[i-1]:
			b.WriteString(redacted)
		}
	}
	return b.String()
}

func isTokenChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~+/=|%", r)
}

// looksLikeToken: a long run of token characters, or a medium one mixing
// letters and digits. Prose, error codes and numeric ids do not match.
func looksLikeToken(w string) bool {
	if len(w) >= 40 {
		return true
	}
	if len(w) < 16 {
		return false
	}
	letter, digit := false, false
	for _, r := range w {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			letter = true
		}
	}
	return letter && digit
}

func redactTokenLike(s string) string {
	var b strings.Builder
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		if w := s[start:end]; looksLikeToken(w) {
			b.WriteString(redacted)
		} else {
			b.WriteString(w)
		}
		start = -1
	}
	for i, r := range s {
		if isTokenChar(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		b.WriteRune(r)
	}
	flush(len(s))
	return b.String()
}
