package flow

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
)

// stateBytes is 256 bits: far above the 128-bit floor of SPEC §5, and the
// same size as a PKCE verifier, so guessing either is equally hopeless.
const stateBytes = 32

// newState returns a fresh, unguessable state value. It binds the callback to
// this flow (CSRF defence, RFC 9700 §4.7) and is checked before anything else.
func newState() (string, error) {
	b := make([]byte, stateBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("cannot generate the sign-in state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// relayState prefixes the port so the hosted relay page, which has no other
// way to learn it, knows where to forward. The port is not secret; the random
// part still carries the full 256 bits.
func relayState(port int, random string) string {
	return strconv.Itoa(port) + "." + random
}

// stateEqual compares in constant time so a local attacker timing the
// callback cannot learn the state byte by byte. An empty expectation never
// matches, whatever is received.
func stateEqual(got, want string) bool {
	if want == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
