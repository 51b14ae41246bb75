package flow

import (
	"crypto/sha256"
	"encoding/hex"

	"golang.org/x/oauth2"
)

// PKCE selects how the code challenge is derived (RFC 7636). The zero value
// is S256, so a caller that forgets to choose gets the safe default.
type PKCE int

const (
	// PKCES256 is base64url(SHA-256(verifier)) with method S256.
	PKCES256 PKCE = iota
	// PKCEHexS256 is TikTok's variant: lowercase hex of SHA-256(verifier),
	// still announced as method S256.
	PKCEHexS256
	// PKCENone sends no challenge, for networks that reject PKCE parameters.
	// There is deliberately no "plain" method: it protects nothing.
	PKCENone
)

// String names the setting for messages and config.
func (p PKCE) String() string {
	switch p {
	case PKCES256:
		return "S256"
	case PKCEHexS256:
		return "hex-S256"
	case PKCENone:
		return "none"
	}
	return "unknown"
}

type pkce struct {
	verifier  string
	challenge string
	method    string
}

// newPKCE makes a fresh verifier per flow. The verifier comes from
// oauth2.GenerateVerifier (32 random bytes, base64url: 43 characters, within
// RFC 7636's 43–128) and the S256 challenge from x/oauth2's own derivation, so
// it matches what oauth2.S256ChallengeOption would send.
func newPKCE(kind PKCE) pkce {
	switch kind {
	case PKCENone:
		return pkce{}
	case PKCEHexS256:
		v := oauth2.GenerateVerifier()
		sum := sha256.Sum256([]byte(v))
		return pkce{verifier: v, challenge: hex.EncodeToString(sum[:]), method: "S256"}
	default:
		v := oauth2.GenerateVerifier()
		return pkce{verifier: v, challenge: oauth2.S256ChallengeFromVerifier(v), method: "S256"}
	}
}
