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

// relayState prefixes the port, and the provider name of the callback path
// /callback/NAME (see relayPathName), so the hosted relay page, which has
// no other way to learn them, knows where to forward: "PORT.RANDOM" or
// "PORT.NAME.RANDOM". Neither is secret; the random part still carries the
// full 256 bits, and the whole state is compared as usual.
func relayState(port int, name, random string) string {
	if name == "" {
		return strconv.Itoa(port) + "." + random
	}
	return strconv.Itoa(port) + "." + name + "." + random
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
