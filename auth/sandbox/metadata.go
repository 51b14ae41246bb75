package sandbox

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"net/http"
)

// Endpoint paths, relative to the issuer.
const (
	pathAuthorize  = "/authorize"
	pathToken      = "/token"
	pathRevoke     = "/revoke"
	pathIntrospect = "/introspect"
	pathUserinfo   = "/userinfo"
	pathDeviceCode = "/device/code"
	pathDevice     = "/device"
	pathJWKS       = "/jwks"
	pathAdmin      = "/sandbox"
)

// Grant types the token endpoint accepts.
const (
	grantAuthorizationCode = "authorization_code"
	grantRefreshToken      = "refresh_token"
	grantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
)

// Metadata is the discovery document (OIDC Discovery 1.0 / RFC 8414).
// `sbctl sandbox serve` prints it as one JSON line; the first six fields are
// the contract of SPEC §4, the rest is what a real provider advertises.
type Metadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	RevocationEndpoint    string `json:"revocation_endpoint"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	UserinfoEndpoint      string `json:"userinfo_endpoint"`

	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint"`
	JWKSURI                     string `json:"jwks_uri"`
	// SandboxAdminEndpoint is where the account controls live (an extension).
	SandboxAdminEndpoint string `json:"sandbox_admin_endpoint"`

	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	SubjectTypesSupported                      []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	ClaimsSupported                            []string `json:"claims_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
}

// Metadata is the discovery document for the started server's issuer.
func (s *Server) Metadata() Metadata { return metadataFor(s.Issuer()) }

func metadataFor(iss string) Metadata {
	authMethods := []string{"none", "client_secret_basic", "client_secret_post"}
	return Metadata{
		Issuer:                      iss,
		AuthorizationEndpoint:       iss + pathAuthorize,
		TokenEndpoint:               iss + pathToken,
		RevocationEndpoint:          iss + pathRevoke,
		IntrospectionEndpoint:       iss + pathIntrospect,
		UserinfoEndpoint:            iss + pathUserinfo,
		DeviceAuthorizationEndpoint: iss + pathDeviceCode,
		JWKSURI:                     iss + pathJWKS,
		SandboxAdminEndpoint:        iss + pathAdmin,
		// Other scopes (tweet.read, ...) are accepted too: the sandbox
		// stands in for every network, so it grants whatever is asked.
		ScopesSupported:                            []string{"openid", "profile", "email", "offline_access"},
		ResponseTypesSupported:                     []string{"code"},
		ResponseModesSupported:                     []string{"query"},
		GrantTypesSupported:                        []string{grantAuthorizationCode, grantRefreshToken, grantDeviceCode},
		CodeChallengeMethodsSupported:              []string{"S256"},
		TokenEndpointAuthMethodsSupported:          authMethods,
		RevocationEndpointAuthMethodsSupported:     authMethods,
		IntrospectionEndpointAuthMethodsSupported:  authMethods,
		SubjectTypesSupported:                      []string{"public"},
		IDTokenSigningAlgValuesSupported:           []string{"RS256"},
		ClaimsSupported:                            []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "name", "email", "email_verified", "preferred_username"},
		AuthorizationResponseIssParameterSupported: true,
	}
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, metadataFor(issuerOf(r)))
}

type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	pub := &s.key.PublicKey
	writeJSON(w, http.StatusOK, map[string][]jwk{"keys": {{
		Kty: "RSA", Use: "sig", Alg: "RS256", Kid: s.keyID,
		N: b64(pub.N.Bytes()),
		E: b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// keyID derives a stable kid from the public key, so a restarted server with
// the same key keeps the same kid.
func keyID(pub *rsa.PublicKey) string {
	sum := sha256.Sum256(pub.N.Bytes())
	return "sbx-" + b64(sum[:9])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
