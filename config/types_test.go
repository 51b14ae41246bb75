package config

import (
	"strings"
	"testing"
)

// Every value has the YAML type its field needs; a wrong type is refused at
// its line, naming the field, instead of being read as its text.
func TestParseRefusesWrongTypes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, src string
		want      []string
	}{
		{"scopes number", "providers:\n  x:\n    scopes: 5\n",
			[]string{`config.yaml:3: provider "x": scopes: expected a list such as [openid], got the number 5`}},
		{"scopes bool", "providers:\n  x:\n    scopes: true\n",
			[]string{`config.yaml:3: provider "x": scopes: expected a list such as [openid], got the boolean true`}},
		{"scopes one word", "providers:\n  x:\n    scopes: openid\n",
			[]string{`config.yaml:3: provider "x": scopes: expected a list such as [openid], got the single value "openid"`}},
		{"scopes space separated", "providers:\n  x:\n    scopes: openid email\n",
			[]string{`config.yaml:3: provider "x": scopes: expected a list such as [openid, email], got "openid email"`}},
		{"scopes comma separated", "providers:\n  x:\n    scopes: openid,email\n",
			[]string{`config.yaml:3: provider "x": scopes: expected a list such as [openid, email], got "openid,email"`}},
		{"scopes map", "providers:\n  x:\n    scopes: {a: b}\n",
			[]string{`config.yaml:3: provider "x": scopes: expected a list such as [openid], got a mapping`}},
		{"scope item number", "providers:\n  x:\n    scopes: [openid, 5]\n",
			[]string{`config.yaml:3: provider "x": scopes: item 5 is a number, not a name; write it in quotes ("5") if you mean the text`}},
		{"scope item bool", "providers:\n  x:\n    scopes:\n      - openid\n      - false\n",
			[]string{`config.yaml:5: provider "x": scopes: item false is a boolean, not a name; write it in quotes ("false") if you mean the text`}},
		{"scope item map", "providers:\n  x:\n    scopes: [openid, {a: b}]\n",
			[]string{`config.yaml:3: provider "x": scopes: every item must be a single name, not a mapping`}},
		{"scope item empty", "providers:\n  x:\n    scopes: [openid, \"\"]\n",
			[]string{`config.yaml:3: provider "x": scopes: an item is empty`}},
		{"groups lone", "providers:\n  x: {}\ngroups:\n  m: {}\nprofiles:\n  a:\n    provider: x\n    groups: m\n",
			[]string{`config.yaml:8: profile "a": groups: expected a list such as [m], got the single value "m"`}},
		{"profile scopes number", "providers:\n  x: {}\nprofiles:\n  a:\n    provider: x\n    scopes: 5\n",
			[]string{`config.yaml:6: profile "a": scopes: expected a list such as [openid], got the number 5`}},
		{"client_id bool", "providers:\n  x:\n    client_id: true\n",
			[]string{`config.yaml:3: provider "x": client_id: expected text, got the boolean true; write it in quotes ("true") if you mean the text`}},
		{"client_id map", "providers:\n  x:\n    client_id: {a: b}\n",
			[]string{`config.yaml:3: provider "x": client_id: expected a single value, got a mapping`}},
		{"client_id empty", "providers:\n  x:\n    client_id:\n",
			[]string{`config.yaml:3: provider "x": client_id: the value is missing; give one or remove the line`}},
		{"description list", "groups:\n  g:\n    description: [a]\n",
			[]string{`config.yaml:3: group "g": description: expected a single value, got a list`}},
		{"provider list", "providers:\n  x: {}\nprofiles:\n  a:\n    provider: [x]\n",
			[]string{`config.yaml:5: profile "a": provider: expected a single value, got a list`}},
		{"issuer bool", "providers:\n  a:\n    type: oidc\n    issuer: true\n",
			[]string{`config.yaml:4: provider "a": issuer: expected text, got the boolean true`}},
		{"port text", "providers:\n  x:\n    redirect_port: \"8765\"\n",
			[]string{`config.yaml:3: provider "x": redirect_port: expected a port number such as 8765, got the text "8765"; write it without quotes`}},
		{"port float", "providers:\n  x:\n    redirect_port: 8765.5\n",
			[]string{`config.yaml:3: provider "x": redirect_port: expected a port number such as 8765, got the number 8765.5`}},
		{"port bool", "providers:\n  x:\n    redirect_port: true\n",
			[]string{`config.yaml:3: provider "x": redirect_port: expected a port number such as 8765, got the boolean true`}},
		{"port list", "providers:\n  x:\n    redirect_port: [8765]\n",
			[]string{`config.yaml:3: provider "x": redirect_port: expected a port number such as 8765, got a list`}},
		{"port range", "providers:\n  x:\n    redirect_port: 70000\n",
			[]string{`config.yaml:3: provider "x": redirect_port: 70000 is not a port number (1-65535)`}},
		{"type bool", "providers:\n  x:\n    type: false\n",
			[]string{`config.yaml:3: provider "x": type: expected text, got the boolean false`}},
		{"binary tag", "providers:\n  x:\n    client_id: !!binary aGk=\n",
			[]string{`config.yaml:3: provider "x": client_id: expected text, got a value tagged !!binary`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("config.yaml", []byte(tc.src), presets)
			if err == nil {
				t.Fatalf("no error for\n%s", tc.src)
			}
			es, ok := err.(Errors)
			if !ok || len(es) != len(tc.want) {
				t.Fatalf("want %d problem(s), got:\n%v", len(tc.want), err)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(es[i].Error(), w) {
					t.Errorf("problem %d:\n got %q\nwant %q…", i, es[i].Error(), w)
				}
			}
		})
	}
}

// Values whose YAML type differs from text but that are clearly meant as
// text stay accepted: Meta app ids are written unquoted.
func TestParseAcceptsNumbersAsText(t *testing.T) {
	t.Parallel()
	src := "providers:\n  facebook:\n    client_id: 1234567890\n  x:\n    client_id: 12345678901234567890123\n    redirect_port: 8765\n" +
		"    graph_version: 19.0\ngroups:\n  g:\n    description: 2024\n"
	c, err := Parse("config.yaml", []byte(src), presets)
	if err != nil {
		t.Fatal(err)
	}
	fb, _ := c.Provider("facebook")
	x, _ := c.Provider("x")
	g, _ := c.Group("g")
	if fb.ClientID != "1234567890" || x.ClientID != "12345678901234567890123" || x.RedirectPort != 8765 || x.GraphVersion != "19.0" || g.Description != "2024" {
		t.Errorf("facebook %+v\nx %+v\ngroup %+v", fb, x, g)
	}
}

func TestParseInvalidUTF8NamesTheLine(t *testing.T) {
	t.Parallel()
	src := "providers:\n  x:\n    client_id: caf\xe9\n    scopes: [a]\n"
	_, err := Parse("config.yaml", []byte(src), presets)
	if err == nil || !strings.HasPrefix(err.Error(), "config.yaml:3: the file is not valid UTF-8") || !strings.Contains(err.Error(), "save it as UTF-8") {
		t.Fatalf("err = %v", err)
	}
	// The first bad byte decides the line, even inside a comment.
	_, err = Parse("config.yaml", []byte("# \xff\nproviders:\n  x:\n    client_id: caf\xe9\n"), presets)
	if err == nil || !strings.HasPrefix(err.Error(), "config.yaml:1:") {
		t.Fatalf("err = %v", err)
	}
}

// An invalid endpoint is reported once: the URL problem, not also a
// follow-on "needs issuer".
func TestBadEndpointIsOneProblem(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, src string
		want      []string
	}{
		{"oidc bad issuer", "providers:\n  a:\n    type: oidc\n    issuer: not-a-url\n",
			[]string{`config.yaml:4: provider "a": issuer: "not-a-url" is not an http(s) URL`}},
		{"oidc empty issuer", "providers:\n  a:\n    type: oidc\n    issuer:\n",
			[]string{`config.yaml:4: provider "a": issuer: the value is missing`}},
		{"oauth2 bad auth_url", "providers:\n  a:\n    type: oauth2\n    auth_url: ftp://x\n    token_url: https://t.example\n",
			[]string{`config.yaml:4: provider "a": auth_url: "ftp://x" is not an http(s) URL`}},
		{"oauth2 bad auth_url, no token_url", "providers:\n  a:\n    type: oauth2\n    auth_url: ftp://x\n",
			[]string{`config.yaml:2: provider "a": type oauth2 needs ` + "`token_url:`", `config.yaml:4: provider "a": auth_url: "ftp://x"`}},
		{"oauth2 nothing", "providers:\n  a:\n    type: oauth2\n",
			[]string{`config.yaml:2: provider "a": type oauth2 needs ` + "`auth_url:` and `token_url:`"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("config.yaml", []byte(tc.src), presets)
			es, ok := err.(Errors)
			if !ok || len(es) != len(tc.want) {
				t.Fatalf("want %d problem(s), got:\n%v", len(tc.want), err)
			}
			got := make([]string, len(es))
			for i, e := range es {
				got[i] = e.Error()
			}
			for _, w := range tc.want {
				found := false
				for _, g := range got {
					found = found || strings.HasPrefix(g, w)
				}
				if !found {
					t.Errorf("no problem starting %q in\n%s", w, strings.Join(got, "\n"))
				}
			}
		})
	}
}

func TestClientAuthNames(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"client_secret_basic": "basic", "basic": "basic",
		"client_secret_post": "body", "post": "body", "body": "body",
	} {
		c, err := Parse("config.yaml", []byte("providers:\n  x:\n    client_auth: "+in+"\n"), presets)
		if err != nil {
			t.Errorf("client_auth %s: %v", in, err)
			continue
		}
		if x, _ := c.Provider("x"); x.ClientAuth != want {
			t.Errorf("client_auth %s stored as %q, want %q", in, x.ClientAuth, want)
		}
	}
	for in, want := range map[string]string{
		"client_secret_bsic": `config.yaml:3: provider "x": client_auth "client_secret_bsic" is not one of client_secret_basic, basic, client_secret_post, post, body (did you mean "client_secret_basic"`,
		"Basic":              `(did you mean "basic"?)`,
		"none":               "a public client (no secret) needs no client_auth: remove the line",
		"private_key_jwt":    `client_auth "private_key_jwt" is not supported by sbctl; use client_secret_basic or client_secret_post`,
	} {
		_, err := Parse("config.yaml", []byte("providers:\n  x:\n    client_auth: "+in+"\n"), presets)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("client_auth %s: err = %v\nwant it to contain %q", in, err, want)
		}
	}
}
