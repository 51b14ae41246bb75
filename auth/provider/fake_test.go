package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth"
)

// fixedNow is the clock every test provider runs on.
var fixedNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// seen is one request as the fake network received it.
type seen struct {
	Method, Path string
	Query        url.Values
	Form         url.Values
	BasicUser    string
	BasicPass    string
	HasBasic     bool
	Header       http.Header
}

// fakeNet is an httptest server on 127.0.0.1 that plays one network: each
// route answers what the network documents, and every request is recorded.
type fakeNet struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	seen   []seen
	routes map[string]func(w http.ResponseWriter, r *http.Request, s seen)
	// fallback answers every route that has no handler of its own.
	fallback func(w http.ResponseWriter, r *http.Request, s seen)
	// date is the server's clock, sent as every answer's Date header:
	// fixedNow unless a test moves it (setDate) or removes it (noDate).
	date   time.Time
	noDate bool
}

func newFake(t *testing.T) *fakeNet {
	t.Helper()
	f := &fakeNet{t: t, routes: map[string]func(http.ResponseWriter, *http.Request, seen){}, date: fixedNow}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeNet) serve(w http.ResponseWriter, r *http.Request) {
	s := seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()}
	if r.Method == http.MethodPost {
		b, _ := io.ReadAll(r.Body)
		s.Form, _ = url.ParseQuery(string(b))
	}
	s.BasicUser, s.BasicPass, s.HasBasic = r.BasicAuth()
	f.mu.Lock()
	f.seen = append(f.seen, s)
	h := f.routes[r.Method+" "+r.URL.Path]
	if h == nil {
		h = f.fallback
	}
	if f.noDate {
		w.Header()["Date"] = nil // net/http then sends none
	} else {
		w.Header().Set("Date", f.date.UTC().Format(http.TimeFormat))
	}
	f.mu.Unlock()
	if h == nil {
		http.Error(w, "no route", http.StatusNotFound)
		return
	}
	h(w, r, s)
}

// on sets the handler for "METHOD /path".
func (f *fakeNet) on(route string, h func(w http.ResponseWriter, r *http.Request, s seen)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[route] = h
}

// reply answers a fixed status and body on route.
func (f *fakeNet) reply(route string, status int, body string) {
	f.on(route, func(w http.ResponseWriter, _ *http.Request, _ seen) { writeJSON(w, status, body) })
}

// setDate sets the server's clock (its Date header).
func (f *fakeNet) setDate(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.date, f.noDate = t, false
}

// dropDate makes the server send no Date header.
func (f *fakeNet) dropDate() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noDate = true
}

func (f *fakeNet) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.seen...)
}

func (f *fakeNet) count(route string) int {
	n := 0
	for _, s := range f.requests() {
		if s.Method+" "+s.Path == route {
			n++
		}
	}
	return n
}

func (f *fakeNet) url(path string) string { return f.srv.URL + path }

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// dropAfterRead reads the request and closes the connection without an
// answer: the server "rotated" and the answer was lost.
func dropAfterRead(w http.ResponseWriter, r *http.Request, _ seen) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("no hijacker")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}

func newProvider(t *testing.T, s Settings) *Provider {
	t.Helper()
	p, err := New(s, &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	p.SetClock(func() time.Time { return fixedNow })
	return p
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %T %v, want *Error", err, err)
	}
	return e
}

func wantKind(t *testing.T, err error, kind ErrorKind, reason auth.Reason) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v/%q", kind, reason)
	}
	e := asError(t, err)
	if e.Kind != kind || e.Reason != reason {
		t.Fatalf("got %v/%q (%v), want %v/%q", e.Kind, e.Reason, e, kind, reason)
	}
	return e
}

func wantForm(t *testing.T, got url.Values, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("param %s = %q, want %q", k, got.Get(k), v)
		}
	}
}

func wantNoParam(t *testing.T, got url.Values, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := got[k]; ok {
			t.Errorf("param %s sent, want none", k)
		}
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func near(a, b time.Time) bool { d := a.Sub(b); return d < time.Second && d > -time.Second }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
