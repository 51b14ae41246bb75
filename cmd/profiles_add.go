package cmd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/profiles"
)

type addOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	Name      string
	Provider  string
	Groups    []string
	Scopes    []string
	NoConnect bool
	WithToken bool
	// Mode and Timeout are the sign-in's, as for `sbctl reauth`.
	Mode    profiles.SignInMode
	Timeout time.Duration
	signIn  signInFlags
}

func newProfilesAddCmd(f *Factory, runF func(*addOptions) error) *cobra.Command {
	o := &addOptions{IO: f.IO, Manager: f.Manager, Timeout: profiles.DefaultSignInTimeout}
	c := &cobra.Command{
		Use:   "add <name> --provider P [--group G]... [--scope S]... [--no-connect | --with-token]",
		Short: "Add a profile to the config and connect it in the browser",
		Long: `Add a profile to the config file (keeping its comments and layout) and
connect it in the browser (as 'sbctl reauth' does; --no-browser, --manual,
--device and --timeout apply).

  --no-connect   only write the config; connect later with sbctl reauth
  --with-token   read an existing token from stdin instead of opening a
                 browser: JSON with access_token (required), refresh_token,
                 token_type, expiry (RFC 3339) or expires_in (seconds),
                 refresh_expiry or refresh_expires_in — or a bare access
                 token on one line. The token goes to the keychain.`,
		Example: `  sbctl profiles add acme-x --provider x --group marketing
  sbctl profiles add acme-fb --provider facebook --no-connect
  echo '{"access_token":"…","expires_in":5183944}' | sbctl profiles add acme-ig --provider instagram --with-token`,
		Args: exactArgs(1, "one profile name"),
		RunE: func(c *cobra.Command, args []string) error {
			o.Name = args[0]
			if o.Provider == "" {
				return usageErr("--provider is required (see `sbctl providers list`)")
			}
			o.Mode = o.signIn.mode()
			return runWith(c.Context(), o, runF, runAdd)
		},
	}
	c.Flags().StringVarP(&o.Provider, "provider", "p", "", "the provider (an entry of providers: in the config)")
	c.Flags().StringSliceVarP(&o.Groups, "group", "g", nil, "add to this group (repeatable)")
	c.Flags().StringSliceVar(&o.Scopes, "scope", nil, "request this scope instead of the provider's defaults (repeatable)")
	c.Flags().BoolVar(&o.NoConnect, "no-connect", false, "only write the config")
	c.Flags().BoolVar(&o.WithToken, "with-token", false, "read an existing token from stdin")
	addSignInFlags(c, &o.signIn, &o.Timeout)
	c.MarkFlagsMutuallyExclusive("no-connect", "with-token")
	for _, fl := range signInFlagNames {
		c.MarkFlagsMutuallyExclusive("with-token", fl)
		c.MarkFlagsMutuallyExclusive("no-connect", fl)
	}
	_ = c.RegisterFlagCompletionFunc("provider", completeProviders(f))
	_ = c.RegisterFlagCompletionFunc("group", completeGroups(f))
	return c
}

func runAdd(ctx context.Context, o *addOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	spec := profiles.AddSpec{Name: o.Name, Provider: o.Provider, Groups: o.Groups, Scopes: o.Scopes}
	switch {
	case o.NoConnect:
		if err := m.AddUnconnected(ctx, spec); err != nil {
			return err
		}
		fmt.Fprintf(o.IO.ErrOut, "Added profile %q (%s) to %s. Connect it with `sbctl reauth %s`.\n", o.Name, o.Provider, m.ConfigPath(), o.Name)
		return nil
	case o.WithToken:
		t, err := readImportedToken(ctx, o.IO, m)
		if err != nil {
			return err
		}
		return reportImport(ctx, o.IO, m, o.Name, m.AddWithToken(ctx, spec, t), "Added profile %q ("+o.Provider+")")
	}
	if err := m.AddUnconnected(ctx, spec); err != nil {
		return err
	}
	fmt.Fprintf(o.IO.ErrOut, "Added profile %q (%s) to %s; connecting…\n", o.Name, o.Provider, m.ConfigPath())
	if err := signIn(ctx, o.IO, m, o.Name, o.Mode, o.Timeout); err != nil {
		return fmt.Errorf("%w\nThe profile is in the config but not connected; connect it with `sbctl reauth %s`", err, o.Name)
	}
	return nil
}

type removeOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	Name       string
	KeepRemote bool
	Force      bool
	Yes        bool
}

func newProfilesRemoveCmd(f *Factory, runF func(*removeOptions) error) *cobra.Command {
	o := &removeOptions{IO: f.IO, Manager: f.Manager}
	c := &cobra.Command{
		Use:     "remove <name>",
		Aliases: []string{"rm"},
		Short:   "Revoke a profile's access and remove it",
		Long: `Revoke the profile's grant at the provider (unless --keep-remote), delete
its token from the keychain and its entry from the config.

If the revocation fails, nothing is removed (retry, or use --force to
remove the local copy anyway; then revoke the app's access in the
network's settings).`,
		Args:              exactArgs(1, "one profile name"),
		ValidArgsFunction: completeProfiles(f),
		RunE: func(c *cobra.Command, args []string) error {
			o.Name = args[0]
			return runWith(c.Context(), o, runF, runRemove)
		},
	}
	c.Flags().BoolVar(&o.KeepRemote, "keep-remote", false, "do not revoke at the provider; remove only the local copy")
	c.Flags().BoolVar(&o.Force, "force", false, "remove even if the revocation fails")
	c.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation")
	return c
}

func runRemove(ctx context.Context, o *removeOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	v, err := m.Show(ctx, o.Name, 0)
	if err != nil {
		return err
	}
	if !o.Yes && v.MayWork() {
		// Like gh: a destructive command asks on a terminal and needs
		// --yes in a script. Removing a connection that is already dead
		// or was never made loses nothing that a reauth would not need
		// anyway, so it does not ask.
		what := fmt.Sprintf("Remove profile %q, revoke its access at %s and delete its token?", o.Name, v.Provider)
		if o.KeepRemote {
			what = fmt.Sprintf("Remove profile %q and delete its token (access at %s stays granted)?", o.Name, v.Provider)
		}
		if !o.IO.InTTY || !o.IO.ErrTTY {
			return usageErr("profiles remove %s would end a working connection (%s): add --yes to confirm when not on a terminal", o.Name, v.Status)
		}
		ok, err := confirm(ctx, o.IO, what)
		if err != nil {
			return err
		}
		if !ok {
			return withCode(ExitError, errors.New("cancelled; nothing was removed"))
		}
	}
	res, err := m.Remove(ctx, o.Name, profiles.RemoveOptions{KeepRemote: o.KeepRemote, Force: o.Force})
	if err != nil {
		return err
	}
	w := o.IO.ErrOut
	switch {
	case res.Revoked:
		fmt.Fprintf(w, "Revoked access at the provider.\n")
	case res.RevokeErr != nil:
		fmt.Fprintf(w, "warning: revoking at the provider failed (%v); removed anyway (--force). Remove the app's access in the network's settings.\n", res.RevokeErr)
	case res.NoRevoke:
		fmt.Fprintf(w, "The provider offers no revocation; remove the app's access in the network's settings if it should end now.\n")
	}
	fmt.Fprintf(w, "Removed profile %q.\n", o.Name)
	return nil
}

// readImportedToken reads a --with-token input: hidden on a terminal (one
// line), all of stdin otherwise. Problems with it are usage errors that
// never quote the token.
func readImportedToken(ctx context.Context, ios *IOStreams, m *profiles.Manager) (*profiles.ImportedToken, error) {
	var raw []byte
	if ios.InTTY {
		line, err := readSecret(ctx, ios, "Paste the token (a bare access token or one-line JSON) and press Enter; it is not shown: ")
		if err != nil {
			return nil, err
		}
		raw = []byte(line)
	} else {
		b, err := readAllContext(ctx, ios.In, profiles.MaxImportSize+1)
		if err != nil {
			return nil, err
		}
		raw = b
	}
	t, ignored, err := profiles.ParseImport(bytes.NewReader(raw), m.Now())
	if err != nil {
		return nil, usageErr("--with-token: %v", err)
	}
	if len(ignored) > 0 {
		fmt.Fprintf(ios.ErrOut, "note: ignored fields of the token JSON: %s\n", strings.Join(ignored, ", "))
	}
	return t, nil
}

// reportImport tells what an import did. A token the network rejected is
// recorded as such, and the command exits 4: the profile needs a reauth.
func reportImport(ctx context.Context, ios *IOStreams, m *profiles.Manager, name string, err error, done string) error {
	var rejected *profiles.ImportRejectedError
	switch {
	case errors.As(err, &rejected):
		return withCode(ExitNeedsReauth, err)
	case err != nil:
		return err
	}
	v, err := m.Show(ctx, name, 0)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf(done, name) + " with the given token: " + string(v.Status)
	if v.Account != nil {
		msg += ", account " + *v.Account
	}
	fmt.Fprintln(ios.ErrOut, msg+".")
	return nil
}

// confirm asks a yes/no question on the terminal; anything but y/yes is no.
func confirm(ctx context.Context, ios *IOStreams, question string) (bool, error) {
	fmt.Fprintf(ios.ErrOut, "%s [y/N] ", question)
	type answer struct {
		line string
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		line, err := bufio.NewReader(ios.In).ReadString('\n')
		ch <- answer{line, err}
	}()
	var line string
	select {
	case a := <-ch:
		if a.err != nil && a.line == "" {
			return false, nil
		}
		line = a.line
	case <-ctx.Done():
		fmt.Fprintln(ios.ErrOut)
		return false, ctx.Err()
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}
