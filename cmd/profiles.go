package cmd

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/profiles"
)

func newProfilesCmd(f *Factory) *cobra.Command {
	c := group("profiles", "List, check, add and remove connected profiles",
		newProfilesListCmd(f, nil),
		newProfilesCheckCmd(f, nil),
		newProfilesShowCmd(f, nil),
		newProfilesVerifyCmd(f, nil),
		newProfilesAddCmd(f, nil),
		newProfilesRemoveCmd(f, nil),
	)
	c.Aliases = []string{"profile", "p"}
	return c
}

// listOptions are `profiles list`'s (and `groups show`'s) flags.
type listOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	// Filter is what the flags select; its Statuses come from statuses.
	Filter   profiles.Filter
	statuses []string
	Format   string
}

// parseStatuses fills Filter.Statuses from --status (repeated or
// comma-separated).
func (o *listOptions) parseStatuses() error {
	o.Filter.Statuses = nil
	for _, s := range o.statuses {
		for _, one := range strings.Split(s, ",") {
			st, err := profiles.ParseStatus(strings.TrimSpace(one))
			if err != nil {
				return err
			}
			o.Filter.Statuses = append(o.Filter.Statuses, st)
		}
	}
	return nil
}

func addFilterFlags(c *cobra.Command, f *Factory, o *listOptions) {
	c.Flags().StringVarP(&o.Filter.Group, "group", "g", "", "only profiles in this group")
	c.Flags().StringVarP(&o.Filter.Provider, "provider", "p", "", "only profiles on this provider")
	c.Flags().Var(durationFlag{&o.Filter.ExpiringWithin}, "expiring-within", "the window for status expiring, such as 12h or 30d (default: the config's, 7d)")
	_ = c.RegisterFlagCompletionFunc("group", completeGroups(f))
	_ = c.RegisterFlagCompletionFunc("provider", completeProviders(f))
}

func newProfilesListCmd(f *Factory, runF func(*listOptions) error) *cobra.Command {
	o := &listOptions{IO: f.IO, Manager: f.Manager}
	c := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List profiles with the health of their connection",
		Long: `List every profile with its status:

  ok             connected; renews by itself or is far from expiry
  expiring       the connection ends within the window (--expiring-within)
  expired        the connection ended
  needs_reauth   the network rejected the grant (the reason says why)
  not_connected  no token stored
  unknown        the last check could not be completed (see its detail)

On a terminal, times are relative and rows are coloured; in a pipe the
table is plain text with RFC 3339 times. -o json gives every field.`,
		Example: `  sbctl profiles list
  sbctl profiles list --group marketing --status expired,needs_reauth
  sbctl profiles list -o json | jq -r '.[] | select(.status != "ok") | .name'`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkFormat(o.Format); err != nil {
				return err
			}
			if err := o.parseStatuses(); err != nil {
				return err
			}
			return runWith(c.Context(), o, runF, runList)
		},
	}
	addFilterFlags(c, f, o)
	c.Flags().StringSliceVarP(&o.statuses, "status", "s", nil, "only profiles with this status (repeat or comma-separate)")
	_ = c.RegisterFlagCompletionFunc("status", cobra.FixedCompletions(statusNames(), cobra.ShellCompDirectiveNoFileComp))
	addFormatFlag(c, &o.Format)
	return c
}

func statusNames() []string {
	out := make([]string, len(profiles.Statuses))
	for i, s := range profiles.Statuses {
		out[i] = string(s)
	}
	return out
}

func runList(ctx context.Context, o *listOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	views, err := m.List(ctx, o.Filter)
	if err != nil {
		return err
	}
	if ok, err := printList(o.IO.Out, o.Format, views); ok {
		return err
	}
	if len(views) == 0 {
		if len(m.ProfileNames()) == 0 {
			fmt.Fprintf(o.IO.ErrOut, "No profiles yet. Add one with `sbctl profiles add <name> --provider <provider>` (config: %s).\n", m.ConfigPath())
		} else {
			fmt.Fprintln(o.IO.ErrOut, "No profiles match.")
		}
		return nil
	}
	if err := printProfileTable(o.IO, views); err != nil {
		return err
	}
	if o.IO.ErrTTY {
		printSummary(o.IO, views, m.Window(o.Filter))
	}
	return nil
}

// profileHeaders are the table's columns, in profiles.Column order (the
// order both front ends show).
var profileHeaders = []string{
	profiles.ColName:     "NAME",
	profiles.ColProvider: "PROVIDER",
	profiles.ColAccount:  "ACCOUNT",
	profiles.ColGroups:   "GROUPS",
	profiles.ColStatus:   "STATUS",
	profiles.ColExpires:  "EXPIRES",
	profiles.ColReason:   "REASON",
}

// printProfileTable prints the profiles as a table. A pipe gets every
// column in full (scripts parse it); a terminal of known width gets the
// columns that fit, by the rule the TUI follows too (profiles.FitColumns):
// NAME cut first, then PROVIDER, ACCOUNT and GROUPS dropped, and the
// reason folded into the status cell rather than lost.
func printProfileTable(ios *IOStreams, views []profiles.View) error {
	now := ios.Now()
	st := newStyles()
	rows := make([][]string, len(views))
	for i, v := range views {
		row := make([]string, len(profileHeaders))
		row[profiles.ColName] = v.Name
		row[profiles.ColProvider] = v.Provider
		row[profiles.ColAccount] = profiles.Dash(deref(v.Account))
		row[profiles.ColGroups] = profiles.Dash(strings.Join(v.Groups, ","))
		row[profiles.ColStatus] = string(v.Status)
		row[profiles.ColExpires] = profiles.When(v.ConnectionExpiresAt, now, ios.OutTTY)
		row[profiles.ColReason] = profiles.Dash(deref(v.Reason))
		rows[i] = row
	}
	headers, cols := profileHeaders, allColumns()
	if width := ios.TerminalWidth(); width > 0 {
		fit := profiles.FitColumns(width, measureProfileTable(rows, views))
		headers, rows = fitProfileTable(fit, rows, views)
		cols = fit.Columns
	}
	return renderTable(ios.ColorOut(), ios.OutTTY, headers, rows, func(row, col int) lipgloss.Style {
		return st.tone(views[row].CellTone(cols[col]))
	})
}

func allColumns() []profiles.Column {
	cols := make([]profiles.Column, profiles.NumColumns)
	for i := range cols {
		cols[i] = profiles.Column(i)
	}
	return cols
}

// measureProfileTable is what FitColumns needs: each column's widest cell
// (its header included) and the widest status cell with the reason in it.
func measureProfileTable(rows [][]string, views []profiles.View) profiles.ColumnWidths {
	var m profiles.ColumnWidths
	for c, h := range profileHeaders {
		m.Natural[c] = lipgloss.Width(h)
	}
	m.Folded = m.Natural[profiles.ColStatus]
	for i, row := range rows {
		for c, cell := range row {
			m.Natural[c] = max(m.Natural[c], lipgloss.Width(cell))
		}
		m.Folded = max(m.Folded, lipgloss.Width(profiles.StatusWithReason(&views[i])))
	}
	return m
}

// fitProfileTable keeps fit's columns, each cell cut to its width with an
// ellipsis; with the reason folded, the status cell carries it.
func fitProfileTable(fit profiles.ColumnFit, rows [][]string, views []profiles.View) ([]string, [][]string) {
	headers := make([]string, len(fit.Columns))
	for i, c := range fit.Columns {
		headers[i] = cutCell(profileHeaders[c], fit.Widths[i])
	}
	out := make([][]string, len(rows))
	for r, row := range rows {
		cells := make([]string, len(fit.Columns))
		for i, c := range fit.Columns {
			s := row[c]
			if c == profiles.ColStatus && fit.FoldReason {
				s = profiles.StatusWithReason(&views[r])
			}
			cells[i] = cutCell(s, fit.Widths[i])
		}
		out[r] = cells
	}
	return headers, out
}

// cutCell cuts s to w cells, marking the cut with "…".
func cutCell(s string, w int) string {
	if lipgloss.Width(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// printSummary tells a person at a terminal what needs doing.
func printSummary(ios *IOStreams, views []profiles.View, window time.Duration) {
	r := profiles.Summarize(views)
	st := newStyles()
	w := ios.ColorErr()
	if r.Healthy() {
		fmt.Fprintln(w, st.good.Render(fmt.Sprintf("All %d profiles are healthy.", len(views))))
		return
	}
	var parts []string
	if n := len(r.NeedAction); n > 0 {
		parts = append(parts, st.bad.Render(fmt.Sprintf("%d need re-authentication", n)))
	}
	if n := len(r.Expiring); n > 0 {
		parts = append(parts, st.warn.Render(fmt.Sprintf("%d expiring within %s", n, profiles.FormatDuration(window))))
	}
	if n := len(r.Unknown); n > 0 {
		parts = append(parts, fmt.Sprintf("%d unknown (could not be checked)", n))
	}
	text := fmt.Sprintf("%s of %d profiles. %s", strings.Join(parts, ", "), len(views), nextStep(r))
	if width := ios.errTerminalWidth(); width > 0 {
		// Broken at spaces by us rather than anywhere by the terminal,
		// like the table above it.
		text = ansi.Wrap(text, width, "")
	}
	fmt.Fprintf(w, "\n%s\n", text)
}

// nextStep is the command that helps most with what r found.
func nextStep(r profiles.CheckResult) string {
	if len(r.NeedAction) > 0 || len(r.Expiring) > 0 {
		return "Run `sbctl reauth <name>` to reconnect."
	}
	return "Run `sbctl profiles verify <name>` to check again."
}

type checkOptions struct {
	listOptions
	Quiet bool
}

func newProfilesCheckCmd(f *Factory, runF func(*checkOptions) error) *cobra.Command {
	o := &checkOptions{listOptions: listOptions{IO: f.IO, Manager: f.Manager}}
	c := &cobra.Command{
		Use:   "check",
		Short: "Health check for cron and CI: the exit code says what needs attention",
		Long: `Check every profile (or a group / provider) and exit with:

  0  every profile is known to be fine
  3  some profile needs action now: expired, needs_reauth or not_connected
  4  nothing needs action now, but some expire within the window
     (--expiring-within, default 7d)
  1  nothing needs action or expires, but some profile's status is unknown
     (its last check failed: network, keychain, server)

Precedence: 3 > 4 > 1 > 0. The profiles that need attention are listed on
stderr (or as JSON on stdout with -o json).`,
		Example: `  sbctl profiles check || notify-team "sbctl: profiles need re-authentication"
  sbctl profiles check --expiring-within 14d --group marketing`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if o.Format != "" && o.Format != formatJSON {
				return usageErr("profiles check prints only json (-o json)")
			}
			return runWith(c.Context(), o, runF, runCheck)
		},
	}
	addFilterFlags(c, f, &o.listOptions)
	c.Flags().BoolVarP(&o.Quiet, "quiet", "q", false, "print nothing; only the exit code")
	c.Flags().StringVarP(&o.Format, "output", "o", "", "json: print the profiles that need attention as JSON")
	return c
}

func runCheck(ctx context.Context, o *checkOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	r, err := m.Check(ctx, o.Filter)
	if err != nil {
		return err
	}
	switch {
	case o.Quiet:
	case o.Format == formatJSON:
		bad := append(append(append([]profiles.View{}, r.NeedAction...), r.Expiring...), r.Unknown...)
		if _, err := printData(o.IO.Out, formatJSON, bad); err != nil {
			return err
		}
	default:
		reportCheck(o.IO, r, m.Window(o.Filter))
	}
	notifyAfter(ctx, warnUnless(o.Quiet, o.IO.ErrOut), m, o.Filter, nil)
	if code := r.ExitCode(0); code != ExitOK {
		return withCode(code, nil)
	}
	return nil
}

func reportCheck(ios *IOStreams, r profiles.CheckResult, window time.Duration) {
	w := ios.ColorErr()
	st := newStyles()
	now := ios.Now()
	list := func(views []profiles.View, showWhen bool) {
		rows := make([][]string, len(views))
		for i, v := range views {
			why := v.Detail
			if v.Reason != nil {
				why = *v.Reason + ": " + why
			}
			if showWhen {
				why += " (" + profiles.When(v.ConnectionExpiresAt, now, true) + ")"
			}
			rows[i] = []string{"", v.Name, string(v.Status), oneLine(why)}
		}
		_ = renderTable(w, false, nil, rows, func(row, col int) lipgloss.Style {
			if col == 2 {
				return st.status(views[row].Status)
			}
			return lipgloss.NewStyle()
		})
	}
	if r.Healthy() {
		fmt.Fprintln(w, st.good.Render(fmt.Sprintf("All %d profiles are healthy.", r.Total)))
		return
	}
	if len(r.NeedAction) > 0 {
		fmt.Fprintln(w, st.bad.Render(fmt.Sprintf("%d of %d profiles need action now:", len(r.NeedAction), r.Total)))
		list(r.NeedAction, false)
	}
	if len(r.Expiring) > 0 {
		fmt.Fprintln(w, st.warn.Render(fmt.Sprintf("%d of %d profiles expire within %s:", len(r.Expiring), r.Total, profiles.FormatDuration(window))))
		list(r.Expiring, true)
	}
	if len(r.Unknown) > 0 {
		fmt.Fprintf(w, "%d of %d profiles could not be checked (status unknown):\n", len(r.Unknown), r.Total)
		list(r.Unknown, false)
	}
	if len(r.NeedAction) > 0 || len(r.Expiring) > 0 {
		fmt.Fprintln(w, "Run `sbctl reauth <name>` to reconnect a profile.")
	}
	if len(r.Unknown) > 0 {
		fmt.Fprintln(w, "Run `sbctl profiles verify <name>` to check again; `sbctl doctor` finds keychain and network problems.")
	}
}

type showOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	Name           string
	Format         string
	ExpiringWithin time.Duration
}

func newProfilesShowCmd(f *Factory, runF func(*showOptions) error) *cobra.Command {
	o := &showOptions{IO: f.IO, Manager: f.Manager}
	c := &cobra.Command{
		Use:               "show <name>",
		Short:             "Show one profile in detail, with what to do about it",
		Args:              exactArgs(1, "one profile name"),
		ValidArgsFunction: completeProfiles(f),
		RunE: func(c *cobra.Command, args []string) error {
			o.Name = args[0]
			if err := checkFormat(o.Format); err != nil {
				return err
			}
			return runWith(c.Context(), o, runF, runShow)
		},
	}
	addFormatFlag(c, &o.Format)
	c.Flags().Var(durationFlag{&o.ExpiringWithin}, "expiring-within", "the window for status expiring (default: the config's, 7d)")
	return c
}

func runShow(ctx context.Context, o *showOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	v, err := m.Show(ctx, o.Name, o.ExpiringWithin)
	if err != nil {
		return err
	}
	if ok, err := printData(o.IO.Out, o.Format, v); ok {
		return err
	}
	printProfileDetail(o.IO.ColorOut(), v, o.IO.Now())
	return nil
}

// printProfileDetail lays out the domain's detail fields (profiles.Details)
// and its advice, phrased as a command.
func printProfileDetail(w io.Writer, v profiles.View, now time.Time) {
	st := newStyles()
	fmt.Fprintln(w, st.bold.Render(v.Name))
	for _, fl := range profiles.Details(v, now) {
		val := fl.Value
		if fl.Tone != profiles.ToneNeutral {
			val = st.tone(fl.Tone).Render(val)
		}
		fmt.Fprintf(w, "  %-16s %s\n", fl.Label+":", val)
	}
	if todo := whatToDo(v); todo != "" {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "  "+todo)
	}
}

// whatToDo finishes the domain's advice (profiles.AdviceFor) with the
// command that does it.
func whatToDo(v profiles.View) string {
	a := profiles.AdviceFor(v)
	var how string
	switch a.Action {
	case profiles.ActionConnect, profiles.ActionReauth, profiles.ActionReauthBeforeEnd:
		how = "sbctl reauth " + v.Name
	case profiles.ActionRenew:
		how = fmt.Sprintf("sbctl refresh %s (or sbctl reauth %s)", v.Name, v.Name)
	case profiles.ActionRecheck:
		how = fmt.Sprintf("sbctl profiles verify %s asks again.", v.Name)
	default:
		return ""
	}
	msg := a.Say + ": " + how
	if a.Hint != "" {
		msg += " (" + a.Hint + ")"
	}
	return msg
}
