package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const commented = `# Team config — keep tidy!
defaults:
  expiring_within: 7d   # a week's warning

providers:
  x:
    client_id: "abc123"   # registered app
  acme:
    type: oidc
    issuer: https://id.acme.example
    client_id: sbctl

# Groups by brand
groups:
    marketing:
        description: Brand accounts

profiles:
  # the main X account
  acme-x:
    provider: x
    groups: [marketing]

  acme-sso:
    provider: acme
    scopes:
      - openid
      - offline_access
# trailing comment
`

func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	c, err := Parse("config.yaml", []byte(src), presets)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// changedLines returns lines of b not in a and lines of a not in b.
func diffLines(a, b string) (added, removed []string) {
	count := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(b, "\n") {
		if count[l] > 0 {
			count[l]--
		} else {
			added = append(added, l)
		}
	}
	for l, n := range count {
		for ; n > 0; n-- {
			removed = append(removed, l)
		}
	}
	return
}

func TestAddProfileKeepsEverythingElse(t *testing.T) {
	c := mustParse(t, commented)
	if err := c.AddProfile(NewProfile{Name: "広報-x", Provider: "x", Groups: []string{"marketing"}, Scopes: []string{"tweet.read", "offline.access"}}); err != nil {
		t.Fatal(err)
	}
	added, removed := diffLines(commented, string(c.Bytes()))
	if len(removed) != 0 {
		t.Errorf("removed lines: %q", removed)
	}
	want := []string{"  広報-x:", "    provider: x", "    groups: [marketing]", "    scopes: [tweet.read, offline.access]"}
	if strings.Join(added, "\n") != strings.Join(want, "\n") {
		t.Errorf("added %q, want %q", added, want)
	}
	p, ok := c.Profile("広報-x")
	if !ok || p.Provider != "x" || len(p.Scopes) != 2 {
		t.Fatalf("re-parsed profile = %+v", p)
	}
	// The new entry follows the last profile, before the trailing comment.
	if !strings.Contains(string(c.Bytes()), "      - offline_access\n  広報-x:\n") {
		t.Errorf("entry placed wrongly:\n%s", c.Bytes())
	}
}

func TestAddProfileCreatesSection(t *testing.T) {
	c := mustParse(t, "providers:\n  x: {}\n")
	if err := c.AddProfile(NewProfile{Name: "a", Provider: "x"}); err != nil {
		t.Fatal(err)
	}
	if got := string(c.Bytes()); got != "providers:\n  x: {}\nprofiles:\n  a:\n    provider: x\n" {
		t.Errorf("got:\n%s", got)
	}
	c = mustParse(t, "providers:\n  x: {}\nprofiles: {}  # none yet\n")
	if err := c.AddProfile(NewProfile{Name: "a", Provider: "x"}); err != nil {
		t.Fatal(err)
	}
	if got := string(c.Bytes()); got != "providers:\n  x: {}\nprofiles:  # none yet\n  a:\n    provider: x\n" {
		t.Errorf("got:\n%s", got)
	}
	c = mustParse(t, "")
	if err := c.AddGroup("g", "team: north"); err != nil {
		t.Fatal(err)
	}
	if g, ok := c.Group("g"); !ok || g.Description != "team: north" {
		t.Errorf("group = %+v\n%s", g, c.Bytes())
	}
}

func TestAddProfileFollowsIndentation(t *testing.T) {
	c := mustParse(t, commented)
	if err := c.AddGroup("sales", ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(c.Bytes()), "        description: Brand accounts\n    sales: {}\n") {
		t.Errorf("group not added at the section's indentation:\n%s", c.Bytes())
	}
}

func TestQuotingRoundTrips(t *testing.T) {
	for _, name := range []string{"yes", "123", "null", "a#b", "true", "~", "*x", "x: y", "日本語", "with,comma"} {
		c := mustParse(t, "providers:\n  x: {}\n")
		if err := c.AddProfile(NewProfile{Name: "p", Provider: "x", Scopes: []string{name}}); err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		p, _ := c.Profile("p")
		if len(p.Scopes) != 1 || p.Scopes[0] != name {
			t.Errorf("scope %q read back as %q\n%s", name, p.Scopes, c.Bytes())
		}
	}
}

func TestRemoveProfile(t *testing.T) {
	c := mustParse(t, commented)
	if err := c.RemoveProfile("acme-x"); err != nil {
		t.Fatal(err)
	}
	_, removed := diffLines(commented, string(c.Bytes()))
	if strings.Join(removed, "|") != "  acme-x:|    provider: x|    groups: [marketing]" && len(removed) != 3 {
		t.Errorf("removed %q", removed)
	}
	if _, ok := c.Profile("acme-x"); ok {
		t.Error("still there")
	}
	if err := c.RemoveProfile("acme-sso"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(c.Bytes()), "profiles:\n  # the main X account\n\n# trailing comment\n") {
		t.Errorf("got:\n%s", c.Bytes())
	}
	if err := c.RemoveProfile("nope"); err == nil {
		t.Error("removing a missing profile succeeded")
	}
}

func TestGroupMembershipEdits(t *testing.T) {
	c := mustParse(t, commented)
	if err := c.AddGroup("sales", "Sales"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetProfileGroups("acme-sso", []string{"sales", "marketing"}); err != nil {
		t.Fatal(err)
	}
	p, _ := c.Profile("acme-sso")
	if strings.Join(p.Groups, ",") != "sales,marketing" {
		t.Errorf("groups = %v\n%s", p.Groups, c.Bytes())
	}
	if err := c.SetProfileGroups("acme-x", []string{"marketing", "sales"}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveGroup("marketing"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"acme-x", "acme-sso"} {
		p, _ := c.Profile(name)
		if strings.Join(p.Groups, ",") != "sales" {
			t.Errorf("%s groups = %v", name, p.Groups)
		}
	}
	if _, ok := c.Group("marketing"); ok {
		t.Error("group still defined")
	}
	if !strings.Contains(string(c.Bytes()), "# Team config — keep tidy!\n") || !strings.Contains(string(c.Bytes()), "# a week's warning") {
		t.Error("comments lost")
	}
}

func TestEditThatBreaksTheFileIsRefused(t *testing.T) {
	c := mustParse(t, "providers:\n  x: {}\n")
	before := string(c.Bytes())
	if err := c.AddProfile(NewProfile{Name: "a", Provider: "nope"}); err == nil {
		t.Fatal("adding a profile with an undefined provider succeeded")
	}
	if string(c.Bytes()) != before {
		t.Error("config changed after a refused edit")
	}
}

func TestSaveWritesFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "config.yaml")
	c, err := Load(p, presets)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddProvider(NewProvider{Name: "x", ClientID: "abc"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	c2, err := Load(p, presets)
	if err != nil || !c2.Exists {
		t.Fatal(err)
	}
	if x, ok := c2.Provider("x"); !ok || x.ClientID != "abc" {
		t.Errorf("x = %+v", x)
	}
	if b, _ := os.ReadFile(p); string(b) != "providers:\n  x:\n    client_id: abc\n" {
		t.Errorf("file:\n%s", b)
	}
}
