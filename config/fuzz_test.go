package config

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// FuzzParse: any input either parses or gives an error that names the file;
// it never panics. A parsed config survives adding a profile, a group and a
// provider: each edit is either refused (config unchanged) or lands, keeps
// every line it did not mean to change, and keeps the file's line endings.
func FuzzParse(f *testing.F) {
	f.Add([]byte(commented))
	f.Add([]byte("providers:\n  x: {}\nprofiles:\n  a:\n    provider: x\n"))
	f.Add([]byte("providers: [\n"))
	f.Add([]byte("a: &x {b: *x}\n"))
	f.Add([]byte("profiles:\n  a: |\n    x\n"))
	f.Add([]byte(crlfConfig))
	f.Add([]byte("providers:\n  x: {}\nprofiles:\n  a:\n    provider: x")) // no final newline
	f.Add([]byte("\ufeffproviders:\r\n  " + cafeNFD + ": {type: x}\r\n# c\u2028d\rprofiles: {}\r\n"))
	f.Add([]byte("providers:\n  x:\n    client_id: caf\xe9\n"))
	f.Add([]byte("providers:\n  x:\n    scopes: 5\n    redirect_port: \"1\"\n---\nb: 1\n"))
	// Lone CRs are YAML line breaks: the old "\n"-only line split panicked
	// on the first and rewrote two lines of the second.
	f.Add([]byte("providers:\n \u0301: {type: x}\rprofiles:"))
	f.Add([]byte("providers:\n x:\ngroups:\r {}\nprofiles:\n  a:\n    provider: x"))
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse("f.yaml", src, presets)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(c.Providers) == 0 {
			return
		}
		edits := []struct {
			name string
			do   func() error
			ok   func() bool
		}{
			{"AddProfile", func() error { return c.AddProfile(NewProfile{Name: "fuzz-added", Provider: c.Providers[0].Name}) },
				func() bool { p, ok := c.Profile("fuzz-added"); return ok && p.Provider == c.Providers[0].Name }},
			{"AddGroup", func() error { return c.AddGroup("fuzz-group", "a: b # c") },
				func() bool { g, ok := c.Group("fuzz-group"); return ok && g.Description == "a: b # c" }},
			{"AddProvider", func() error {
				return c.AddProvider(NewProvider{Name: "fuzz-x", Type: "x", ClientID: "123", Scopes: []string{"a,b"}})
			},
				func() bool {
					p, ok := c.Provider("fuzz-x")
					return ok && p.ClientID == "123" && len(p.Scopes) == 1 && p.Scopes[0] == "a,b"
				}},
		}
		for _, e := range edits {
			before := slices.Clone(c.Bytes())
			if err := e.do(); err != nil {
				if !slices.Equal(before, c.Bytes()) {
					t.Fatalf("%s was refused (%v) but changed the config", e.name, err)
				}
				continue // refusing an edit is fine; corrupting the file is not
			}
			if !e.ok() {
				t.Fatalf("%s: entry not found after the edit:\n%q", e.name, c.Bytes())
			}
			checkEditKept(t, e.name, before, c.Bytes())
		}
	})
}

// rewritable are the lines an add may rewrite: the key of an empty section
// (`groups:`, `groups: {}  # none`) and the rest of its empty value.
var rewritable = regexp.MustCompile(`^\s*((profiles|groups|providers)\s*:)?\s*(\{\s*\}|\{|\}|~|null|Null|NULL)?\s*(#.*)?$`)

// checkEditKept fails unless after holds every line of before, in order,
// with its line break (except lines of an empty section that gains its
// first entry), and every new line break is the file's own.
func checkEditKept(t *testing.T, what string, before, after []byte) {
	t.Helper()
	b, a := splitLines(before), splitLines(after)
	if b.bom != a.bom {
		t.Fatalf("%s: byte order mark changed", what)
	}
	j := 0
	for i, l := range b.lines {
		k := j
		for k < len(a.lines) && (a.lines[k] != l || (a.breaks[k] != b.breaks[i] && b.breaks[i] != "")) {
			k++
		}
		if k < len(a.lines) {
			j = k + 1
		} else if !rewritable.MatchString(l) {
			t.Fatalf("%s: line %d (%q) changed:\nbefore %q\nafter  %q", what, i+1, l, before, after)
		}
	}
	eol := b.eol()
	for _, br := range a.breaks {
		if br != "" && br != eol && !slices.Contains(b.breaks, br) {
			t.Fatalf("%s: new line break %q in a file whose lines end with %q:\n%q", what, br, eol, after)
		}
	}
	if b.endsWithBreak() != a.endsWithBreak() {
		t.Fatalf("%s: final newline changed:\nbefore %q\nafter  %q", what, before, after)
	}
}
