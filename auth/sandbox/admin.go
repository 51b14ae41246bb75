package sandbox

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ExpireAccount makes every token of the account's current grants expire:
// refreshes get invalid_grant with reason "expired".
func (s *Server) ExpireAccount(sub string) error {
	return s.killAccount(sub, ReasonExpired, "the account's tokens expired")
}

// RevokeAccount is the user removing the app: the account's grants are
// revoked with reason "access_revoked".
func (s *Server) RevokeAccount(sub string) error {
	return s.killAccount(sub, ReasonAccessRevoked, "the user removed the app's access")
}

// ChangePassword is the user changing their password, which ends every
// session of the account: reason "password_changed".
func (s *Server) ChangePassword(sub string) error {
	return s.killAccount(sub, ReasonPasswordChanged, "the account's password was changed")
}

// killAccount ends the grants that exist now. Later grants (the user
// re-authenticating) are unaffected, as with a real provider.
func (s *Server) killAccount(sub string, reason Reason, why string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.accounts[sub]
	if a == nil {
		return fmt.Errorf("%w %q", ErrUnknownAccount, sub)
	}
	for _, g := range a.grants {
		g.kill(reason, why)
	}
	// Dead grants need not be remembered by the account any more.
	a.grants = a.grants[:0]
	a.epoch++
	a.lastDead, a.lastWhy = reason, why
	return nil
}

// IssueRequest describes a grant made without a browser, for Issue.
type IssueRequest struct {
	ClientID string // required
	// ClientSecret, when set, binds the grant to it as if the client had
	// authenticated with it: refreshes must present the same secret.
	ClientSecret string
	Subject      string   // default DefaultSubject
	Scopes       []string // an ID token is included when "openid" is among them (and the server is started)
	// AccessTTL and RefreshTTL override the server's lifetimes for this
	// grant, so a demo can show a connection that is about to expire.
	AccessTTL, RefreshTTL time.Duration
}

// Issue creates a grant as if the user had approved the client and the
// code had been exchanged, and returns the token response. The demo uses it
// to set up profiles in every state; tests use it to make many grants fast.
func (s *Server) Issue(req IssueRequest) (TokenResponse, error) {
	if !validClientID(req.ClientID) {
		return TokenResponse{}, errors.New("sandbox: Issue needs a valid ClientID")
	}
	if req.Subject == "" {
		req.Subject = DefaultSubject
	}
	if !subjectPattern.MatchString(req.Subject) {
		return TokenResponse{}, fmt.Errorf("sandbox: %q is not a valid account name", req.Subject)
	}
	scopes, ok := parseScopes(strings.Join(req.Scopes, " "))
	for _, sc := range req.Scopes {
		ok = ok && sc != "" && !strings.Contains(sc, " ")
	}
	if !ok {
		return TokenResponse{}, errors.New("sandbox: Issue got an invalid scope")
	}
	if req.AccessTTL < 0 || req.RefreshTTL < 0 {
		return TokenResponse{}, errors.New("sandbox: negative lifetime")
	}
	if req.AccessTTL == 0 {
		req.AccessTTL = s.opts.AccessTTL
	}
	if req.RefreshTTL == 0 {
		req.RefreshTTL = s.opts.RefreshTTL
	}
	c := client{id: req.ClientID, secret: req.ClientSecret, hasSecret: req.ClientSecret != ""}
	s.mu.Lock()
	in := s.st.newGrantLocked(s.st.accountLocked(req.Subject), c.id, c.digest(), scopes, "", req.AccessTTL, req.RefreshTTL, s.now())
	s.mu.Unlock()
	return s.tokenResponse(s.Issuer(), in)
}

// handleAdminAccount serves POST /sandbox/accounts/{sub}/{expire|revoke|password-change}.
func (s *Server) handleAdminAccount(w http.ResponseWriter, r *http.Request) {
	if !sameOriginPost(r) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden", "error_description": "cross-site requests are refused"})
		return
	}
	var kill func(string) error
	switch r.PathValue("action") {
	case "expire":
		kill = s.ExpireAccount
	case "revoke":
		kill = s.RevokeAccount
	case "password-change":
		kill = s.ChangePassword
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "the action must be expire, revoke or password-change"})
		return
	}
	if err := kill(r.PathValue("sub")); err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown_account", "error_description": "no such account"})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleAdminStats serves GET /sandbox/stats.
func (s *Server) handleAdminStats(w http.ResponseWriter, r *http.Request) {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		// Counters include account names; other sites need not read them.
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden"})
		return
	}
	writeJSON(w, http.StatusOK, s.Stats())
}
