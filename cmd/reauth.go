package cmd

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/auth/flow"
	"github.com/sbctl/sbctl/profiles"
)

type reauthOptions struct {
	Name      string
	NoBrowser bool
	Device    bool
	Manual    bool
	WithToken bool
	Timeout   time.Duration
}

func addReauthFlags(c *cobra.Command, o *reauthOptions) {
	c.Flags().BoolVar(&o.NoBrowser, "no-browser", false, "print the sign-in URL instead of opening a browser")
	c.Flags().BoolVar(&o.Device, "device", false, "use the device flow (RFC 8628): sign in on another device with a code")
	c.Flags().BoolVar(&o.Manual, "manual", false, "for SSH/headless: open the URL anywhere, then paste the address the browser ended on")
	c.Flags().Var(durationFlag{&o.Timeout}, "timeout", "give up after this long")
	c.MarkFlagsMutuallyExclusive("no-browser", "device", "manual")
}

func newReauthCmd(f *Factory) *cobra.Command {
	o := &reauthOptions{Timeout: flow.DefaultTimeout}
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
			m, err := f.Manager()
			if err != nil {
				return err
			}
			if o.WithToken {
				// An unknown name is an error before stdin is read.
				if _, err := m.Profile(o.Name); err != nil {
					return err
				}
				t, err := readImportedToken(c.Context(), f.IO, m)
				if err != nil {
					return err
				}
				return reportImport(c.Context(), f, m, o.Name, m.ImportToken(c.Context(), o.Name, t), "Connected %q")
			}
			return runReauth(c, f, m, o)
		},
	}
	addReauthFlags(c, o)
	c.Flags().BoolVar(&o.WithToken, "with-token", false, "read an existing token from stdin instead of signing in")
	c.MarkFlagsMutuallyExclusive("with-token", "no-browser")
	c.MarkFlagsMutuallyExclusive("with-token", "device")
	c.MarkFlagsMutuallyExclusive("with-token", "manual")
	return c
}

func runReauth(c *cobra.Command, f *Factory, m *profiles.Manager, o *reauthOptions) error {
	res, err := m.Reauth(c.Context(), o.Name, profiles.ReauthOptions{
		NoBrowser: o.NoBrowser, Manual: o.Manual, Device: o.Device, Timeout: o.Timeout,
		Stdin: f.IO.In, Stderr: f.IO.ErrOut,
	})
	if err != nil {
		switch {
		case errors.Is(err, flow.ErrDenied):
			return fmt.Errorf("sign-in for %q was denied in the browser; nothing changed", o.Name)
		case errors.Is(err, flow.ErrTimeout):
			return fmt.Errorf("%w; nothing changed", err)
		}
		return err
	}
	st := newStyles()
	who := res.Account.Name
	if who == "" {
		who = res.Account.ID
	}
	msg := fmt.Sprintf("✓ Connected %q", o.Name)
	if who != "" {
		msg += " as " + who
		if res.Account.ID != "" && res.Account.ID != who {
			msg += " (id " + res.Account.ID + ")"
		}
	}
	msg += "; status " + string(res.View.Status)
	if res.View.ConnectionExpiresAt != nil {
		msg += ", connection ends " + when(res.View.ConnectionExpiresAt, f.IO.Now(), true)
	}
	fmt.Fprintln(f.IO.ColorErr(), st.ok.Render(msg)+".")
	if res.PreviousAccount != "" {
		fmt.Fprintln(f.IO.ColorErr(), st.expiring.Render(fmt.Sprintf("Note: %q was connected as %s before; if that was not intended, run `sbctl reauth %s` again and sign in with that account.", o.Name, res.PreviousAccount, o.Name)))
	}
	return nil
}

func newRelayPageCmd(f *Factory) *cobra.Command {
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
			_, err := fmt.Fprint(f.IO.Out, flow.RelayPage())
			return err
		},
	}
}
