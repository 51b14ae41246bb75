package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sbctl/sbctl/profiles"
)

func newProvidersCmd(f *Factory) *cobra.Command {
	c := group("providers", "Show providers and set their client secrets",
		newProvidersListCmd(f, nil),
		newProvidersShowCmd(f, nil),
		newProvidersAddCmd(f, nil),
		newProvidersSetSecretCmd(f, nil),
		newRelayPageCmd(f, nil),
	)
	c.Aliases = []string{"provider"}
	return c
}

type providersListOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	Format string
}

func newProvidersListCmd(f *Factory, runF func(*providersListOptions) error) *cobra.Command {
	o := &providersListOptions{IO: f.IO, Manager: f.Manager}
	c := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the providers in the config",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkFormat(o.Format); err != nil {
				return err
			}
			return runWith(c.Context(), o, runF, runProvidersList)
		},
	}
	addFormatFlag(c, &o.Format)
	return c
}

func runProvidersList(_ context.Context, o *providersListOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	names := m.ProviderNames()
	views := make([]profiles.ProviderInfo, 0, len(names))
	for _, name := range names {
		info, err := m.DescribeProvider(name)
		if err != nil {
			return err
		}
		views = append(views, info)
	}
	if ok, err := printData(o.IO.Out, o.Format, views); ok {
		return err
	}
	if len(views) == 0 {
		fmt.Fprintf(o.IO.ErrOut, "No providers in %s yet. Built-in presets: %s.\n", m.ConfigPath(), strings.Join(profiles.PresetNames(), ", "))
		return nil
	}
	rows := make([][]string, len(views))
	for i, v := range views {
		rows[i] = []string{v.Name, v.Type, profiles.Dash(v.ClientID), v.Mode, fmt.Sprint(v.Profiles)}
	}
	return renderTable(o.IO.ColorOut(), o.IO.OutTTY, []string{"NAME", "TYPE", "CLIENT ID", "MODE", "PROFILES"}, rows, nil)
}

type providersShowOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	Name   string
	Format string
}

func newProvidersShowCmd(f *Factory, runF func(*providersShowOptions) error) *cobra.Command {
	o := &providersShowOptions{IO: f.IO, Manager: f.Manager}
	c := &cobra.Command{
		Use:   "show <provider>",
		Short: "Show a provider's rules: the redirect URI to register, the mode, renewal",
		Long: `Show a configured provider, or a built-in preset by name (facebook,
instagram, threads, linkedin, x, google, youtube, tiktok, pinterest, oidc,
oauth2): which redirect URI to register with the network, which redirect
mode sbctl uses, how access is renewed and checked.`,
		Example:           "  sbctl providers show x\n  sbctl providers show facebook -o json",
		Args:              exactArgs(1, "one provider name"),
		ValidArgsFunction: completeProviders(f),
		RunE: func(c *cobra.Command, args []string) error {
			o.Name = args[0]
			if err := checkFormat(o.Format); err != nil {
				return err
			}
			return runWith(c.Context(), o, runF, runProvidersShow)
		},
	}
	addFormatFlag(c, &o.Format)
	return c
}

func runProvidersShow(_ context.Context, o *providersShowOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	info, err := m.DescribeProvider(o.Name)
	if err != nil {
		return err
	}
	if ok, err := printData(o.IO.Out, o.Format, info); ok {
		return err
	}
	printProviderInfo(o.IO, info)
	return nil
}

func printProviderInfo(ios *IOStreams, info profiles.ProviderInfo) {
	w := ios.ColorOut()
	st := newStyles()
	field := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-22s %s\n", k+":", v)
		}
	}
	title := info.Name
	if info.Title != "" && !strings.EqualFold(info.Title, info.Name) {
		title += " (" + info.Title + ")"
	}
	if !info.Configured {
		title += st.muted.Render("  built-in preset, not in your config")
	}
	fmt.Fprintln(w, st.bold.Render(title))
	field("Type", info.Type)
	field("Client ID", info.ClientID)
	field("Redirect mode", info.Mode)
	field("Allowed modes", strings.Join(info.Modes, ", "))
	uri := info.RedirectURI
	if info.RedirectNote != "" {
		uri += st.muted.Render("  (" + info.RedirectNote + ")")
	}
	field("Register redirect URI", uri)
	field("Authorization URL", info.AuthURL)
	field("Token URL", info.TokenURL)
	field("Revocation URL", info.RevokeURL)
	field("Issuer", info.Issuer)
	field("Scopes", strings.Join(info.Scopes, " "))
	field("PKCE", info.PKCE)
	field("Client auth", info.ClientAuth)
	renewal := info.Renewal
	if info.RotatesTokens {
		renewal += " (rotating refresh tokens)"
	}
	field("Renewal", renewal)
	field("Token check", info.Check)
	if info.NeedsSecret {
		field("Client secret", fmt.Sprintf("required: sbctl providers set-secret %s, or $%s", info.Name, profiles.ClientSecretEnv(info.Name)))
	}
	if info.Configured {
		field("Profiles", fmt.Sprint(info.Profiles))
	}
	if info.Notes != "" {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "  "+info.Notes)
	}
}

type providersAddOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	Spec profiles.ProviderSpec
}

func newProvidersAddCmd(f *Factory, runF func(*providersAddOptions) error) *cobra.Command {
	o := &providersAddOptions{IO: f.IO, Manager: f.Manager}
	s := &o.Spec
	c := &cobra.Command{
		Use:   "add <name> [--preset P] --client-id ID [--issuer URL] [--redirect-port N] …",
		Short: "Add a provider to the config and show the redirect URI to register",
		Long: `Add a provider to the config file, in place (comments and layout kept),
and print what to register with the network.

The name is a built-in preset (facebook, instagram, threads, linkedin, x,
google, youtube, tiktok, pinterest), or any name with --preset naming one
of them or a generic kind: oidc (needs --issuer) or oauth2 (needs
--auth-url and --token-url). The provider is checked as sign-in would use
it before anything is written.`,
		Example: `  sbctl providers add x --client-id abc123
  sbctl providers add acme --preset oidc --issuer https://id.acme.example --client-id sbctl
  sbctl providers add legacy --preset oauth2 --auth-url https://legacy.example/authorize --token-url https://legacy.example/token --client-id cli`,
		Args: exactArgs(1, "one provider name"),
		RunE: func(c *cobra.Command, args []string) error {
			s.Name = args[0]
			return runWith(c.Context(), o, runF, runProvidersAdd)
		},
	}
	fl := c.Flags()
	fl.StringVar(&s.Preset, "preset", "", "the preset or generic kind (oidc, oauth2) it inherits; default: the name")
	fl.StringVar(&s.ClientID, "client-id", "", "the client id of your app registered with the network (required)")
	fl.StringVar(&s.Issuer, "issuer", "", "oidc: the issuer URL ({issuer}/.well-known/openid-configuration)")
	fl.StringVar(&s.AuthURL, "auth-url", "", "oauth2: the authorization endpoint")
	fl.StringVar(&s.TokenURL, "token-url", "", "oauth2: the token endpoint")
	fl.StringVar(&s.RevokeURL, "revoke-url", "", "the RFC 7009 revocation endpoint (optional)")
	fl.StringVar(&s.IntrospectURL, "introspect-url", "", "the RFC 7662 introspection endpoint (optional)")
	fl.StringVar(&s.UserinfoURL, "userinfo-url", "", "the userinfo endpoint (optional)")
	fl.StringVar(&s.DeviceAuthURL, "device-auth-url", "", "the RFC 8628 device authorization endpoint (optional)")
	fl.StringSliceVar(&s.Scopes, "scope", nil, "a scope to request instead of the preset's (repeatable)")
	fl.StringVar(&s.Redirect, "redirect", "", "redirect mode: loopback, relay, manual or device (default: the preset's)")
	fl.IntVar(&s.RedirectPort, "redirect-port", 0, "the fixed loopback port registered with the network")
	fl.StringVar(&s.RelayURL, "relay-url", "", "relay mode: the HTTPS address of your relay page")
	fl.StringVar(&s.RedirectPath, "redirect-path", "", "the loopback callback path registered with the network (default /callback/<name>)")
	fl.StringVar(&s.ClientAuth, "client-auth", "", "client_secret_basic or client_secret_post (default: Basic, then the form)")
	_ = c.RegisterFlagCompletionFunc("preset", cobra.FixedCompletions(profiles.PresetNames(), cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("redirect", cobra.FixedCompletions([]string{"loopback", "relay", "manual", "device"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func runProvidersAdd(ctx context.Context, o *providersAddOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	info, err := m.AddProvider(ctx, o.Spec)
	if err != nil {
		return err
	}
	printProviderAdded(o.IO, m.ConfigPath(), info)
	return nil
}

// printProviderAdded says what was written and what to do next.
func printProviderAdded(ios *IOStreams, cfgPath string, info profiles.ProviderInfo) {
	w := ios.ColorErr()
	st := newStyles()
	fmt.Fprintln(w, st.good.Render(fmt.Sprintf("Added provider %q (%s) to %s.", info.Name, info.Title, cfgPath)))
	if info.RedirectURI != "" {
		fmt.Fprintf(w, "Register this redirect URI with %s: %s\n", info.Title, info.RedirectURI)
		if info.RedirectNote != "" {
			fmt.Fprintf(w, "  (%s)\n", info.RedirectNote)
		}
	} else if info.RedirectNote != "" {
		fmt.Fprintf(w, "Redirect URI: %s\n", info.RedirectNote)
	}
	fmt.Fprintln(w, "Next:")
	if info.NeedsSecret {
		fmt.Fprintf(w, "  sbctl providers set-secret %s    # the app's client secret, into the keychain\n", info.Name)
	}
	fmt.Fprintf(w, "  sbctl profiles add <profile> --provider %s\n", info.Name)
}

type setSecretOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	Provider string
}

func newProvidersSetSecretCmd(f *Factory, runF func(*setSecretOptions) error) *cobra.Command {
	o := &setSecretOptions{IO: f.IO, Manager: f.Manager}
	return &cobra.Command{
		Use:   "set-secret <provider>",
		Short: "Store a provider's client secret in the keychain (read from stdin)",
		Long: `Read the provider's OAuth client secret from stdin and store it in the
keychain (item client:<provider>). On a terminal the input is hidden.
In CI, $SBCTL_CLIENT_SECRET_<PROVIDER> can be used instead.`,
		Example:           `  sbctl providers set-secret facebook < secret.txt`,
		Args:              exactArgs(1, "one provider name"),
		ValidArgsFunction: completeProviders(f),
		RunE: func(c *cobra.Command, args []string) error {
			o.Provider = args[0]
			return runWith(c.Context(), o, runF, runSetSecret)
		},
	}
}

func runSetSecret(ctx context.Context, o *setSecretOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	if _, err := m.Provider(o.Provider); err != nil {
		return err
	}
	secret, err := readSecret(ctx, o.IO, fmt.Sprintf("Client secret for %s: ", o.Provider))
	if err != nil {
		return err
	}
	if err := m.SetClientSecret(ctx, o.Provider, secret); err != nil {
		return err
	}
	fmt.Fprintf(o.IO.ErrOut, "Stored the client secret of %q.\n", o.Provider)
	return nil
}

// readSecret reads one secret: hidden on a terminal, all of stdin otherwise.
func readSecret(ctx context.Context, ios *IOStreams, prompt string) (string, error) {
	if file, ok := ios.In.(interface{ Fd() uintptr }); ok && ios.InTTY {
		fd := int(file.Fd())
		// ReadPassword turns echo off; if Ctrl-C ends the wait, echo must
		// come back before sbctl exits.
		saved, err := term.GetState(fd)
		if err != nil {
			return "", fmt.Errorf("reading the secret: %w", err)
		}
		fmt.Fprint(ios.ErrOut, prompt)
		type result struct {
			b   []byte
			err error
		}
		ch := make(chan result, 1)
		go func() {
			b, err := term.ReadPassword(fd)
			ch <- result{b, err}
		}()
		select {
		case r := <-ch:
			fmt.Fprintln(ios.ErrOut)
			if r.err != nil {
				return "", fmt.Errorf("reading the secret: %w", r.err)
			}
			return string(r.b), nil
		case <-ctx.Done():
			_ = term.Restore(fd, saved)
			fmt.Fprintln(ios.ErrOut)
			return "", ctx.Err()
		}
	}
	b, err := readAllContext(ctx, ios.In, 64<<10)
	if err != nil {
		return "", fmt.Errorf("reading the secret from stdin: %w", err)
	}
	if len(b) == 0 {
		return "", errors.New("no secret on stdin: pipe it in, e.g. `sbctl providers set-secret p < secret.txt`")
	}
	return string(b), nil
}
