package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"
)

// TokenResponse is the token endpoint's success body (RFC 6749 §5.1).
// RefreshTokenExpiresIn is an extension several real providers send; the
// sandbox always sends it so clients can show the connection's expiry.
type TokenResponse struct {
	AccessToken           string `json:"access_token"`
	TokenType             string `json:"token_type"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token,omitempty"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in,omitempty"`
	Scope                 string `json:"scope,omitempty"`
	IDToken               string `json:"id_token,omitempty"`
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if d := s.opts.TokenLatency; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			// The client gave up: change nothing, so a cancelled refresh
			// never rotates a token nobody received.
			t.Stop()
			return
		}
	}
	form, oe := formValues(w, r)
	if oe != nil {
		s.countToken("")
		writeOAuthError(w, oe)
		return
	}
	gt := form.Get("grant_type")
	s.countToken(gt)
	c, oe := clientFrom(r, form, true)
	if oe != nil {
		writeOAuthError(w, oe)
		return
	}
	var in issued
	switch gt {
	case "":
		oe = errInvalidRequest("grant_type is missing")
	case grantAuthorizationCode:
		in, oe = s.exchangeCode(form.Get("code"), form.Get("redirect_uri"), form.Get("code_verifier"), c)
	case grantRefreshToken:
		in, oe = s.refresh(form.Get("refresh_token"), form.Get("scope"), form.Has("scope"), c)
	case grantDeviceCode:
		in, oe = s.redeemDevice(form.Get("device_code"), c)
	default:
		oe = errOAuth("unsupported_grant_type", "grant_type must be authorization_code, refresh_token or "+grantDeviceCode)
	}
	if oe != nil {
		writeOAuthError(w, oe)
		return
	}
	resp, err := s.tokenResponse(issuerOf(r), in)
	if err != nil {
		writeOAuthError(w, &oauthError{status: http.StatusInternalServerError, Code: "server_error", Description: "could not sign the ID token"})
		return
	}
	if d := s.opts.AnswerLatency; d > 0 {
		// Like a real server, the grant has changed already (a refresh
		// token rotated) whether or not the client is still there to read
		// the answer.
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) countToken(grantType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.TokenRequests++
	switch grantType {
	case grantAuthorizationCode:
		s.stats.CodeExchanges++
	case grantRefreshToken:
		s.stats.RefreshRequests++
	case grantDeviceCode:
		s.stats.DevicePolls++
	}
}

// tokenResponse turns an issuance into the JSON body; it signs the ID token
// outside the lock.
func (s *Server) tokenResponse(iss string, in issued) (TokenResponse, error) {
	resp := TokenResponse{
		AccessToken:  in.access,
		TokenType:    "Bearer",
		ExpiresIn:    seconds(in.accessExp.Sub(in.now)),
		RefreshToken: in.refresh,
		Scope:        strings.Join(in.scopes, " "),
	}
	if !in.refreshExp.IsZero() {
		resp.RefreshTokenExpiresIn = max(1, seconds(in.refreshExp.Sub(in.now)))
	}
	if in.withIDToken && iss != "" {
		idt, err := s.idTokenFor(iss, in)
		if err != nil {
			return TokenResponse{}, err
		}
		resp.IDToken = idt
	}
	return resp, nil
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

// exchangeCode redeems an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.6).
func (s *Server) exchangeCode(code, redirectURI, verifier string, c client) (issued, *oauthError) {
	if code == "" {
		return issued{}, errInvalidRequest("code is missing")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	ac := s.st.codes[code]
	if ac == nil {
		return issued{}, errInvalidGrant("the authorization code is not known", "")
	}
	if ac.used {
		// RFC 6749 §4.1.2: a replayed code means it leaked; whatever was
		// issued from it must not stay usable.
		s.stats.CodeReplays++
		if ac.g != nil {
			ac.g.kill(ReasonAccessRevoked, "the authorization code was redeemed twice, so the tokens issued from it were revoked")
		}
		return issued{}, errInvalidGrant("the authorization code was already used", "")
	}
	// Burn the code on every attempt, failed ones too: a wrong verifier
	// must not leave the code open to guessing.
	ac.used = true
	switch {
	case !now.Before(ac.expiresAt):
		return issued{}, errInvalidGrant("the authorization code expired", "")
	case ac.clientID != c.id:
		return issued{}, errInvalidGrant("the authorization code was issued to another client", "")
	case redirectURI == "":
		return issued{}, errInvalidRequest("redirect_uri is required: the authorization request had one")
	case redirectURI != ac.redirectURI:
		return issued{}, errInvalidGrant("redirect_uri does not match the authorization request", "")
	case ac.epoch != ac.acct.epoch:
		return issued{}, errInvalidGrant(ac.acct.lastWhy, ac.acct.lastDead)
	}
	if ac.challenge != "" {
		if verifier == "" {
			return issued{}, errInvalidGrant("code_verifier is missing: the authorization request had a code_challenge", "")
		}
		if !validVerifier(verifier) || !s256Matches(verifier, ac.challenge) {
			return issued{}, errInvalidGrant("code_verifier does not match the code_challenge", "")
		}
	} else {
		if verifier != "" {
			// RFC 9700 §2.1.1: refusing this stops PKCE downgrade attacks.
			return issued{}, errInvalidGrant("code_verifier sent, but the authorization request had no code_challenge", "")
		}
		if !c.hasSecret {
			return issued{}, errInvalidRequest("PKCE is required for public clients: send code_challenge (S256) in the authorization request")
		}
	}
	in := s.st.newGrantLocked(ac.acct, c.id, c.digest(), ac.scopes, ac.nonce, s.opts.AccessTTL, s.opts.RefreshTTL, now)
	ac.g = in.g
	return in, nil
}

func s256Matches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(b64(sum[:])), []byte(challenge)) == 1
}

// refresh runs the refresh_token grant (RFC 6749 §6), with rotation and
// reuse detection when the server rotates (RFC 9700 §4.14.2).
func (s *Server) refresh(token, scope string, hasScopeParam bool, c client) (issued, *oauthError) {
	if token == "" {
		return issued{}, errInvalidRequest("refresh_token is missing")
	}
	narrowed, ok := parseScopes(scope)
	if hasScopeParam && (!ok || len(narrowed) == 0) {
		return issued{}, errOAuth("invalid_scope", "scope is not a valid, non-empty scope list")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	rt := s.st.refresh[token]
	if rt == nil {
		return issued{}, errInvalidGrant("the refresh token is not known", "")
	}
	g := rt.g
	s.stats.RefreshByAccount[g.acct.sub]++
	switch {
	case g.clientID != c.id:
		return issued{}, errInvalidGrant("the refresh token was issued to another client", "")
	case g.secret != nil && (!c.hasSecret || !sameSecret(g.secret, c.secret)):
		return issued{}, errInvalidClient("this grant was created by a client that authenticated with a secret; authenticate with the same secret")
	case g.dead != "":
		return issued{}, errInvalidGrant(g.deadWhy, g.dead)
	case rt.rotated:
		s.stats.ReuseDetections++
		g.kill(ReasonAccessRevoked, "a rotated refresh token was used again, so the grant was revoked (refresh token reuse detection)")
		return issued{}, errInvalidGrant(g.deadWhy, g.dead)
	case !now.Before(rt.expiresAt):
		return issued{}, errInvalidGrant("the refresh token expired", ReasonExpired)
	}
	scopes := g.scopes
	if hasScopeParam {
		for _, sc := range narrowed {
			if !hasScope(g.scopes, sc) {
				return issued{}, errOAuth("invalid_scope", "the refresh request asks for a scope the grant does not have")
			}
		}
		scopes = narrowed
	}
	in := s.st.newAccessLocked(g, scopes, now)
	if s.opts.RotateRefresh {
		rt.rotated = true
		next := randomToken(prefixRefresh)
		s.st.refresh[next] = &refreshToken{g: g, issuedAt: now, expiresAt: now.Add(g.refreshTTL)}
		in.refresh, in.refreshExp = next, now.Add(g.refreshTTL)
	} else {
		// Like Google, answer without a refresh_token: the client must
		// keep the one it has (RFC 6749 §6, SECURITY §18).
		in.refreshExp = rt.expiresAt
	}
	s.stats.RefreshSucceeded++
	return in, nil
}
