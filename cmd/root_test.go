package cmd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/colorprofile"
	"github.com/sbctl/sbctl/profiles"
	"github.com/sbctl/sbctl/tui"
)

// The bare `sbctl` on a terminal runs the Factory's TUI on the Factory's
// Manager; in a pipe it prints help and touches neither.
func TestBareSbctl(t *testing.T) {
	t.Parallel()
	for _, tty := range []bool{true, false} {
		ios, _, out, _ := Test()
		ios.InTTY, ios.OutTTY, ios.ErrTTY = tty, tty, tty
		fake := errors.New("fake manager")
		var ran bool
		f := &Factory{
			IO:      ios,
			Manager: func() (*profiles.Manager, error) { return nil, fake },
			RunTUI: func(context.Context, *profiles.Manager, tui.Options) error {
				ran = true
				return nil
			},
		}
		code := Run(t.Context(), f, nil)
		switch {
		case tty && code != ExitError:
			t.Errorf("on a terminal: exit %d, want %d from the Manager's error", code, ExitError)
		case !tty && (code != ExitOK || !strings.Contains(out.String(), "Usage:")):
			t.Errorf("in a pipe: exit %d, stdout %q; want help", code, out)
		}
		if ran {
			t.Errorf("tty=%v: the TUI ran without a Manager", tty)
		}
	}
	ios, _, _, _ := Test()
	ios.InTTY, ios.OutTTY, ios.ErrTTY = true, true, true
	var got *profiles.Manager
	want := &profiles.Manager{}
	f := &Factory{
		IO:      ios,
		Manager: func() (*profiles.Manager, error) { return want, nil },
		RunTUI: func(_ context.Context, m *profiles.Manager, _ tui.Options) error {
			got = m
			return nil
		},
	}
	if code := Run(t.Context(), f, nil); code != ExitOK || got != want {
		t.Errorf("exit %d; the TUI got %p, want the Factory's %p", code, got, want)
	}
}

// TestBareSbctlPassesNoColorToTheTUI: --no-color and a terminal without
// colour reach the full-screen view, not only the CLI's tables.
func TestBareSbctlPassesNoColorToTheTUI(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		args    []string
		profile colorprofile.Profile
		want    bool
	}{
		{"colour terminal", nil, colorprofile.TrueColor, false},
		{"--no-color", []string{"--no-color"}, colorprofile.TrueColor, true},
		{"NO_COLOR", nil, colorprofile.ASCII, true}, // what profileFor makes of $NO_COLOR
	} {
		ios, _, _, _ := Test()
		ios.InTTY, ios.OutTTY, ios.ErrTTY = true, true, true
		ios.Profile, ios.ErrProfile = c.profile, c.profile
		var got tui.Options
		f := &Factory{
			IO:      ios,
			Manager: func() (*profiles.Manager, error) { return &profiles.Manager{}, nil },
			RunTUI: func(_ context.Context, _ *profiles.Manager, o tui.Options) error {
				got = o
				return nil
			},
		}
		if code := Run(t.Context(), f, c.args); code != ExitOK || got.NoColor != c.want {
			t.Errorf("%s: exit %d, NoColor %v, want %v", c.name, code, got.NoColor, c.want)
		}
	}
}

// TestBareSbctlOnADumbTerminalPrintsTheList: TERM=dumb cannot draw a full
// screen, so it gets the plain list and exit 0, and the TUI never starts.
func TestBareSbctlOnADumbTerminalPrintsTheList(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("providers:\n  acme:\n    type: oidc\n    issuer: https://id.acme.example\n    client_id: c\nprofiles:\n  acme-x:\n    provider: acme\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := profiles.Open(profiles.Options{
		ConfigPath: cfg, StateDir: filepath.Join(dir, "state"),
		Tokens: profiles.StoreOptions{Kind: profiles.StoreFile, FileDir: filepath.Join(dir, "data")},
	})
	if err != nil {
		t.Fatal(err)
	}
	ios, _, out, _ := Test()
	ios.InTTY, ios.OutTTY, ios.ErrTTY = true, true, true
	ios.Env = []string{"TERM=xterm-256color", "TERM=dumb"}
	f := &Factory{
		IO:      ios,
		Manager: func() (*profiles.Manager, error) { return m, nil },
		RunTUI: func(context.Context, *profiles.Manager, tui.Options) error {
			t.Error("the TUI ran on a dumb terminal")
			return nil
		},
	}
	if code := Run(t.Context(), f, nil); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), "acme-x") || !strings.Contains(out.String(), "not_connected") || strings.Contains(out.String(), "\x1b[") {
		t.Errorf("stdout is not the plain list:\n%q", out)
	}
}
