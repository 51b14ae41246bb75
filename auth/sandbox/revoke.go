package sandbox

import (
	"net/http"
)

// handleRevoke is RFC 7009. Revoking a refresh token ends its grant (and so
// every access token of it); revoking an access token ends that token only.
// Unknown tokens get 200 as well (§2.2): the client's goal is reached.
// Client identification is optional, but a client may only revoke its own
// tokens.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	form, oe := formValues(w, r)
	if oe == nil {
		s.mu.Lock()
		s.stats.Revocations++
		s.mu.Unlock()
	}
	c, token, ok := tokenRequest(w, r, form, oe)
	if !ok {
		return
	}
	// token_type_hint only speeds up a real server's search; both lookups
	// are map reads here, and an unknown hint must be ignored (§2.1).
	s.mu.Lock()
	var owner string
	var revoke func()
	if rt := s.st.refresh[token]; rt != nil {
		owner = rt.g.clientID
		revoke = func() { rt.g.kill(ReasonAccessRevoked, "the grant was revoked (RFC 7009)") }
	} else if at := s.st.access[token]; at != nil {
		owner = at.g.clientID
		revoke = func() { at.revoked = true }
	}
	if revoke != nil && c.id != "" && c.id != owner {
		s.mu.Unlock()
		writeOAuthError(w, errOAuth("unauthorized_client", "the token was issued to another client"))
		return
	}
	if revoke != nil {
		revoke()
	}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
