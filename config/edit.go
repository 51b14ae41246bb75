package config

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/sbctl/sbctl/auth/fsx"
)

// Edits change the file's text line by line instead of re-encoding the YAML
// tree, so everything the user wrote — comments, blank lines, quoting, key
// order — stays byte for byte outside the lines that change.

// lineEdit replaces lines [from, to) (0-based) with repl; from == to inserts.
type lineEdit struct {
	from, to int
	repl     []string
}

// NewProfile is what `profiles add` writes.
type NewProfile struct {
	Name     string
	Provider string
	Groups   []string
	Scopes   []string
}

// AddProfile appends a profile entry under `profiles:`. Names are written
// in NFC (NormalizeName).
func (c *Config) AddProfile(p NewProfile) error {
	p.Name, p.Provider = NormalizeName(p.Name), NormalizeName(p.Provider)
	if err := ValidateName("profile", p.Name); err != nil {
		return err
	}
	if old, ok := c.profileIdx[p.Name]; ok {
		return fmt.Errorf("profile %q already exists (%s:%d)", p.Name, c.Path, old.Line)
	}
	fields := [][2]string{{"provider", scalar(p.Provider)}}
	if len(p.Groups) > 0 {
		groups := make([]string, len(p.Groups))
		for i, g := range p.Groups {
			groups[i] = NormalizeName(g)
		}
		fields = append(fields, [2]string{"groups", flowList(groups)})
	}
	if len(p.Scopes) > 0 {
		fields = append(fields, [2]string{"scopes", flowList(p.Scopes)})
	}
	return c.addEntry("profiles", p.Name, fields)
}

// RemoveProfile deletes a profile's entry.
func (c *Config) RemoveProfile(name string) error { return c.removeEntry(SectionProfiles, name) }

// AddGroup appends a group entry under `groups:`.
func (c *Config) AddGroup(name, description string) error {
	name = NormalizeName(name)
	if err := ValidateName("group", name); err != nil {
		return err
	}
	if old, ok := c.groupIdx[name]; ok {
		return fmt.Errorf("group %q already exists (%s:%d)", name, c.Path, old.Line)
	}
	var fields [][2]string
	if description != "" {
		fields = append(fields, [2]string{"description", scalar(description)})
	}
	return c.addEntry("groups", name, fields)
}

// RemoveGroup deletes a group and takes it out of every profile's list, in
// one write.
func (c *Config) RemoveGroup(name string) error {
	name = NormalizeName(name)
	var edits []lineEdit
	for _, p := range c.Members(name) {
		e, err := c.groupsEdit(p.Name, slices.DeleteFunc(slices.Clone(p.Groups), func(g string) bool { return g == name }))
		if err != nil {
			return err
		}
		edits = append(edits, e)
	}
	e, err := c.removeEdit("groups", name)
	if err != nil {
		return err
	}
	if err := c.apply(append(edits, e)...); err != nil {
		return err
	}
	c.removed = append(c.removed, Entry{SectionGroups, name})
	return nil
}

// SetProfileGroups rewrites a profile's `groups:` list (removing the key
// when the list is empty).
func (c *Config) SetProfileGroups(profile string, groups []string) error {
	norm := make([]string, len(groups))
	for i, g := range groups {
		norm[i] = NormalizeName(g)
	}
	e, err := c.groupsEdit(profile, norm)
	if err != nil {
		return err
	}
	return c.apply(e)
}

// Bytes is the current text of the file.
func (c *Config) Bytes() []byte { return c.src }

// Save writes the text atomically: a temp file in the same directory,
// fsync, rename over the old file, fsync the directory. A crash leaves the
// old file or the new one, never half of each. It writes through a symlink
// (dotfile managers link the config), not over it. A Config read by Load
// is written only over the file it was read from, unchanged: if the file
// was saved by another program since (or is being saved), Save writes
// nothing and returns a *ChangedError (or *BusyError); use Edit to apply
// an edit to whatever the file holds now.
func (c *Config) Save() error {
	if !c.source.known {
		// Text that was never read from the file (Parse): nothing to
		// compare with.
		if err := fsx.WriteFile(realPath(c.Path), c.src, fsx.KeepPerm(0o644)); err != nil {
			return fmt.Errorf("saving config: %w", err)
		}
		c.Exists = true
		return nil
	}
	p := &Pending{start: c, opts: EditOptions{}.withDefaults(), real: realPath(c.Path), source: c.source, result: c}
	if err := checkWritable(c.Path, c.source); err != nil {
		return err
	}
	written, err := p.writeOnce(context.Background())
	if err != nil {
		return err
	}
	if !written {
		return &ChangedError{Path: c.Path, Why: "another program saved it after sbctl read it"}
	}
	return nil
}

// section finds a top-level key and its value.
func (c *Config) section(name string) (key, val *yaml.Node) {
	if c.root == nil {
		return nil, nil
	}
	for i := 0; i+1 < len(c.root.Content); i += 2 {
		if c.root.Content[i].Value == name {
			return c.root.Content[i], resolve(c.root.Content[i+1])
		}
	}
	return nil, nil
}

func (c *Config) lines() []string { return splitLines(c.src).lines }

// sameName compares a key as written in the file with a name, both in NFC.
func sameName(key *yaml.Node, name string) bool {
	return NormalizeName(key.Value) == NormalizeName(name)
}

func (c *Config) addEntry(section, name string, fields [][2]string) error {
	if c.root != nil && c.root.Style&yaml.FlowStyle != 0 {
		return fmt.Errorf("%s:%d: the file is written in flow style ({…}); sbctl edits only block mappings — rewrite it as one key per line", c.Path, c.root.Line)
	}
	key, val := c.section(section)
	lines := c.lines()
	entry := func(indent, step string) []string {
		out := []string{indent + scalar(name) + ":"}
		if len(fields) == 0 {
			out[0] += " {}"
		}
		for _, f := range fields {
			out = append(out, indent+step+f[0]+": "+f[1])
		}
		return out
	}
	var e lineEdit
	switch {
	case key == nil:
		// A new section goes at the end: the top of the file is often a
		// header comment, and the parser does not mind the order.
		e = lineEdit{from: len(lines), to: len(lines), repl: append([]string{section + ":"}, entry("  ", "  ")...)}
	case isNull(val) || (val.Kind == yaml.MappingNode && len(val.Content) == 0):
		// `profiles:` or `profiles: {}`: the entry goes right under the key.
		kl := key.Line - 1
		e = lineEdit{from: kl, to: max(kl+1, lastLine(val, lines)), repl: append([]string{section + ":" + trailingComment(lines[kl])}, entry("  ", "  ")...)}
	case val.Kind != yaml.MappingNode || val.Style&yaml.FlowStyle != 0:
		return fmt.Errorf("%s:%d: `%s:` is written in flow style ({…}); sbctl edits only block mappings — rewrite it as one entry per line", c.Path, key.Line, section)
	default:
		firstKey := val.Content[0]
		indent := strings.Repeat(" ", firstKey.Column-1)
		step := "  "
		if fv := resolve(val.Content[1]); fv.Kind == yaml.MappingNode && len(fv.Content) > 0 && fv.Style&yaml.FlowStyle == 0 {
			if d := fv.Content[0].Column - firstKey.Column; d > 0 {
				step = strings.Repeat(" ", d)
			}
		}
		at := lastLine(val, lines) // 1-based last line of the section's content
		e = lineEdit{from: at, to: at, repl: entry(indent, step)}
	}
	nc, err := c.edited(e)
	if err != nil {
		return err
	}
	// The parser may accept text in which the new entry is not where it
	// was meant to be (an unusual layout); never report such an edit done.
	if !hasEntry(nc, section, name) {
		return fmt.Errorf("%s: could not add %s %q: the file's layout around `%s:` is unusual; add the entry by hand", c.Path, strings.TrimSuffix(section, "s"), name, section)
	}
	*c = *nc
	return nil
}

func hasEntry(c *Config, section, name string) bool {
	switch section {
	case "profiles":
		_, ok := c.Profile(name)
		return ok
	case "groups":
		_, ok := c.Group(name)
		return ok
	}
	_, ok := c.Provider(name)
	return ok
}

func (c *Config) removeEntry(section, name string) error {
	e, err := c.removeEdit(section, name)
	if err != nil {
		return err
	}
	if err := c.apply(e); err != nil {
		return err
	}
	c.removed = append(c.removed, Entry{section, NormalizeName(name)})
	return nil
}

func (c *Config) removeEdit(section, name string) (lineEdit, error) {
	_, val := c.section(section)
	if val == nil || val.Kind != yaml.MappingNode {
		return lineEdit{}, fmt.Errorf("%s has no %s entry %q", c.Path, strings.TrimSuffix(section, "s"), name)
	}
	lines := c.lines()
	for i := 0; i+1 < len(val.Content); i += 2 {
		k := val.Content[i]
		if !sameName(k, name) {
			continue
		}
		if val.Style&yaml.FlowStyle != 0 {
			return lineEdit{}, fmt.Errorf("%s:%d: `%s:` is written in flow style ({…}); remove %q by hand", c.Path, k.Line, section, name)
		}
		end := lastLine(val.Content[i+1], lines)
		if end < k.Line {
			end = k.Line
		}
		// Keep comment lines that follow the entry at a shallower indent:
		// they introduce whatever comes next.
		for end > k.Line && isCommentOrBlank(lines[end-1]) {
			end--
		}
		return lineEdit{from: k.Line - 1, to: end}, nil
	}
	return lineEdit{}, fmt.Errorf("%s has no %s entry %q", c.Path, strings.TrimSuffix(section, "s"), name)
}

func (c *Config) groupsEdit(profile string, groups []string) (lineEdit, error) {
	_, val := c.section("profiles")
	if val == nil || val.Kind != yaml.MappingNode {
		return lineEdit{}, fmt.Errorf("no profile %q in %s", profile, c.Path)
	}
	lines := c.lines()
	for i := 0; i+1 < len(val.Content); i += 2 {
		k, pv := val.Content[i], resolve(val.Content[i+1])
		if !sameName(k, profile) {
			continue
		}
		if pv.Kind != yaml.MappingNode || pv.Style&yaml.FlowStyle != 0 || len(pv.Content) == 0 {
			return lineEdit{}, fmt.Errorf("%s:%d: profile %q is written in flow style; edit its groups by hand", c.Path, k.Line, profile)
		}
		indent := strings.Repeat(" ", pv.Content[0].Column-1)
		for j := 0; j+1 < len(pv.Content); j += 2 {
			gk := pv.Content[j]
			if gk.Value != "groups" {
				continue
			}
			end := max(lastLine(pv.Content[j+1], lines), gk.Line)
			for end > gk.Line && isCommentOrBlank(lines[end-1]) {
				end--
			}
			if len(groups) == 0 {
				return lineEdit{from: gk.Line - 1, to: end}, nil
			}
			return lineEdit{from: gk.Line - 1, to: end, repl: []string{indent + "groups: " + flowList(groups)}}, nil
		}
		if len(groups) == 0 {
			return lineEdit{from: 0, to: 0}, nil
		}
		// No groups key yet: add one right after the provider line (or
		// the entry's first line).
		at := pv.Content[0].Line
		for j := 0; j+1 < len(pv.Content); j += 2 {
			if pv.Content[j].Value == "provider" {
				at = max(lastLine(pv.Content[j+1], lines), pv.Content[j].Line)
			}
		}
		return lineEdit{from: at, to: at, repl: []string{indent + "groups: " + flowList(groups)}}, nil
	}
	return lineEdit{}, fmt.Errorf("no profile %q in %s", profile, c.Path)
}

// apply performs the edits and keeps the result (see edited).
func (c *Config) apply(edits ...lineEdit) error {
	nc, err := c.edited(edits...)
	if err != nil {
		return err
	}
	*c = *nc
	return nil
}

// edited performs the edits (bottom-up, so line numbers stay valid) on a
// copy and re-parses it: an edit that would leave an invalid file is
// refused and the config is unchanged. New lines take the file's line
// ending; the file keeps its final-newline state.
func (c *Config) edited(edits ...lineEdit) (*Config, error) {
	t := splitLines(c.src)
	final, eol := t.endsWithBreak(), t.eol()
	// origin[i] is the 1-based line of the current file that line i of the
	// result was, 0 for a new or rewritten line.
	origin := make([]int, len(t.lines))
	for i := range origin {
		origin[i] = i + 1
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].from > edits[j].from })
	for _, e := range edits {
		if e.from == e.to && len(e.repl) == 0 {
			continue
		}
		t.lines = slices.Replace(t.lines, e.from, e.to, e.repl...)
		t.breaks = slices.Replace(t.breaks, e.from, e.to, slices.Repeat([]string{eol}, len(e.repl))...)
		origin = slices.Replace(origin, e.from, e.to, make([]int, len(e.repl))...)
	}
	for i := range t.breaks {
		switch {
		case i == len(t.breaks)-1 && !final:
			t.breaks[i] = ""
		case t.breaks[i] == "":
			t.breaks[i] = eol // the old last line, now followed by more
		}
	}
	nc, err := Parse(c.Path, t.bytes(), c.opts)
	if err != nil {
		return nil, refusedEdit(c.Path, err, origin)
	}
	nc.Exists, nc.source, nc.removed = c.Exists, c.source, slices.Clone(c.removed)
	return nc, nil
}

// refusedEdit explains why an edit was refused in terms of the file the
// user has: a problem on an untouched line gets that line's number in the
// current file; a problem in the new lines gets none (they were never
// written).
func refusedEdit(path string, err error, origin []int) error {
	var es Errors
	var one *Error
	switch {
	case errors.As(err, &es):
	case errors.As(err, &one):
		es = Errors{one}
	default:
		return fmt.Errorf("%s was not changed: %w", path, err)
	}
	mapped := make(Errors, len(es))
	for i, e := range es {
		m := *e
		switch {
		case m.Line > 0 && m.Line <= len(origin) && origin[m.Line-1] > 0:
			m.Line = origin[m.Line-1]
		case m.Line > 0:
			m.File, m.Line = "", 0
		}
		mapped[i] = &m
	}
	return fmt.Errorf("%s was not changed: %w", path, mapped)
}

// lastLine is the 1-based last line that belongs to node n: the deepest,
// latest descendant, extended over block scalars (| and >) that span lines.
// An alias (*x) is one token on its own line: the anchor's content is
// elsewhere, so it is not followed.
func lastLine(n *yaml.Node, lines []string) int {
	last := n.Line
	if n.Kind == yaml.AliasNode {
		return last
	}
	if n.Kind == yaml.ScalarNode && n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		// A block scalar runs until the first non-blank line indented at
		// or left of the key's column.
		for i := n.Line; i < len(lines); i++ {
			t := lines[i]
			if strings.TrimSpace(t) != "" && len(t)-len(strings.TrimLeft(t, " ")) < n.Column {
				break
			}
			last = i + 1
		}
		return last
	}
	for _, ch := range n.Content {
		last = max(last, lastLine(ch, lines))
	}
	if n.Style&yaml.FlowStyle != 0 && (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) {
		// A flow collection may close on a later line than its last item.
		open := map[yaml.Kind]string{yaml.MappingNode: "}", yaml.SequenceNode: "]"}[n.Kind]
		for i := last - 1; i < len(lines); i++ {
			if strings.Contains(lines[i], open) {
				return i + 1
			}
		}
	}
	return last
}

func isCommentOrBlank(s string) bool {
	t := strings.TrimSpace(s)
	return t == "" || strings.HasPrefix(t, "#")
}

var trailingCommentRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\s+#.*$`) })

func trailingComment(line string) string {
	return trailingCommentRe().FindString(line)
}

var plainScalar = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\p{L}\p{N}_][\p{L}\p{N}\p{Mn}_.@/:+-]*$`) })

// scalar writes a value as a YAML scalar: plain when that reads back as the
// same string, double-quoted otherwise.
func scalar(s string) string {
	if plainScalar().MatchString(s) && !strings.HasSuffix(s, ":") {
		var n yaml.Node
		if yaml.Unmarshal([]byte(s), &n) == nil && len(n.Content) == 1 && n.Content[0].Tag == "!!str" && n.Content[0].Value == s {
			return s
		}
	}
	return quote(s)
}

// quote writes s as a YAML double-quoted scalar. Characters the YAML
// reader refuses (controls) and those it counts as line breaks (NEL, LS,
// PS) are escaped, so a value never breaks the file or its line numbers.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == utf8.RuneError:
			b.WriteString(`\uFFFD`) // invalid UTF-8 in s: write the replacement character, never the raw byte
		case r == 0x85 || r == 0x2028 || r == 0x2029 || !yamlPrintable(r) || r == '\r':
			if r > 0xFFFF {
				fmt.Fprintf(&b, `\U%08X`, r)
			} else {
				fmt.Fprintf(&b, `\u%04X`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func flowList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = scalar(s)
		if strings.ContainsAny(q[i], ",[]{}") && !strings.HasPrefix(q[i], `"`) {
			q[i] = quote(s)
		}
	}
	return "[" + strings.Join(q, ", ") + "]"
}
