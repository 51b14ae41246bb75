package cmd

import (
	"fmt"
	"io"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/config"
	"github.com/sbctl/sbctl/profiles"
)

func newProfilesCmd(f *Factory) *cobra.Command {
	c := group("profiles", "List, check, add and remove connected profiles",
		newProfilesListCmd(f),
		newProfilesCheckCmd(f),
		newProfilesShowCmd(f),
		newProfilesVerifyCmd(f),
		newProfilesAddCmd(f),
		newProfilesRemoveCmd(f),
	)
	c.Aliases = []string{"profile", "p"}
	return c
}

// durationFlag parses --expiring-within style values ("7d").
type durationFlag struct{ d *time.Duration }

func (v durationFlag) String() string {
	if v.d == nil || *v.d == 0 {
		return ""
	}
	return config.FormatDuration(*v.d)
}
func (v durationFlag) Set(s string) error {
	d, err := config.ParseDuration(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}
func (durationFlag) Type() string { return "duration" }

// listOptions are `profiles list`'s flags.
type listOptions struct {
	Group          string
	Statuses       []string
	Provider       string
	ExpiringWithin time.Duration
	Format         string
}

func (o *listOptions) filter() (profiles.Filter, error) {
	flt := profiles.Filter{Group: o.Group, Provider: o.Provider, ExpiringWithin: o.ExpiringWithin}
	for _, s := range o.Statuses {
		for _, one := range strings.Split(s, ",") {
			st, err := profiles.ParseStatus(strings.TrimSpace(one))
			if err != nil {
				return flt, err
			}
			flt.Statuses = append(flt.Statuses, st)
		}
	}
	return flt, nil
}

func addFilterFlags(c *cobra.Command, f *Factory, o *listOptions) {
	c.Flags().StringVarP(&o.Group, "group", "g", "", "only profiles in this group")
	c.Flags().StringVarP(&o.Provider, "provider", "p", "", "only profiles on this provider")
	c.Flags().Var(durationFlag{&o.ExpiringWithin}, "expiring-within", "the window for status expiring, such as 12h or 30d (default: the config's, 7d)")
	_ = c.RegisterFlagCompletionFunc("group", completeGroups(f))
	_ = c.RegisterFlagCompletionFunc("provider", completeProviders(f))
}

func newProfilesListCmd(f *Factory) *cobra.Command {
	o := &listOptions{}
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
			return runList(c, f, o)
		},
	}
	addFilterFlags(c, f, o)
	c.Flags().StringSliceVarP(&o.Statuses, "status", "s", nil, "only profiles with this status (repeat or comma-separate)")
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

func runList(c *cobra.Command, f *Factory, o *listOptions) error {
	if err := checkFormat(o.Format); err != nil {
		return err
	}
	flt, err := o.filter()
	if err != nil {
		return err
	}
	m, err := f.Manager()
	if err != nil {
		return err
	}
	views, err := m.List(c.Context(), flt)
	if err != nil {
		return err
	}
	if ok, err := printList(f.IO.Out, o.Format, views); ok {
		return err
	}
	if len(views) == 0 {
		if len(m.Config.Profiles) == 0 {
			fmt.Fprintf(f.IO.ErrOut, "No profiles yet. Add one with `sbctl profiles add <name> --provider <provider>` (config: %s).\n", m.Config.Path)
		} else {
			fmt.Fprintln(f.IO.ErrOut, "No profiles match.")
		}
		return nil
	}
	if err := printProfileTable(f.IO, views); err != nil {
		return err
	}
	if f.IO.ErrTTY {
		printSummary(f.IO, views, m.Window(flt))
	}
	return nil
}

func printProfileTable(ios *IOStreams, views []profiles.View) error {
	now := ios.Now()
	st := newStyles()
	headers := []string{"NAME", "PROVIDER", "ACCOUNT", "GROUPS", "STATUS", "EXPIRES", "REASON"}
	rows := make([][]string, len(views))
	for i, v := range views {
		account := "-"
		if v.Account != nil {
			account = *v.Account
		}
		groups := strings.Join(v.Groups, ",")
		if groups == "" {
			groups = "-"
		}
		reason := "-"
		if v.Reason != nil {
			reason = *v.Reason
		}
		rows[i] = []string{v.Name, v.Provider, account, groups, string(v.Status), when(v.ConnectionExpiresAt, now, ios.OutTTY), reason}
	}
	return renderTable(ios.ColorOut(), ios.OutTTY, headers, rows, func(row, col int) lipgloss.Style {
		s := views[row].Status
		switch {
		case col == 4:
			return st.status(s)
		case s.Tone() == profiles.ToneBad:
			if col == 0 || col == 6 {
				return st.red
			}
		case s.Tone() == profiles.ToneMuted:
			return st.dim
		}
		return lipgloss.NewStyle()
	})
}

// printSummary tells a person at a terminal what needs doing.
func printSummary(ios *IOStreams, views []profiles.View, window time.Duration) {
	r := profiles.Summarize(views)
	st := newStyles()
	w := ios.ColorErr()
	if r.Healthy() {
		fmt.Fprintln(w, st.ok.Render(fmt.Sprintf("All %d profiles are healthy.", len(views))))
		return
	}
	var parts []string
	if n := len(r.NeedAction); n > 0 {
		parts = append(parts, st.red.Render(fmt.Sprintf("%d need re-authentication", n)))
	}
	if n := len(r.Expiring); n > 0 {
		parts = append(parts, st.expiring.Render(fmt.Sprintf("%d expiring within %s", n, config.FormatDuration(window))))
	}
	if n := len(r.Unknown); n > 0 {
		parts = append(parts, fmt.Sprintf("%d unknown (could not be checked)", n))
	}
	fmt.Fprintf(w, "\n%s of %d profiles. %s\n", strings.Join(parts, ", "), len(views), nextStep(r))
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

func newProfilesCheckCmd(f *Factory) *cobra.Command {
	o := &checkOptions{}
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
			return runCheck(c, f, o)
		},
	}
	addFilterFlags(c, f, &o.listOptions)
	c.Flags().BoolVarP(&o.Quiet, "quiet", "q", false, "print nothing; only the exit code")
	c.Flags().StringVarP(&o.Format, "output", "o", "", "json: print the profiles that need attention as JSON")
	return c
}

func runCheck(c *cobra.Command, f *Factory, o *checkOptions) error {
	if o.Format != "" && o.Format != formatJSON {
		return usageErr("profiles check prints only json (-o json)")
	}
	flt, err := o.filter()
	if err != nil {
		return err
	}
	m, err := f.Manager()
	if err != nil {
		return err
	}
	r, err := m.Check(c.Context(), flt)
	if err != nil {
		return err
	}
	if o.Format == formatJSON && !o.Quiet {
		bad := append(append(append([]profiles.View{}, r.NeedAction...), r.Expiring...), r.Unknown...)
		if _, err := printData(f.IO.Out, formatJSON, bad); err != nil {
			return err
		}
	} else if !o.Quiet {
		reportCheck(f.IO, r, m.Window(flt))
	}
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
				why += " (" + when(v.ConnectionExpiresAt, now, true) + ")"
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
		fmt.Fprintln(w, st.ok.Render(fmt.Sprintf("All %d profiles are healthy.", r.Total)))
		return
	}
	if len(r.NeedAction) > 0 {
		fmt.Fprintln(w, st.red.Render(fmt.Sprintf("%d of %d profiles need action now:", len(r.NeedAction), r.Total)))
		list(r.NeedAction, false)
	}
	if len(r.Expiring) > 0 {
		fmt.Fprintln(w, st.expiring.Render(fmt.Sprintf("%d of %d profiles expire within %s:", len(r.Expiring), r.Total, config.FormatDuration(window))))
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
	Name           string
	Format         string
	ExpiringWithin time.Duration
}

func newProfilesShowCmd(f *Factory) *cobra.Command {
	o := &showOptions{}
	c := &cobra.Command{
		Use:               "show <name>",
		Short:             "Show one profile in detail, with what to do about it",
		Args:              exactArgs(1, "one profile name"),
		ValidArgsFunction: completeProfiles(f),
		RunE: func(c *cobra.Command, args []string) error {
			o.Name = args[0]
			return runShow(c, f, o)
		},
	}
	addFormatFlag(c, &o.Format)
	c.Flags().Var(durationFlag{&o.ExpiringWithin}, "expiring-within", "the window for status expiring (default: the config's, 7d)")
	return c
}

func runShow(c *cobra.Command, f *Factory, o *showOptions) error {
	if err := checkFormat(o.Format); err != nil {
		return err
	}
	m, err := f.Manager()
	if err != nil {
		return err
	}
	v, err := m.Show(c.Context(), o.Name, o.ExpiringWithin)
	if err != nil {
		return err
	}
	if ok, err := printData(f.IO.Out, o.Format, v); ok {
		return err
	}
	printProfileDetail(f.IO.ColorOut(), v, f.IO.Now())
	return nil
}

func printProfileDetail(w io.Writer, v profiles.View, now time.Time) {
	st := newStyles()
	field := func(k, val string) { fmt.Fprintf(w, "  %-16s %s\n", k+":", val) }
	fmt.Fprintln(w, st.bold.Render(v.Name))
	status := st.status(v.Status).Render(string(v.Status))
	if v.Reason != nil {
		status += " (" + *v.Reason + ")"
	}
	field("Status", status)
	if v.Detail != "" {
		field("Why", v.Detail)
	}
	field("Provider", v.Provider)
	account := "-"
	if v.Account != nil {
		account = *v.Account
	}
	if v.AccountID != nil && *v.AccountID != account {
		account += " (id " + *v.AccountID + ")"
	}
	field("Account", account)
	field("Groups", orDash(strings.Join(v.Groups, ", ")))
	field("Connection ends", whenLongOr(v.ConnectionExpiresAt, now, "not known to expire"))
	field("Access token", whenLongOr(v.ExpiresAt, now, "no expiry given"))
	if v.Renewable {
		field("Refresh token", whenLongOr(v.RefreshExpiresAt, now, "yes, no expiry given"))
	} else if v.Status != profiles.StatusNotConnected {
		field("Refresh token", "none")
	}
	field("Connected", whenLongOr(v.ConnectedAt, now, "-"))
	field("Last refreshed", whenLongOr(v.LastRefreshedAt, now, "never"))
	if len(v.Scopes) > 0 {
		field("Scopes", strings.Join(v.Scopes, " "))
	}
	if todo := whatToDo(v); todo != "" {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "  "+todo)
	}
}

func whatToDo(v profiles.View) string {
	switch v.Action() {
	case profiles.ActionConnect:
		return fmt.Sprintf("Connect it: sbctl reauth %s", v.Name)
	case profiles.ActionReauth:
		msg := fmt.Sprintf("Re-authenticate: sbctl reauth %s", v.Name)
		if hint := profiles.SignInHint(v.ReasonCode()); hint != "" {
			msg += " (" + hint + ")"
		}
		return msg
	case profiles.ActionRenew:
		return fmt.Sprintf("Renew it before it ends: sbctl refresh %s (or sbctl reauth %s)", v.Name, v.Name)
	case profiles.ActionReauthBeforeEnd:
		return fmt.Sprintf("Re-authenticate before it ends: sbctl reauth %s", v.Name)
	case profiles.ActionRecheck:
		return fmt.Sprintf("The last check could not be completed: sbctl profiles verify %s asks again.", v.Name)
	}
	return ""
}

func whenLongOr(t *time.Time, now time.Time, none string) string {
	if t == nil {
		return none
	}
	return whenLong(t, now)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
