package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/profiles"
)

type doctorOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	Format string
}

func newDoctorCmd(f *Factory, runF func(*doctorOptions) error) *cobra.Command {
	o := &doctorOptions{IO: f.IO, Manager: f.Manager}
	c := &cobra.Command{
		Use:   "doctor",
		Short: "Check the config, keychain, browser and clock, and say how to fix problems",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if o.Format != "" && o.Format != formatJSON {
				return usageErr("doctor prints only json (-o json)")
			}
			return runWith(c.Context(), o, runF, runDoctor)
		},
	}
	c.Flags().StringVarP(&o.Format, "output", "o", "", "json: print the checks as JSON")
	return c
}

func runDoctor(ctx context.Context, o *doctorOptions) error {
	m, err := o.Manager()
	if err != nil {
		fmt.Fprintln(o.IO.ErrOut, "✗ config: the config file cannot be used:")
		return err
	}
	checks := m.Doctor(ctx)
	failed := 0
	for _, ch := range checks {
		if !ch.OK {
			failed++
		}
	}
	if o.Format == formatJSON {
		if _, err := printData(o.IO.Out, formatJSON, checks); err != nil {
			return err
		}
	} else {
		printDoctor(o.IO, checks)
	}
	if failed > 0 {
		return withCode(ExitError, fmt.Errorf("%d checks failed", failed))
	}
	return nil
}

// printDoctor writes one line per check, with its fix under it.
func printDoctor(ios *IOStreams, checks []profiles.DoctorCheck) {
	st := newStyles()
	w := ios.ColorOut()
	for _, ch := range checks {
		mark := st.good.Render("✓")
		switch {
		case !ch.OK:
			mark = st.bad.Render("✗")
		case ch.Warn:
			mark = st.warn.Render("!")
		}
		fmt.Fprintf(w, "%s %-12s %s\n", mark, ch.Name, ch.Detail)
		if ch.Fix != "" {
			fmt.Fprintf(w, "  %-12s fix: %s\n", "", ch.Fix)
		}
	}
}
