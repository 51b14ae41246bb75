package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider/providertest"
)

// fixedNow is the clock every test provider runs on.
var fixedNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// seen is one request as the fake network received it.
type seen = providertest.Request

// fakeNet is a fake network on 127.0.0.1 (providertest): each route answers
// what the network documents, and every request is recorded.
type fakeNet = providertest.Server

// newFake starts a fake network whose clock (its Date header) is fixedNow,
// the clock of every test provider; a test may move it (SetDate) or remove
// it (DropDate).
func newFake(t *testing.T) *fakeNet {
	t.Helper()
	f := providertest.New(t)
	f.SetDate(fixedNow)
	return f
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
