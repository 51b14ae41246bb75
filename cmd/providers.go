package cmd

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sbctl/sbctl/config"
	"github.com/sbctl/sbctl/profiles"
)

func newProvidersCmd(f *Factory) *cobra.Command {
	c := group("providers", "Show providers and set their client secrets",
		newProvidersListCmd(f),
		newProvidersShowCmd(f),
		newProvidersSetSecretCmd(f),
	)
	c.Aliases = []string{"provider"}
	return c
}

// providerView is a configured provider as `providers list -o json` shows it.
type providerView struct {
	Name     string   `json:"name" yaml:"name"`
	Type     string   `json:"type" yaml:"type"`
	ClientID string   `json:"client_id" yaml:"client_id"`
	Issuer   string   `json:"issuer,omitempty" yaml:"issuer,omitempty"`
	AuthURL  string   `json:"auth_url,omitempty" yaml:"auth_url,omitempty"`
	TokenURL string   `json:"token_url,omitempty" yaml:"token_url,omitempty"`
	Redirect string   `json:"redirect,omitempty" yaml:"redirect,omitempty"`
	Scopes   []string `json:"scopes,omitempty" yaml:"scopes,omitempty"`
	Profiles int      `json:"profiles" yaml:"profiles"`
}

func viewProvider(c *config.Config, p *config.Provider) providerView {
	n := 0
	for _, pr := range c.Profiles {
		if pr.Provider == p.Name {
			n++
		}
	}
	return providerView{Name: p.Name, Type: p.Type, ClientID: p.ClientID, Issuer: p.Issuer, AuthURL: p.AuthURL,
		TokenURL: p.TokenURL, Redirect: p.Redirect, Scopes: p.Scopes, Profiles: n}
}

func newProvidersListCmd(f *Factory) *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the providers in the config",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			m, err := f.Manager()
			if err != nil {
				return err
			}
			views := make([]providerView, 0, len(m.Config.Providers))
			for _, p := range m.Config.Providers {
				views = append(views, viewProvider(m.Config, p))
			}
			if ok, err := printData(f.IO.Out, format, views); ok {
				return err
			}
			if len(views) == 0 {
				fmt.Fprintf(f.IO.ErrOut, "No providers in %s yet. Built-in presets: %s.\n", m.Config.Path, strings.Join(profiles.PresetNames(), ", "))
				return nil
			}
			rows := make([][]string, len(views))
			for i, v := range views {
				rows[i] = []string{v.Name, v.Type, orDash(v.ClientID), fmt.Sprint(v.Profiles)}
			}
			return renderTable(f.IO.ColorOut(), f.IO.OutTTY, []string{"NAME", "TYPE", "CLIENT ID", "PROFILES"}, rows, nil)
		},
	}
	addFormatFlag(c, &format)
	return c
}

func newProvidersShowCmd(f *Factory) *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:               "show <provider>",
		Short:             "Show a provider's settings",
		Args:              exactArgs(1, "one provider name"),
		ValidArgsFunction: completeProviders(f),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			m, err := f.Manager()
			if err != nil {
				return err
			}
			p, err := m.Provider(args[0])
			if err != nil {
				return err
			}
			v := viewProvider(m.Config, p)
			if ok, err := printData(f.IO.Out, format, v); ok {
				return err
			}
			w := f.IO.Out
			fmt.Fprintf(w, "%s\n", v.Name)
			fmt.Fprintf(w, "  %-12s %s\n", "Type:", v.Type)
			fmt.Fprintf(w, "  %-12s %s\n", "Client ID:", orDash(v.ClientID))
			for _, kv := range [][2]string{{"Issuer:", v.Issuer}, {"Auth URL:", v.AuthURL}, {"Token URL:", v.TokenURL}, {"Redirect:", v.Redirect}} {
				if kv[1] != "" {
					fmt.Fprintf(w, "  %-12s %s\n", kv[0], kv[1])
				}
			}
			if len(v.Scopes) > 0 {
				fmt.Fprintf(w, "  %-12s %s\n", "Scopes:", strings.Join(v.Scopes, " "))
			}
			fmt.Fprintf(w, "  %-12s %d\n", "Profiles:", v.Profiles)
			return nil
		},
	}
	addFormatFlag(c, &format)
	return c
}

func newProvidersSetSecretCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "set-secret <provider>",
		Short: "Store a provider's client secret in the keychain (read from stdin)",
		Long: `Read the provider's OAuth client secret from stdin and store it in the
keychain (item client:<provider>). On a terminal the input is hidden.
In CI, $SBCTL_CLIENT_SECRET_<PROVIDER> can be used instead.`,
		Example:           `  sbctl providers set-secret facebook < secret.txt`,
		Args:              exactArgs(1, "one provider name"),
		ValidArgsFunction: completeProviders(f),
		RunE: func(c *cobra.Command, args []string) error {
			m, err := f.Manager()
			if err != nil {
				return err
			}
			if _, err := m.Provider(args[0]); err != nil {
				return err
			}
			secret, err := readSecret(f.IO, fmt.Sprintf("Client secret for %s: ", args[0]))
			if err != nil {
				return err
			}
			if err := m.SetClientSecret(c.Context(), args[0], secret); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Stored the client secret of %q.\n", args[0])
			return nil
		},
	}
	return c
}

// readSecret reads one secret: hidden on a terminal, all of stdin otherwise.
func readSecret(ios *IOStreams, prompt string) (string, error) {
	if file, ok := ios.In.(interface{ Fd() uintptr }); ok && ios.InTTY {
		fmt.Fprint(ios.ErrOut, prompt)
		b, err := term.ReadPassword(int(file.Fd()))
		fmt.Fprintln(ios.ErrOut)
		if err != nil {
			return "", fmt.Errorf("reading the secret: %w", err)
		}
		return string(b), nil
	}
	b, err := io.ReadAll(io.LimitReader(ios.In, 64<<10))
	if err != nil {
		return "", fmt.Errorf("reading the secret from stdin: %w", err)
	}
	if len(b) == 0 {
		return "", errors.New("no secret on stdin: pipe it in, e.g. `sbctl providers set-secret p < secret.txt`")
	}
	return string(b), nil
}
