package auth

import (
	"slices"
	"strings"
)

// The words of a sign-in that the config, the presets (auth/provider) and
// the browser flow (auth/flow) must agree on. Each is defined here once and
// parsed here once: config checks the file with these functions, provider
// reads its Settings with them, and the flow takes the typed values, so no
// layer keeps a list of names of its own or converts between copies.

// RedirectMode is how the authorization response reaches sbctl (SPEC §5).
// The zero value "" means "the preset's default" wherever a mode is chosen.
type RedirectMode string

const (
	// RedirectLoopback redirects the browser to http://127.0.0.1:PORT and
	// the provider's callback path.
	RedirectLoopback RedirectMode = "loopback"
	// RedirectRelay redirects to an HTTPS page the user hosts, which
	// forwards the response to the loopback listener: for networks that
	// accept only registered HTTPS redirect URIs (Meta's).
	RedirectRelay RedirectMode = "relay"
	// RedirectManual uses the loopback redirect URI, and also reads the
	// redirected address (or the bare code) pasted on stdin, for SSH and
	// headless machines.
	RedirectManual RedirectMode = "manual"
	// RedirectDevice is RFC 8628 device authorization: no redirect at all.
	RedirectDevice RedirectMode = "device"
)

// redirectModes is every mode, in the order messages name them.
var redirectModes = []RedirectMode{RedirectLoopback, RedirectRelay, RedirectManual, RedirectDevice}

// RedirectModes lists every mode: loopback, relay, manual, device.
func RedirectModes() []RedirectMode { return slices.Clone(redirectModes) }

// RedirectModeNames is RedirectModes as the config spells them.
func RedirectModeNames() []string { return names(redirectModes) }

// ParseRedirectMode reads a mode as the config writes it: exactly one of
// RedirectModeNames, in lower case (the config has never accepted another
// spelling, so neither does this).
func ParseRedirectMode(s string) (RedirectMode, bool) {
	m := RedirectMode(s)
	return m, m.Valid()
}

// Valid reports whether m is one of the four modes ("" is not).
func (m RedirectMode) Valid() bool { return slices.Contains(redirectModes, m) }

func (m RedirectMode) String() string { return string(m) }

// PKCE says whether a network takes a PKCE challenge (RFC 7636), and in
// which form. Whatever the network says, sbctl never sends method "plain":
// it protects nothing.
type PKCE string

const (
	// PKCERequired: the network checks an S256 challenge,
	// base64url(SHA-256(verifier)). The zero value "" is read as this, so
	// a caller that forgets to choose gets the safe default.
	PKCERequired PKCE = "required"
	// PKCEOptional: the network accepts a challenge without requiring
	// one; sbctl sends S256 all the same.
	PKCEOptional PKCE = "optional"
	// PKCEUnsupported: the network rejects PKCE parameters, so none are
	// sent (Meta's classic dialog, Pinterest).
	PKCEUnsupported PKCE = "unsupported"
	// PKCEHex is TikTok's variant: the S256 challenge is the lowercase hex
	// of SHA-256(verifier) instead of base64url, still announced as S256.
	PKCEHex PKCE = "hex"
)

var pkceModes = []PKCE{PKCERequired, PKCEOptional, PKCEUnsupported, PKCEHex}

// ParsePKCE reads a PKCE setting by its name (required, optional,
// unsupported, hex), exactly as the constants spell it.
func ParsePKCE(s string) (PKCE, bool) {
	p := PKCE(s)
	return p, slices.Contains(pkceModes, p)
}

// Valid reports whether p is a known setting; "" is (it means required).
func (p PKCE) Valid() bool { return p == "" || slices.Contains(pkceModes, p) }

// Challenge reports whether a code challenge is sent at all.
func (p PKCE) Challenge() bool { return p != PKCEUnsupported }

func (p PKCE) String() string {
	if p == "" {
		return string(PKCERequired)
	}
	return string(p)
}

// ClientAuth is how a confidential client authenticates at the token
// endpoint. Public clients (no secret) always send their client id in the
// body, whatever the setting.
type ClientAuth string

const (
	// ClientAuthBasic is HTTP Basic, RFC 6749 §2.3.1 (client_secret_basic).
	ClientAuthBasic ClientAuth = "basic"
	// ClientAuthBody sends client_id and client_secret as form parameters
	// (client_secret_post).
	ClientAuthBody ClientAuth = "body"
)

// clientAuthNames are the names a client_auth setting may use: the ones
// servers advertise (RFC 8414 token_endpoint_auth_methods_supported) and
// sbctl's short ones, in the order the config's messages list them.
var clientAuthNames = []struct {
	name string
	auth ClientAuth
}{
	{"client_secret_basic", ClientAuthBasic}, {"basic", ClientAuthBasic},
	{"client_secret_post", ClientAuthBody}, {"post", ClientAuthBody}, {"body", ClientAuthBody},
}

// ClientAuthNames lists every name ParseClientAuth accepts, as the config
// spells them: client_secret_basic, basic, client_secret_post, post, body.
func ClientAuthNames() []string {
	out := make([]string, len(clientAuthNames))
	for i, n := range clientAuthNames {
		out[i] = n.name
	}
	return out
}

// ParseClientAuth reads a client_auth name (one of ClientAuthNames). Case
// and surrounding space do not matter here, as a server's metadata and a
// program's Settings may spell them either way; the config file, which
// people write, takes only the exact names (config checks that first).
func ParseClientAuth(s string) (ClientAuth, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, n := range clientAuthNames {
		if n.name == s {
			return n.auth, true
		}
	}
	return "", false
}

// Other is the other of the two methods: the one a guess falls back to.
func (a ClientAuth) Other() ClientAuth {
	if a == ClientAuthBasic {
		return ClientAuthBody
	}
	return ClientAuthBasic
}

func (a ClientAuth) String() string { return string(a) }

func names[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}
