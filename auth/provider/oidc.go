package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/sbctl/sbctl/auth"
)

// Endpoints are a provider's resolved URLs: the preset's, the config's
// overrides, and for oidc what discovery found.
type Endpoints struct {
	AuthURL, TokenURL, RevokeURL, IntrospectURL, UserinfoURL, DeviceAuthURL string
	ExchangeURL, RefreshURL                                                 string // Meta only
	Issuer                                                                  string
	// IssParameterSupported is the server's
	// authorization_response_iss_parameter_supported (RFC 9207): the flow must
	// then require iss in the callback.
	IssParameterSupported bool
}

func staticEndpoints(pr Preset) Endpoints {
	return Endpoints{
		AuthURL: pr.AuthURL, TokenURL: pr.TokenURL, RevokeURL: pr.RevokeURL,
		IntrospectURL: pr.IntrospectURL, UserinfoURL: pr.UserinfoURL, DeviceAuthURL: pr.DeviceAuthURL,
		ExchangeURL: pr.ExchangeURL, RefreshURL: pr.RefreshURL, Issuer: pr.Issuer,
	}
}

// Endpoints returns the provider's URLs. For oidc the first call fetches the
// discovery document; a success is cached for the Provider's life, a failure
// is not (the next call tries again).
func (p *Provider) Endpoints(ctx context.Context) (Endpoints, error) {
	r, err := p.resolve(ctx)
	if err != nil {
		return Endpoints{}, err
	}
	return r.ep, nil
}

func (p *Provider) resolve(ctx context.Context) (*resolved, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.resolved != nil {
		return p.resolved, nil
	}
	r, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	p.resolved = r
	return r, nil
}

// discoveryDoc is the part of OIDC Discovery 1.0 / RFC 8414 metadata sbctl uses.
type discoveryDoc struct {
	Issuer                      string   `json:"issuer"`
	AuthorizationEndpoint       string   `json:"authorization_endpoint"`
	TokenEndpoint               string   `json:"token_endpoint"`
	UserinfoEndpoint            string   `json:"userinfo_endpoint"`
	RevocationEndpoint          string   `json:"revocation_endpoint"`
	IntrospectionEndpoint       string   `json:"introspection_endpoint"`
	DeviceAuthorizationEndpoint string   `json:"device_authorization_endpoint"`
	TokenEndpointAuthMethods    []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionAuthMethods    []string `json:"introspection_endpoint_auth_methods_supported"`
	IssParameterSupported       bool     `json:"authorization_response_iss_parameter_supported"`
}

// discover is written here rather than taken from go-oidc because go-oidc's
// errors quote the raw response body, which SECURITY 14 forbids.
func (p *Provider) discover(ctx context.Context) (*resolved, error) {
	pr := p.preset
	issuer := strings.TrimSuffix(pr.Issuer, "/")
	resp, err := p.send(ctx, request{
		op: opDiscovery, role: roleOther, method: http.MethodGet,
		url: issuer + "/.well-known/openid-configuration", public: true,
	})
	if err != nil {
		return nil, err
	}
	if !resp.ok() {
		e := p.failure(opDiscovery, roleOther, resp, nil)
		if e.Kind != KindTransient {
			// Whatever a 4xx says, the fix is the issuer in the config.
			e.Kind, e.Reason = KindConfig, ""
			e.detail = "the issuer serves no OpenID configuration (HTTP " + itoa(resp.status) + ")"
			e.advice = "check the provider's issuer in the config"
		}
		return nil, e
	}
	var doc discoveryDoc
	if err := json.Unmarshal(resp.body, &doc); err != nil {
		return nil, p.configError(opDiscovery, resp.host, "the OpenID configuration is not valid JSON", "check the provider's issuer in the config")
	}
	if strings.TrimSuffix(doc.Issuer, "/") != issuer {
		// Both values are public URLs, safe to show; a mismatch is how a
		// mix-up or a wrong issuer shows itself (OIDC Discovery §4.3).
		return nil, p.configError(opDiscovery, resp.host,
			"the OpenID configuration names issuer "+quote(auth.CleanText(doc.Issuer, 200))+", not "+quote(issuer),
			"set issuer to exactly the server's issuer")
	}
	ep := Endpoints{
		AuthURL:               firstNonEmpty(pr.AuthURL, doc.AuthorizationEndpoint),
		TokenURL:              firstNonEmpty(pr.TokenURL, doc.TokenEndpoint),
		RevokeURL:             firstNonEmpty(pr.RevokeURL, doc.RevocationEndpoint),
		IntrospectURL:         firstNonEmpty(pr.IntrospectURL, doc.IntrospectionEndpoint),
		UserinfoURL:           firstNonEmpty(pr.UserinfoURL, doc.UserinfoEndpoint),
		DeviceAuthURL:         firstNonEmpty(pr.DeviceAuthURL, doc.DeviceAuthorizationEndpoint),
		Issuer:                pr.Issuer,
		IssParameterSupported: doc.IssParameterSupported,
	}
	if ep.TokenURL == "" {
		return nil, p.configError(opDiscovery, resp.host, "the OpenID configuration has no token_endpoint", "set token_url in the config")
	}
	for _, f := range []struct{ field, v string }{
		{"authorization_endpoint", ep.AuthURL}, {"token_endpoint", ep.TokenURL},
		{"revocation_endpoint", ep.RevokeURL}, {"introspection_endpoint", ep.IntrospectURL},
		{"userinfo_endpoint", ep.UserinfoURL}, {"device_authorization_endpoint", ep.DeviceAuthURL},
	} {
		if f.v == "" {
			continue
		}
		if err := checkEndpointURL(f.v); err != nil {
			return nil, p.configError(opDiscovery, resp.host, "the discovered "+f.field+" "+err.Error(), "override it in the config")
		}
	}
	return &resolved{ep: ep, style: p.firstStyle(doc.TokenEndpointAuthMethods),
		introspectNeedsAuth: len(doc.IntrospectionAuthMethods) > 0 && !slices.Contains(doc.IntrospectionAuthMethods, "none")}, nil
}

// firstStyle is the client authentication to try first. HTTP Basic is the
// one method RFC 6749 §2.3.1 requires every server to support, and RFC
// 7591's default registration; a list that offers the form but not Basic
// is taken at its word. Servers that list both but honour only one (Hydra
// per client, mockoidc only the form) are found out by sendAuthed's one
// fallback, never by sending a code twice without a refusal.
func (p *Provider) firstStyle(methods []string) auth.ClientAuth {
	if p.autoStyle && slices.Contains(methods, "client_secret_post") && !slices.Contains(methods, "client_secret_basic") {
		return auth.ClientAuthBody
	}
	return p.preset.ClientAuth
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
