package cmd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/profiles"
)

type refreshOptions struct {
	Names          []string
	All            bool
	ExpiringWithin time.Duration
	Concurrency    int
	Format         string
}

func newRefreshCmd(f *Factory) *cobra.Command {
	o := &refreshOptions{Concurrency: profiles.DefaultConcurrency}
	c := &cobra.Command{
		Use:   "refresh [<name>...|--all] [--expiring-within DUR]",
		Short: "Renew access before it expires, without the browser",
		Long: `Renew profiles' access without the browser where the network allows it:
the refresh_token grant (rotating or not), Meta's long-lived token exchange
(facebook), ig_refresh_token (instagram) and th_refresh_token (threads).

Named profiles are always renewed; --all renews every connected profile;
--expiring-within keeps only those whose access or connection ends within
the window. Profiles that only 'sbctl reauth' can help are listed, not
contacted.

Exit codes: 0 all renewed (or fresh), 4 some need re-authentication,
1 errors (network, configuration).`,
		Example: `  sbctl refresh acme-x
  sbctl refresh --all --expiring-within 7d      # a cron line
  sbctl refresh --all -o json | jq '.[] | select(.outcome != "renewed")'`,
		ValidArgsFunction: completeProfiles(f),
		RunE: func(c *cobra.Command, args []string) error {
			o.Names = args
			if len(args) == 0 && !o.All {
				return usageErr("name profiles to refresh, or use --all")
			}
			if err := profiles.CheckConcurrency(o.Concurrency); err != nil {
				return err
			}
			if o.Format != "" && o.Format != formatJSON {
				return usageErr("refresh prints only json (-o json)")
			}
			return runRefresh(c, f, o)
		},
	}
	c.Flags().BoolVarP(&o.All, "all", "a", false, "every connected profile")
	c.Flags().Var(durationFlag{&o.ExpiringWithin}, "expiring-within", "only profiles whose access or connection ends within this, such as 7d")
	c.Flags().IntVarP(&o.Concurrency, "concurrency", "c", profiles.DefaultConcurrency, "profiles renewed at once")
	c.Flags().StringVarP(&o.Format, "output", "o", "", "json: print the results as JSON")
	return c
}

func runRefresh(c *cobra.Command, f *Factory, o *refreshOptions) error {
	m, err := f.Manager()
	if err != nil {
		return err
	}
	ropts := profiles.RefreshOptions{Names: o.Names, All: o.All, ExpiringWithin: o.ExpiringWithin, Concurrency: o.Concurrency}
	if f.IO.ErrTTY && o.Format == "" {
		ropts.Progress = func(done, total int, r profiles.RenewResult) {
			fmt.Fprintf(f.IO.ErrOut, "\r\x1b[2KRefreshing… %d/%d", done, total)
		}
	}
	stopNotice := context.AfterFunc(c.Context(), func() {
		fmt.Fprintf(f.IO.ErrOut, "\nInterrupted: no new renewals start; those already sent finish and store their answer (up to %s). Ctrl-C again stops them now.\n", profiles.GracePeriod)
	})
	results, err := m.Refresh(c.Context(), ropts)
	stopNotice()
	if ropts.Progress != nil {
		fmt.Fprint(f.IO.ErrOut, "\r\x1b[2K")
	}
	if err != nil && results == nil {
		return err
	}
	var renewed, fresh, reauth, failed, notRenewable, notStarted int
	var lost []string
	for _, r := range results {
		if r.MayHaveLost {
			lost = append(lost, r.Name)
		}
		if r.Interrupted {
			notStarted++
			continue
		}
		switch r.Outcome {
		case profiles.OutcomeRenewed:
			renewed++
		case profiles.OutcomeFresh:
			fresh++
		case profiles.OutcomeNeedsReauth:
			reauth++
		case profiles.OutcomeFailed:
			failed++
		case profiles.OutcomeNotRenewed:
			notRenewable++
		}
	}
	if o.Format == formatJSON {
		if _, err := printList(f.IO.Out, formatJSON, results); err != nil {
			return err
		}
	} else {
		reportRefresh(f.IO, results)
		fmt.Fprintf(f.IO.ErrOut, "%d renewed, %d still fresh, %d need re-authentication, %d failed", renewed, fresh, reauth, failed)
		if notRenewable > 0 {
			fmt.Fprintf(f.IO.ErrOut, ", %d cannot be renewed now (see above)", notRenewable)
		}
		if notStarted > 0 {
			fmt.Fprintf(f.IO.ErrOut, ", %d not started (interrupted)", notStarted)
		}
		fmt.Fprintln(f.IO.ErrOut, ".")
	}
	if len(lost) > 0 {
		fmt.Fprintf(f.IO.ErrOut, "Stopped while their renewal was in flight, so the network may have replaced their refresh token: %s. Check with `sbctl profiles verify %s`.\n",
			strings.Join(lost, ", "), strings.Join(lost, " "))
	}
	switch {
	case err != nil:
		return err
	case failed > 0:
		return withCode(ExitError, nil)
	case reauth > 0:
		return withCode(ExitNeedsReauth, nil)
	}
	return nil
}

// reportRefresh lists what was renewed and what needs attention; fresh
// profiles are counted, not listed.
func reportRefresh(ios *IOStreams, results []profiles.RenewResult) {
	st := newStyles()
	now := ios.Now()
	var rows [][]string
	var styles []lipgloss.Style
	for _, r := range results {
		var style lipgloss.Style
		what := r.Message
		if r.Interrupted {
			continue // counted in the summary, not listed one by one
		}
		switch r.Outcome {
		case profiles.OutcomeFresh:
			continue
		case profiles.OutcomeRenewed:
			style, what = st.ok, "access expires "+when(r.ExpiresAt, now, ios.ErrTTY)
		case profiles.OutcomeNeedsReauth:
			style = st.red
			if r.Reason != "" {
				what = string(r.Reason) + ": " + what
			}
			what += " — run `sbctl reauth " + r.Name + "`"
		case profiles.OutcomeFailed:
			style = st.red
		case profiles.OutcomeNotRenewed:
			style = st.expiring
		}
		rows = append(rows, []string{"", r.Name, string(r.Outcome), oneLine(what)})
		styles = append(styles, style)
	}
	if len(rows) == 0 {
		return
	}
	_ = renderTable(ios.ColorErr(), false, nil, rows, func(row, col int) lipgloss.Style {
		if col == 2 {
			return styles[row]
		}
		return lipgloss.NewStyle()
	})
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
