package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

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

// entry is one key/value pair of a mapping; name is the key in NFC, the
// form every name is indexed and compared in.
type entry struct {
	key, val *yaml.Node
	name     string
}

// entries yields a mapping's key/value pairs, reporting duplicate keys —
// also keys that are equal only after Unicode normalisation, which look
// identical on screen.
func (v *validator) entries(m *yaml.Node, what string) []entry {
	m = resolve(m)
	if isNull(m) {
		return nil
	}
	if m.Kind != yaml.MappingNode {
		v.errf(m, "%s must be a mapping of names to settings, not %s", what, describe(m))
		return nil
	}
	type first struct {
		line int
		raw  string
	}
	seen := map[string]first{}
	var out []entry
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, val := resolve(m.Content[i]), resolve(m.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			v.errf(k, "%s: keys must be plain names, not %s", what, describe(k))
			continue
		}
		name := NormalizeName(k.Value)
		if f, dup := seen[name]; dup {
			why := ""
			if f.raw != k.Value {
				why = "; the two spellings differ only in Unicode normalisation"
			}
			v.errf(k, "%s: %q is defined twice (first at line %d%s); remove or rename one", what, name, f.line, why)
			continue
		}
		seen[name] = first{k.Line, k.Value}
		out = append(out, entry{k, val, name})
	}
	return out
}

// unknownKey reports a key that is not in allowed; also are keys that are
// suggested but not listed (client_secret, which has its own message).
func (v *validator) unknownKey(k *yaml.Node, where string, allowed []string, also ...string) {
	v.errf(k, "%s: unknown key %q%s; the keys are %s", where, k.Value, DidYouMean(k.Value, append(slices.Clone(allowed), also...)), strings.Join(allowed, ", "))
}

var topKeys = []string{"defaults", "providers", "groups", "profiles", "team", "notify"}

func (v *validator) top(m *yaml.Node) {
	var providers, groups, profiles *yaml.Node
	for _, e := range v.entries(m, "the file") {
		switch e.name {
		case "defaults":
			v.defaults(e.val)
		case "providers":
			providers = e.val
		case "groups":
			groups = e.val
		case "profiles":
			profiles = e.val
		case "team":
			v.team(e.val)
		case "notify":
			v.notify(e.val)
		default:
			v.unknownKey(e.key, "top level", topKeys)
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
	for _, e := range v.entries(m, "defaults") {
		switch e.name {
		case "expiring_within":
			if d, ok := v.duration(e.val, "defaults.expiring_within"); ok {
				v.c.Defaults.ExpiringWithin = d
			}
		default:
			v.unknownKey(e.key, "defaults", []string{"expiring_within"})
		}
	}
}

func (v *validator) duration(n *yaml.Node, where string) (time.Duration, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		v.errf(n, "%s: expected a duration such as 7d, got %s", where, describe(n))
		return 0, false
	}
	d, err := ParseDuration(n.Value)
	if err != nil {
		v.errf(n, "%s: %v", where, err)
		return 0, false
	}
	return d, true
}

func (v *validator) groups(m *yaml.Node) {
	for _, e := range v.entries(m, "groups") {
		g := &Group{Name: e.name, Line: e.key.Line}
		where := fmt.Sprintf("group %q", g.Name)
		if err := ValidateName("group", g.Name); err != nil {
			v.errf(e.key, "%v", err)
		}
		for _, f := range v.entries(e.val, where) {
			switch f.name {
			case "description":
				g.Description, _ = v.text(f.val, where+": description")
			default:
				v.unknownKey(f.key, where, []string{"description"})
			}
		}
		v.c.Groups = append(v.c.Groups, g)
		v.c.groupIdx[g.Name] = g
	}
}

var profileKeys = []string{"provider", "groups", "scopes"}

func (v *validator) profiles(m *yaml.Node) {
	for _, e := range v.entries(m, "profiles") {
		p := &Profile{Name: e.name, Line: e.key.Line}
		where := fmt.Sprintf("profile %q", p.Name)
		if err := ValidateName("profile", p.Name); err != nil {
			v.errf(e.key, "%v", err)
		}
		var providerNode *yaml.Node
		for _, f := range v.entries(e.val, where) {
			switch f.name {
			case "provider":
				name, _ := v.text(f.val, where+": provider")
				p.Provider, providerNode = NormalizeName(name), f.val
			case "groups":
				p.Groups = v.profileGroups(f.val, where)
			case "scopes":
				p.Scopes = v.list(f.val, where+": scopes", "openid")
			default:
				v.unknownKey(f.key, where, profileKeys)
			}
		}
		switch {
		case providerNode == nil:
			v.errf(e.key, "%s has no provider: add `provider: <name>` naming an entry of `providers:`", where)
		case p.Provider != "":
			if _, ok := v.c.providerIdx[p.Provider]; !ok {
				v.errf(providerNode, "%s: provider %q is not defined%s; add it under `providers:` or run `sbctl providers add %s`",
					where, p.Provider, DidYouMean(p.Provider, v.c.ProviderNames()), p.Provider)
			}
		}
		v.c.Profiles = append(v.c.Profiles, p)
		v.c.profileIdx[p.Name] = p
	}
}

// profileGroups reads a profile's `groups:` list in NFC, checking each
// names a defined group.
func (v *validator) profileGroups(n *yaml.Node, where string) []string {
	var groups []string
	for _, it := range v.listItems(n, where+": groups", "marketing") {
		g := NormalizeName(it.Value)
		groups = append(groups, g)
		if _, ok := v.c.groupIdx[g]; !ok {
			v.errf(it, "%s: group %q is not defined%s; add it under `groups:` or run `sbctl groups create %s`", where, g, DidYouMean(g, v.c.GroupNames()), g)
		}
	}
	return groups
}

// redirect reads a `redirect:` mode.
func (v *validator) redirect(n *yaml.Node, where string) string {
	s, ok := v.text(n, where)
	if ok && !slices.Contains(RedirectModes, s) {
		v.errf(n, "%s: %q is not one of %s%s", where, s, strings.Join(RedirectModes, ", "), DidYouMean(s, RedirectModes))
		return ""
	}
	return s
}
