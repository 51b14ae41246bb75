package cmd

import (
	"fmt"

	"charm.land/lipgloss/v2"
	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/profiles"
)

type verifyOptions struct {
	Names       []string
	All         bool
	Concurrency int
	Format      string
	Quiet       bool
}

func newProfilesVerifyCmd(f *Factory) *cobra.Command {
	o := &verifyOptions{}
	c := &cobra.Command{
		Use:   "verify [<name>...|--all]",
		Short: "Ask each network whether a profile's grant is still good",
		Long: `Ask each profile's network whether its grant still works — RFC 7662
introspection, Meta's debug_token, Google's tokeninfo, or a userinfo / "me"
call — and record the answer: a revoked grant or a changed password marks
the profile needs_reauth with its reason, before a scheduled post fails.

Exits like 'profiles check': 3 if a verified profile needs action now
(including one whose token is no longer stored), 4 if some only expire
within the window, 1 if some could not be checked (network, keychain,
server) or are unknown, 0 otherwise.`,
		Example:           "  sbctl profiles verify --all\n  sbctl profiles verify acme-x acme-fb",
		ValidArgsFunction: completeProfiles(f),
		RunE: func(c *cobra.Command, args []string) error {
			o.Names = args
			if len(args) == 0 && !o.All {
				return usageErr("name profiles to verify, or use --all")
			}
			if o.Format != "" && o.Format != formatJSON {
				return usageErr("verify prints only json (-o json)")
			}
			if err := profiles.CheckConcurrency(o.Concurrency); err != nil {
				return err
			}
			return runVerify(c, f, o)
		},
	}
	c.Flags().BoolVarP(&o.All, "all", "a", false, "every profile")
	c.Flags().IntVarP(&o.Concurrency, "concurrency", "c", profiles.DefaultConcurrency, "profiles checked at once")
	c.Flags().StringVarP(&o.Format, "output", "o", "", "json: print the results as JSON")
	c.Flags().BoolVarP(&o.Quiet, "quiet", "q", false, "print nothing; only the exit code")
	return c
}

func runVerify(c *cobra.Command, f *Factory, o *verifyOptions) error {
	m, err := f.Manager()
	if err != nil {
		return err
	}
	results, err := m.Verify(c.Context(), o.Names, o.All, o.Concurrency)
	if err != nil && results == nil {
		return err
	}
	names := map[string]bool{}
	for _, r := range results {
		names[r.Name] = true
	}
	views, lerr := m.List(c.Context(), profiles.Filter{})
	if lerr != nil {
		return lerr
	}
	byName := map[string]profiles.View{}
	var verified []profiles.View
	for _, v := range views {
		if names[v.Name] {
			byName[v.Name] = v
			verified = append(verified, v)
		}
	}
	sum := profiles.Summarize(verified)
	failed := 0
	for _, r := range results {
		if r.Failed {
			failed++
		}
	}
	switch {
	case o.Quiet:
	case o.Format == formatJSON:
		if _, err := printList(f.IO.Out, formatJSON, results); err != nil {
			return err
		}
	default:
		st := newStyles()
		rows := make([][]string, len(results))
		for i, r := range results {
			v := byName[r.Name]
			what := "valid"
			switch {
			case r.Failed:
				what = "could not check: " + oneLine(r.Message)
			case !r.Valid && r.Message != "":
				what = oneLine(r.Message)
			}
			if r.Check != "" {
				what += " (" + r.Check + ")"
			}
			rows[i] = []string{"", r.Name, string(v.Status), what}
		}
		_ = renderTable(f.IO.ColorErr(), false, nil, rows, func(row, col int) lipgloss.Style {
			if col == 2 {
				return st.status(byName[results[row].Name].Status)
			}
			return lipgloss.NewStyle()
		})
		fmt.Fprintf(f.IO.ErrOut, "%d verified: %d need action now, %d expiring, %d could not be checked.\n", len(results), len(sum.NeedAction), len(sum.Expiring), failed)
	}
	if err != nil {
		return err
	}
	// Nothing known to be wrong but not everything could be asked is exit
	// 1: a cron job must not take that for "all fine".
	if code := sum.ExitCode(failed); code != ExitOK {
		return withCode(code, nil)
	}
	return nil
}
