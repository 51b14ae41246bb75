package cmd

import (
	"context"
	"fmt"

	"charm.land/lipgloss/v2"
	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/profiles"
)

type verifyOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	Names       []string
	All         bool
	Concurrency int
	Format      string
	Quiet       bool
}

func newProfilesVerifyCmd(f *Factory, runF func(*verifyOptions) error) *cobra.Command {
	o := &verifyOptions{IO: f.IO, Manager: f.Manager}
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
			return runWith(c.Context(), o, runF, runVerify)
		},
	}
	c.Flags().BoolVarP(&o.All, "all", "a", false, "every profile")
	c.Flags().IntVarP(&o.Concurrency, "concurrency", "c", profiles.DefaultConcurrency, "profiles checked at once")
	c.Flags().StringVarP(&o.Format, "output", "o", "", "json: print the results as JSON")
	c.Flags().BoolVarP(&o.Quiet, "quiet", "q", false, "print nothing; only the exit code")
	return c
}

// verified is what a verify found: the verified profiles as they now
// stand, by name, and their tally.
type verified struct {
	results []profiles.VerifyResult
	byName  map[string]profiles.View
	sum     profiles.CheckResult
	failed  int // results whose question could not be answered
}

func runVerify(ctx context.Context, o *verifyOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	results, err := m.Verify(ctx, o.Names, o.All, o.Concurrency)
	if err != nil && results == nil {
		return err
	}
	v, lerr := collectVerified(ctx, m, results)
	if lerr != nil {
		return lerr
	}
	if perr := reportVerify(o, v); perr != nil {
		return perr
	}
	notifyAfter(ctx, warnUnless(o.Quiet, o.IO.ErrOut), m, profiles.Filter{}, nil)
	if err != nil {
		return err
	}
	// Nothing known to be wrong but not everything could be asked is exit
	// 1: a cron job must not take that for "all fine".
	if code := v.sum.ExitCode(v.failed); code != ExitOK {
		return withCode(code, nil)
	}
	return nil
}

// collectVerified reads the verified profiles' statuses once the answers
// are recorded, and tallies them (profiles.Summarize).
func collectVerified(ctx context.Context, m *profiles.Manager, results []profiles.VerifyResult) (verified, error) {
	v := verified{results: results, byName: map[string]profiles.View{}}
	names := map[string]bool{}
	for _, r := range results {
		names[r.Name] = true
		if r.Failed {
			v.failed++
		}
	}
	views, err := m.List(ctx, profiles.Filter{})
	if err != nil {
		return v, err
	}
	var list []profiles.View
	for _, view := range views {
		if names[view.Name] {
			v.byName[view.Name] = view
			list = append(list, view)
		}
	}
	v.sum = profiles.Summarize(list)
	return v, nil
}

func reportVerify(o *verifyOptions, v verified) error {
	switch {
	case o.Quiet:
		return nil
	case o.Format == formatJSON:
		_, err := printList(o.IO.Out, formatJSON, v.results)
		return err
	}
	st := newStyles()
	rows := make([][]string, len(v.results))
	for i, r := range v.results {
		rows[i] = []string{"", r.Name, string(v.byName[r.Name].Status), verifyAnswer(r)}
	}
	_ = renderTable(o.IO.ColorErr(), false, nil, rows, func(row, col int) lipgloss.Style {
		if col == 2 {
			return st.status(v.byName[v.results[row].Name].Status)
		}
		return lipgloss.NewStyle()
	})
	fmt.Fprintf(o.IO.ErrOut, "%d verified: %d need action now, %d expiring, %d could not be checked.\n", len(v.results), len(v.sum.NeedAction), len(v.sum.Expiring), v.failed)
	return nil
}

// verifyAnswer is what the network said about one profile, in a few words.
func verifyAnswer(r profiles.VerifyResult) string {
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
	return what
}
