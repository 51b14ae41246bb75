package auth

import (
	"slices"
	"testing"
)

func TestRedirectModes(t *testing.T) {
	t.Parallel()
	if got := RedirectModeNames(); !slices.Equal(got, []string{"loopback", "relay", "manual", "device"}) {
		t.Fatalf("RedirectModeNames() = %v", got)
	}
	for _, m := range RedirectModes() {
		if got, ok := ParseRedirectMode(m.String()); !ok || got != m || !m.Valid() {
			t.Errorf("ParseRedirectMode(%q) = %q, %v", m, got, ok)
		}
	}
	// The config has only ever accepted the lower-case names.
	for _, s := range []string{"", "Loopback", " loopback", "pigeon", "browser"} {
		if m, ok := ParseRedirectMode(s); ok || RedirectMode(s).Valid() {
			t.Errorf("ParseRedirectMode(%q) = %q, accepted", s, m)
		}
	}
	// The list handed out is a copy.
	RedirectModes()[0] = "pigeon"
	if !RedirectLoopback.Valid() || RedirectModes()[0] != RedirectLoopback {
		t.Error("RedirectModes shares its table")
	}
}

func TestPKCE(t *testing.T) {
	t.Parallel()
	for _, p := range []PKCE{PKCERequired, PKCEOptional, PKCEUnsupported, PKCEHex} {
		if got, ok := ParsePKCE(string(p)); !ok || got != p || !p.Valid() {
			t.Errorf("ParsePKCE(%q) = %q, %v", p, got, ok)
		}
	}
	if _, ok := ParsePKCE("plain"); ok || PKCE("plain").Valid() {
		t.Error("plain accepted: it protects nothing")
	}
	// The zero value is the safe default: a challenge, named required.
	var zero PKCE
	if !zero.Valid() || !zero.Challenge() || zero.String() != "required" {
		t.Errorf("zero PKCE: valid %v challenge %v %q", zero.Valid(), zero.Challenge(), zero)
	}
	for p, want := range map[PKCE]bool{PKCERequired: true, PKCEOptional: true, PKCEHex: true, PKCEUnsupported: false} {
		if p.Challenge() != want {
			t.Errorf("%s.Challenge() = %v", p, !want)
		}
	}
}

func TestClientAuth(t *testing.T) {
	t.Parallel()
	want := map[string]ClientAuth{
		"client_secret_basic": ClientAuthBasic, "basic": ClientAuthBasic,
		"client_secret_post": ClientAuthBody, "post": ClientAuthBody, "body": ClientAuthBody,
	}
	names := ClientAuthNames()
	if !slices.Equal(names, []string{"client_secret_basic", "basic", "client_secret_post", "post", "body"}) {
		t.Fatalf("ClientAuthNames() = %v", names)
	}
	for _, n := range names {
		if got, ok := ParseClientAuth(n); !ok || got != want[n] {
			t.Errorf("ParseClientAuth(%q) = %q, %v, want %q", n, got, ok, want[n])
		}
	}
	// Servers' metadata and programs' settings may differ in case and space.
	for s, w := range map[string]ClientAuth{"Client_Secret_Basic": ClientAuthBasic, " POST ": ClientAuthBody} {
		if got, ok := ParseClientAuth(s); !ok || got != w {
			t.Errorf("ParseClientAuth(%q) = %q, %v, want %q", s, got, ok, w)
		}
	}
	for _, s := range []string{"", "none", "private_key_jwt", "client_secret_jwt", "basics"} {
		if got, ok := ParseClientAuth(s); ok {
			t.Errorf("ParseClientAuth(%q) = %q, accepted", s, got)
		}
	}
	if ClientAuthBasic.Other() != ClientAuthBody || ClientAuthBody.Other() != ClientAuthBasic {
		t.Error("Other does not swap the two methods")
	}
}
