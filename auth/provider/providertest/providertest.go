package providertest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one request as the fake received it.
type Request struct {
	At           time.Time
	Method, Path string
	Query        url.Values
	// Form is the body of a POST read as a form (whatever its
	// Content-Type claims); nil for other methods.
	Form                 url.Values
	BasicUser, BasicPass string
	HasBasic             bool
	Header               http.Header
	// N counts the requests with this method and path so far, this one
	// included: 1 for the first.
	N int
}

// Handler answers one request. r's body can still be read (or
// r.ParseForm called): the fake has kept a copy.
type Handler func(w http.ResponseWriter, r *http.Request, req Request)

// Server is a fake network. Routes are "METHOD /path"; a request with no
// route of its own goes to the fallback, or gets a 404.
type Server struct {
	// URL is the server's base, http://127.0.0.1:PORT.
	URL string

	srv      *httptest.Server
	mu       sync.Mutex
	reqs     []Request
	routes   map[string]Handler
	fallback Handler
	// date, when set, is sent as every answer's Date header; noDate sends
	// none. By default net/http sends the real time.
	date   time.Time
	noDate bool
}

// New starts a fake on 127.0.0.1 (never another interface, whatever flags
// httptest was given) and closes it when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("providertest: listening on 127.0.0.1: %v", err)
	}
	s := &Server{routes: map[string]Handler{}}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Listener.Close()
	s.srv.Listener = ln
	s.srv.Start()
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	req := Request{At: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()}
	if r.Method == http.MethodPost {
		req.Form, _ = url.ParseQuery(string(body))
	}
	req.BasicUser, req.BasicPass, req.HasBasic = r.BasicAuth()

	s.mu.Lock()
	for _, q := range s.reqs {
		if q.Method == req.Method && q.Path == req.Path {
			req.N++
		}
	}
	req.N++
	s.reqs = append(s.reqs, req)
	h := s.routes[r.Method+" "+r.URL.Path]
	if h == nil {
		h = s.fallback
	}
	switch {
	case s.noDate:
		w.Header()["Date"] = nil // net/http then sends none
	case !s.date.IsZero():
		w.Header().Set("Date", s.date.UTC().Format(http.TimeFormat))
	}
	s.mu.Unlock()
	if h == nil {
		http.Error(w, "no route", http.StatusNotFound)
		return
	}
	h(w, r, req)
}

// On sets the handler of route, "METHOD /path".
func (s *Server) On(route string, h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[route] = h
}

// Reply makes route answer a fixed status and JSON body.
func (s *Server) Reply(route string, status int, body string) {
	s.On(route, func(w http.ResponseWriter, _ *http.Request, _ Request) { WriteJSON(w, status, body) })
}

// Route is the handler route has now (nil if none), so a test can wrap it.
func (s *Server) Route(route string) Handler {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.routes[route]
}

// SetFallback answers every request that has no route of its own.
func (s *Server) SetFallback(h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fallback = h
}

// SetDate sets the server's clock: every answer's Date header.
func (s *Server) SetDate(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.date, s.noDate = t, false
}

// DropDate makes the server send no Date header at all.
func (s *Server) DropDate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noDate = true
}

// Requests is every request so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Calls lists the requests to route: "METHOD /path", or a bare "/path" for
// every method.
func (s *Server) Calls(route string) []Request {
	method, path, ok := strings.Cut(route, " ")
	if !ok {
		method, path = "", route
	}
	var out []Request
	for _, q := range s.Requests() {
		if q.Path == path && (method == "" || q.Method == method) {
			out = append(out, q)
		}
	}
	return out
}

// Count is len(Calls(route)).
func (s *Server) Count(route string) int { return len(s.Calls(route)) }

// Endpoint is the URL of path on the fake.
func (s *Server) Endpoint(path string) string { return s.URL + path }

// Close stops the server now rather than when the test ends (a network
// that went away).
func (s *Server) Close() { s.srv.Close() }

// ---------------------------------------------------------------------------
// Answers.

// Bodies that real networks send, word for word.
const (
	// GoogleInvalidGrant is Google's answer to a refresh token that was
	// revoked or expired (also what RFC 6749 §5.2 servers commonly say).
	GoogleInvalidGrant = `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`
	// TemporarilyUnavailable is RFC 6749 §5.2's transient error.
	TemporarilyUnavailable = `{"error":"temporarily_unavailable"}`
)

// WriteJSON answers status with a JSON body, not cacheable, as a token
// endpoint must (RFC 6749 §5.1).
func WriteJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// TokenAnswer is a successful token response: a Bearer access token for an
// hour, and a refresh token when rt is not empty (a server that does not
// rotate sends none on a refresh).
func TokenAnswer(w http.ResponseWriter, at, rt string) {
	body := fmt.Sprintf(`{"access_token":%q,"token_type":"Bearer","expires_in":3600`, at)
	if rt != "" {
		body += fmt.Sprintf(`,"refresh_token":%q`, rt)
	}
	WriteJSON(w, http.StatusOK, body+"}")
}

// InvalidGrant is a definite rejection of the grant: 400 with Google's body.
func InvalidGrant(w http.ResponseWriter) {
	WriteJSON(w, http.StatusBadRequest, GoogleInvalidGrant)
}

// Drop closes the connection without an answer: the request reached the
// server (which may have acted on it: rotated a refresh token), the answer
// never comes back.
func Drop(w http.ResponseWriter) error {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return fmt.Errorf("providertest: %T cannot hijack the connection", w)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return fmt.Errorf("providertest: hijack: %w", err)
	}
	return conn.Close()
}

// DropAfterRead is a Handler that answers with Drop. (Should the
// connection not drop, the client gets an empty 200, which no test of a
// dropped answer can mistake for one.)
func DropAfterRead(w http.ResponseWriter, _ *http.Request, _ Request) { _ = Drop(w) }

// DropConnection is Drop, failing the test if the connection could not be
// dropped (the fault would not have been injected).
func DropConnection(t testing.TB, w http.ResponseWriter) {
	if err := Drop(w); err != nil {
		t.Error(err)
	}
}
