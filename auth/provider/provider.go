package provider

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sbctl/sbctl/auth"
)

// Settings is what the user's config says about one provider, already
// resolved by the caller (the client secret comes from the keychain or the
// environment, never from the config file).
type Settings struct {
	Name string // the config's provider name ("acme"); defaults to Type
	Type string // a preset name, "oidc" or "oauth2"; defaults to Name

	ClientID     string
	ClientSecret string // "" for public clients

	// Issuer is where an oidc provider's endpoints are discovered:
	// {issuer}/.well-known/openid-configuration, fetched once per Provider
	// when first needed.
	Issuer string

	// Endpoint overrides; "" keeps the preset's (or the discovered) one.
	AuthURL, TokenURL, RevokeURL, IntrospectURL, UserinfoURL, DeviceAuthURL string
	// ExchangeURL and RefreshURL override Meta's long-lived token swap and
	// refresh endpoints (see Preset).
	ExchangeURL, RefreshURL string

	Scopes []string // "" = the preset's DefaultScopes
	// Redirect is the config's redirect mode, by name (auth.ParseRedirectMode):
	// "" = the preset's default.
	Redirect     string
	RedirectPort int    // 0 = the preset's FixedPort (OS-chosen when that is 0 too)
	RelayURL     string // relay mode: the HTTPS page the user hosts
	// RedirectPath is the config's redirect_path: the loopback callback
	// path registered with the network. "" = /callback/<Name> (TikTok:
	// /callback/<Name>/), one path per provider, which is the mix-up
	// defence of RFC 9700 §4.4.2 for servers that send no iss.
	RedirectPath string

	// GraphVersion is the Meta Graph API version for facebook and instagram
	// ("v23.0"); Meta retires versions about two years after release.
	GraphVersion string
	// ClientAuth is the config's client_auth: how a confidential client
	// authenticates, by any name auth.ParseClientAuth reads ("basic" or
	// "client_secret_basic", and "body", "post" or "client_secret_post").
	// "" = the preset's; for the generic oidc and oauth2 kinds that is
	// HTTP Basic (the form when discovery lists only client_secret_post),
	// falling back to the other once when the server refuses the client,
	// and keeping what worked. An explicit value is used alone.
	ClientAuth string
}

// Provider is a preset merged with Settings: everything needed to talk to
// one authorization server. It is safe for concurrent use once built.
type Provider struct {
	name   string
	preset Preset // with the overrides applied
	set    Settings
	scopes []string
	hc     *http.Client
	now    func() time.Time
	// meter compares the servers' Date headers with now (ClockSkew).
	meter *clockMeter

	mu       sync.Mutex
	resolved *resolved // endpoints and auth style; for oidc, after discovery

	// autoStyle: no client_auth was configured for a generic kind, so the
	// style is a guess that a refusal may correct; learned is what a server
	// accepted.
	autoStyle bool
	learned   atomic.Pointer[auth.ClientAuth]
}

// resolved is what a request needs to know about the server.
type resolved struct {
	ep    Endpoints
	style auth.ClientAuth // the first style to try
	// introspectNeedsAuth: discovery lists introspection auth methods and
	// "none" is not among them, so a public client cannot introspect.
	introspectNeedsAuth bool
}

// DefaultTimeout bounds each request when New is given no http.Client.
const DefaultTimeout = 30 * time.Second

var graphVersionRE = regexp.MustCompile(`^v[0-9]{1,3}\.[0-9]{1,2}$`)

// New merges the preset named by s.Type (or s.Name) with s and checks the
// result. Its errors name every field that is missing or wrong. A missing
// client secret is not an error here, because several operations (Instagram
// refresh, Facebook revocation, reading the account) do not need one; the
// operations that do return a KindConfig Error.
//
// hc carries the caller's timeouts and transport; nil means a client with
// DefaultTimeout. Requests never follow a redirect with a body, and carry
// sbctl's User-Agent (see HTTPClient). hc itself is not changed.
func New(s Settings, hc *http.Client) (*Provider, error) {
	name, pr, err := lookupType(s)
	if err != nil {
		return nil, err
	}
	problems := applyOverrides(&pr, s, name)
	problems = append(problems, validate(pr, s)...)
	if len(problems) > 0 {
		return nil, fmt.Errorf("provider %q: %s", name, strings.Join(problems, "; "))
	}

	scopes := cleanScopes(s.Scopes)
	if len(scopes) == 0 {
		scopes = slices.Clone(pr.DefaultScopes)
	}
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	p := &Provider{name: name, preset: pr, set: s, scopes: scopes, now: time.Now,
		autoStyle: strings.TrimSpace(s.ClientAuth) == "" && pr.generic()}
	// The meter reads p.now when an answer arrives, so SetClock applies.
	p.meter = &clockMeter{now: func() time.Time { return p.now() }}
	p.hc = providerClient(hc, p.meter)
	if pr.Name != TypeOIDC {
		p.resolved = &resolved{ep: staticEndpoints(pr), style: pr.ClientAuth}
	}
	return p, nil
}

// lookupType finds the preset s names: its Type, else its Name. name is
// the provider's name for messages (the Type when the Name is empty).
func lookupType(s Settings) (name string, pr Preset, err error) {
	typ := strings.ToLower(strings.TrimSpace(s.Type))
	if typ == "" {
		typ = strings.ToLower(strings.TrimSpace(s.Name))
	}
	name = strings.TrimSpace(s.Name)
	if name == "" {
		name = typ
	}
	if typ == "" {
		return "", Preset{}, errors.New("provider: no type: set type to a preset (" + strings.Join(presetNames(), ", ") + ")")
	}
	pr, ok := Lookup(typ)
	if !ok {
		return "", Preset{}, fmt.Errorf("provider %q: unknown type %q (known: %s)", name, typ, strings.Join(presetNames(), ", "))
	}
	return name, pr, nil
}

// applyOverrides puts the settings on the preset, one at a time, and
// returns the problems with those that cannot be applied (which leave the
// preset's value in place). The names of redirect modes and client
// authentication are auth's (ParseRedirectMode, ParseClientAuth): a
// program's Settings are read with the same words as the config file.
func applyOverrides(pr *Preset, s Settings, name string) []string {
	var problems []string
	add := func(problem string) {
		if problem != "" {
			problems = append(problems, problem)
		}
	}
	add(applyGraphVersion(pr, s.GraphVersion))
	overrideEndpoints(pr, s)
	if strings.TrimSpace(s.ClientID) == "" {
		add("client_id is missing")
	}
	add(applyClientAuth(pr, s.ClientAuth))
	add(applyRedirect(pr, s.Redirect))
	add(applyRedirectPath(pr, s.RedirectPath, name))
	if s.RedirectPort < 0 || s.RedirectPort > 65535 {
		add(fmt.Sprintf("redirect_port %d is not a TCP port", s.RedirectPort))
	} else if s.RedirectPort != 0 {
		pr.FixedPort = s.RedirectPort
	}
	if issuer := strings.TrimSpace(s.Issuer); issuer != "" {
		pr.Issuer = issuer
	}
	return problems
}

// validate checks what the merged preset needs: the endpoints its kind
// cannot do without, and URLs that would leak nothing.
func validate(pr Preset, s Settings) []string {
	var problems []string
	switch pr.Name {
	case TypeOIDC:
		if strings.TrimSpace(s.Issuer) == "" {
			problems = append(problems, "issuer is missing (an oidc provider discovers its endpoints from it)")
		}
	case TypeOAuth2:
		if pr.TokenURL == "" {
			problems = append(problems, "token_url is missing")
		}
		if pr.AuthURL == "" && pr.Redirect != auth.RedirectDevice {
			problems = append(problems, "auth_url is missing")
		}
	}
	if pr.Redirect == auth.RedirectDevice && pr.DeviceAuthURL == "" && pr.Name != TypeOIDC {
		problems = append(problems, "device_auth_url is missing (needed by redirect: device)")
	}
	for _, f := range []struct{ field, v string }{
		{"issuer", pr.Issuer}, {"auth_url", pr.AuthURL}, {"token_url", pr.TokenURL},
		{"revoke_url", pr.RevokeURL}, {"introspect_url", pr.IntrospectURL},
		{"userinfo_url", pr.UserinfoURL}, {"device_auth_url", pr.DeviceAuthURL},
		{"exchange_url", pr.ExchangeURL}, {"refresh_url", pr.RefreshURL},
		{"relay_url", s.RelayURL},
	} {
		if f.v == "" {
			continue
		}
		if err := checkEndpointURL(f.v); err != nil {
			problems = append(problems, f.field+" "+err.Error())
		}
	}
	return problems
}

// applyGraphVersion moves a Graph API preset's URLs to graph_version v.
// A version of another form is a problem; on a network whose URLs carry
// no Graph version it changes nothing.
func applyGraphVersion(pr *Preset, v string) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "" || v == DefaultGraphVersion:
		return ""
	case !graphVersionRE.MatchString(v):
		return fmt.Sprintf("graph_version %q is not of the form v23.0", v)
	case pr.GraphVersioned:
		*pr = withGraphVersion(*pr, v)
	}
	return ""
}

// overrideEndpoints replaces every preset URL the settings give.
func overrideEndpoints(pr *Preset, s Settings) {
	for _, o := range []struct {
		dst *string
		v   string
	}{
		{&pr.AuthURL, s.AuthURL}, {&pr.TokenURL, s.TokenURL}, {&pr.RevokeURL, s.RevokeURL},
		{&pr.IntrospectURL, s.IntrospectURL}, {&pr.UserinfoURL, s.UserinfoURL},
		{&pr.DeviceAuthURL, s.DeviceAuthURL}, {&pr.ExchangeURL, s.ExchangeURL},
		{&pr.RefreshURL, s.RefreshURL},
	} {
		if v := strings.TrimSpace(o.v); v != "" {
			*o.dst = v
		}
	}
}

// applyClientAuth sets an explicit client_auth.
func applyClientAuth(pr *Preset, name string) string {
	if strings.TrimSpace(name) == "" {
		return ""
	}
	a, ok := auth.ParseClientAuth(name)
	if !ok {
		return fmt.Sprintf("client_auth %q is not client_secret_basic (basic) or client_secret_post (post, body)", name)
	}
	pr.ClientAuth = a
	return ""
}

// applyRedirect sets the redirect mode, which must be one the network
// allows.
func applyRedirect(pr *Preset, name string) string {
	if name == "" {
		return ""
	}
	m, ok := auth.ParseRedirectMode(name)
	switch {
	case !ok:
		return fmt.Sprintf("redirect %q is not one of %s", name, strings.Join(auth.RedirectModeNames(), ", "))
	case !pr.AllowsMode(m):
		return fmt.Sprintf("redirect %q is not allowed by %s (allowed: %s)", m, pr.Title, joinModes(pr.Modes))
	}
	pr.Redirect = m
	return ""
}

// applyRedirectPath sets the callback path: redirect_path, else the
// preset's base with the provider's name.
func applyRedirectPath(pr *Preset, path, name string) string {
	path = strings.TrimSpace(path)
	if path == "" {
		pr.CallbackPath = defaultRedirectPath(pr.CallbackPath, name)
		return ""
	}
	if err := checkRedirectPath(path); err != nil {
		return "redirect_path " + err.Error()
	}
	pr.CallbackPath = path
	return ""
}

// SetClock replaces time.Now for expiry decisions and for the comparison
// with the servers' Date headers (tests, fixed-time checks). Call it before
// the Provider is shared.
func (p *Provider) SetClock(now func() time.Time) {
	if now != nil {
		p.now = now
	}
}

// Name is the config's name for the provider ("acme", or the preset name).
func (p *Provider) Name() string { return p.name }

// Preset is the effective preset: the built-in one with the config's
// endpoint, redirect and port overrides applied.
func (p *Provider) Preset() Preset { return p.preset.clone() }

// ClientID is the configured client id.
func (p *Provider) ClientID() string { return p.set.ClientID }

// Confidential reports whether a client secret is configured.
func (p *Provider) Confidential() bool { return p.set.ClientSecret != "" }

// Scopes are the scopes to request: the config's, else the preset's defaults.
func (p *Provider) Scopes() []string { return slices.Clone(p.scopes) }

// Redirect is the redirect mode to use.
func (p *Provider) Redirect() auth.RedirectMode { return p.preset.Redirect }

// RedirectPort is the fixed loopback port (0 = let the OS choose).
func (p *Provider) RedirectPort() int { return p.preset.FixedPort }

// RelayURL is the HTTPS relay page for relay mode ("" when not configured).
func (p *Provider) RelayURL() string { return p.set.RelayURL }

// RedirectPath is the loopback callback path the flow listens on (and,
// in loopback and manual mode, puts in the redirect URI): the config's
// redirect_path, else /callback/<provider name> (path-escaped), so every
// provider has its own redirect URI (SECURITY 28); TikTok's keeps the
// trailing slash its Desktop redirect URIs have (/callback/<provider
// name>/). In relay mode it is where the relay page forwards to.
func (p *Provider) RedirectPath() string { return p.preset.CallbackPath }

// defaultRedirectPath is base (a preset's CallbackPath: "/callback", or
// "/callback/" for a network whose redirect URIs end in a slash) with the
// provider's name added as one path segment.
func defaultRedirectPath(base, name string) string {
	if base == "" {
		base = "/callback"
	}
	slash := strings.HasSuffix(base, "/")
	path := strings.TrimSuffix(base, "/") + "/" + url.PathEscape(name)
	if slash {
		path += "/"
	}
	return path
}

// checkRedirectPath accepts a redirect_path: an absolute URL path of
// printable ASCII, without a query, a fragment, a backslash, an empty
// segment ("//host" would read as a host) or a dot segment. The path is
// not repeated in the message: it may hold what a terminal should not see.
func checkRedirectPath(path string) error {
	for i := 0; i < len(path); i++ {
		if c := path[i]; c <= ' ' || c > '~' {
			return errors.New("must be printable ASCII without spaces")
		}
	}
	switch {
	case !strings.HasPrefix(path, "/"):
		return errors.New("must start with / (such as /callback/acme)")
	case strings.ContainsAny(path, "?#"):
		return errors.New("must not contain a ?query or #fragment")
	case strings.Contains(path, `\`), strings.Contains(path, "//"):
		return errors.New("must not contain a backslash or an empty segment (//)")
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "." || seg == ".." {
			return errors.New("must not contain . or .. segments")
		}
	}
	return nil
}

// withGraphVersion moves every Graph API URL of a Meta preset to version v.
func withGraphVersion(pr Preset, v string) Preset {
	from, to := "/"+DefaultGraphVersion+"/", "/"+v+"/"
	for _, u := range []*string{&pr.AuthURL, &pr.TokenURL, &pr.RevokeURL, &pr.IntrospectURL, &pr.UserinfoURL, &pr.ExchangeURL, &pr.RefreshURL} {
		*u = strings.Replace(*u, from, to, 1)
	}
	return pr
}

// checkEndpointURL refuses what would leak tokens or secrets: plain http to a
// non-loopback host, and credentials or fragments in the URL. The URL itself
// is not repeated in the message.
func checkEndpointURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("is not an absolute http(s) URL")
	}
	if u.User != nil {
		return errors.New("must not contain a user name or password")
	}
	if u.Fragment != "" {
		return errors.New("must not contain a #fragment")
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return errors.New("must use https (plain http is accepted only for 127.0.0.1, [::1] and localhost)")
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func cleanScopes(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func presetNames() []string {
	var out []string
	for _, p := range Presets() {
		out = append(out, p.Name)
	}
	return out
}

func joinModes(ms []auth.RedirectMode) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = m.String()
	}
	return strings.Join(s, ", ")
}
