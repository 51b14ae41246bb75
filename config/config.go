package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"
)

// DefaultExpiringWithin is the `expiring` window when the config sets none.
const DefaultExpiringWithin = 7 * Day

// Redirect modes a provider may be set to (SPEC §5).
var RedirectModes = []string{"loopback", "relay", "manual", "device"}

// Config is the parsed configuration file. Lists keep the file's order.
type Config struct {
	// Path is the file this came from; Exists is false when there is no file
	// yet (an empty config, which is not an error).
	Path   string
	Exists bool

	Defaults  Defaults
	Providers []*Provider
	Groups    []*Group
	Profiles  []*Profile

	src  []byte
	root *yaml.Node
	opts Options // the document's top-level mapping, nil for an empty file

	providerIdx map[string]*Provider
	groupIdx    map[string]*Group
	profileIdx  map[string]*Profile
}

// Defaults are the `defaults:` section.
type Defaults struct {
	ExpiringWithin time.Duration
}

// Provider is one entry of `providers:`. Type is the preset or generic kind
// it inherits from (the entry's name when `type` is omitted and the name is
// a preset).
type Provider struct {
	Name          string
	Type          string
	ClientID      string
	Issuer        string
	AuthURL       string
	TokenURL      string
	RevokeURL     string
	IntrospectURL string
	UserinfoURL   string
	DeviceAuthURL string
	Scopes        []string
	Redirect      string
	RedirectPort  int
	RelayURL      string
	GraphVersion  string
	// ClientAuth is how a confidential client authenticates at the token
	// endpoint: "basic" or "body" ("" = the preset's or discovery's choice).
	ClientAuth string
	Line       int
}

// Group is one entry of `groups:`.
type Group struct {
	Name        string
	Description string
	Line        int
}

// Profile is one entry of `profiles:`.
type Profile struct {
	Name     string
	Provider string
	Groups   []string
	Scopes   []string
	Line     int
}

// Options tune validation with knowledge that lives outside this package.
type Options struct {
	// Presets names the provider presets (facebook, x, …) and generic kinds
	// (oidc, oauth2) a provider may inherit from.
	Presets []string
}

// Error is a problem at a place in the file. Error() gives
// "config.yaml:12: what is wrong (and how to fix it)".
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors is every problem found in one file, in file order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, 0, len(es))
	for i, e := range es {
		if i == 10 {
			lines = append(lines, fmt.Sprintf("… and %d more problems", len(es)-10))
			break
		}
		lines = append(lines, e.Error())
	}
	return strings.Join(lines, "\n")
}

// Load reads the file at path. A missing file is an empty config.
func Load(path string, opts Options) (*Config, error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		c, _ := Parse(path, nil, opts)
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	c, err := Parse(path, src, opts)
	if err != nil {
		return nil, err
	}
	c.Exists = true
	return c, nil
}

var yamlLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })

// Parse reads config text; path is used in messages only.
func Parse(path string, src []byte, opts Options) (*Config, error) {
	c := &Config{
		Path:        path,
		src:         src,
		opts:        opts,
		Defaults:    Defaults{ExpiringWithin: DefaultExpiringWithin},
		providerIdx: map[string]*Provider{},
		groupIdx:    map[string]*Group{},
		profileIdx:  map[string]*Profile{},
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, syntaxError(path, err)
	}
	if len(doc.Content) == 0 {
		return c, nil
	}
	v := &validator{c: c, opts: opts}
	top := resolve(doc.Content[0])
	if top.Kind == yaml.ScalarNode && top.Tag == "!!null" {
		return c, nil
	}
	if top.Kind != yaml.MappingNode {
		v.errf(top, "the file must be a mapping with the keys defaults, providers, groups and profiles")
		return nil, v.errs
	}
	c.root = top
	v.top(top)
	if len(v.errs) > 0 {
		return nil, v.errs
	}
	return c, nil
}

func syntaxError(path string, err error) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if m := yamlLine().FindStringSubmatch(strings.TrimSpace(strings.Split(msg, "\n")[0])); m != nil {
		n, _ := strconv.Atoi(m[1])
		if contextualParserError(m[2]) {
			n++
		}
		return &Error{File: path, Line: n, Msg: "YAML syntax error: " + m[2]}
	}
	return &Error{File: path, Msg: "YAML syntax error: " + strings.TrimPrefix(msg, "yaml: ")}
}

// contextualParserError reports yaml.v3 parser errors whose line number is
// the 0-based line of the construct being parsed (yaml.v3 adds one only for
// scanner errors); the construct's start is also the line to show.
func contextualParserError(problem string) bool {
	switch problem {
	case "did not find expected ',' or ']'", "did not find expected ',' or '}'", "did not find expected '-' indicator",
		"did not find expected key", "did not find expected node content", "found undefined tag handle":
		return true
	}
	return false
}

// Provider, Group and Profile look entries up by name.
func (c *Config) Provider(name string) (*Provider, bool) { p, ok := c.providerIdx[name]; return p, ok }
func (c *Config) Group(name string) (*Group, bool)       { g, ok := c.groupIdx[name]; return g, ok }
func (c *Config) Profile(name string) (*Profile, bool)   { p, ok := c.profileIdx[name]; return p, ok }

// ProfileNames, GroupNames and ProviderNames list names in file order.
func (c *Config) ProfileNames() []string {
	return names(c.Profiles, func(p *Profile) string { return p.Name })
}
func (c *Config) GroupNames() []string {
	return names(c.Groups, func(g *Group) string { return g.Name })
}
func (c *Config) ProviderNames() []string {
	return names(c.Providers, func(p *Provider) string { return p.Name })
}

func names[T any](xs []T, f func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// Members lists the profiles in a group, in file order.
func (c *Config) Members(group string) []*Profile {
	var out []*Profile
	for _, p := range c.Profiles {
		if slices.Contains(p.Groups, group) {
			out = append(out, p)
		}
	}
	return out
}

// ValidateName checks a profile, group or provider name. Names are used as
// keychain item names and on command lines, so they must be one printable
// word; letters of any script are fine (teams name profiles in Japanese).
func ValidateName(kind, name string) error {
	if name == "" {
		return fmt.Errorf("%s name is empty", kind)
	}
	if len(name) > 100 {
		return fmt.Errorf("%s name %q is longer than 100 bytes", kind, name)
	}
	for i, r := range name {
		ok := unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.' || r == '@' || unicode.Is(unicode.Mn, r)
		if !ok || (i == 0 && (r == '-' || r == '.')) {
			return fmt.Errorf("%s name %q: use letters, digits, '-', '_', '.' or '@' (not starting with '-' or '.')", kind, name)
		}
	}
	return nil
}

// validator walks the YAML tree, filling the Config and collecting every
// problem with its line, so one run shows them all.
type validator struct {
	c    *Config
	opts Options
	errs Errors
}

func (v *validator) errf(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	v.errs = append(v.errs, &Error{File: v.c.Path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && (n.Tag == "!!null")
}

// entries yields a mapping's key/value pairs, reporting duplicate keys.
func (v *validator) entries(m *yaml.Node, what string) [][2]*yaml.Node {
	m = resolve(m)
	if isNull(m) {
		return nil
	}
	if m.Kind != yaml.MappingNode {
		v.errf(m, "%s must be a mapping of names to settings", what)
		return nil
	}
	seen := map[string]int{}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, val := m.Content[i], resolve(m.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			v.errf(k, "%s: keys must be plain names", what)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			v.errf(k, "%s: %q is defined twice (first at line %d); remove or rename one", what, k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, [2]*yaml.Node{k, val})
	}
	return out
}

func (v *validator) unknownKey(k *yaml.Node, where string, allowed []string) {
	v.errf(k, "%s: unknown key %q%s", where, k.Value, DidYouMean(k.Value, allowed))
}

var topKeys = []string{"defaults", "providers", "groups", "profiles"}

func (v *validator) top(m *yaml.Node) {
	var providers, groups, profiles *yaml.Node
	for _, kv := range v.entries(m, "the file") {
		k, val := kv[0], kv[1]
		switch k.Value {
		case "defaults":
			v.defaults(val)
		case "providers":
			providers = val
		case "groups":
			groups = val
		case "profiles":
			profiles = val
		default:
			v.unknownKey(k, "top level", topKeys)
		}
	}
	// Providers and groups first: profiles refer to them.
	if providers != nil {
		v.providers(providers)
	}
	if groups != nil {
		v.groups(groups)
	}
	if profiles != nil {
		v.profiles(profiles)
	}
}

func (v *validator) defaults(m *yaml.Node) {
	for _, kv := range v.entries(m, "defaults") {
		k, val := kv[0], kv[1]
		switch k.Value {
		case "expiring_within":
			if d, ok := v.duration(val, "defaults.expiring_within"); ok {
				v.c.Defaults.ExpiringWithin = d
			}
		default:
			v.unknownKey(k, "defaults", []string{"expiring_within"})
		}
	}
}

func (v *validator) duration(n *yaml.Node, where string) (time.Duration, bool) {
	if n.Kind != yaml.ScalarNode {
		v.errf(n, "%s: expected a duration such as 7d", where)
		return 0, false
	}
	d, err := ParseDuration(n.Value)
	if err != nil {
		v.errf(n, "%s: %v", where, err)
		return 0, false
	}
	return d, true
}

func (v *validator) str(n *yaml.Node, where string) string {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		v.errf(n, "%s: expected a single value", where)
		return ""
	}
	return n.Value
}

func (v *validator) strList(n *yaml.Node, where string) []string {
	if isNull(n) {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		// `scopes: openid email` is a common slip: accept one word, refuse
		// a space-separated string with a hint.
		if strings.ContainsAny(n.Value, " ,") {
			v.errf(n, "%s: expected a list such as [a, b], got %q", where, n.Value)
			return nil
		}
		return []string{n.Value}
	}
	if n.Kind != yaml.SequenceNode {
		v.errf(n, "%s: expected a list such as [a, b]", where)
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, it := range n.Content {
		it = resolve(it)
		if it.Kind != yaml.ScalarNode || it.Value == "" {
			v.errf(it, "%s: every item must be a single non-empty value", where)
			continue
		}
		out = append(out, it.Value)
	}
	return out
}

func (v *validator) url(n *yaml.Node, where string) string {
	s := v.str(n, where)
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		v.errf(n, "%s: %q is not an http(s) URL", where, s)
		return ""
	}
	return s
}

var providerKeys = []string{"type", "client_id", "issuer", "auth_url", "token_url", "revoke_url", "introspect_url",
	"userinfo_url", "device_auth_url", "scopes", "redirect", "redirect_port", "relay_url", "graph_version", "client_auth", "client_secret"}

func (v *validator) providers(m *yaml.Node) {
	for _, kv := range v.entries(m, "providers") {
		k, val := kv[0], kv[1]
		p := &Provider{Name: k.Value, Line: k.Line}
		where := fmt.Sprintf("provider %q", p.Name)
		if err := ValidateName("provider", p.Name); err != nil {
			v.errf(k, "%v", err)
		}
		var typeNode *yaml.Node
		for _, f := range v.entries(val, where) {
			fk, fv := f[0], f[1]
			switch fk.Value {
			case "type":
				p.Type, typeNode = v.str(fv, where+": type"), fv
			case "client_id":
				p.ClientID = v.str(fv, where+": client_id")
			case "client_secret":
				v.errf(fk, "%s: client secrets do not belong in the config file; remove this line and run `sbctl providers set-secret %s` (it reads the secret from stdin into the keychain)", where, p.Name)
			case "issuer":
				p.Issuer = v.url(fv, where+": issuer")
			case "auth_url":
				p.AuthURL = v.url(fv, where+": auth_url")
			case "token_url":
				p.TokenURL = v.url(fv, where+": token_url")
			case "revoke_url":
				p.RevokeURL = v.url(fv, where+": revoke_url")
			case "introspect_url":
				p.IntrospectURL = v.url(fv, where+": introspect_url")
			case "userinfo_url":
				p.UserinfoURL = v.url(fv, where+": userinfo_url")
			case "device_auth_url":
				p.DeviceAuthURL = v.url(fv, where+": device_auth_url")
			case "relay_url":
				p.RelayURL = v.url(fv, where+": relay_url")
			case "scopes":
				p.Scopes = v.strList(fv, where+": scopes")
			case "graph_version":
				p.GraphVersion = v.str(fv, where+": graph_version")
			case "client_auth":
				p.ClientAuth = v.str(fv, where+": client_auth")
				if p.ClientAuth != "basic" && p.ClientAuth != "body" {
					v.errf(fv, "%s: client_auth %q is not basic (HTTP Basic) or body (form parameters)", where, p.ClientAuth)
				}
			case "redirect":
				p.Redirect = v.str(fv, where+": redirect")
				if p.Redirect != "" && !slices.Contains(RedirectModes, p.Redirect) {
					v.errf(fv, "%s: redirect %q is not one of %s%s", where, p.Redirect, strings.Join(RedirectModes, ", "), DidYouMean(p.Redirect, RedirectModes))
				}
			case "redirect_port":
				s := v.str(fv, where+": redirect_port")
				n, err := strconv.Atoi(s)
				if s != "" && (err != nil || n < 1 || n > 65535) {
					v.errf(fv, "%s: redirect_port %q is not a port number (1-65535)", where, s)
				}
				p.RedirectPort = n
			default:
				v.unknownKey(fk, where, providerKeys)
			}
		}
		v.providerType(p, k, typeNode)
		v.c.Providers = append(v.c.Providers, p)
		v.c.providerIdx[p.Name] = p
	}
}

func (v *validator) providerType(p *Provider, k, typeNode *yaml.Node) {
	where := fmt.Sprintf("provider %q", p.Name)
	known := v.opts.Presets
	if len(known) == 0 { // validation without preset knowledge: trust the file
		if p.Type == "" {
			p.Type = p.Name
		}
		return
	}
	switch {
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
	switch p.Type {
	case "oidc":
		if p.Issuer == "" {
			v.errf(k, "%s: type oidc needs `issuer:` (the URL that serves /.well-known/openid-configuration)", where)
		}
	case "oauth2":
		if p.AuthURL == "" || p.TokenURL == "" {
			v.errf(k, "%s: type oauth2 needs `auth_url:` and `token_url:`", where)
		}
	}
}

func (v *validator) groups(m *yaml.Node) {
	for _, kv := range v.entries(m, "groups") {
		k, val := kv[0], kv[1]
		g := &Group{Name: k.Value, Line: k.Line}
		where := fmt.Sprintf("group %q", g.Name)
		if err := ValidateName("group", g.Name); err != nil {
			v.errf(k, "%v", err)
		}
		for _, f := range v.entries(val, where) {
			switch f[0].Value {
			case "description":
				g.Description = v.str(f[1], where+": description")
			default:
				v.unknownKey(f[0], where, []string{"description"})
			}
		}
		v.c.Groups = append(v.c.Groups, g)
		v.c.groupIdx[g.Name] = g
	}
}

var profileKeys = []string{"provider", "groups", "scopes"}

func (v *validator) profiles(m *yaml.Node) {
	for _, kv := range v.entries(m, "profiles") {
		k, val := kv[0], kv[1]
		p := &Profile{Name: k.Value, Line: k.Line}
		where := fmt.Sprintf("profile %q", p.Name)
		if err := ValidateName("profile", p.Name); err != nil {
			v.errf(k, "%v", err)
		}
		var providerNode *yaml.Node
		for _, f := range v.entries(val, where) {
			fk, fv := f[0], f[1]
			switch fk.Value {
			case "provider":
				p.Provider, providerNode = v.str(fv, where+": provider"), fv
			case "groups":
				p.Groups = v.strList(fv, where+": groups")
				for i, g := range p.Groups {
					if _, ok := v.c.groupIdx[g]; !ok {
						at := fv
						if fv.Kind == yaml.SequenceNode && i < len(fv.Content) {
							at = fv.Content[i]
						}
						v.errf(at, "%s: group %q is not defined%s; add it under `groups:` or run `sbctl groups create %s`", where, g, DidYouMean(g, v.c.GroupNames()), g)
					}
				}
			case "scopes":
				p.Scopes = v.strList(fv, where+": scopes")
			default:
				v.unknownKey(fk, where, profileKeys)
			}
		}
		switch {
		case providerNode == nil:
			v.errf(k, "%s has no provider: add `provider: <name>` naming an entry of `providers:`", where)
		case p.Provider != "":
			if _, ok := v.c.providerIdx[p.Provider]; !ok {
				v.errf(providerNode, "%s: provider %q is not defined%s", where, p.Provider, DidYouMean(p.Provider, v.c.ProviderNames()))
			}
		}
		v.c.Profiles = append(v.c.Profiles, p)
		v.c.profileIdx[p.Name] = p
	}
}
