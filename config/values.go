package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/sbctl/sbctl/auth"
)

// Every field has one YAML type. A value of another type is refused at its
// line with the field's name, instead of being read as its text: `scopes:
// true` used to become the scope "true".

// describe names what a node holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!null":
		return "no value"
	case "!!int", "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	case "!!timestamp":
		return "the date " + n.Value
	case "!!str":
		return fmt.Sprintf("the text %q", n.Value)
	}
	return "a value tagged " + n.Tag
}

// text reads a single value as its text. Numbers and dates are text as
// written — Meta app ids are numeric and usually unquoted, and a
// description may be a year; YAML keeps their spelling. Booleans, null,
// lists, mappings and other tags are refused: `client_id: true` is a slip,
// not an id.
func (v *validator) text(n *yaml.Node, where string) (string, bool) {
	switch {
	case n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode:
		v.errf(n, "%s: expected a single value, got %s", where, describe(n))
	case isNull(n):
		v.errf(n, "%s: the value is missing; give one or remove the line", where)
	case n.Tag == "!!bool":
		v.errf(n, "%s: expected text, got the boolean %s; write it in quotes (%q) if you mean the text", where, n.Value, n.Value)
	case n.Tag == "!!str" || n.Tag == "!!int" || n.Tag == "!!float" || n.Tag == "!!timestamp":
		return n.Value, true
	default:
		v.errf(n, "%s: expected text, got %s; write plain text", where, describe(n))
	}
	return "", false
}

// list reads a list of names (scopes, groups). example is a typical item,
// for the hint.
func (v *validator) list(n *yaml.Node, where, example string) []string {
	items := v.listItems(n, where, example)
	if items == nil {
		return nil
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Value
	}
	return out
}

// listItems is list's valid items as nodes (for messages about one item);
// nil when there is no list, empty for an empty one.
func (v *validator) listItems(n *yaml.Node, where, example string) []*yaml.Node {
	isText := n.Kind == yaml.ScalarNode && n.Tag == "!!str" && n.Value != ""
	switch {
	case isNull(n):
		return nil
	case isText && strings.ContainsAny(n.Value, " ,"):
		// `scopes: openid email`: the common slip of writing the
		// OAuth scope string; the hint is the list it meant.
		words := strings.FieldsFunc(n.Value, func(r rune) bool { return r == ' ' || r == ',' })
		v.errf(n, "%s: expected a list such as %s, got %q", where, flowList(words), n.Value)
		return nil
	case isText:
		// A lone word is refused too: a list field that sometimes reads a
		// scalar makes `scopes: 5` and `scopes: true` silently scopes.
		v.errf(n, "%s: expected a list such as %s, got the single value %q", where, flowList([]string{n.Value}), n.Value)
		return nil
	case n.Kind != yaml.SequenceNode:
		v.errf(n, "%s: expected a list such as [%s], got %s", where, example, describe(n))
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, it := range n.Content {
		it = resolve(it)
		switch {
		case it.Kind != yaml.ScalarNode:
			v.errf(it, "%s: every item must be a single name, not %s", where, describe(it))
		case isNull(it) || (it.Tag == "!!str" && it.Value == ""):
			v.errf(it, "%s: an item is empty; remove it", where)
		case it.Tag == "!!str":
			out = append(out, it)
		case it.Tag == "!!int" || it.Tag == "!!float" || it.Tag == "!!bool" || it.Tag == "!!timestamp":
			what := strings.Fields(describe(it))[1] // number, boolean, date
			v.errf(it, "%s: item %s is a %s, not a name; write it in quotes (%q) if you mean the text", where, it.Value, what, it.Value)
		default:
			v.errf(it, "%s: item %q is %s; write plain text", where, it.Value, describe(it))
		}
	}
	return out
}

// port reads a TCP port: a YAML integer.
func (v *validator) port(n *yaml.Node, where string) int {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		var p int
		if err := n.Decode(&p); err != nil || p < 1 || p > 65535 {
			v.errf(n, "%s: %s is not a port number (1-65535)", where, n.Value)
			return 0
		}
		return p
	}
	hint := ""
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && n.Value != "" && strings.Trim(n.Value, "0123456789") == "" {
		hint = "; write it without quotes"
	}
	v.errf(n, "%s: expected a port number such as 8765, got %s%s", where, describe(n), hint)
	return 0
}

// url reads an endpoint. ok is false when a problem was reported (so a
// present but broken URL is not also reported as missing).
func (v *validator) url(n *yaml.Node, where string) (string, bool) {
	s, ok := v.text(n, where)
	if !ok {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		v.errf(n, "%s: %q is not an http(s) URL; write the full address, such as https://id.example.com", where, s)
		return "", false
	}
	return s, true
}

// unsupportedClientAuth are registered methods sbctl does not implement:
// each gets its own answer instead of a did-you-mean.
var unsupportedClientAuth = []string{"private_key_jwt", "client_secret_jwt", "tls_client_auth", "self_signed_tls_client_auth"}

// clientAuth reads a client_auth setting and stores the method it names
// ("basic" or "body"). The names are auth's (auth.ClientAuthNames); the
// file must spell them exactly, as it always had to, though auth reads
// other spellings from servers and programs.
func (v *validator) clientAuth(n *yaml.Node, where string) string {
	s, ok := v.text(n, where)
	if !ok {
		return ""
	}
	names := auth.ClientAuthNames()
	if slices.Contains(names, s) {
		a, _ := auth.ParseClientAuth(s)
		return a.String()
	}
	switch {
	case s == "none":
		v.errf(n, "%s: a public client (no secret) needs no client_auth: remove the line", where)
	case slices.Contains(unsupportedClientAuth, s):
		v.errf(n, "%s %q is not supported by sbctl; use client_secret_basic or client_secret_post, or remove the line to use the default", where, s)
	default:
		v.errf(n, "%s %q is not one of %s%s, or remove the line to use the default", where, s, strings.Join(names, ", "), DidYouMean(s, names))
	}
	return ""
}
