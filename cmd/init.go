package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/profiles"
)

type initOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	// The answers as flags (no form): a provider (a network preset, or
	// one already configured), its app's client id and secret, a first
	// profile.
	Provider         string
	ClientID         string
	ClientSecretFile string // "-" reads stdin
	Profile          string
	Groups           []string
	NoConnect        bool
	// Mode and Timeout are the first profile's sign-in, as for `sbctl
	// reauth`.
	Mode    profiles.SignInMode
	Timeout time.Duration
	signIn  signInFlags

	// Form asks the questions on a terminal; tests replace it.
	Form func(ctx context.Context, o *initOptions, m *profiles.Manager) (profiles.SetupSpec, error)
}

func newInitCmd(f *Factory, runF func(*initOptions) error) *cobra.Command {
	o := &initOptions{IO: f.IO, Manager: f.Manager, Timeout: profiles.DefaultSignInTimeout, Form: initForm}
	c := &cobra.Command{
		Use:   "init [--provider P [--client-id ID] [--client-secret-file F] [--profile NAME [--group G]...]]",
		Short: "First-run setup: networks, client IDs, the redirect URIs to register, a first profile",
		Long: `Set sbctl up: choose the networks to connect, enter the client ID (and,
where the network needs one, the client secret) of the app you registered
with each, see the redirect URI to register there, and optionally add and
connect a first profile.

On a terminal, init asks in a form. Elsewhere (or to script it), give the
answers as flags, one network per run. The config is edited in place
(comments kept); a provider that is already configured is never
overwritten: naming it with --client-id is an error. Client secrets go to
the keychain, never to the config; they are never shown as you type.`,
		Example: `  sbctl init
  sbctl init --provider x --client-id abc123 --profile acme-x
  sbctl init --provider tiktok --client-id aw123 --client-secret-file - < secret.txt
  sbctl init --provider x --profile acme-x2      # x is configured already`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.checkFlags(); err != nil {
				return err
			}
			o.Mode = o.signIn.mode()
			return runWith(c.Context(), o, runF, runInit)
		},
	}
	fl := c.Flags()
	fl.StringVarP(&o.Provider, "provider", "p", "", "the network preset to set up, or a configured provider for --profile")
	fl.StringVar(&o.ClientID, "client-id", "", "the client id of your app registered with the network")
	fl.StringVar(&o.ClientSecretFile, "client-secret-file", "", "read the app's client secret from this file (- for stdin) into the keychain")
	fl.StringVar(&o.Profile, "profile", "", "add a first profile of this name on the provider, and connect it")
	fl.StringSliceVarP(&o.Groups, "group", "g", nil, "put the first profile in this group (repeatable)")
	fl.BoolVar(&o.NoConnect, "no-connect", false, "add the first profile without connecting it")
	addSignInFlags(c, &o.signIn, &o.Timeout)
	for _, name := range signInFlagNames {
		c.MarkFlagsMutuallyExclusive("no-connect", name)
	}
	_ = c.RegisterFlagCompletionFunc("provider", completeNames(f, func(m *profiles.Manager) []string { return infoNames(m.SetupChoices()) }))
	_ = c.RegisterFlagCompletionFunc("group", completeGroups(f))
	return c
}

// checkFlags refuses a command line that cannot work before anything is
// opened: without a terminal there is no form, so the flags must say it
// all.
func (o *initOptions) checkFlags() error {
	byFlags := o.Provider != "" || o.ClientID != "" || o.ClientSecretFile != "" || o.Profile != "" || len(o.Groups) > 0
	switch {
	case !byFlags && !(o.IO.InTTY && o.IO.ErrTTY):
		return usageErr("sbctl init asks its questions on a terminal; without one, give the answers as flags: missing --provider and --client-id (and --profile NAME to add a first profile)")
	case byFlags && o.Provider == "":
		return usageErr("missing --provider: init with flags sets up one network per run (see `sbctl providers show <preset>`)")
	case len(o.Groups) > 0 && o.Profile == "":
		return usageErr("--group needs --profile: the groups are the first profile's")
	}
	return nil
}

func runInit(ctx context.Context, o *initOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	var spec profiles.SetupSpec
	if o.Provider == "" {
		spec, err = o.Form(ctx, o, m)
	} else {
		spec, err = o.specFromFlags(ctx, m)
	}
	if err != nil {
		return err
	}
	if len(spec.Providers) == 0 && spec.Profile == nil {
		fmt.Fprintln(o.IO.ErrOut, "Nothing to set up; nothing was written.")
		return nil
	}
	res, err := m.SetUp(ctx, spec)
	printSetUp(o.IO, m, res)
	if err != nil {
		return err
	}
	return o.connect(ctx, m, spec, res)
}

// specFromFlags turns the flags into what to write. A provider that is
// configured already is used as it is for --profile; naming it with a
// client id is refused, by name, before anything is written.
func (o *initOptions) specFromFlags(ctx context.Context, m *profiles.Manager) (profiles.SetupSpec, error) {
	var spec profiles.SetupSpec
	choices := m.SetupChoices()
	i := slices.IndexFunc(choices, func(c profiles.ProviderInfo) bool { return c.Name == o.Provider })
	if i < 0 {
		i = slices.IndexFunc(choices, func(c profiles.ProviderInfo) bool { return !c.Configured && strings.EqualFold(c.Name, o.Provider) })
	}
	if i < 0 {
		names := make([]string, len(choices))
		for j, c := range choices {
			names[j] = c.Name
		}
		return spec, usageErr("--provider %q is neither a configured provider nor a network preset: use one of %s (for another OAuth server: sbctl providers add <name> --preset oidc or oauth2)", o.Provider, strings.Join(names, ", "))
	}
	c := choices[i]
	switch {
	case c.Configured && o.ClientID == "" && o.ClientSecretFile == "":
		if o.Profile == "" {
			return spec, usageErr("provider %q is configured already; nothing to set up: add --profile NAME to add a first profile on it", c.Name)
		}
	case c.Configured:
		// Never overwritten: the user edits the file, where the entry is.
		return spec, usageErr("provider %q is configured already in %s; init does not overwrite it: edit it there, or leave out --client-id and --client-secret-file to add a profile on it", c.Name, m.ConfigPath())
	case o.ClientID == "":
		return spec, usageErr("missing --client-id: register an app with %s (redirect URI %s) and give its client id", c.Title, c.RedirectURI)
	default:
		secret, err := o.clientSecret(ctx, c)
		if err != nil {
			return spec, err
		}
		spec.Providers = []profiles.ProviderSetup{{Preset: c.Name, ClientID: o.ClientID, ClientSecret: secret}}
	}
	if o.Profile != "" {
		spec.Profile = &profiles.AddSpec{Name: o.Profile, Provider: c.Name, Groups: o.Groups}
	}
	return spec, nil
}

// clientSecret is the app's client secret from --client-secret-file, else
// (for a network that needs one) asked on the terminal with echo off, as
// `providers set-secret` asks; "" when there is none to store now.
func (o *initOptions) clientSecret(ctx context.Context, c profiles.ProviderInfo) (string, error) {
	switch {
	case o.ClientSecretFile == "-":
		b, err := readAllContext(ctx, o.IO.In, 64<<10)
		if err != nil {
			return "", fmt.Errorf("reading the client secret from stdin: %w", err)
		}
		if len(b) == 0 {
			return "", usageErr("--client-secret-file -: no secret on stdin")
		}
		return string(b), nil
	case o.ClientSecretFile != "":
		b, err := os.ReadFile(o.ClientSecretFile)
		if err != nil {
			return "", usageErr("--client-secret-file: %v", err)
		}
		if len(b) == 0 {
			return "", usageErr("--client-secret-file %s is empty", o.ClientSecretFile)
		}
		return string(b), nil
	case c.NeedsSecret && o.IO.InTTY && o.IO.ErrTTY:
		return readSecret(ctx, o.IO, fmt.Sprintf("Client secret of your %s app (not shown; empty to set it later): ", c.Title))
	}
	return "", nil
}

// printSetUp says what SetUp wrote, and what to register with each
// network: also after a failure, for what was written before it.
func printSetUp(ios *IOStreams, m *profiles.Manager, res profiles.SetupResult) {
	w := ios.ColorErr()
	st := newStyles()
	for _, info := range res.Providers {
		fmt.Fprintln(w, st.good.Render(fmt.Sprintf("Added provider %q (%s) to %s.", info.Name, info.Title, m.ConfigPath())))
		if info.RedirectURI != "" {
			fmt.Fprintf(w, "  Register this redirect URI with %s: %s\n", info.Title, info.RedirectURI)
			if info.RedirectNote != "" {
				fmt.Fprintf(w, "  (%s)\n", info.RedirectNote)
			}
		} else if info.RedirectNote != "" {
			fmt.Fprintf(w, "  Redirect URI: %s\n", info.RedirectNote)
		}
		switch {
		case slices.Contains(res.Secrets, info.Name):
			fmt.Fprintln(w, "  Stored its client secret in the token store.")
		case info.NeedsSecret:
			fmt.Fprintf(w, "  It needs your app's client secret: sbctl providers set-secret %s (reads it from stdin), or set $%s.\n", info.Name, profiles.ClientSecretEnv(info.Name))
		}
	}
}

// connect signs the first profile in, as `profiles add` does.
func (o *initOptions) connect(ctx context.Context, m *profiles.Manager, spec profiles.SetupSpec, res profiles.SetupResult) error {
	w := o.IO.ErrOut
	if res.Profile == "" {
		fmt.Fprintln(w, "Next: add a profile with `sbctl profiles add <name> --provider <provider>`, or press a in `sbctl`.")
		return nil
	}
	provider := spec.Profile.Provider
	if o.NoConnect {
		fmt.Fprintf(w, "Added profile %q (%s) to %s. Connect it with `sbctl reauth %s`.\n", res.Profile, provider, m.ConfigPath(), res.Profile)
		return nil
	}
	fmt.Fprintf(w, "Added profile %q (%s) to %s; connecting…\n", res.Profile, provider, m.ConfigPath())
	if err := signIn(ctx, o.IO, m, res.Profile, o.Mode, o.Timeout); err != nil {
		return fmt.Errorf("%w\nThe profile is in the config but not connected; connect it with `sbctl reauth %s`", err, res.Profile)
	}
	return nil
}

// initForm asks init's questions with huh: the networks first, then for
// each its client id (and secret), showing the redirect URI to register,
// then an optional first profile. Nothing is written until it is done.
func initForm(ctx context.Context, o *initOptions, m *profiles.Manager) (profiles.SetupSpec, error) {
	var spec profiles.SetupSpec
	q := newInitQuestions(m)
	if intro := q.intro(); intro != nil {
		if err := runHuh(ctx, o.IO, intro); err != nil {
			return spec, err
		}
	}
	if details := q.details(); details != nil {
		if err := runHuh(ctx, o.IO, details); err != nil {
			return spec, err
		}
	}
	return q.spec(), nil
}

// initQuestions are init's form and the answers it binds.
type initQuestions struct {
	m                 *profiles.Manager
	configured, fresh []profiles.ProviderInfo

	picked   []string
	setups   []profiles.ProviderSetup
	profile  string
	provider string
	groups   []string
}

func newInitQuestions(m *profiles.Manager) *initQuestions {
	q := &initQuestions{m: m}
	for _, c := range m.SetupChoices() {
		if c.Configured {
			q.configured = append(q.configured, c)
		} else {
			q.fresh = append(q.fresh, c)
		}
	}
	return q
}

// intro asks which networks to set up; nil when every preset is
// configured already.
func (q *initQuestions) intro() *huh.Form {
	if len(q.fresh) == 0 {
		return nil
	}
	about := fmt.Sprintf("This edits %s in place (comments kept). Tokens and client secrets never go into that file: they go to the keychain.", q.m.ConfigPath())
	if len(q.configured) > 0 {
		about += "\nConfigured already: " + strings.Join(infoNames(q.configured), ", ") + "."
	}
	opts := make([]huh.Option[string], len(q.fresh))
	for i, c := range q.fresh {
		opts[i] = huh.NewOption(c.Title+" ("+c.Name+")", c.Name)
	}
	pick := huh.NewMultiSelect[string]().
		Title("Which networks do you want to connect?").
		Description("space or x to choose, enter to go on").
		Options(opts...).
		Value(&q.picked)
	return huh.NewForm(huh.NewGroup(huh.NewNote().Title("Set up sbctl").Description(about), pick))
}

// details asks, for each network picked, its app's client id (and secret),
// with the redirect URI to register; then the optional first profile, on
// one of those or a configured provider. nil: nothing to ask.
func (q *initQuestions) details() *huh.Form {
	var groups []*huh.Group
	q.setups = make([]profiles.ProviderSetup, len(q.picked))
	candidates := slices.Clone(q.picked)
	for i, name := range q.picked {
		c := q.choice(name)
		q.setups[i].Preset = name
		fields := []huh.Field{
			huh.NewInput().
				Title("Client ID of your " + c.Title + " app").
				Description(c.RegisterText()).
				Value(&q.setups[i].ClientID).
				Validate(profiles.CheckClientIDAnswer),
		}
		if c.NeedsSecret {
			fields = append(fields, huh.NewInput().
				Title("Client secret of your "+c.Title+" app").
				Description("Not shown as you type; stored in the keychain. Leave it empty to set it later with `sbctl providers set-secret "+name+"`.").
				EchoMode(huh.EchoModeNone).
				Value(&q.setups[i].ClientSecret).
				Validate(profiles.CheckClientSecretAnswer))
		}
		groups = append(groups, huh.NewGroup(fields...))
	}
	candidates = append(candidates, infoNames(q.configured)...)
	if len(candidates) == 0 {
		// No network to put a profile on: nothing more to ask.
		if len(groups) == 0 {
			return nil
		}
		return huh.NewForm(groups...)
	}
	q.provider = candidates[0]
	noProfile := func() bool { return strings.TrimSpace(q.profile) == "" }
	groups = append(groups, huh.NewGroup(huh.NewInput().
		Title("First profile name").
		Description("Optional: leave it empty to add profiles later (sbctl profiles add, or a in sbctl).").
		Value(&q.profile).
		Validate(func(s string) error {
			if strings.TrimSpace(s) == "" {
				return nil
			}
			return q.m.CheckProfileName(strings.TrimSpace(s))
		})))
	if len(candidates) > 1 {
		groups = append(groups, huh.NewGroup(huh.NewSelect[string]().
			Title("Its network").
			Options(huh.NewOptions(candidates...)...).
			Value(&q.provider)).WithHideFunc(noProfile))
	}
	if gs := q.m.GroupNames(); len(gs) > 0 {
		groups = append(groups, huh.NewGroup(huh.NewMultiSelect[string]().
			Title("Its groups (optional)").
			Options(huh.NewOptions(gs...)...).
			Value(&q.groups)).WithHideFunc(noProfile))
	}
	return huh.NewForm(groups...)
}

// spec is what the answers ask to write.
func (q *initQuestions) spec() profiles.SetupSpec {
	s := profiles.SetupSpec{Providers: q.setups}
	if name := strings.TrimSpace(q.profile); name != "" && q.provider != "" {
		s.Profile = &profiles.AddSpec{Name: name, Provider: q.provider, Groups: q.groups}
	}
	return s
}

func (q *initQuestions) choice(name string) profiles.ProviderInfo {
	i := slices.IndexFunc(q.fresh, func(c profiles.ProviderInfo) bool { return c.Name == name })
	if i < 0 {
		return profiles.ProviderInfo{Name: name, Title: name}
	}
	return q.fresh[i]
}

func infoNames(cs []profiles.ProviderInfo) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

// runHuh runs a form on the terminal: on stderr (stdout stays for data),
// with the colour the streams allow (--no-color, NO_COLOR). Ctrl-C ends
// init having written nothing.
func runHuh(ctx context.Context, ios *IOStreams, f *huh.Form) error {
	f = f.WithTheme(huh.ThemeFunc(huh.ThemeBase)).
		WithProgramOptions(tea.WithColorProfile(ios.ErrProfile)).
		WithInput(ios.In).
		WithOutput(ios.ErrOut)
	err := f.RunWithContext(ctx)
	if errors.Is(err, huh.ErrUserAborted) {
		fmt.Fprintln(ios.ErrOut, "Cancelled; nothing was written.")
		return withCode(ExitInterrupted, nil)
	}
	return err
}
