package cmd

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/profiles"
)

type refreshOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	Names          []string
	All            bool
	ExpiringWithin time.Duration
	Concurrency    int
	Format         string
}

func newRefreshCmd(f *Factory, runF func(*refreshOptions) error) *cobra.Command {
	o := &refreshOptions{IO: f.IO, Manager: f.Manager, Concurrency: profiles.DefaultConcurrency}
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
			return runWith(c.Context(), o, runF, runRefresh)
		},
	}
	c.Flags().BoolVarP(&o.All, "all", "a", false, "every connected profile")
	c.Flags().Var(durationFlag{&o.ExpiringWithin}, "expiring-within", "only profiles whose access or connection ends within this, such as 7d")
	c.Flags().IntVarP(&o.Concurrency, "concurrency", "c", profiles.DefaultConcurrency, "profiles renewed at once")
	c.Flags().StringVarP(&o.Format, "output", "o", "", "json: print the results as JSON")
	return c
}

func runRefresh(ctx context.Context, o *refreshOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	results, err := renew(ctx, o, m)
	if err != nil && results == nil {
		return err
	}
	t := tallyRenewals(results)
	if o.Format == formatJSON {
		if _, err := printList(o.IO.Out, formatJSON, results); err != nil {
			return err
		}
	} else {
		reportRefresh(o.IO, results)
		t.print(o.IO.ErrOut)
	}
	if len(t.lost) > 0 {
		fmt.Fprintf(o.IO.ErrOut, "Stopped while their renewal was in flight, so the network may have replaced their refresh token: %s. Check with `sbctl profiles verify %s`.\n",
			strings.Join(t.lost, ", "), strings.Join(t.lost, " "))
	}
	notifyAfter(ctx, o.IO.ErrOut, m, profiles.Filter{}, results)
	if err != nil {
		return err
	}
	return t.exitErr()
}

// exitErr is how renewals become an exit code (SPEC's table), for
// `sbctl refresh` and `sbctl agent --once` alike: 1 when one failed, else
// 4 when one needs a reauth, else 0.
func (t renewalTally) exitErr() error {
	switch {
	case t.failed > 0:
		return withCode(ExitError, nil)
	case t.reauth > 0:
		return withCode(ExitNeedsReauth, nil)
	}
	return nil
}

// renew runs the renewals with a progress line on a terminal, and says
// what an interruption does while they run.
func renew(ctx context.Context, o *refreshOptions, m *profiles.Manager) ([]profiles.RenewResult, error) {
	ropts := profiles.RefreshOptions{Names: o.Names, All: o.All, ExpiringWithin: o.ExpiringWithin, Concurrency: o.Concurrency}
	if o.Format == "" && o.IO.StartProgress("Refreshing…") {
		ropts.Progress = func(done, total int, _ profiles.RenewResult) {
			o.IO.UpdateProgress("%d/%d", done, total)
		}
	}
	stopNotice := context.AfterFunc(ctx, func() {
		fmt.Fprintf(o.IO.ErrOut, "\nInterrupted: no new renewals start; those already sent finish and store their answer (up to %s). Ctrl-C again stops them now.\n", profiles.GracePeriod)
	})
	results, err := m.Refresh(ctx, ropts)
	stopNotice()
	o.IO.StopProgress()
	return results, err
}

// renewalTally counts a refresh's outcomes for its summary line and exit
// code.
type renewalTally struct {
	renewed, fresh, reauth, failed, notRenewable, notStarted int
	lost                                                     []string // may have lost their grant (profiles.RenewResult.MayHaveLost)
}

func tallyRenewals(results []profiles.RenewResult) renewalTally {
	var t renewalTally
	for _, r := range results {
		if r.MayHaveLost {
			t.lost = append(t.lost, r.Name)
		}
		if r.Interrupted {
			t.notStarted++
			continue
		}
		switch r.Outcome {
		case profiles.OutcomeRenewed:
			t.renewed++
		case profiles.OutcomeFresh:
			t.fresh++
		case profiles.OutcomeNeedsReauth:
			t.reauth++
		case profiles.OutcomeFailed:
			t.failed++
		case profiles.OutcomeNotRenewable:
			t.notRenewable++
		}
	}
	return t
}

// print writes the summary line.
func (t renewalTally) print(w io.Writer) {
	fmt.Fprintf(w, "%d renewed, %d still fresh, %d need re-authentication, %d failed", t.renewed, t.fresh, t.reauth, t.failed)
	if t.notRenewable > 0 {
		fmt.Fprintf(w, ", %d cannot be renewed now (see above)", t.notRenewable)
	}
	if t.notStarted > 0 {
		fmt.Fprintf(w, ", %d not started (interrupted)", t.notStarted)
	}
	fmt.Fprintln(w, ".")
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
			style, what = st.good, "access expires "+profiles.When(r.ExpiresAt, now, ios.ErrTTY)
		case profiles.OutcomeNeedsReauth:
			style = st.bad
			if r.Reason != "" {
				what = string(r.Reason) + ": " + what
			}
			what += " — run `sbctl reauth " + r.Name + "`"
		case profiles.OutcomeFailed:
			style = st.bad
		case profiles.OutcomeNotRenewable:
			style = st.warn
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
