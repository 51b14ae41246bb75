package flow

import (
	"bufio"
	"errors"
	"io"
	"net/url"
	"strings"
	"time"
)

// maxPaste bounds one pasted line. Real redirected addresses are well under
// 4 KiB; the bound keeps a runaway pipe from growing memory without limit.
const maxPaste = 16 << 10

var (
	errEmptyPaste   = errors.New("nothing was pasted")
	errPasteTooLong = errors.New("that is too long to be a redirected address or a code")
	errPasteQuery   = errors.New("the address's query part cannot be parsed")
	errPasteNoQuery = errors.New("that address has no ?code=... part; copy the full address from the browser's address bar")
	errNotCode      = errors.New("that is neither an address nor a code (a code has no spaces or control characters)")
)

// ParsePasted reads what a user pasted in manual mode: either the full
// address the browser was redirected to (its state is checked in constant
// time, and an error= it carries is reported, as for a real callback) or a
// bare code, which is returned as-is since there is nothing to check it
// against. It never echoes the input in its errors.
func ParsePasted(input, expectedState string) (code string, err error) {
	return ParsePastedIssuer(input, expectedState, "", false)
}

// ParsePastedIssuer is ParsePasted with the RFC 9207 checks of Run: a
// pasted address's iss must equal issuer when present (and when issuer is
// set), and must be present when requireIss.
func ParsePastedIssuer(input, expectedState, issuer string, requireIss bool) (code string, err error) {
	c := &checker{state: expectedState, issuer: issuer, requireIss: requireIss}
	v, err := c.paste(input)
	if err != nil {
		return "", err
	}
	if v.err != nil {
		return "", v.err
	}
	return v.code, nil
}

// paste classifies and checks one pasted line. The verdict may carry a
// terminal error (denied); a non-nil error means "bad paste, ask again".
func (c *checker) paste(input string) (verdict, error) {
	s := strings.TrimSpace(input)
	switch {
	case s == "":
		return verdict{}, errEmptyPaste
	case len(s) > maxPaste:
		return verdict{}, errPasteTooLong
	}
	q, isResponse, err := pastedQuery(s)
	if err != nil {
		return verdict{}, err
	}
	if isResponse {
		if err := c.checkPastedPath(s); err != nil {
			return verdict{}, err
		}
		return c.check(q)
	}
	if strings.Contains(s, "://") {
		return verdict{}, errPasteNoQuery
	}
	// A bare code. Networks that append a fragment to the redirect (Facebook
	// "#_=_", Instagram "#_") leave it on a copied code; it is never part of
	// the code itself, since a code travels in a query.
	code, _, _ := strings.Cut(s, "#")
	if code == "" || strings.IndexFunc(code, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0 {
		return verdict{}, errNotCode
	}
	return verdict{code: code}, nil
}

// checkPastedPath holds a pasted address to the listener's rule: it must be
// on this flow's callback path, spelt exactly so (SECURITY 28). Otherwise a
// mix-up would pass through manual mode: the malicious provider bounces
// the browser to an honest one, whose redirect to /callback/honest fails
// to load on a remote machine, and the user pastes that address into the
// flow waiting on /callback/evil. A bare query ("?code=...&state=...") has
// no path to check.
func (c *checker) checkPastedPath(s string) error {
	addr, _, _ := strings.Cut(s, "#")
	addr, _, hasQuery := strings.Cut(addr, "?")
	if c.path == "" || !hasQuery || addr == "" {
		return nil
	}
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr // "127.0.0.1:5000/callback/acme", copied without the scheme
	}
	u, err := url.Parse(addr)
	if err != nil || u.EscapedPath() != c.path {
		return errOtherPath
	}
	return nil
}

// pastedQuery finds the authorization response in a pasted address, or in a
// bare "code=...&state=..." string. isResponse is false for text that is
// better read as a bare code (which may itself contain '=' padding).
func pastedQuery(s string) (q url.Values, isResponse bool, err error) {
	s, _, _ = strings.Cut(s, "#")
	raw := s
	_, query, hasQuery := strings.Cut(s, "?")
	if hasQuery {
		raw = query
	} else if strings.Contains(s, "://") || !strings.Contains(s, "=") {
		return nil, false, nil
	}
	q, err = url.ParseQuery(raw)
	if err != nil {
		return nil, true, errPasteQuery
	}
	if hasQuery {
		return q, true, nil
	}
	for _, k := range []string{"code", "state", "error"} {
		if _, ok := q[k]; ok {
			return q, true, nil
		}
	}
	return nil, false, nil
}

type pasteEvent struct {
	line    string
	tooLong bool
}

// readPastes reads lines from r concurrently with the loopback listener, so
// whichever of the paste and the browser arrives first wins. The channel is
// closed at EOF (or on a read error), which does not end the flow.
//
// stop abandons the reader. A reader that supports read deadlines (a pipe
// from os.Pipe, a socket) is unblocked and waited for; a blocking terminal
// cannot be interrupted portably, so that goroutine ends at the next line or
// EOF and drops what it read.
func readPastes(r io.Reader) (<-chan pasteEvent, func()) {
	ch := make(chan pasteEvent)
	quit := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		defer close(ch)
		br := bufio.NewReaderSize(r, 4096)
		for {
			line, tooLong, err := readLine(br, maxPaste)
			if tooLong || strings.TrimSpace(line) != "" {
				select {
				case ch <- pasteEvent{line: line, tooLong: tooLong}:
				case <-quit:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	stop := func() {
		close(quit)
		if d, ok := r.(interface{ SetReadDeadline(time.Time) error }); ok && d.SetReadDeadline(time.Now()) == nil {
			<-exited
			_ = d.SetReadDeadline(time.Time{}) // leave the reader usable for the caller
		}
	}
	return ch, stop
}

// readLine reads up to '\n' without ever holding more than limit bytes: an
// overlong line is consumed and reported as tooLong instead.
func readLine(br *bufio.Reader, limit int) (line string, tooLong bool, err error) {
	var buf []byte
	for {
		frag, err := br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(frag) > limit {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, frag...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return string(buf), tooLong, err
	}
}
