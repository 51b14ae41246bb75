package config

import (
	"errors"
	"strings"
	"testing"
)

func TestAddProviderWritesSetFieldsInOrder(t *testing.T) {
	t.Parallel()
	c := mustParse(t, commented)
	err := c.AddProvider(NewProvider{
		Name: "legacy", Type: "oauth2", ClientID: "0123", ClientAuth: "client_secret_post",
		AuthURL: "https://legacy.example/oauth/authorize?x=1#frag", TokenURL: "https://legacy.example/oauth/token",
		Scopes: []string{"read", "write: all"}, Redirect: "manual", RedirectPort: 9000,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"  legacy:",
		"    type: oauth2",
		`    auth_url: "https://legacy.example/oauth/authorize?x=1#frag"`,
		"    token_url: https://legacy.example/oauth/token",
		`    client_id: "0123"`,
		`    scopes: [read, "write: all"]`,
		"    redirect: manual",
		"    redirect_port: 9000",
		"    client_auth: client_secret_post",
	}
	added, removed := diffLines(commented, string(c.Bytes()))
	if len(removed) != 0 || strings.Join(added, "\n") != strings.Join(want, "\n") {
		t.Errorf("added %q\nremoved %q\nwant %q", added, removed, want)
	}
	// Placed after the last provider, before the comment of the next section.
	if !strings.Contains(string(c.Bytes()), "    client_id: sbctl\n  legacy:\n") {
		t.Errorf("placed wrongly:\n%s", c.Bytes())
	}
	p, ok := c.Provider("legacy")
	if !ok || p.ClientID != "0123" || p.ClientAuth != "body" || p.RedirectPort != 9000 || p.AuthURL != "https://legacy.example/oauth/authorize?x=1#frag" || len(p.Scopes) != 2 {
		t.Errorf("read back %+v", p)
	}
}

// A provider named after its preset reads best without `type:`, as in
// SPEC §3 (`x:` with client_id and redirect_port only).
func TestAddProviderOmitsTypeEqualToName(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{"", "x"} {
		c := mustParse(t, "")
		if err := c.AddProvider(NewProvider{Name: "x", Type: typ, ClientID: "abc", RedirectPort: 8765}); err != nil {
			t.Fatal(err)
		}
		if got := string(c.Bytes()); got != "providers:\n  x:\n    client_id: abc\n    redirect_port: 8765\n" {
			t.Errorf("type %q: got %q", typ, got)
		}
	}
	c := mustParse(t, "")
	if err := c.AddProvider(NewProvider{Name: "x-brand2", Type: "x"}); err != nil {
		t.Fatal(err)
	}
	if got := string(c.Bytes()); got != "providers:\n  x-brand2:\n    type: x\n" {
		t.Errorf("got %q", got)
	}
}

func TestAddProviderSectionShapes(t *testing.T) {
	t.Parallel()
	np := NewProvider{Name: "acme", Type: "oidc", Issuer: "https://id.acme.example", ClientID: "sbctl"}
	entry := "  acme:\n    type: oidc\n    issuer: https://id.acme.example\n    client_id: sbctl\n"
	cases := []struct{ name, src, want string }{
		{"no file", "", "providers:\n" + entry},
		{"no section", "defaults:\n  expiring_within: 3d\n", "defaults:\n  expiring_within: 3d\nproviders:\n" + entry},
		// A new section goes at the end, whatever the order of the others.
		{"no section, header comment", "# Team config\ngroups:\n  g: {}   # brand\n", "# Team config\ngroups:\n  g: {}   # brand\nproviders:\n" + entry},
		{"null", "providers:\nprofiles: {}\n", "providers:\n" + entry + "profiles: {}\n"},
		{"empty flow", "providers: {}   # none yet\n", "providers:   # none yet\n" + entry},
		{"populated, deeper indent", "providers:\n    x:\n        client_id: a\n", "providers:\n    x:\n        client_id: a\n    acme:\n        type: oidc\n        issuer: https://id.acme.example\n        client_id: sbctl\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := mustParse(t, tc.src)
			if err := c.AddProvider(np); err != nil {
				t.Fatal(err)
			}
			if got := string(c.Bytes()); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestAddProviderRefusals(t *testing.T) {
	t.Parallel()
	src := "providers:\n  x:\n    client_id: a\n"
	cases := []struct {
		name string
		np   NewProvider
		want string
	}{
		{"existing", NewProvider{Name: "x", ClientID: "b"}, `provider "x" already exists (config.yaml:2)`},
		{"bad name", NewProvider{Name: "a b", Type: "x"}, `provider name "a b"`},
		{"oidc without issuer", NewProvider{Name: "acme", Type: "oidc", ClientID: "c"},
			"config.yaml was not changed: provider \"acme\": type oidc needs `issuer:`"},
		{"bad url", NewProvider{Name: "acme", Type: "oidc", Issuer: "id.acme.example"},
			`config.yaml was not changed: provider "acme": issuer: "id.acme.example" is not an http(s) URL`},
		{"unknown preset", NewProvider{Name: "acme", Type: "facebok"}, `(did you mean "facebook"?)`},
		{"bad port", NewProvider{Name: "y", Type: "x", RedirectPort: 70000}, "redirect_port: 70000 is not a port number"},
		{"bad client auth", NewProvider{Name: "y", Type: "x", ClientAuth: "jwt"}, `client_auth "jwt" is not one of`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := mustParse(t, src)
			err := c.AddProvider(tc.np)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.want)
			}
			if string(c.Bytes()) != src || len(c.Providers) != 1 {
				t.Errorf("config changed after a refused edit:\n%s", c.Bytes())
			}
		})
	}
}

// A refused edit reports the problems with the lines of the file the user
// has (not of the text that was never written), and the problems of the
// new entry without a line.
func TestRefusedEditMapsLines(t *testing.T) {
	t.Parallel()
	c := mustParse(t, "providers:\n  x: {}\nprofiles:\n  a:\n    provider: x\n")
	err := c.AddProfile(NewProfile{Name: "b", Provider: "nope"})
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Line != 0 {
		t.Fatalf("err = %#v", err)
	}
	if want := `config.yaml was not changed: profile "b": provider "nope" is not defined`; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("message %q\nwant %q…", err, want)
	}
}

func TestAddProviderNormalisesName(t *testing.T) {
	t.Parallel()
	c := mustParse(t, "providers:\n  "+cafeNFD+":\n    type: x\n")
	if err := c.AddProvider(NewProvider{Name: cafeNFC, Type: "x"}); err == nil || !strings.Contains(err.Error(), "already exists (config.yaml:2)") {
		t.Errorf("NFC twin of an NFD provider: %v", err)
	}
	if err := c.AddProvider(NewProvider{Name: "th" + cafeNFD, Type: "x"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(c.Bytes()), "  th"+cafeNFC+":\n") {
		t.Errorf("not written in NFC:\n%q", c.Bytes())
	}
}
