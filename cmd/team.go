package cmd

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/profiles"
	"github.com/sbctl/sbctl/profiles/team"
)

// teamOptions are what every `sbctl team` command needs: a way to open the
// team database with this machine's token store (where the team key
// lives).
type teamOptions struct {
	IO   *IOStreams
	Open func(ctx context.Context) (*profiles.TeamAdmin, error)
}

func newTeamCmd(f *Factory) *cobra.Command {
	o := &teamOptions{IO: f.IO, Open: f.openTeamAdmin}
	c := group("team", "Share one fleet of connections with your team (PostgreSQL)",
		newTeamInitCmd(o, nil),
		newTeamImportCmd(f),
		newTeamStatusCmd(o, nil),
		newTeamMembersCmd(o),
		newTeamLogCmd(o, nil),
		newTeamKeyCmd(o),
	)
	c.Long = `Team mode keeps providers, groups, profiles, tokens, status and locks in
one PostgreSQL database ($SBCTL_DATABASE_URL, or team: {database: …} in the
config), so every member's sbctl sees the same fleet and one refresh serves
every machine. Tokens and client secrets are encrypted with the team key
before they reach the database. See docs/team.md.`
	return c
}

// openTeamAdmin connects to the team database named by the environment
// or the config, with this machine's token store for the key.
func (f *Factory) openTeamAdmin(ctx context.Context) (*profiles.TeamAdmin, error) {
	url := os.Getenv(envDatabaseURL)
	if url == "" {
		if f.ConfigPath == "" {
			f.ConfigPath, _ = configPathFromEnv()
		}
		var err error
		if url, err = profiles.TeamDatabaseOf(f.ConfigPath, f.configNamedBy); err != nil {
			return nil, err
		}
	}
	so, err := storeOptions(f.TokenStore)
	if err != nil {
		return nil, err
	}
	local, err := profiles.OpenStore(so, nil)
	if err != nil {
		local = nil // $SBCTL_TEAM_KEY may do instead; the admin says so if not
	}
	host, _ := os.Hostname()
	return profiles.OpenTeamAdmin(ctx, profiles.TeamAdminOptions{DatabaseURL: url, TeamKey: os.Getenv(envTeamKey), Local: local, Host: host})
}

type teamRunOptions struct {
	*teamOptions
	Format string
}

func newTeamInitCmd(o *teamOptions, runF func(*teamRunOptions) error) *cobra.Command {
	ro := &teamRunOptions{teamOptions: o}
	return &cobra.Command{
		Use:   "init",
		Short: "Create the team in an empty database: schema, roles, the team key; you become its owner",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			return runWith(c.Context(), ro, runF, runTeamInit)
		},
	}
}

func runTeamInit(ctx context.Context, o *teamRunOptions) error {
	a, err := o.Open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.Init(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.IO.ErrOut, "Created team %s in %s; you are its owner.\n", res.Info.ID, res.Info.Database)
	fmt.Fprintf(o.IO.ErrOut, "Team key fingerprint: %s\n", res.Info.KeyFingerprint)
	if res.KeyStored != "" {
		fmt.Fprintf(o.IO.ErrOut, "The team key is in %s. Give it to members with `sbctl team key export` (over a secure channel); they run `sbctl team key import`.\n", res.KeyStored)
	}
	fmt.Fprintln(o.IO.ErrOut, "Next: `sbctl team import` pushes this machine's providers, groups, profiles and tokens into the team.")
	return nil
}

func newTeamStatusCmd(o *teamOptions, runF func(*teamRunOptions) error) *cobra.Command {
	ro := &teamRunOptions{teamOptions: o}
	c := &cobra.Command{
		Use:   "status",
		Short: "The team database, its schema, your role and the team key's fingerprint",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkFormat(ro.Format); err != nil {
				return err
			}
			return runWith(c.Context(), ro, runF, runTeamStatus)
		},
	}
	addFormatFlag(c, &ro.Format)
	return c
}

// teamStatus is `team status -o json` (a contract: scripts read it).
type teamStatus struct {
	Team           string   `json:"team"`
	Database       string   `json:"database"`
	SchemaVersion  int      `json:"schema_version"`
	Login          string   `json:"login"`
	Role           string   `json:"role"`
	Groups         []string `json:"groups"`
	KeyFingerprint string   `json:"key_fingerprint"`
	KeyOK          bool     `json:"key_ok"`
	KeyProblem     string   `json:"key_problem,omitempty"`
	Members        int      `json:"members"`
}

func runTeamStatus(ctx context.Context, o *teamRunOptions) error {
	a, err := o.Open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	info, err := a.Info(ctx)
	if err != nil {
		return err
	}
	me, err := a.Me(ctx)
	if err != nil {
		return err
	}
	st := teamStatus{Team: info.ID, Database: info.Database, SchemaVersion: info.SchemaVersion, Login: me.Login, Role: string(me.Role),
		Groups: me.Groups, KeyFingerprint: info.KeyFingerprint, Members: info.Members, KeyOK: true}
	if _, _, err := a.Key(ctx); err != nil {
		st.KeyOK, st.KeyProblem = false, err.Error()
	}
	if ok, err := printData(o.IO.Out, o.Format, st); ok {
		return err
	}
	groups := "all groups"
	if len(me.Groups) > 0 {
		groups = "groups " + strings.Join(me.Groups, ", ")
	}
	rows := [][]string{
		{"Team", st.Team}, {"Database", st.Database}, {"Schema", fmt.Sprint(st.SchemaVersion)},
		{"You", fmt.Sprintf("%s (%s, %s)", st.Login, st.Role, groups)},
		{"Key fingerprint", st.KeyFingerprint}, {"Members", fmt.Sprint(st.Members)},
	}
	if !st.KeyOK {
		rows = append(rows, []string{"Key problem", st.KeyProblem})
	}
	return renderTable(o.IO.ColorOut(), false, nil, rows, nil)
}

type teamMemberOptions struct {
	*teamOptions
	Role          string
	Groups        []string
	PasswordStdin bool
	Format        string
}

func newTeamMembersCmd(o *teamOptions) *cobra.Command {
	add := &teamMemberOptions{teamOptions: o}
	addCmd := &cobra.Command{
		Use:   "add <login> --role owner|admin|member|viewer [--group G]… [--password-stdin]",
		Short: "Give a PostgreSQL login a role in the team (creating the login with --password-stdin)",
		Args:  exactArgs(1, "a login"),
		RunE: func(c *cobra.Command, args []string) error {
			return runTeamMemberAdd(c.Context(), add, args[0])
		},
	}
	addCmd.Flags().StringVar(&add.Role, "role", "", "owner, admin, member or viewer")
	addCmd.Flags().StringArrayVar(&add.Groups, "group", nil, "limit a member or viewer to a group's profiles (repeatable)")
	addCmd.Flags().BoolVar(&add.PasswordStdin, "password-stdin", false, "create the login with the password read from stdin")
	_ = addCmd.MarkFlagRequired("role")

	list := &teamMemberOptions{teamOptions: o}
	listCmd := &cobra.Command{
		Use:   "list",
		Short: "The team's members, their roles and groups",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkFormat(list.Format); err != nil {
				return err
			}
			return runTeamMembersList(c.Context(), list)
		},
	}
	addFormatFlag(listCmd, &list.Format)

	rmCmd := &cobra.Command{
		Use:   "remove <login>",
		Short: "Take a login's role in the team away (the login itself stays)",
		Args:  exactArgs(1, "a login"),
		RunE: func(c *cobra.Command, args []string) error {
			a, err := o.Open(c.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			if err := a.RemoveMember(c.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(o.IO.ErrOut, "Removed %s from the team.\n", args[0])
			return nil
		},
	}
	return group("members", "Manage who may see, refresh and re-authenticate the team's profiles", addCmd, listCmd, rmCmd)
}

func runTeamMemberAdd(ctx context.Context, o *teamMemberOptions, login string) error {
	role := team.Role(o.Role)
	switch role {
	case team.RoleOwner, team.RoleAdmin, team.RoleMember, team.RoleViewer:
	default:
		return usageErr("--role %q: use owner, admin, member or viewer", o.Role)
	}
	if len(o.Groups) > 0 && (role == team.RoleOwner || role == team.RoleAdmin) {
		return usageErr("--group limits members and viewers; an %s sees every profile", role)
	}
	var password *string
	if o.PasswordStdin {
		p, err := readSecret(ctx, o.IO, fmt.Sprintf("Password for %s: ", login))
		if err != nil {
			return err
		}
		if p = strings.TrimRight(p, "\r\n"); p == "" {
			return usageErr("--password-stdin: the password on stdin is empty")
		}
		password = &p
	}
	a, err := o.Open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.AddMember(ctx, team.Member{Login: login, Role: role, Groups: o.Groups}, password); err != nil {
		return err
	}
	scope := "every group"
	if len(o.Groups) > 0 {
		scope = "group " + strings.Join(o.Groups, ", ")
	}
	fmt.Fprintf(o.IO.ErrOut, "%s is now %s %s of the team (%s).\n", login, article(string(role)), role, scope)
	return nil
}

func article(w string) string {
	if strings.ContainsRune("aeiou", rune(w[0])) {
		return "an"
	}
	return "a"
}

func runTeamMembersList(ctx context.Context, o *teamMemberOptions) error {
	a, err := o.Open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	ms, err := a.Members(ctx)
	if err != nil {
		return err
	}
	type member struct {
		Login  string   `json:"login"`
		Role   string   `json:"role"`
		Groups []string `json:"groups"`
	}
	out := make([]member, len(ms))
	rows := make([][]string, len(ms))
	for i, m := range ms {
		out[i] = member{m.Login, string(m.Role), m.Groups}
		g := "all"
		if len(m.Groups) > 0 {
			g = strings.Join(m.Groups, ", ")
		}
		rows[i] = []string{m.Login, string(m.Role), g}
	}
	if ok, err := printData(o.IO.Out, o.Format, out); ok {
		return err
	}
	return renderTable(o.IO.ColorOut(), o.IO.OutTTY, []string{"LOGIN", "ROLE", "GROUPS"}, rows, nil)
}

type teamLogOptions struct {
	*teamOptions
	Profile string
	Since   time.Duration
	Format  string
}

func newTeamLogCmd(o *teamOptions, runF func(*teamLogOptions) error) *cobra.Command {
	lo := &teamLogOptions{teamOptions: o}
	c := &cobra.Command{
		Use:   "log",
		Short: "The audit log: who did what to which profile, from which host, when",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkFormat(lo.Format); err != nil {
				return err
			}
			return runWith(c.Context(), lo, runF, runTeamLog)
		},
	}
	c.Flags().StringVar(&lo.Profile, "profile", "", "only this profile's events")
	c.Flags().Var(durationFlag{&lo.Since}, "since", "only events this recent (e.g. 24h, 7d)")
	addFormatFlag(c, &lo.Format)
	return c
}

func runTeamLog(ctx context.Context, o *teamLogOptions) error {
	a, err := o.Open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	var since time.Time
	if o.Since > 0 {
		since = o.IO.Now().Add(-o.Since)
	}
	evs, err := a.Events(ctx, o.Profile, since)
	if err != nil {
		return err
	}
	type event struct {
		At      time.Time `json:"at"`
		Login   string    `json:"login"`
		Host    string    `json:"host"`
		Action  string    `json:"action"`
		Profile string    `json:"profile"`
		Detail  string    `json:"detail"`
	}
	out := make([]event, len(evs))
	rows := make([][]string, len(evs))
	for i, e := range evs {
		out[i] = event{e.At.UTC(), e.Login, e.Host, e.Action, e.Profile, e.Detail}
		rows[i] = []string{e.At.UTC().Format(time.RFC3339), e.Login, e.Host, e.Action, profiles.Dash(e.Profile), profiles.Dash(profiles.CleanText(e.Detail, 200))}
	}
	if ok, err := printData(o.IO.Out, o.Format, out); ok {
		return err
	}
	return renderTable(o.IO.ColorOut(), o.IO.OutTTY, []string{"WHEN", "WHO", "HOST", "WHAT", "PROFILE", "DETAIL"}, rows, nil)
}

func newTeamKeyCmd(o *teamOptions) *cobra.Command {
	export := &cobra.Command{
		Use:   "export",
		Short: "Print the team key (to give a member over a secure channel)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			a, err := o.Open(c.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			key, info, err := a.Key(c.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(o.IO.ErrOut, "warning: this is the key to every token of team %s (fingerprint %s); send it only over a secure channel, and never to a file others can read.\n", info.ID, info.KeyFingerprint)
			_, err = fmt.Fprintln(o.IO.Out, key.String())
			return err
		},
	}
	imp := &cobra.Command{
		Use:   "import",
		Short: "Store the team key read from stdin in this machine's keychain",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := readSecret(c.Context(), o.IO, "Team key: ")
			if err != nil {
				return err
			}
			a, err := o.Open(c.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			info, err := a.ImportKey(c.Context(), s)
			if err != nil {
				return err
			}
			fmt.Fprintf(o.IO.ErrOut, "Stored the key of team %s (fingerprint %s).\n", info.ID, info.KeyFingerprint)
			return nil
		},
	}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Make a new team key and re-encrypt every secret under it (owners)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			a, err := o.Open(c.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			info, err := a.RotateKey(c.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(o.IO.ErrOut, "Rotated the team key; new fingerprint %s. Every other member must import the new key (`sbctl team key export` here, `sbctl team key import` there).\n", info.KeyFingerprint)
			return nil
		},
	}
	return group("key", "Export, import and rotate the team key", export, imp, rotate)
}

func newTeamImportCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "import",
		Short: "Push this machine's providers, groups, profiles and tokens into the team (again: adds nothing twice)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			return runTeamImport(c.Context(), f)
		},
	}
}

func runTeamImport(ctx context.Context, f *Factory) error {
	tm, err := f.Manager()
	if err != nil {
		return err
	}
	if !tm.TeamMode() {
		return usageErr("no team database: set `team: {database: …}` in the config or $%s, then run `sbctl team init`", envDatabaseURL)
	}
	opts, err := f.managerOptions(f.IO.ErrOut)
	if err != nil {
		return err
	}
	opts.FileOnly, opts.DatabaseURL, opts.TeamBackend = true, "", nil
	local, err := profiles.Open(opts)
	if err != nil {
		return fmt.Errorf("reading this machine's profiles: %w", err)
	}
	res, err := profiles.ImportIntoTeam(ctx, local, tm)
	if err != nil {
		return err
	}
	w := f.IO.ErrOut
	say := func(what string, names []string) {
		if len(names) > 0 {
			fmt.Fprintf(w, "Added %d %s: %s\n", len(names), what, strings.Join(names, ", "))
		}
	}
	say("providers", res.Providers)
	say("groups", res.Groups)
	say("profiles", res.Profiles)
	if len(res.Tokens) > 0 {
		fmt.Fprintf(w, "Copied %d tokens (encrypted with the team key) and %d client secrets.\n", len(res.Tokens), len(res.ClientSecrets))
	}
	for _, s := range res.Skipped {
		fmt.Fprintln(w, "Skipped "+s)
	}
	for _, p := range res.Problems {
		fmt.Fprintln(w, "warning: "+p)
	}
	if len(res.Providers)+len(res.Groups)+len(res.Profiles) == 0 && len(res.Problems) == 0 {
		fmt.Fprintln(w, "Nothing to import: the team has everything this machine has.")
	}
	if len(res.Problems) > 0 {
		// A migration script must not read success from a partial copy.
		return withCode(ExitError, fmt.Errorf("team import: %d things could not be copied (see the warnings above); run it again once they are fixed — it adds nothing twice", len(res.Problems)))
	}
	return nil
}
