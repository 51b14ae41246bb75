package sandbox

import (
	"net/http"
	"strings"
)

// introspection is RFC 7662 §2.2's body, plus Reason (our extension) when a
// token is inactive because its grant died or it expired.
type introspection struct {
	Active    bool   `json:"active"`
	Reason    Reason `json:"reason,omitempty"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Username  string `json:"username,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	Sub       string `json:"sub,omitempty"`
	Aud       string `json:"aud,omitempty"`
	Iss       string `json:"iss,omitempty"`
}

// handleIntrospect is RFC 7662. Any client may ask (this is a sandbox, and
// sbctl uses it as a health check); access and refresh tokens are both
// answered.
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	form, oe := formValues(w, r)
	_, token, ok := tokenRequest(w, r, form, oe)
	if !ok {
		return
	}
	s.mu.Lock()
	s.stats.Introspections++
	out := s.introspectLocked(token)
	s.mu.Unlock()
	if out.Active {
		out.Iss = issuerOf(r)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) introspectLocked(token string) introspection {
	now := s.now()
	if at, reason, _ := s.st.accessStateLocked(token, now); at != nil {
		if reason != "" {
			return introspection{Reason: reason}
		}
		return s.activeLocked(at.g, at.scopes, "Bearer", at.issuedAt.Unix(), at.expiresAt.Unix())
	}
	rt := s.st.refresh[token]
	switch {
	case rt == nil:
		return introspection{}
	case rt.g.dead != "":
		return introspection{Reason: rt.g.dead}
	case rt.rotated:
		// Superseded by rotation: no longer active, but nothing happened
		// to the grant, so there is no reason to report.
		return introspection{}
	case !now.Before(rt.expiresAt):
		return introspection{Reason: ReasonExpired}
	}
	return s.activeLocked(rt.g, rt.g.scopes, "refresh_token", rt.issuedAt.Unix(), rt.expiresAt.Unix())
}

func (s *Server) activeLocked(g *grant, scopes []string, typ string, iat, exp int64) introspection {
	return introspection{
		Active: true, Scope: strings.Join(scopes, " "), ClientID: g.clientID,
		Username: g.acct.sub, TokenType: typ, Exp: exp, Iat: iat, Sub: g.acct.sub, Aud: g.clientID,
	}
}
