package config

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// textLines is the file split the way YAML counts lines, each line with the
// break that ended it. Edits replace whole lines; every other byte — a CRLF
// here, an LF there, a missing final newline, a byte order mark — is written
// back exactly as it was read.
type textLines struct {
	bom    bool     // the file starts with a UTF-8 byte order mark
	lines  []string // without their breaks
	breaks []string // breaks[i] ended lines[i]; "" for a last line without one
}

const bom = "\ufeff"

// yamlBreaks are the line breaks of YAML 1.1 (which yaml.v3's scanner
// follows), longest first so CRLF is one break. Splitting on "\n" alone
// would disagree with the parser's line numbers after a lone CR or a U+2028
// in a comment, and an edit would land on the wrong line.
var yamlBreaks = []string{"\r\n", "\r", "\n", "\u0085", "\u2028", "\u2029"}

// nextBreak finds the first line break in s: its offset and length, or
// -1, 0.
func nextBreak(s string) (int, int) {
	for i := 0; i < len(s); i++ {
		if n := breakAt(s, i); n > 0 {
			return i, n
		}
	}
	return -1, 0
}

// breakAt is the length of the line break that starts at s[i], or 0.
func breakAt(s string, i int) int {
	switch s[i] {
	case '\r', '\n', 0xC2, 0xE2:
		for _, b := range yamlBreaks {
			if strings.HasPrefix(s[i:], b) {
				return len(b)
			}
		}
	}
	return 0
}

func splitLines(src []byte) textLines {
	s := string(src)
	var t textLines
	if len(s) >= len(bom) && s[:len(bom)] == bom {
		t.bom, s = true, s[len(bom):]
	}
	for s != "" {
		i, n := nextBreak(s)
		if i < 0 {
			t.lines, t.breaks = append(t.lines, s), append(t.breaks, "")
			break
		}
		t.lines, t.breaks = append(t.lines, s[:i]), append(t.breaks, s[i:i+n])
		s = s[i+n:]
	}
	return t
}

// eol is the break new lines get: CRLF when most lines end so (a file
// written on Windows), else LF.
func (t textLines) eol() string {
	crlf := 0
	for _, b := range t.breaks {
		if b == "\r\n" {
			crlf++
		}
	}
	if crlf*2 > len(t.breaks) {
		return "\r\n"
	}
	return "\n"
}

// endsWithBreak reports whether the last line is terminated; an empty file
// counts as terminated, so a new file ends with a newline.
func (t textLines) endsWithBreak() bool {
	return len(t.lines) == 0 || t.breaks[len(t.breaks)-1] != ""
}

func (t textLines) bytes() []byte {
	var b bytes.Buffer
	if t.bom {
		b.WriteString(bom)
	}
	for i, l := range t.lines {
		b.WriteString(l)
		b.WriteString(t.breaks[i])
	}
	return b.Bytes()
}

// encodingError finds the first byte YAML refuses to read — invalid UTF-8 or
// a control character — and names its line: yaml.v3 reports both without
// one. UTF-16 files (which yaml.v3 would read) are refused too, because
// line edits work on UTF-8 text.
func encodingError(path string, src []byte) *Error {
	if bytes.HasPrefix(src, []byte{0xFF, 0xFE}) || bytes.HasPrefix(src, []byte{0xFE, 0xFF}) {
		return &Error{File: path, Line: 1, Msg: "the file is UTF-16 encoded; save it as UTF-8"}
	}
	s := string(src)
	line, lineStart := 1, 0
	for i := 0; i < len(s); {
		if n := breakAt(s, i); n > 0 {
			i += n
			line, lineStart = line+1, i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return &Error{File: path, Line: line, Msg: fmt.Sprintf("the file is not valid UTF-8 (byte 0x%02X at column %d); save it as UTF-8",
				s[i], utf8.RuneCountInString(s[lineStart:i])+1)}
		case !yamlPrintable(r):
			return &Error{File: path, Line: line, Msg: fmt.Sprintf("the file contains the control character %U at column %d; remove it (YAML allows tabs and line breaks, no other control characters)",
				r, utf8.RuneCountInString(s[lineStart:i])+1)}
		}
		i += size
	}
	return nil
}

// yamlPrintable is the character set yaml.v3's reader accepts (YAML 1.1
// §5.1: tab, CR, LF, NEL, and the printable ranges).
func yamlPrintable(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r' || r == 0x85:
		return true
	case r >= 0x20 && r <= 0x7E, r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}
