package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/profiles"
)

type tokenOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	// Cached is this machine's cached access token of a team profile, for
	// when the team database cannot be reached (nil: no fallback).
	Cached func(ctx context.Context, name string, minTTL time.Duration) (string, error)

	Name   string
	MinTTL time.Duration
}

func newTokenCmd(f *Factory, runF func(*tokenOptions) error) *cobra.Command {
	o := &tokenOptions{IO: f.IO, Manager: f.Manager, MinTTL: profiles.DefaultMinTTL, Cached: f.cachedTeamToken}
	c := &cobra.Command{
		Use:   "token <name>",
		Short: "Print a valid access token for scripts (renewed first when needed)",
		Long: `Print only the profile's access token and a newline to stdout.

If the token expires within --min-ttl (default 60s) it is renewed first,
under a lock shared by every sbctl process, so many scripts can ask at once
and the network sees one renewal. Exit code 4, with a message on stderr and
nothing on stdout, when only 'sbctl reauth' can help — also when the
profile is known to need re-authentication even though its access token
has not expired yet.`,
		Example: `  TOKEN=$(sbctl token acme-x) || exit
  curl -H "Authorization: Bearer $(sbctl token acme-x --min-ttl 10m)" …`,
		Args:              exactArgs(1, "one profile name"),
		ValidArgsFunction: completeProfiles(f),
		RunE: func(c *cobra.Command, args []string) error {
			o.Name = args[0]
			return runWith(c.Context(), o, runF, runToken)
		},
	}
	c.Flags().Var(durationFlag{&o.MinTTL}, "min-ttl", "renew first if the token expires within this")
	return c
}

func runToken(ctx context.Context, o *tokenOptions) error {
	m, err := o.Manager()
	if err != nil {
		if !profiles.IsTeamUnreachable(err) || o.Cached == nil {
			return err
		}
		// The team database is down: the access token this machine last
		// handed out still works until it expires. Never a renewal.
		tok, cerr := o.Cached(ctx, o.Name, o.MinTTL)
		if cerr != nil {
			return fmt.Errorf("%w (and %v)", err, cerr)
		}
		fmt.Fprintf(o.IO.ErrOut, "warning: %v; using the access token this machine cached for %q (it is not renewed until the team database answers)\n", err, o.Name)
		return printToken(o, tok)
	}
	tok, err := m.Token(ctx, o.Name, o.MinTTL)
	if err != nil {
		return err
	}
	return printToken(o, tok)
}

func printToken(o *tokenOptions, tok string) error {
	// Stored tokens are checked (SECURITY 29); one stored by an older
	// sbctl is checked here, so stdout never carries a control character
	// or a second line.
	if err := profiles.CheckTokenText("the stored access token of "+o.Name, tok); err != nil {
		return fmt.Errorf("%w; run `sbctl reauth %s` to replace it", err, o.Name)
	}
	_, err := fmt.Fprintln(o.IO.Out, tok)
	return err
}

// cachedTeamToken reads this machine's cached access token of a team
// profile (profiles.CachedTeamToken) with the Manager's options.
func (f *Factory) cachedTeamToken(ctx context.Context, name string, minTTL time.Duration) (string, error) {
	opts, err := f.managerOptions(f.IO.ErrOut)
	if err != nil {
		return "", err
	}
	database := opts.DatabaseURL
	if database == "" {
		if database, err = profiles.TeamDatabaseOf(opts.ConfigPath, opts.ConfigNamedBy); err != nil {
			return "", err
		}
	}
	return profiles.CachedTeamToken(ctx, opts, database, name, minTTL)
}
