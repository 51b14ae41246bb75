package flow

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// serve runs the handler on one hand-built request. httptest.NewRequest would
// panic on the odd methods, hosts and paths the fuzzer produces. path is
// the raw request path: it is decoded as net/http does (Path, and RawPath
// when the spelling differs from the canonical escaping).
func serve(h http.Handler, method, path, host, rawQuery string) *httptest.ResponseRecorder {
	u := &url.URL{Path: path, RawQuery: rawQuery}
	if p, err := url.PathUnescape(path); err == nil {
		u.Path = p
		if (&url.URL{Path: p}).EscapedPath() != path {
			u.RawPath = path
		}
	}
	req := &http.Request{
		Method:     method,
		URL:        u,
		Host:       host,
		Header:     http.Header{},
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		RequestURI: path + "?" + rawQuery,
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestCheckOrder(t *testing.T) {
	c := &checker{state: "s", issuer: "https://id.example", requireIss: true}
	for _, tc := range []struct {
		query  string
		reject error
	}{
		{"code=c&state=s&iss=https://id.example", nil},
		{"code=c&iss=https://id.example", errNoState},
		{"error=access_denied&state=bad&iss=https://id.example", errBadState},
		{"error=access_denied&state=s&iss=https://other.example", errBadIss},
		{"error=access_denied&state=s", errNoIss},
		{"state=s&iss=https://id.example", errNoCode},
		{"code=&state=s&iss=https://id.example", errNoCode},
		{"code=a%00b&state=s&iss=https://id.example", errBadCode},
		{"code=caf%C3%A9&state=s&iss=https://id.example", errBadCode},
		{"code=c&state=s&state=s&iss=https://id.example", errRepeatedParam},
		{"code=c&state=s&iss=https://id.example&iss=https://id.example", errRepeatedParam},
	} {
		q, _ := url.ParseQuery(tc.query)
		_, reject := c.check(q)
		if reject != tc.reject {
			t.Errorf("%s: %v, want %v", tc.query, reject, tc.reject)
		}
	}
}

var pages = map[string]bool{pageSuccess: true, pageFailed: true, pageRejected: true, pageNotFound: true, pageMethod: true}

// FuzzCallback: whatever arrives, the handler does not panic, answers with
// one of the constant pages, and completes the flow only for a GET on the
// callback path spelt exactly so, with the right Host, exactly one right
// state and a matching iss.
func FuzzCallback(f *testing.F) {
	const state = "Zm9vYmFyYmF6cXV4cXV1eHF1dXpxdXV6cXV1enF1dXo"
	const host = "127.0.0.1:8765"
	const iss = "https://id.example"
	const path = "/callback/acme"
	for _, s := range [][4]string{
		{"GET", path, host, "code=c&state=" + state},
		{"GET", path, host, "code=c&state=" + state + "&iss=" + iss},
		{"GET", path, host, "error=access_denied&state=" + state},
		{"GET", path, host, "error=access_denied&state=x"},
		{"GET", path, host, "code=c&state=" + state + "&state=" + state},
		{"GET", path, host, "code=c&code=d&state=" + state},
		{"GET", path, "evil.example", "code=c&state=" + state},
		{"POST", path, host, "code=c&state=" + state},
		{"GET", "/", host, "code=c&state=" + state},
		{"GET", "/callback", host, "code=c&state=" + state},
		{"GET", "/callback/honest", host, "code=c&state=" + state},
		{"GET", "/callback/%61cme", host, "code=c&state=" + state},
		{"GET", "/callback%2Facme", host, "code=c&state=" + state},
		{"GET", path + "/", host, "code=c&state=" + state},
		{"GET", "/favicon.ico", host, ""},
		{"GET", path, host, "code=%zz&state=" + state},
		{"GET", path, host, "code=c;state=" + state},
		{"", "", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, method, reqPath, reqHost, rawQuery string) {
		cb := newCallback(&checker{state: state, issuer: iss}, host, path)
		rec := serve(cb, method, reqPath, reqHost, rawQuery)
		if !pages[rec.Body.String()] {
			t.Fatalf("body is not a constant page: %q", rec.Body.String())
		}
		if rec.Header().Get("Content-Security-Policy") != "default-src 'none'" {
			t.Fatal("missing CSP")
		}
		select {
		case v := <-cb.done:
			q, err := url.ParseQuery(rawQuery)
			if err != nil || method != "GET" || reqPath != path || reqHost != host ||
				len(q["state"]) != 1 || q.Get("state") != state {
				t.Fatalf("flow completed for %q %q %q %q", method, path, reqHost, rawQuery)
			}
			if i, ok := q["iss"]; ok && (len(i) != 1 || i[0] != iss) {
				t.Fatalf("flow completed with iss %q", i)
			}
			if v.err == nil && (v.code == "" || len(q["code"]) != 1 || v.code != q.Get("code")) {
				t.Fatalf("verdict %+v for %q", v, rawQuery)
			}
			if rec.Code != 200 {
				t.Fatalf("completed with status %d", rec.Code)
			}
		default:
			if rec.Code < 400 || rec.Code > 499 {
				t.Fatalf("refusal with status %d", rec.Code)
			}
		}
	})
}
