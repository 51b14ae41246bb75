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

	Name   string
	MinTTL time.Duration
}

func newTokenCmd(f *Factory, runF func(*tokenOptions) error) *cobra.Command {
	o := &tokenOptions{IO: f.IO, Manager: f.Manager, MinTTL: profiles.DefaultMinTTL}
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
		return err
	}
	tok, err := m.Token(ctx, o.Name, o.MinTTL)
	if err != nil {
		return err
	}
	// Stored tokens are checked (SECURITY 29); one stored by an older
	// sbctl is checked here, so stdout never carries a control character
	// or a second line.
	if err := profiles.CheckTokenText("the stored access token of "+o.Name, tok); err != nil {
		return fmt.Errorf("%w; run `sbctl reauth %s` to replace it", err, o.Name)
	}
	_, err = fmt.Fprintln(o.IO.Out, tok)
	return err
}
