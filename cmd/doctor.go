package cmd

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newDoctorCmd(f *Factory) *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "doctor",
		Short: "Check the config, keychain, browser and clock, and say how to fix problems",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if format != "" && format != formatJSON {
				return usageErr("doctor prints only json (-o json)")
			}
			m, err := f.Manager()
			if err != nil {
				fmt.Fprintln(f.IO.ErrOut, "✗ config: the config file cannot be used:")
				return err
			}
			checks := m.Doctor(c.Context())
			failed := 0
			for _, ch := range checks {
				if !ch.OK {
					failed++
				}
			}
			if format == formatJSON {
				if _, err := printData(f.IO.Out, formatJSON, checks); err != nil {
					return err
				}
			} else {
				st := newStyles()
				w := f.IO.ColorOut()
				for _, ch := range checks {
					mark := st.ok.Render("✓")
					switch {
					case !ch.OK:
						mark = st.red.Render("✗")
					case ch.Warn:
						mark = st.expiring.Render("!")
					}
					fmt.Fprintf(w, "%s %-12s %s\n", mark, ch.Name, ch.Detail)
					if ch.Fix != "" {
						fmt.Fprintf(w, "  %-12s fix: %s\n", "", ch.Fix)
					}
				}
			}
			if failed > 0 {
				return withCode(ExitError, fmt.Errorf("%d checks failed", failed))
			}
			return nil
		},
	}
	c.Flags().StringVarP(&format, "output", "o", "", "json: print the checks as JSON")
	return c
}
