package auth

import "time"

// Token is what the keychain holds for one profile, as one JSON item.
// Zero times mean "unknown / does not expire".
type Token struct {
	AccessToken   string    `json:"access_token"`
	TokenType     string    `json:"token_type,omitempty"`
	RefreshToken  string    `json:"refresh_token,omitempty"`
	Expiry        time.Time `json:"expiry,omitzero"`
	RefreshExpiry time.Time `json:"refresh_expiry,omitzero"`
	// IDToken is kept when an OIDC provider returned one, so the account can
	// be read again without a network call.
	IDToken string `json:"id_token,omitempty"`
	// Scopes the provider granted, when it said.
	Scopes []string `json:"scopes,omitempty"`
	// ObtainedAt is when sbctl received this token (from a flow, a refresh or
	// an import); renewal rules such as Instagram's "at least 24 h old" use it.
	ObtainedAt time.Time `json:"obtained_at,omitzero"`
	// Rejected is the network's definite "no" to this grant, kept with the
	// token itself so that a lost state file, rebuilt from the store, does
	// not forget it (a revoked grant must never read as ok again).
	Rejected   Reason    `json:"rejected,omitempty"`
	RejectedAt time.Time `json:"rejected_at,omitzero"`
}

// HasRefresh reports whether the token can be renewed with a refresh_token grant.
func (t *Token) HasRefresh() bool { return t != nil && t.RefreshToken != "" }
