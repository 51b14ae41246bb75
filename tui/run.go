package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/sbctl/sbctl/profiles"
)

// unwindLimit is how long Run waits, after the screen is gone, for a
// cancelled operation to finish: a sign-in closing its loopback listener,
// or a renewal whose request is out storing its answer (a rotated refresh
// token must not be dropped on the way out), which takes up to
// profiles.GracePeriod.
const unwindLimit = profiles.GracePeriod + time.Second

// Run shows the TUI until the user quits. q returns nil; Ctrl-C, or ctx
// being cancelled, returns context.Canceled (exit code 130 in the CLI). It
// draws on opts.Output (default stderr), so stdout stays free for data.
func Run(ctx context.Context, mgr *profiles.Manager, opts Options) error {
	out := opts.Output
	if out == nil {
		out = os.Stderr
	}
	m := newModel(ctx, mgr, opts)
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithOutput(out)}
	if opts.NoColor {
		// The renderer downsamples every style: no colour escape reaches
		// the terminal, whatever the styles ask for.
		popts = append(popts, tea.WithColorProfile(colorprofile.ASCII))
	}
	if opts.Input != nil {
		// Only when given: tea.WithInput(nil) would mean "no input at all".
		popts = append(popts, tea.WithInput(opts.Input))
	}
	_, err := tea.NewProgram(m, popts...).Run()
	m.stop(unwindLimit)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tea.ErrInterrupted), errors.Is(err, context.Canceled), ctx.Err() != nil:
		return context.Canceled
	}
	return fmt.Errorf("tui: %w", err)
}
