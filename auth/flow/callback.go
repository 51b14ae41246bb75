package flow

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// verdict is the outcome of an accepted authorization response: a code, or
// a terminal error (the user denied access, the network refused).
type verdict struct {
	code string
	iss  string
	err  error
}

// checker holds what an authorization response must match. The same checks
// serve the loopback callback and a pasted address, so neither path can be
// weaker than the other.
type checker struct {
	state      string
	issuer     string
	requireIss bool
	// path, when set, is the callback path a pasted address must be on
	// (the listener checks its own requests' path itself).
	path string
}

// singleValued are the response parameters that must appear at most once: a
// repeated state or code means something is playing games with the URL, and
// picking "the first one" would let it choose which value we check.
var singleValued = []string{"state", "code", "error", "error_description", "error_uri", "iss"}

// Rejection reasons. They are shown to the user for a bad paste and never
// include a received value.
var (
	errRepeatedParam = errors.New("the address repeats a parameter (state, code, error or iss), so it cannot be trusted")
	errNoState       = errors.New("the address has no state parameter, so it cannot be checked against this sign-in")
	errBadState      = errors.New("the address belongs to another sign-in attempt (its state does not match this one)")
	errBadIss        = errors.New("the address comes from another authorization server (its iss does not match this provider)")
	errNoIss         = errors.New("the address has no iss parameter, which this provider always sends")
	errNoCode        = errors.New("the address has neither a code nor an error")
	errBadCode       = errors.New("the address's code has characters no authorization code can have")
	errOtherPath     = errors.New("the address is not on this sign-in's redirect path, so it belongs to another sign-in (perhaps another provider's)")
)

// check validates a response. A non-nil reject means "refuse this one and keep
// waiting"; otherwise the verdict ends the flow (with a code or an error).
// The state is compared first, in constant time, so nothing else in an
// unauthenticated request (error=, iss, code) is acted upon.
func (c *checker) check(q url.Values) (v verdict, reject error) {
	for _, k := range singleValued {
		if len(q[k]) > 1 {
			return verdict{}, errRepeatedParam
		}
	}
	if !stateEqual(q.Get("state"), c.state) {
		if _, ok := q["state"]; !ok {
			return verdict{}, errNoState
		}
		return verdict{}, errBadState
	}
	iss, hasIss := q["iss"]
	switch {
	case hasIss && c.issuer != "" && iss[0] != c.issuer:
		return verdict{}, errBadIss
	case !hasIss && c.requireIss:
		return verdict{}, errNoIss
	}
	v.iss = q.Get("iss")
	if _, ok := q["error"]; ok {
		v.err = newAuthError(q.Get("error"), q.Get("error_description"))
		return v, nil
	}
	v.code = q.Get("code")
	if v.code == "" {
		return verdict{}, errNoCode
	}
	// RFC 6749 A.11: a code is VSCHAR (printable ASCII). Anything else is
	// not from a real server, and could corrupt the token request or a log.
	if strings.IndexFunc(v.code, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
		return verdict{}, errBadCode
	}
	return v, nil
}

// callback is the loopback HTTP handler. It accepts exactly one response
// (the first that passes every check) and hands it to Run through done.
type callback struct {
	chk  *checker
	host string // expected Host header: the bound "127.0.0.1:PORT"
	path string // expected path, as spelt in the redirect URI (checkCallbackPath)

	mu       sync.Mutex
	finished bool
	done     chan verdict // buffered(1); written once, by the handler that claimed the flow
}

func newCallback(chk *checker, host, path string) *callback {
	return &callback{chk: chk, host: host, path: path, done: make(chan verdict, 1)}
}

// claim reserves the flow's single outcome. Only the first caller wins: the
// handler, a paste and the timeout all go through here, so exactly one
// response is ever accepted.
func (c *callback) claim() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished {
		return false
	}
	c.finished = true
	return true
}

func (c *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w.Header())
	// Host first: a page on a rebound DNS name (evil.example -> 127.0.0.1)
	// sends its own name here, and must learn nothing, not even "not found".
	if r.Host != c.host {
		writePage(w, http.StatusMisdirectedRequest, pageRejected)
		return
	}
	// The path exactly as the redirect URI spells it: the per-provider path
	// is the mix-up defence (SECURITY 28), so another provider's path, a
	// prefix, an added or missing slash, and another spelling of the same
	// path (/callback/%61cme, /callback%2Facme) are all refused.
	if r.URL.EscapedPath() != c.path {
		writePage(w, http.StatusNotFound, pageNotFound)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writePage(w, http.StatusMethodNotAllowed, pageMethod)
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writePage(w, http.StatusBadRequest, pageRejected)
		return
	}
	v, reject := c.chk.check(q)
	if reject != nil {
		writePage(w, http.StatusBadRequest, pageRejected)
		return
	}
	if !c.claim() {
		// A second genuine callback (double click, replay): the code it
		// carries may be the same one, and it must not be used twice.
		writePage(w, http.StatusConflict, pageRejected)
		return
	}
	page := pageSuccess
	if v.err != nil {
		page = pageFailed
	}
	// The page goes out before Run hears of the verdict, so Run can close
	// the server at once instead of waiting for idle connections (browsers
	// keep preconnected sockets open that would stall a graceful shutdown).
	writePage(w, http.StatusOK, page)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	c.done <- v // buffered, and only the claimer sends: never blocks
}

// setPageHeaders makes the page inert: no script, style, frame, referrer
// leak or caching can happen whatever the body were to contain.
func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/html; charset=utf-8")
}

func writePage(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// The pages are constants on purpose: nothing from the request (code,
// error_description, path) is ever written back, so there is nothing to
// inject into.
const (
	pageHead     = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>sbctl sign-in</title></head><body>\n"
	pageTail     = "\n</body></html>\n"
	pageSuccess  = pageHead + "<h1>Signed in</h1><p>sbctl received the authorization. You can close this tab and return to the terminal.</p>" + pageTail
	pageFailed   = pageHead + "<h1>Sign-in not completed</h1><p>The authorization server did not grant access. Return to the terminal for details.</p>" + pageTail
	pageRejected = pageHead + "<h1>Request not accepted</h1><p>This request does not match the sign-in sbctl is waiting for. Return to the terminal.</p>" + pageTail
	pageNotFound = pageHead + "<h1>Not found</h1>" + pageTail
	pageMethod   = pageHead + "<h1>Method not allowed</h1>" + pageTail
)
