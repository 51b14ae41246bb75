package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/profiles"
)

type reauthOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	Name string
	// Mode is the one sign-in mode --no-browser, --manual or --device
	// chose (signIn holds the flags).
	Mode      profiles.SignInMode
	Timeout   time.Duration
	WithToken bool
	signIn    signInFlags
}

func newReauthCmd(f *Factory, runF func(*reauthOptions) error) *cobra.Command {
	o := &reauthOptions{IO: f.IO, Manager: f.Manager, Timeout: profiles.DefaultSignInTimeout}
	c := &cobra.Command{
		Use:   "reauth <name>",
		Short: "Re-authenticate a profile in the browser",
		Long: `Re-authenticate (or connect) a profile with its network's OAuth flow.

By default sbctl listens on 127.0.0.1 and opens the sign-in page in the
browser ($SBCTL_BROWSER, else $BROWSER — a command run with the URL as its
last argument — else the system browser). Networks that only accept
registered HTTPS redirect URIs (Facebook, Instagram, Threads) use relay
mode (see 'sbctl providers show <p>').

  --no-browser  print the URL; open it yourself on this machine
  --manual      for SSH and headless machines: open the URL on any device,
                then paste the address the browser ended on (or the code)
  --device      sign in on another device with a code, where supported
  --with-token  no sign-in: read a token you already have from stdin (the
                input of 'profiles add --with-token': JSON with access_token,
                refresh_token, expires_in… or a bare access token)

The old token stays in place until the new one is stored.`,
		Example: `  sbctl reauth acme-x
  sbctl reauth acme-yt --device
  ssh server sbctl reauth acme-li --manual
  jq -c . token.json | sbctl reauth acme-x --with-token`,
		Args:              exactArgs(1, "one profile name"),
		ValidArgsFunction: completeProfiles(f),
		RunE: func(c *cobra.Command, args []string) error {
			o.Name = args[0]
			o.Mode = o.signIn.mode()
			return runWith(c.Context(), o, runF, runReauth)
		},
	}
	addSignInFlags(c, &o.signIn, &o.Timeout)
	c.Flags().BoolVar(&o.WithToken, "with-token", false, "read an existing token from stdin instead of signing in")
	c.MarkFlagsMutuallyExclusive("with-token", "no-browser")
	c.MarkFlagsMutuallyExclusive("with-token", "device")
	c.MarkFlagsMutuallyExclusive("with-token", "manual")
	return c
}

func runReauth(ctx context.Context, o *reauthOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	if !o.WithToken {
		return signIn(ctx, o.IO, m, o.Name, o.Mode, o.Timeout)
	}
	// An unknown name is an error before stdin is read.
	if _, err := m.Profile(o.Name); err != nil {
		return err
	}
	t, err := readImportedToken(ctx, o.IO, m)
	if err != nil {
		return err
	}
	return reportImport(ctx, o.IO, m, o.Name, m.ImportToken(ctx, o.Name, t), "Connected %q")
}

// signIn connects name through the browser (or the mode asked for) and
// says as whom.
func signIn(ctx context.Context, ios *IOStreams, m *profiles.Manager, name string, mode profiles.SignInMode, timeout time.Duration) error {
	res, err := m.Reauth(ctx, name, profiles.ReauthOptions{
		Mode: mode, Timeout: timeout, Stdin: ios.In, Stderr: ios.ErrOut,
	})
	if err != nil {
		switch {
		case errors.Is(err, profiles.ErrSignInDenied):
			return fmt.Errorf("sign-in for %q was denied in the browser; nothing changed", name)
		case errors.Is(err, profiles.ErrSignInTimeout):
			return fmt.Errorf("%w; nothing changed", err)
		}
		return err
	}
	st := newStyles()
	fmt.Fprintln(ios.ColorErr(), st.good.Render(connectedMessage(name, res, ios.Now()))+".")
	if res.PreviousAccount != "" {
		fmt.Fprintln(ios.ColorErr(), st.warn.Render(fmt.Sprintf("Note: %q was connected as %s before; if that was not intended, run `sbctl reauth %s` again and sign in with that account.", name, res.PreviousAccount, name)))
	}
	return nil
}

// connectedMessage is "✓ Connected "p" as Name (id 42); status ok,
// connection ends in 30d", without the full stop.
func connectedMessage(name string, res profiles.ReauthResult, now time.Time) string {
	who := res.Account.Name
	if who == "" {
		who = res.Account.ID
	}
	msg := fmt.Sprintf("✓ Connected %q", name)
	if who != "" {
		msg += " as " + who
		if res.Account.ID != "" && res.Account.ID != who {
			msg += " (id " + res.Account.ID + ")"
		}
	}
	msg += "; status " + string(res.View.Status)
	if res.View.ConnectionExpiresAt != nil {
		msg += ", connection ends " + profiles.When(res.View.ConnectionExpiresAt, now, true)
	}
	return msg
}

type relayPageOptions struct {
	IO *IOStreams
}

func newRelayPageCmd(f *Factory, runF func(*relayPageOptions) error) *cobra.Command {
	o := &relayPageOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "relay-page",
		Short: "Print the static HTML page that relays Meta's HTTPS redirect to sbctl",
		Long: `Facebook, Instagram and Threads accept only registered HTTPS redirect URIs.
Host this static page at an HTTPS address you control (any static host),
register that address as the app's redirect URI, and set it as relay_url
in the provider's config. During 'sbctl reauth' the network redirects to the
page, which forwards the code and state to sbctl's listener on 127.0.0.1
(the port and the provider's callback name travel inside state). The page keeps no data and reflects none.`,
		Example: "  sbctl providers relay-page > index.html",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			return runWith(c.Context(), o, runF, runRelayPage)
		},
	}
}

func runRelayPage(_ context.Context, o *relayPageOptions) error {
	_, err := fmt.Fprint(o.IO.Out, profiles.RelayPage())
	return err
}
