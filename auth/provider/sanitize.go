package provider

import (
	"net/url"
	"strings"
	"unicode"
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
// valid UTF-8, no control or bidi-format characters, our own secrets and
// anything that looks like a token replaced, at most maxDescription runes.
// Servers do echo what they were sent ("invalid refresh token abc…").
func sanitizeDescription(s string, secrets []string) string {
	if s == "" {
		return ""
	}
	if len(s) > maxScan {
		s = s[:maxScan]
	}
	s = strings.ToValidUTF8(s, "")
	s = scrubSecrets(s, secrets)
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || !unicode.IsPrint(r) {
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	s = strings.TrimSpace(b.String())
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
	if looksLikeToken(s) || scrubSecrets(s, secrets) != s {
		return ""
	}
	return s
}

// scrubSecrets replaces each secret we sent, as sent and form-encoded.
// Very short values are skipped: replacing every "ab" would garble the text
// without protecting anything (real tokens and secrets are long).
func scrubSecrets(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) < 6 {
			continue
		}
		s = strings.ReplaceAll(s, sec, redacted)
		if q := url.QueryEscape(sec); q != sec {
			s = strings.ReplaceAll(s, q, redacted)
		}
	}
	return s
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
