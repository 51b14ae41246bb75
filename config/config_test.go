package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var presets = Options{Presets: []string{"facebook", "x", "google", "oidc", "oauth2"}}

func TestParseValidConfig(t *testing.T) {
	src := `defaults:
  expiring_within: 3d
providers:
  x:
    client_id: "abc123"
    redirect_port: 8765
  acme:
    type: oidc
    issuer: https://id.acme.example
    client_id: sbctl
    scopes: [openid, offline_access]
groups:
  marketing:
    description: Brand accounts
profiles:
  acme-x:
    provider: x
    groups: [marketing]
    scopes: [tweet.read]
  広報:
    provider: acme
`
	c, err := Parse("config.yaml", []byte(src), presets)
	if err != nil {
		t.Fatal(err)
	}
	if c.Defaults.ExpiringWithin != 3*Day {
		t.Errorf("expiring_within = %v", c.Defaults.ExpiringWithin)
	}
	x, ok := c.Provider("x")
	if !ok || x.Type != "x" || x.RedirectPort != 8765 || x.ClientID != "abc123" {
		t.Errorf("provider x = %+v", x)
	}
	if got := strings.Join(c.ProfileNames(), ","); got != "acme-x,広報" {
		t.Errorf("profiles in file order = %s", got)
	}
	p, _ := c.Profile("acme-x")
	if p.Line != 16 || p.Groups[0] != "marketing" {
		t.Errorf("profile = %+v", p)
	}
	if m := c.Members("marketing"); len(m) != 1 || m[0].Name != "acme-x" {
		t.Errorf("members = %v", m)
	}
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"syntax", "providers:\n  acme:\n    type: oauth2\n    client_id: [unclosed\nprofiles:\n", "config.yaml:"},
		{"undefined provider", "providers:\n  x:\n    client_id: a\nprofiles:\n  acme-x:\n    provider: xx\n",
			`config.yaml:6: profile "acme-x": provider "xx" is not defined (did you mean "x"?)`},
		{"unknown key", "providers:\n  x:\n    clientid: a\n", `config.yaml:3: provider "x": unknown key "clientid" (did you mean "client_id"?)`},
		{"duplicate profile", "providers:\n  x: {}\nprofiles:\n  a:\n    provider: x\n  a:\n    provider: x\n", `config.yaml:6: profiles: "a" is defined twice (first at line 4)`},
		{"bad duration", "defaults:\n  expiring_within: 7 days\n", "config.yaml:2: defaults.expiring_within: invalid duration"},
		{"missing group", "providers:\n  x: {}\nprofiles:\n  a:\n    provider: x\n    groups: [markting]\ngroups:\n  marketing: {}\n", `config.yaml:6: profile "a": group "markting" is not defined (did you mean "marketing"?)`},
		{"no type", "providers:\n  acme:\n    client_id: a\n", `config.yaml:2: provider "acme" has no type`},
		{"unknown type", "providers:\n  acme:\n    type: oidcc\n    issuer: https://a.example\n", `config.yaml:3: provider "acme": unknown type "oidcc" (did you mean "oidc"?)`},
		{"oidc without issuer", "providers:\n  acme:\n    type: oidc\n", `config.yaml:2: provider "acme": type oidc needs`},
		{"secret in config", "providers:\n  x:\n    client_secret: s3cr3t\n", "config.yaml:3: provider \"x\": client secrets do not belong"},
		{"bad port", "providers:\n  x:\n    redirect_port: 70000\n", "config.yaml:3: provider \"x\": redirect_port: 70000 is not a port number"},
		{"bad redirect", "providers:\n  x:\n    redirect: loopbak\n", `(did you mean "loopback"?)`},
		{"bad url", "providers:\n  a:\n    type: oauth2\n    auth_url: ftp://x\n    token_url: https://t.example\n", `config.yaml:4: provider "a": auth_url: "ftp://x" is not an http(s) URL`},
		{"no provider", "profiles:\n  a:\n    groups: []\n", `config.yaml:2: profile "a" has no provider`},
		{"bad name", "providers:\n  x: {}\nprofiles:\n  \"a b\":\n    provider: x\n", `config.yaml:4: profile name "a b"`},
		{"not a mapping", "- a\n- b\n", "config.yaml:1: the file must be a mapping"},
		{"scopes string", "providers:\n  x:\n    scopes: openid email\n", `config.yaml:3: provider "x": scopes: expected a list`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("config.yaml", []byte(tc.src), presets)
			if err == nil {
				t.Fatalf("no error for\n%s", tc.src)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	_, err := Parse("c.yaml", []byte("providers:\n  x:\n    bogus: 1\nprofiles:\n  a:\n    provider: y\n"), presets)
	es, ok := err.(Errors)
	if !ok || len(es) != 2 {
		t.Fatalf("want 2 problems, got %v", err)
	}
}

func TestLoadMissingFileIsEmpty(t *testing.T) {
	c, err := Load(filepath.Join(t.TempDir(), "none.yaml"), presets)
	if err != nil || c.Exists || len(c.Profiles) != 0 {
		t.Fatalf("c=%+v err=%v", c, err)
	}
	if c.Defaults.ExpiringWithin != DefaultExpiringWithin {
		t.Errorf("default window = %v", c.Defaults.ExpiringWithin)
	}
}

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{"90s": 90 * time.Second, "15m": 15 * time.Minute, "12h": 12 * time.Hour, "7d": 7 * Day, "2w": 14 * Day, "1d12h": 36 * time.Hour, "1.5h": 90 * time.Minute, "0": 0}
	for in, want := range good {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "7", "d", "7x", "-1d", "7 d", "1e400d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) gave no error", bad)
		}
	}
	// A negative duration is told as such, not as a missing unit.
	if _, err := ParseDuration("-5m"); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("ParseDuration(-5m): %v", err)
	}
	if FormatDuration(7*Day) != "7d" || FormatDuration(36*time.Hour) != "36h" || FormatDuration(90*time.Second) != "90s" {
		t.Error("FormatDuration")
	}
}

func TestClosest(t *testing.T) {
	names := []string{"fresh", "soon", "stale", "acme-x", "acme-fb"}
	if got := Closest("fresj", names); len(got) == 0 || got[0] != "fresh" {
		t.Errorf("Closest(fresj) = %v", got)
	}
	if got := Closest("acme", names); len(got) != 2 {
		t.Errorf("Closest(acme) = %v, want both acme- profiles", got)
	}
	if got := Closest("zzzzzz", names); len(got) != 0 {
		t.Errorf("Closest(zzzzzz) = %v", got)
	}
	if distance("ab", "ba") != 1 {
		t.Error("a transposition is one edit")
	}
}
