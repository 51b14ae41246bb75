package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sbctl/sbctl/auth"
)

// DefaultExpiringWithin is the `expiring` window when the config sets none.
const DefaultExpiringWithin = 7 * Day

// RedirectModes are the redirect modes a provider may be set to (SPEC §5),
// as the file spells them: auth's vocabulary (auth.RedirectModeNames), so
// the config accepts exactly what the presets and the flow know.
var RedirectModes = auth.RedirectModeNames()

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
	// Team is the `team:` section (team.go); nil in single-machine mode.
	Team *TeamConfig
	// Notify is the `notify:` list of sinks (notify.go).
	Notify []NotifySink

	src  []byte
	root *yaml.Node // the document's top-level mapping, nil for an empty file
	opts Options

	// source is the file src was read from (or written to); removed are
	// the entries this Config's own Remove calls took out since then.
	source  Source
	removed []Entry

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
	RedirectPath  string
	GraphVersion  string
	// ClientAuth is how a confidential client authenticates at the token
	// endpoint: "basic" (HTTP Basic; the file may say client_secret_basic)
	// or "body" (form parameters; client_secret_post, post) — "" = the
	// default.
	ClientAuth string
	Line       int
}

// Group is one entry of `groups:`.
type Group struct {
	Name        string
	Description string
	Line        int
}

// Profile is one entry of `profiles:`. Names here and in Provider and
// Group are in NFC (NormalizeName), whatever form the file has them in.
type Profile struct {
	Name     string
	Provider string
	Groups   []string
	Scopes   []string
	Line     int
}

// Options tune loading and validation with knowledge that lives outside
// this package.
type Options struct {
	// Presets names the provider presets (facebook, x, …) and generic kinds
	// (oidc, oauth2) a provider may inherit from.
	Presets []string
	// MustExist says the path was named explicitly (--config or
	// $SBCTL_CONFIG): then a missing file is a *NotFoundError, not an empty
	// config. Only the default path may be absent (the first run); a typo
	// in a cron line must not read as "no profiles, all healthy".
	MustExist bool
	// NamedBy says what named the path ("--config", "$SBCTL_CONFIG") for
	// the *NotFoundError message; "" names both.
	NamedBy string
}

// NotFoundError is an explicitly named config file that does not exist. It
// matches fs.ErrNotExist.
type NotFoundError struct {
	Path    string
	NamedBy string // as in Options
}

func (e *NotFoundError) Error() string {
	by := e.NamedBy
	if by == "" {
		by = "--config/SBCTL_CONFIG"
	}
	return fmt.Sprintf("%s: no such file; create it, or fix the path given by %s", e.Path, by)
}

func (e *NotFoundError) Unwrap() error { return fs.ErrNotExist }

// Error is a problem at a place in the file. Error() gives
// "config.yaml:12: what is wrong (and how to fix it)"; without a File (a
// problem in the new lines of a refused edit) only the message.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.File == "" { // a problem in text that is not in any file (a refused edit's new lines)
		return e.Msg
	}
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

// Load reads the file at path. A missing file is an empty config, unless
// opts.MustExist says the path was named explicitly. An editor's save that
// is under way (the file open for writing, where that can be told) is
// waited for, briefly. The Config remembers what it was read from (Source):
// Save writes only over that same file.
func Load(path string, opts Options) (*Config, error) {
	src, source, err := readSource(path)
	if errors.Is(err, fs.ErrNotExist) {
		if opts.MustExist {
			return nil, &NotFoundError{Path: path, NamedBy: opts.NamedBy}
		}
		c, _ := Parse(path, nil, opts)
		c.source = Source{known: true}
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
	c.source = source
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
	if e := encodingError(path, src); e != nil {
		return nil, e
	}
	top, err := document(path, src)
	if err != nil {
		return nil, err
	}
	if top == nil || isNull(top) {
		return c, nil
	}
	v := &validator{c: c, opts: opts}
	if top.Kind != yaml.MappingNode {
		v.errf(top, "the file must be a mapping with the keys defaults, providers, groups and profiles")
		return nil, v.errs
	}
	c.root = top
	v.top(top)
	if len(v.errs) > 0 {
		// The checks run section by section (providers before the
		// profiles that name them); people read the file top down.
		sort.SliceStable(v.errs, func(i, j int) bool { return v.errs[i].Line < v.errs[j].Line })
		return nil, v.errs
	}
	return c, nil
}

// document returns the file's one YAML document's top node (nil for an
// empty file). A second document is an error: yaml.v3 would silently ignore
// it, and an entry appended after a `---` would be lost.
func document(path string, src []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc, next yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, syntaxError(path, err)
	}
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(path, err)
	case len(next.Content) > 0 && !(isNull(next.Content[0]) && next.Content[0].Value == ""):
		return nil, &Error{File: path, Line: next.Line, Msg: "a second YAML document starts here (after `---` or `...`); sbctl reads one document: merge the two or remove this one"}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return resolve(doc.Content[0]), nil
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

// Provider, Group and Profile look entries up by name, in either Unicode
// normalisation form (see NormalizeName).
func (c *Config) Provider(name string) (*Provider, bool) {
	p, ok := c.providerIdx[NormalizeName(name)]
	return p, ok
}
func (c *Config) Group(name string) (*Group, bool) {
	g, ok := c.groupIdx[NormalizeName(name)]
	return g, ok
}
func (c *Config) Profile(name string) (*Profile, bool) {
	p, ok := c.profileIdx[NormalizeName(name)]
	return p, ok
}

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
	group = NormalizeName(group)
	var out []*Profile
	for _, p := range c.Profiles {
		if slices.Contains(p.Groups, group) {
			out = append(out, p)
		}
	}
	return out
}
