package sandbox

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// authRequest is a validated authorization request.
type authRequest struct {
	clientID, redirectURI, state, challenge, nonce string
	scopes                                         []string
	sub                                            string
}

// pendingAuth is an authorization request waiting on the approval page.
// Its id is the only handle the page's form has on it: unguessable and
// single use, which is what makes the form safe against CSRF.
type pendingAuth struct {
	req       authRequest
	expiresAt time.Time
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.AuthorizeRequests++
	s.mu.Unlock()

	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		errorPage(w, http.StatusBadRequest, "The authorization request is not a valid URL query.")
		return
	}
	// Until client_id and redirect_uri are known good, errors are shown
	// here and never redirected (RFC 6749 §4.1.2.1): an open redirector
	// would hand codes and users to whoever wrote the link.
	if len(q["client_id"]) != 1 || !validClientID(q.Get("client_id")) {
		errorPage(w, http.StatusBadRequest, "The authorization request needs exactly one valid client_id.")
		return
	}
	if len(q["redirect_uri"]) != 1 || !loopbackRedirect(q.Get("redirect_uri")) {
		errorPage(w, http.StatusBadRequest, "The redirect_uri must be one http URI on a loopback host (127.0.0.1, [::1] or localhost), with any port, no user info and no fragment.")
		return
	}
	iss := issuerOf(r)
	req := authRequest{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), state: q.Get("state")}
	fail := func(e *authError) {
		redirect(w, r, authResponse(req.redirectURI, iss, req.state, url.Values{"error": {e.code}, "error_description": {e.desc}}), http.StatusFound)
	}
	if e := req.parse(q); e != nil {
		fail(e)
		return
	}

	if s.opts.AutoApprove {
		code := s.newCode(req)
		redirect(w, r, authResponse(req.redirectURI, iss, req.state, url.Values{"code": {code}}), http.StatusFound)
		return
	}
	if q.Get("prompt") == "none" {
		fail(&authError{"interaction_required", "the sandbox needs the user to approve on its page"})
		return
	}
	id := randomToken(prefixPending)
	s.mu.Lock()
	now := s.now()
	s.st.sweepLocked(now)
	s.st.pending[id] = &pendingAuth{req: req, expiresAt: now.Add(pendingTTL)}
	s.mu.Unlock()
	s.approvalPage(w, id, req)
}

// authError is an error the authorization endpoint sends back to the client
// through its (already validated) redirect URI.
type authError struct{ code, desc string }

// parse checks the rest of an authorization request, whose client_id and
// redirect_uri are already known good, and fills req from it.
func (req *authRequest) parse(q url.Values) *authError {
	invalid := func(desc string) *authError { return &authError{"invalid_request", desc} }
	for k, v := range q {
		if len(v) > 1 {
			return invalid("parameter " + safeName(k) + " is repeated")
		}
	}
	switch rt := q.Get("response_type"); {
	case rt == "":
		return invalid("response_type is missing")
	case rt != "code":
		return &authError{"unsupported_response_type", "only response_type=code is supported"}
	}
	if m := q.Get("response_mode"); m != "" && m != "query" {
		return invalid("only response_mode=query is supported")
	}
	if e := req.parsePKCE(q); e != nil {
		return e
	}
	scopes, ok := parseScopes(q.Get("scope"))
	if !ok {
		return &authError{"invalid_scope", "scope is not a space-separated list of valid scope tokens"}
	}
	req.scopes = scopes
	req.sub = DefaultSubject
	if h := q.Get("login_hint"); h != "" {
		if !subjectPattern.MatchString(h) {
			return invalid("login_hint is not a valid sandbox account name")
		}
		req.sub = h
	}
	if n := q.Get("nonce"); len(n) > 512 {
		return invalid("nonce is too long")
	}
	req.nonce = q.Get("nonce")
	if len(req.state) > 2048 {
		return invalid("state is too long")
	}
	return nil
}

// parsePKCE checks the request's code challenge (RFC 7636 §4.3).
func (req *authRequest) parsePKCE(q url.Values) *authError {
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return &authError{"invalid_request", "code_challenge_method without code_challenge"}
	case challenge != "" && method != "S256":
		// A missing method means plain (RFC 7636 §4.3), which we refuse.
		return &authError{"invalid_request", "code_challenge_method must be S256; plain is not accepted"}
	case challenge != "" && !validChallenge(challenge):
		return &authError{"invalid_request", "code_challenge must be the base64url SHA-256 of the verifier (43 characters)"}
	}
	// A request without PKCE is accepted here because a confidential client
	// may omit it; the token endpoint refuses such a code from a public
	// client, which is the first point where we can tell the two apart.
	req.challenge = challenge
	return nil
}

func (s *Server) approvalPage(w http.ResponseWriter, id string, req authRequest) {
	s.mu.Lock()
	acct := s.st.accountLocked(req.sub)
	name, email := acct.name, acct.email
	s.mu.Unlock()
	scopes := "(none)"
	if len(req.scopes) > 0 {
		scopes = strings.Join(req.scopes, " ")
	}
	host := req.redirectURI
	if u, err := url.Parse(req.redirectURI); err == nil {
		host = u.Host
	}
	writePage(w, http.StatusOK, page{
		Title: "Approve access?",
		Lines: []string{
			"The application " + req.clientID + " asks for access to the sandbox account " + name + " <" + email + ">.",
			"Scopes: " + scopes,
			"Your browser will then return to the application at " + host + ".",
		},
		Form: &pageForm{Method: "post", Action: pathAuthorize, Hidden: map[string]string{"request": id}},
	})
}

// handleApproval takes the approval page's answer.
func (s *Server) handleApproval(w http.ResponseWriter, r *http.Request) {
	form, ok := decisionForm(w, r)
	if !ok {
		return
	}
	id := form.Get("request")
	s.mu.Lock()
	p := s.st.pending[id]
	delete(s.st.pending, id) // single use, whatever the outcome
	expired := p != nil && !s.now().Before(p.expiresAt)
	s.mu.Unlock()
	if p == nil || expired {
		errorPage(w, http.StatusBadRequest, "This approval request is unknown, already answered or expired. Start again from the application.")
		return
	}
	iss := issuerOf(r)
	switch form.Get("decision") {
	case "approve":
		code := s.newCode(p.req)
		redirect(w, r, authResponse(p.req.redirectURI, iss, p.req.state, url.Values{"code": {code}}), http.StatusSeeOther)
	case "deny":
		redirect(w, r, authResponse(p.req.redirectURI, iss, p.req.state, url.Values{"error": {"access_denied"}, "error_description": {"the user denied access"}}), http.StatusSeeOther)
	default:
		errorPage(w, http.StatusBadRequest, "The form must say approve or deny.")
	}
}

// newCode stores a fresh authorization code for an approved request.
func (s *Server) newCode(req authRequest) string {
	code := randomToken(prefixCode)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.st.sweepLocked(now)
	acct := s.st.accountLocked(req.sub)
	s.st.codes[code] = &authCode{
		clientID: req.clientID, redirectURI: req.redirectURI, challenge: req.challenge,
		acct: acct, scopes: req.scopes, nonce: req.nonce,
		issuedAt: now, expiresAt: now.Add(codeTTL), epoch: acct.epoch,
	}
	return code
}

// authResponse adds the response parameters, state and RFC 9207's iss to the
// redirect URI, keeping any query it already had.
func authResponse(redirectURI, iss, state string, params url.Values) string {
	u, err := url.Parse(redirectURI)
	if err != nil { // validated before, so this cannot happen
		return "about:blank"
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if state != "" {
		q.Set("state", state)
	}
	q.Set("iss", iss)
	u.RawQuery = q.Encode()
	return u.String()
}

// loopbackRedirect accepts the redirect URIs of native apps (RFC 8252 §7.3):
// http on 127.0.0.1, [::1] or localhost, any port, any path. Nothing else is
// ever redirected to, so the sandbox cannot leak a code off the machine.
func loopbackRedirect(raw string) bool {
	if len(raw) > 2048 {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Opaque != "" || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
		return false
	}
	host, port := u.Hostname(), u.Port()
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return false
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return false
	}
	return host == "127.0.0.1" || host == "::1" || strings.EqualFold(host, "localhost")
}

func validClientID(id string) bool {
	if id == "" || len(id) > 255 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// validChallenge checks an S256 challenge: 32 bytes, base64url, no padding.
func validChallenge(c string) bool {
	return len(c) == 43 && strings.Trim(c, b64Alphabet) == ""
}

// validVerifier checks RFC 7636 §4.1: 43–128 unreserved characters.
func validVerifier(v string) bool {
	return len(v) >= 43 && len(v) <= 128 && strings.Trim(v, b64Alphabet+".~") == ""
}

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// parseScopes splits a scope parameter (RFC 6749 §3.3), dropping duplicates
// and keeping the order. Each token must be NQCHARs.
func parseScopes(s string) ([]string, bool) {
	var out []string
	for _, t := range strings.Split(s, " ") {
		if t == "" {
			continue
		}
		for i := 0; i < len(t); i++ {
			if c := t[i]; c < 0x21 || c == '"' || c == '\\' || c > 0x7e {
				return nil, false
			}
		}
		if !hasScope(out, t) {
			out = append(out, t)
		}
	}
	return out, len(out) <= 64
}

// redirect sends the browser back to the client. The Location carries a
// code: keep it out of caches and out of the next page's Referer.
func redirect(w http.ResponseWriter, r *http.Request, to string, status int) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, to, status)
}
