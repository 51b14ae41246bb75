package sandbox

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// oauthError is an RFC 6749 §5.2 error body, plus our Reason extension
// for grants the server killed (see the package comment).
type oauthError struct {
	status      int
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Reason      Reason `json:"reason,omitempty"`
}

func errInvalidRequest(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, Code: "invalid_request", Description: desc}
}

func errInvalidClient(desc string) *oauthError {
	return &oauthError{status: http.StatusUnauthorized, Code: "invalid_client", Description: desc}
}

func errInvalidGrant(desc string, reason Reason) *oauthError {
	return &oauthError{status: http.StatusBadRequest, Code: "invalid_grant", Description: desc, Reason: reason}
}

func errOAuth(code, desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, Code: code, Description: desc}
}

func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	if e.status == http.StatusUnauthorized {
		// RFC 6749 §5.2: a 401 names the authentication scheme to use.
		w.Header().Set("WWW-Authenticate", `Basic realm="sbctl-sandbox"`)
	}
	writeJSON(w, e.status, e)
}

// writeJSON writes v with the headers every OAuth response needs: token
// responses and errors must never be cached (RFC 6749 §5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) // a write error means the client left; nothing to do
}

// formValues parses an application/x-www-form-urlencoded POST body and
// rejects what RFC 6749 §3.2 forbids: other media types and repeated
// parameters. Query parameters are ignored: OAuth parameters of POST
// endpoints travel in the body.
func formValues(w http.ResponseWriter, r *http.Request) (url.Values, *oauthError) {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if !strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded") {
		return nil, errInvalidRequest("the body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return nil, errInvalidRequest("the body is not a valid form")
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return nil, errInvalidRequest("parameter " + safeName(k) + " is repeated")
		}
	}
	return r.PostForm, nil
}

// safeName keeps a parameter name we echo in an error printable and short,
// so an error body never reflects arbitrary input.
func safeName(k string) string {
	if len(k) > 40 {
		k = k[:40]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
			return '?'
		}
		return r
	}, k)
}

// setPageHeaders locks an HTML page down: no scripts, no framing
// (clickjacking of the Approve button), no referrer (the page's URL carries
// the authorization request), never cached.
func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} – sbctl sandbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;line-height:1.5}
button{font-size:1em;padding:.4em 1.2em;margin-right:.6em}code{background:#eee;padding:0 .2em}</style></head>
<body><h1>{{.Title}}</h1>
{{range .Lines}}<p>{{.}}</p>
{{end}}{{with .Form}}<form method="{{.Method}}" action="{{.Action}}">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}{{if .AskCode}}<label>Code: <input name="user_code" autocomplete="off" autofocus></label>
<button type="submit" name="decision" value="approve">Continue</button>
{{else}}<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
{{end}}</form>{{end}}
<p><small>sbctl sandbox – a local test authorization server</small></p></body></html>
`))

type page struct {
	Title string
	Lines []string
	Form  *pageForm
}

type pageForm struct {
	Method  string // "post", or "get" for the device code entry form
	Action  string
	Hidden  map[string]string
	AskCode bool
}

// writePage renders a static page; html/template escapes every value.
func writePage(w http.ResponseWriter, status int, p page) {
	setPageHeaders(w)
	w.WriteHeader(status)
	pageTemplate.Execute(w, p) // a write error means the browser left
}

// errorPage is for requests we must not redirect (an unvalidated
// redirect_uri): a static page that reflects nothing from the request.
func errorPage(w http.ResponseWriter, status int, msg string) {
	writePage(w, status, page{Title: "Request refused", Lines: []string{msg}})
}

// sameOriginPost refuses browser form posts that come from another site:
// the approval forms and the admin endpoints change state, and a web page
// on the internet must not be able to press their buttons.
func sameOriginPost(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	// The middleware has vetted Host, so the page's own origin is http://Host.
	if o := r.Header.Get("Origin"); o != "" && !strings.EqualFold(o, "http://"+r.Host) {
		return false
	}
	return true
}

// tokenRequest reads an RFC 7009 / RFC 7662 request: the form, the
// (optional) client and the token. On a bad request it has answered with
// the OAuth error and reports false.
func tokenRequest(w http.ResponseWriter, r *http.Request, form url.Values, oe *oauthError) (client, string, bool) {
	var c client
	if oe == nil {
		c, oe = clientFrom(r, form, false)
	}
	token := form.Get("token")
	if oe == nil && token == "" {
		oe = errInvalidRequest("token is missing")
	}
	if oe != nil {
		writeOAuthError(w, oe)
		return client{}, "", false
	}
	return c, token, true
}

// decisionForm reads the answer of one of the sandbox's own approval
// pages. On a forged or unreadable post it has answered and reports false.
func decisionForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if !sameOriginPost(r) {
		errorPage(w, http.StatusForbidden, "This form can only be sent from the sandbox's own page.")
		return nil, false
	}
	form, oe := formValues(w, r)
	if oe != nil {
		errorPage(w, http.StatusBadRequest, "The form could not be read.")
		return nil, false
	}
	return form, true
}
