package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/profiles"
	"github.com/sbctl/sbctl/tui"
)

// EnvNow fixes sbctl's clock (RFC 3339). It exists for reproducible tests
// and demonstrations of expiry; it is never needed in normal use.
const EnvNow = "SBCTL_NOW"

// Factory carries what commands depend on. The dependencies are
// function-valued fields (GitHub CLI's cmdutil.Factory), so a test can
// hand a command a fake; NewFactory (and NewRootCmd, for a Factory built
// by hand) fills the real ones.
type Factory struct {
	IO *IOStreams
	// ConfigPath and TokenStore come from the global flags; configNamedBy
	// says whether --config or $SBCTL_CONFIG named the file (then it must
	// exist).
	ConfigPath    string
	configNamedBy string
	TokenStore    string
	NoColor       bool

	// Manager gives the profiles manager (the real one is opened on first
	// use and reused for the run).
	Manager func() (*profiles.Manager, error)
	// RunTUI runs the full-screen view (tui.Run).
	RunTUI func(ctx context.Context, m *profiles.Manager, o tui.Options) error

	// warn, when set, receives the Manager's warnings instead of stderr
	// (the TUI collects them and prints them after the screen closes).
	warn io.Writer
}

// NewFactory is the Factory of a real run on ios.
func NewFactory(ios *IOStreams) *Factory {
	f := &Factory{IO: ios}
	f.setDefaults()
	return f
}

// setDefaults fills the dependencies a test did not replace.
func (f *Factory) setDefaults() {
	if f.Manager == nil {
		f.Manager = f.openManager()
	}
	if f.RunTUI == nil {
		f.RunTUI = tui.Run
	}
}

// openManager is the real Manager: opened on first use from the global
// flags and the environment (read here, in the front end), then reused.
// A failure is not kept, so the next call tries again.
func (f *Factory) openManager() func() (*profiles.Manager, error) {
	var (
		mu     sync.Mutex
		opened *profiles.Manager
	)
	return func() (*profiles.Manager, error) {
		mu.Lock()
		defer mu.Unlock()
		if opened != nil {
			return opened, nil
		}
		warn := f.warn
		if warn == nil {
			warn = f.IO.ErrOut
		}
		opts, err := f.managerOptions(warn)
		if err != nil {
			return nil, err
		}
		m, err := profiles.Open(opts)
		if err != nil {
			return nil, err
		}
		opened = m
		return m, nil
	}
}

// managerOptions are the Manager's options from the global flags and the
// environment.
func (f *Factory) managerOptions(warn io.Writer) (profiles.Options, error) {
	tokens, err := storeOptions(f.TokenStore)
	if err != nil {
		return profiles.Options{}, err
	}
	if f.ConfigPath == "" {
		// Completion runs without the PersistentPreRunE that sets it.
		f.ConfigPath, _ = configPathFromEnv()
	}
	return profiles.Options{
		ConfigPath:    f.ConfigPath,
		ConfigNamedBy: f.configNamedBy,
		StateDir:      stateDir(),
		Tokens:        tokens,
		ClientSecret:  clientSecretFromEnv,
		Now:           f.IO.Now,
		Warn:          warn,
		// Team mode (docs/team.md), when the config or the environment
		// names a team database.
		DatabaseURL: os.Getenv(envDatabaseURL),
		TeamKey:     os.Getenv(envTeamKey),
		TeamBackend: profiles.OpenTeamBackend,
	}, nil
}

// holdWarnings sends the Manager's warnings to a buffer until the returned
// function prints them: a full-screen view must not be scribbled on.
func (f *Factory) holdWarnings() (flush func()) {
	var warnings bytes.Buffer
	held := &syncWriter{w: &warnings}
	f.warn = held
	return func() {
		held.mu.Lock()
		defer held.mu.Unlock()
		_, _ = f.IO.ErrOut.Write(warnings.Bytes())
	}
}

// tuiOptions are what the bare `sbctl` on a terminal needs.
type tuiOptions struct {
	Manager func() (*profiles.Manager, error)
	RunTUI  func(ctx context.Context, m *profiles.Manager, o tui.Options) error
	NoColor bool
}

// runTUI opens the full-screen view on the user's own profiles.
func runTUI(ctx context.Context, opts *tuiOptions) error {
	m, err := opts.Manager()
	if err != nil {
		return err
	}
	return opts.RunTUI(ctx, m, tui.Options{NoColor: opts.NoColor})
}

// runPlainList prints every profile as `sbctl profiles list` does, for a
// terminal that cannot show the full-screen view.
func runPlainList(ctx context.Context, f *Factory) error {
	m, err := f.Manager()
	if err != nil {
		return err
	}
	views, err := m.List(ctx, profiles.Filter{})
	if err != nil {
		return err
	}
	return printProfileTable(f.IO, views)
}

// Main runs sbctl with the process's arguments and returns its exit code.
func Main() int {
	ios := System()
	if s := os.Getenv(EnvNow); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			fmt.Fprintf(ios.ErrOut, "sbctl: %s=%q is not an RFC 3339 time\n", EnvNow, s)
			return ExitUsage
		}
		ios.Now = func() time.Time { return t }
	}
	ctx, stop := interruptible(ios)
	defer stop()
	return Run(ctx, NewFactory(ios), os.Args[1:])
}

// interruptible is the run's context: the first Ctrl-C (or SIGTERM) ends
// it, so no new work starts, while renewals whose request is already out
// finish and store their answer (profiles.GracePeriod); a second one
// aborts them (profiles.WithAbort).
func interruptible(ios *IOStreams) (context.Context, func()) {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	soft, stopSoft := context.WithCancel(context.Background())
	hard, stopHard := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
			stopSoft()
		case <-done:
			return
		}
		select {
		case <-sig:
			fmt.Fprintln(ios.ErrOut, "\nsbctl: interrupted again: stopping renewals in flight now")
			stopHard()
		case <-done:
		}
	}()
	return profiles.WithAbort(soft, hard), func() {
		signal.Stop(sig)
		close(done)
		stopSoft()
		stopHard()
	}
}

// Run executes one command line and prints its error, if any.
func Run(ctx context.Context, f *Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	started := false
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		if err := checkFlagGroups(c); err != nil {
			return err
		}
		started = true
		return f.applyGlobalFlags()
	}
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	if !started && code == ExitError {
		// Flag parsing, argument counts and unknown commands fail before
		// any command runs: all usage errors.
		code = ExitUsage
	}
	if ctx.Err() != nil && code == ExitError {
		code = ExitInterrupted
	}
	var ee *exitError
	if errors.As(err, &ee) && ee.Err == nil {
		return code
	}
	msg := phrase(err)
	if code == ExitInterrupted {
		msg = "interrupted"
	}
	fmt.Fprintln(f.IO.ErrOut, "sbctl: "+strings.TrimSpace(msg))
	if code == ExitUsage && cmd != nil && !started {
		fmt.Fprintf(f.IO.ErrOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// applyGlobalFlags acts on --no-color, --token-store and --config once
// they are parsed.
func (f *Factory) applyGlobalFlags() error {
	if f.NoColor {
		f.IO.DisableColor()
	}
	switch f.TokenStore {
	case "", profiles.StoreKeychain, profiles.StoreFile:
	default:
		return usageErr("--token-store %q: use %s (the OS keychain) or %s (a plain 0600 file, explicit opt-in)", f.TokenStore, profiles.StoreKeychain, profiles.StoreFile)
	}
	if f.ConfigPath != "" {
		f.configNamedBy = "--config"
		return nil
	}
	var fromEnv bool
	if f.ConfigPath, fromEnv = configPathFromEnv(); fromEnv {
		f.configNamedBy = "$" + envConfig
	}
	return nil
}

// checkFlagGroups runs cobra's flag-group checks (MarkFlagsMutuallyExclusive)
// early, so that two sign-in modes are a usage error in sbctl's words.
func checkFlagGroups(c *cobra.Command) error {
	if err := c.ValidateFlagGroups(); err != nil {
		return exclusiveFlagsErr(err)
	}
	return nil
}

// flagUsageErr makes every flag-parsing error a usage error (exit 2).
func flagUsageErr(_ *cobra.Command, err error) error { return usageErr("%v", err) }

// NewRootCmd builds the command tree on f, filling the dependencies f
// lacks (the commands take theirs when they are built).
func NewRootCmd(f *Factory) *cobra.Command {
	f.setDefaults()
	root := &cobra.Command{
		Use:   "sbctl",
		Short: "Keep your connected social-media profiles authenticated",
		Long: `sbctl lists your organisation's connected social-media profiles with the
health of each connection, re-authenticates them in the browser, renews
access before it expires, and hands valid tokens to scripts.

Profiles, groups and providers live in the config file
($SBCTL_CONFIG or $XDG_CONFIG_HOME/sbctl/config.yaml); tokens live in the
OS keychain.

On a terminal, sbctl alone opens the full-screen view: profiles with their
status, reauth (r), refresh (f), verify (v) in place. 'sbctl demo' tries it
in a throwaway workspace.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          noArgsOrSubcommand,
		RunE: func(c *cobra.Command, _ []string) error {
			if !(f.IO.InTTY && f.IO.OutTTY && f.IO.ErrTTY) {
				return c.Help()
			}
			if !f.IO.CanRunTUI() {
				// A terminal that cannot draw a full screen (TERM=dumb)
				// gets the list, as a pipe would.
				return runPlainList(c.Context(), f)
			}
			flush := f.holdWarnings()
			defer flush()
			return runTUI(c.Context(), &tuiOptions{Manager: f.Manager, RunTUI: f.RunTUI, NoColor: f.IO.TUINoColor()})
		},
	}
	root.SetFlagErrorFunc(flagUsageErr)
	pf := root.PersistentFlags()
	pf.StringVar(&f.ConfigPath, "config", "", "config file (default $SBCTL_CONFIG or $XDG_CONFIG_HOME/sbctl/config.yaml)")
	pf.StringVar(&f.TokenStore, "token-store", "", "where tokens live: keychain (default) or file (plain 0600 file, explicit opt-in; also $SBCTL_TOKEN_STORE)")
	pf.BoolVar(&f.NoColor, "no-color", false, "do not colour the output (also $NO_COLOR)")
	_ = root.RegisterFlagCompletionFunc("token-store", cobra.FixedCompletions([]string{"keychain", "file"}, cobra.ShellCompDirectiveNoFileComp))

	root.AddGroup(&cobra.Group{ID: "main", Title: "Profiles:"}, &cobra.Group{ID: "setup", Title: "Setup:"})
	for _, c := range []*cobra.Command{newProfilesCmd(f), newGroupsCmd(f), newReauthCmd(f, nil), newRefreshCmd(f, nil), newTokenCmd(f, nil)} {
		c.GroupID = "main"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{newInitCmd(f, nil), newTeamCmd(f), newAgentCmd(f, nil), newNotifyCmd(f), newProvidersCmd(f), newSandboxCmd(f), newDemoCmd(f, nil), newDoctorCmd(f, nil), newVersionCmd(f, nil)} {
		c.GroupID = "setup"
		root.AddCommand(c)
	}
	root.SetHelpCommandGroupID("setup")
	root.SetCompletionCommandGroupID("setup")
	return root
}

var flagGroupRE = regexp.MustCompile(`\[([a-z0-9- ]+)\] were all set`)

// exclusiveFlagsErr rewords cobra's mutually-exclusive-flags error
// ("if any flags in the group [a b c] are set none of the others can be;
// [a b] were all set") as a usage error naming the flags given.
func exclusiveFlagsErr(err error) error {
	m := flagGroupRE.FindStringSubmatch(err.Error())
	if m == nil {
		return usageErr("%v", err)
	}
	names := strings.Fields(m[1])
	for i := range names {
		names[i] = "--" + names[i]
	}
	return usageErr("%s cannot be used together; choose one", strings.Join(names, " and "))
}

// noArgsOrSubcommand makes `sbctl profiles nope` a usage error with a
// suggestion, where Cobra would print the group's help and exit 0.
func noArgsOrSubcommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	}
	return usageErr("%s", msg)
}

// group makes a command that only holds subcommands.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  noArgsOrSubcommand,
		RunE: func(c *cobra.Command, _ []string) error {
			return c.Help()
		},
	}
	c.AddCommand(subs...)
	return c
}

// exactArgs is cobra.ExactArgs with a message naming what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErr("%s takes %s (got %d arguments)", c.CommandPath(), what, len(args))
		}
		return nil
	}
}

func minArgs(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) < n {
			return usageErr("%s needs %s", c.CommandPath(), what)
		}
		return nil
	}
}
