package sandbox

import (
	"net/http"
	"strings"
)

type userinfo struct {
	Sub               string `json:"sub"`
	Name              string `json:"name"`
	Email             string `json:"email"`
	EmailVerified     bool   `json:"email_verified"`
	PreferredUsername string `json:"preferred_username"`
}

// bearerError is the userinfo 401 body: RFC 6750's error plus our Reason.
type bearerError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Reason      Reason `json:"reason,omitempty"`
}

// handleUserinfo is OIDC Core §5.3, authorized by a Bearer access token in
// the Authorization header (RFC 6750 §2.1). Any scope will do: sbctl uses
// it as the health check of networks without introspection.
func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.UserinfoRequests++
	s.mu.Unlock()
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		// RFC 6750 §3.1: no credentials, so no error code in the challenge.
		w.Header().Set("WWW-Authenticate", `Bearer realm="sbctl-sandbox"`)
		writeJSON(w, http.StatusUnauthorized, bearerError{Code: "invalid_token", Description: "a Bearer access token is required"})
		return
	}
	s.mu.Lock()
	at, reason, why := s.st.accessStateLocked(token, s.now())
	var out userinfo
	if at != nil && reason == "" {
		a := at.g.acct
		out = userinfo{Sub: a.sub, Name: a.name, Email: a.email, EmailVerified: true, PreferredUsername: a.sub}
	}
	s.mu.Unlock()
	if at == nil || reason != "" {
		// why is our own fixed text, never input, so it is safe in a
		// quoted-string.
		w.Header().Set("WWW-Authenticate", `Bearer realm="sbctl-sandbox", error="invalid_token", error_description="`+why+`"`)
		writeJSON(w, http.StatusUnauthorized, bearerError{Code: "invalid_token", Description: why, Reason: reason})
		return
	}
	writeJSON(w, http.StatusOK, out)
}
