package config

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// providerField reads one key of a provider entry. where is
// `provider "name": key`.
type providerField struct {
	key  string
	read func(v *validator, n *yaml.Node, where string, p *Provider)
}

func textField(field func(*Provider) *string) func(*validator, *yaml.Node, string, *Provider) {
	return func(v *validator, n *yaml.Node, where string, p *Provider) { *field(p), _ = v.text(n, where) }
}

func urlField(field func(*Provider) *string) func(*validator, *yaml.Node, string, *Provider) {
	return func(v *validator, n *yaml.Node, where string, p *Provider) { *field(p), _ = v.url(n, where) }
}

// providerFields is every key of a provider entry, in the order
// AddProvider writes them (and `unknown key` lists them).
var providerFields = []providerField{
	{"type", textField(func(p *Provider) *string { return &p.Type })},
	{"issuer", urlField(func(p *Provider) *string { return &p.Issuer })},
	{"auth_url", urlField(func(p *Provider) *string { return &p.AuthURL })},
	{"token_url", urlField(func(p *Provider) *string { return &p.TokenURL })},
	{"revoke_url", urlField(func(p *Provider) *string { return &p.RevokeURL })},
	{"introspect_url", urlField(func(p *Provider) *string { return &p.IntrospectURL })},
	{"userinfo_url", urlField(func(p *Provider) *string { return &p.UserinfoURL })},
	{"device_auth_url", urlField(func(p *Provider) *string { return &p.DeviceAuthURL })},
	{"client_id", textField(func(p *Provider) *string { return &p.ClientID })},
	{"scopes", func(v *validator, n *yaml.Node, where string, p *Provider) { p.Scopes = v.list(n, where, "openid") }},
	{"redirect", func(v *validator, n *yaml.Node, where string, p *Provider) { p.Redirect = v.redirect(n, where) }},
	{"redirect_port", func(v *validator, n *yaml.Node, where string, p *Provider) { p.RedirectPort = v.port(n, where) }},
	{"relay_url", urlField(func(p *Provider) *string { return &p.RelayURL })},
	// redirect_path: the loopback callback path registered with the
	// network (default /callback/<provider name>: one redirect URI per
	// provider is the mix-up defence of RFC 9700 §4.4).
	{"redirect_path", func(v *validator, n *yaml.Node, where string, p *Provider) { p.RedirectPath = v.callbackPath(n, where) }},
	{"graph_version", textField(func(p *Provider) *string { return &p.GraphVersion })},
	// client_auth: client_secret_basic (basic) | client_secret_post
	// (post, body); stored as "basic" or "body".
	{"client_auth", func(v *validator, n *yaml.Node, where string, p *Provider) { p.ClientAuth = v.clientAuth(n, where) }},
	// Known so that it gets its own message rather than "unknown key".
	{"client_secret", func(v *validator, n *yaml.Node, _ string, p *Provider) {
		v.errf(n, "provider %q: client secrets do not belong in the config file; remove this line and run `sbctl providers set-secret %s` (it reads the secret from stdin into the keychain)", p.Name, p.Name)
	}},
}

// providerKeys are the keys a provider entry may have (client_secret is
// known but never allowed).
var providerKeys = func() []string {
	var keys []string
	for _, f := range providerFields {
		if f.key != "client_secret" {
			keys = append(keys, f.key)
		}
	}
	return keys
}()

func (v *validator) providers(m *yaml.Node) {
	for _, e := range v.entries(m, "providers") {
		p := &Provider{Name: e.name, Line: e.key.Line}
		where := fmt.Sprintf("provider %q", p.Name)
		if err := ValidateName("provider", p.Name); err != nil {
			v.errf(e.key, "%v", err)
		}
		present := map[string]*yaml.Node{}
		for _, f := range v.entries(e.val, where) {
			i := slices.IndexFunc(providerFields, func(pf providerField) bool { return pf.key == f.name })
			if i < 0 {
				v.unknownKey(f.key, where, providerKeys, "client_secret")
				continue
			}
			present[f.name] = f.val
			providerFields[i].read(v, f.val, where+": "+f.name, p)
		}
		v.providerType(p, e.key, present)
		v.c.Providers = append(v.c.Providers, p)
		v.c.providerIdx[p.Name] = p
	}
}

// providerType resolves the preset or kind a provider inherits from and
// checks the endpoints that kind needs. present holds the keys the entry
// has: a key that is there but wrong was reported where it is, and is not
// reported again as missing.
func (v *validator) providerType(p *Provider, k *yaml.Node, present map[string]*yaml.Node) {
	where := fmt.Sprintf("provider %q", p.Name)
	known := v.opts.Presets
	typeNode, hasType := present["type"]
	switch {
	case hasType && p.Type == "":
		return // reported by the type field
	case len(known) == 0: // validation without preset knowledge: trust the file
		if p.Type == "" {
			p.Type = p.Name
		}
		return
	case p.Type == "" && slices.Contains(known, p.Name):
		p.Type = p.Name
	case p.Type == "":
		v.errf(k, "%s has no type: add `type: oidc` (issuer + discovery), `type: oauth2` (explicit endpoints) or a preset (%s)%s",
			where, strings.Join(known, ", "), DidYouMean(p.Name, known))
		return
	case !slices.Contains(known, p.Type):
		v.errf(typeNode, "%s: unknown type %q%s; use oidc, oauth2 or a preset (%s)", where, p.Type, DidYouMean(p.Type, known), strings.Join(known, ", "))
		return
	}
	var missing []string
	switch p.Type {
	case "oidc":
		if present["issuer"] == nil {
			v.errf(k, "%s: type oidc needs `issuer:` (the URL that serves /.well-known/openid-configuration)", where)
		}
	case "oauth2":
		for _, key := range []string{"auth_url", "token_url"} {
			if present[key] == nil {
				missing = append(missing, "`"+key+":`")
			}
		}
		if len(missing) > 0 {
			v.errf(k, "%s: type oauth2 needs %s (the server's authorization and token endpoints)", where, strings.Join(missing, " and "))
		}
	}
}

// callbackPath reads a redirect_path: an absolute URL path of printable
// ASCII, without a query, a fragment or a dot segment.
func (v *validator) callbackPath(n *yaml.Node, where string) string {
	s, ok := v.text(n, where)
	if !ok {
		return ""
	}
	bad := !strings.HasPrefix(s, "/") || strings.ContainsAny(s, "?#\\") || strings.Contains(s, "//")
	for _, seg := range strings.Split(s, "/") {
		bad = bad || seg == "." || seg == ".."
	}
	for i := 0; i < len(s) && !bad; i++ {
		bad = s[i] <= ' ' || s[i] > '~'
	}
	if bad {
		v.errf(n, "%s %q is not a URL path such as /callback/acme (it starts with /, without a query, #fragment, spaces or ..)", where, s)
		return ""
	}
	return s
}
