package flow

import (
	"crypto/sha256"
	"encoding/hex"

	"golang.org/x/oauth2"

	"github.com/sbctl/sbctl/auth"
)

type pkce struct {
	verifier  string
	challenge string
	method    string
}

// newPKCE makes a fresh verifier per flow, for the network's PKCE setting:
// no challenge where it rejects PKCE parameters, TikTok's hex challenge,
// and S256 otherwise (also for "" and where PKCE is optional). There is
// deliberately no "plain" method: it protects nothing. The verifier comes
// from oauth2.GenerateVerifier (32 random bytes, base64url: 43 characters,
// within RFC 7636's 43–128) and the S256 challenge from x/oauth2's own
// derivation, so it matches what oauth2.S256ChallengeOption would send.
func newPKCE(kind auth.PKCE) pkce {
	switch kind {
	case auth.PKCEUnsupported:
		return pkce{}
	case auth.PKCEHex:
		v := oauth2.GenerateVerifier()
		sum := sha256.Sum256([]byte(v))
		return pkce{verifier: v, challenge: hex.EncodeToString(sum[:]), method: "S256"}
	default:
		v := oauth2.GenerateVerifier()
		return pkce{verifier: v, challenge: oauth2.S256ChallengeFromVerifier(v), method: "S256"}
	}
}
