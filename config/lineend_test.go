package config

import (
	"strings"
	"testing"
)

const crlfConfig = "# team\r\nproviders:\r\n  x: {}\r\ngroups:\r\n  m: {}\r\nprofiles:\r\n  a:\r\n    provider: x   # main\r\n"

// checkCRLF fails unless every line of b ends with CRLF.
func checkCRLF(t *testing.T, what string, b []byte) {
	t.Helper()
	s := string(b)
	if !strings.HasSuffix(s, "\r\n") || strings.Count(s, "\n") != strings.Count(s, "\r\n") {
		t.Errorf("%s: not all lines end with CRLF:\n%q", what, s)
	}
}

func TestEditsKeepCRLF(t *testing.T) {
	t.Parallel()
	c := mustParse(t, crlfConfig)
	steps := []struct {
		what string
		do   func() error
	}{
		{"AddProfile", func() error { return c.AddProfile(NewProfile{Name: "b", Provider: "x", Groups: []string{"m"}}) }},
		{"AddGroup", func() error { return c.AddGroup("n", "North") }},
		{"SetProfileGroups", func() error { return c.SetProfileGroups("a", []string{"m", "n"}) }},
		{"RemoveGroup", func() error { return c.RemoveGroup("m") }},
		{"RemoveProfile", func() error { return c.RemoveProfile("b") }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.what, err)
		}
		checkCRLF(t, s.what, c.Bytes())
	}
	want := "# team\r\nproviders:\r\n  x: {}\r\ngroups:\r\n  n:\r\n    description: North\r\nprofiles:\r\n  a:\r\n    provider: x   # main\r\n    groups: [n]\r\n"
	if got := string(c.Bytes()); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// A new section in a CRLF file is CRLF too.
	c = mustParse(t, "providers:\r\n  x: {}\r\n")
	if err := c.AddProfile(NewProfile{Name: "a", Provider: "x"}); err != nil {
		t.Fatal(err)
	}
	checkCRLF(t, "new section", c.Bytes())
}

// A file without a final newline keeps that state; lines that were not
// edited keep their bytes (a mixed file is not "fixed").
func TestEditsKeepFinalNewlineState(t *testing.T) {
	t.Parallel()
	c := mustParse(t, "providers:\n  x: {}\nprofiles:\n  a:\n    provider: x")
	if err := c.AddProfile(NewProfile{Name: "b", Provider: "x"}); err != nil {
		t.Fatal(err)
	}
	if got, want := string(c.Bytes()), "providers:\n  x: {}\nprofiles:\n  a:\n    provider: x\n  b:\n    provider: x"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if err := c.RemoveProfile("b"); err != nil {
		t.Fatal(err)
	}
	if got, want := string(c.Bytes()), "providers:\n  x: {}\nprofiles:\n  a:\n    provider: x"; got != want {
		t.Errorf("after remove: got %q\nwant %q", got, want)
	}
	mixed := "providers:\r\n  x: {}\nprofiles:\r\n  a:\r\n    provider: x\r\n"
	c = mustParse(t, mixed)
	if err := c.AddGroup("g", ""); err != nil {
		t.Fatal(err)
	}
	if got, want := string(c.Bytes()), mixed+"groups:\r\n  g: {}\r\n"; got != want {
		t.Errorf("mixed: got %q\nwant %q", got, want)
	}
}

// YAML counts CR, NEL, LS and PS as line breaks too; edits must agree with
// the parser's line numbers or they land on the wrong line.
func TestEditsCountLinesLikeYAML(t *testing.T) {
	t.Parallel()
	for _, br := range []string{"\r", "\u0085", "\u2028", "\u2029"} {
		src := "providers:\n  x: {}\n# a comment" + br + "# wrapped\nprofiles:\n  a:\n    provider: x\n# end\n"
		c := mustParse(t, src)
		if err := c.AddProfile(NewProfile{Name: "b", Provider: "x"}); err != nil {
			t.Fatalf("%q: %v", br, err)
		}
		want := "providers:\n  x: {}\n# a comment" + br + "# wrapped\nprofiles:\n  a:\n    provider: x\n  b:\n    provider: x\n# end\n"
		if got := string(c.Bytes()); got != want {
			t.Errorf("%q:\n got %q\nwant %q", br, got, want)
		}
	}
}

// A UTF-8 byte order mark stays where it was when the first line is
// rewritten.
func TestEditsKeepByteOrderMark(t *testing.T) {
	t.Parallel()
	c := mustParse(t, "\ufeffprofiles: {}\nproviders:\n  x: {}\n")
	if err := c.AddProfile(NewProfile{Name: "a", Provider: "x"}); err != nil {
		t.Fatal(err)
	}
	if got, want := string(c.Bytes()), "\ufeffprofiles:\n  a:\n    provider: x\nproviders:\n  x: {}\n"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
