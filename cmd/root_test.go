package cmd

import (
	"context"
	"errors"
	"strings"
	"testing"

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
