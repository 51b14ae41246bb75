package sandbox

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
)

// idClaims are the ID token's claims (OIDC Core §2, §5.1).
type idClaims struct {
	Iss               string `json:"iss"`
	Sub               string `json:"sub"`
	Aud               string `json:"aud"`
	Exp               int64  `json:"exp"`
	Iat               int64  `json:"iat"`
	AuthTime          int64  `json:"auth_time"`
	Nonce             string `json:"nonce,omitempty"`
	AtHash            string `json:"at_hash,omitempty"`
	Name              string `json:"name"`
	Email             string `json:"email"`
	EmailVerified     bool   `json:"email_verified"`
	PreferredUsername string `json:"preferred_username"`
}

// signIDToken builds an RS256 JWT. It runs outside the store lock: an RSA
// signature takes about a millisecond, and a thousand parallel refreshes
// must not queue behind it.
func (s *Server) signIDToken(c idClaims) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": s.keyID})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	signing := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + b64(sig), nil
}

// atHash is the left half of the access token's SHA-256 (OIDC Core §3.1.3.6).
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return b64(sum[:16])
}

func (s *Server) idTokenFor(iss string, in issued) (string, error) {
	g := in.g
	return s.signIDToken(idClaims{
		Iss: iss, Sub: g.acct.sub, Aud: g.clientID,
		Exp: in.accessExp.Unix(), Iat: in.now.Unix(), AuthTime: g.authTime.Unix(),
		Nonce: g.nonce, AtHash: atHash(in.access),
		Name: g.acct.name, Email: g.acct.email, EmailVerified: true, PreferredUsername: g.acct.sub,
	})
}
