package config

import (
	"fmt"
	"strconv"
)

// NewProvider is what `providers add` writes. Empty fields (and a zero
// RedirectPort, nil Scopes) are not written: the preset's or discovery's
// values apply. ClientAuth may be any name the file accepts
// (client_secret_basic, basic, client_secret_post, post, body) and is
// written as given.
type NewProvider struct {
	Name string
	// Type is the preset or kind (oidc, oauth2). It is not written when it
	// equals Name: a provider named after its preset reads best as
	// `x:` alone, as in SPEC §3; "" also means the preset Name.
	Type                                                string
	ClientID                                            string
	Issuer, AuthURL, TokenURL, RevokeURL, IntrospectURL string
	UserinfoURL, DeviceAuthURL                          string
	Scopes                                              []string
	Redirect                                            string
	RedirectPort                                        int
	RelayURL                                            string
	RedirectPath                                        string
	GraphVersion                                        string
	ClientAuth                                          string
}

// AddProvider appends a provider entry under `providers:`, writing only
// the fields that are set, in the order of providerFields (type first,
// then endpoints, then the client). Like every edit, the result is
// re-parsed first: an entry that would not be valid (type oidc without an
// issuer, an unknown preset) is refused with the parse error and the config
// is unchanged.
func (c *Config) AddProvider(p NewProvider) error {
	p.Name = NormalizeName(p.Name)
	if err := ValidateName("provider", p.Name); err != nil {
		return err
	}
	if old, ok := c.providerIdx[p.Name]; ok {
		return fmt.Errorf("provider %q already exists (%s:%d); edit it there, or choose another name", p.Name, c.Path, old.Line)
	}
	typ := p.Type
	if NormalizeName(typ) == p.Name {
		typ = ""
	}
	port := ""
	if p.RedirectPort != 0 {
		port = strconv.Itoa(p.RedirectPort) // a YAML integer, unquoted
	}
	values := map[string]string{
		"type": scalarOrEmpty(typ), "client_id": scalarOrEmpty(p.ClientID),
		"issuer": scalarOrEmpty(p.Issuer), "auth_url": scalarOrEmpty(p.AuthURL), "token_url": scalarOrEmpty(p.TokenURL),
		"revoke_url": scalarOrEmpty(p.RevokeURL), "introspect_url": scalarOrEmpty(p.IntrospectURL),
		"userinfo_url": scalarOrEmpty(p.UserinfoURL), "device_auth_url": scalarOrEmpty(p.DeviceAuthURL),
		"redirect": scalarOrEmpty(p.Redirect), "redirect_port": port, "relay_url": scalarOrEmpty(p.RelayURL), "redirect_path": scalarOrEmpty(p.RedirectPath),
		"graph_version": scalarOrEmpty(p.GraphVersion), "client_auth": scalarOrEmpty(p.ClientAuth),
	}
	if len(p.Scopes) > 0 {
		values["scopes"] = flowList(p.Scopes)
	}
	var fields [][2]string
	for _, f := range providerFields {
		if v := values[f.key]; v != "" {
			fields = append(fields, [2]string{f.key, v})
		}
	}
	return c.addEntry("providers", p.Name, fields)
}

func scalarOrEmpty(s string) string {
	if s == "" {
		return ""
	}
	return scalar(s)
}
