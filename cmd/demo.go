package cmd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/auth/sandbox"
	"github.com/sbctl/sbctl/profiles"
	"github.com/sbctl/sbctl/tui"
)

type demoOptions struct {
	IO *IOStreams
	// RunTUI shows the workspace (the demo opens its own Manager on it,
	// never the user's).
	RunTUI func(ctx context.Context, m *profiles.Manager, o tui.Options) error

	SystemBrowser bool
	Keep          bool
}

func newDemoCmd(f *Factory, runF func(*demoOptions) error) *cobra.Command {
	o := &demoOptions{IO: f.IO, RunTUI: f.RunTUI}
	c := &cobra.Command{
		Use:   "demo",
		Short: "Try sbctl in a throwaway workspace wired to an embedded sandbox provider",
		Long: `Start an embedded sandbox OAuth server and a throwaway workspace (its own
config, state and keychain service — or a plain file in the workspace when
this machine has no keychain) with profiles in every status, and open the
TUI: reauth (r), refresh (f), verify (v) them in place. Everything is
removed on exit; your real config and keychain items are never touched.

Sign-ins are approved at once by the sandbox; a built-in "browser" follows
the redirect, or use --browser to watch it in the system browser. Without a
terminal, the demo prints the profile list and exits.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			return runWith(c.Context(), o, runF, runDemo)
		},
	}
	c.Flags().BoolVar(&o.SystemBrowser, "browser", false, "open sign-ins in the system browser ($SBCTL_BROWSER, $BROWSER) instead of the built-in one")
	c.Flags().BoolVar(&o.Keep, "keep", false, "keep the workspace directory after exit (its path is printed)")
	return c
}

func runDemo(ctx context.Context, o *demoOptions) error {
	dir, err := os.MkdirTemp("", "sbctl-demo-")
	if err != nil {
		return err
	}
	if o.Keep {
		fmt.Fprintf(o.IO.ErrOut, "Demo workspace: %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	srv, err := sandbox.New(sandbox.Options{AutoApprove: true, AccessTTL: time.Hour, RefreshTTL: 30 * 24 * time.Hour})
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return fmt.Errorf("starting the demo's sandbox: %w", err)
	}
	defer srv.Close()

	st, cleanup, storeNote := demoStore(ctx, dir)
	defer cleanup()
	m, err := buildDemoWorkspace(ctx, dir, srv, st, o.IO.Now)
	if err != nil {
		return fmt.Errorf("building the demo workspace: %w", err)
	}
	fmt.Fprintf(o.IO.ErrOut, "sbctl demo: sandbox %s, tokens in the %s.\n", srv.Issuer(), storeNote)

	if !(o.IO.InTTY && o.IO.ErrTTY && o.IO.OutTTY) {
		views, err := m.List(ctx, profiles.Filter{})
		if err != nil {
			return err
		}
		if err := printProfileTable(o.IO, views); err != nil {
			return err
		}
		fmt.Fprintln(o.IO.ErrOut, "\nRun `sbctl demo` in a terminal to open the TUI and reauth, refresh and verify these profiles in place.")
		return nil
	}
	var opener profiles.Opener = sandbox.ClickThrough{}
	if o.SystemBrowser {
		opener = nil
	}
	return o.RunTUI(ctx, m, tui.Options{Browser: opener, Title: "sbctl demo — a throwaway workspace"})
}

// demoStore is the keychain under a service of the demo's own when one is
// usable (profiles.ProbeStore), else a plain file inside the workspace
// (which is deleted).
func demoStore(ctx context.Context, dir string) (profiles.TokenStore, func(), string) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	service := "sbctl-demo-" + hex.EncodeToString(b[:])
	k, err := profiles.OpenStore(profiles.StoreOptions{Kind: profiles.StoreKeychain, KeyringService: service, KeyringTimeout: 5 * time.Second}, nil)
	if err == nil {
		err = profiles.ProbeStore(ctx, k)
	}
	if err == nil {
		var written []string
		return &trackingStore{TokenStore: k, keys: &written}, func() {
			for _, key := range written {
				_ = k.Delete(context.Background(), key)
			}
		}, fmt.Sprintf("keychain under service %q", service)
	}
	file, _ := profiles.OpenStore(profiles.StoreOptions{Kind: profiles.StoreFile, FileDir: filepath.Join(dir, "data")}, nil)
	return file, func() {}, "workspace's plain token file (no usable keychain here)"
}

// trackingStore remembers what it wrote, so the demo can remove it all.
type trackingStore struct {
	profiles.TokenStore
	keys *[]string
}

func (t *trackingStore) Set(ctx context.Context, key, value string) error {
	*t.keys = append(*t.keys, key)
	return t.TokenStore.Set(ctx, key, value)
}

// buildDemoWorkspace writes the demo config and connects its profiles so
// that every status of SPEC §4 is on screen.
func buildDemoWorkspace(ctx context.Context, dir string, srv *sandbox.Server, st profiles.TokenStore, now func() time.Time) (*profiles.Manager, error) {
	md := srv.Metadata()
	cfg := fmt.Sprintf(`# sbctl demo workspace (deleted on exit)
providers:
  sandbox:
    type: oidc
    issuer: %s
    client_id: sbctl-demo
    scopes: [openid, offline_access, profile]
  legacy:            # long-lived tokens without refresh, imported with --with-token
    type: oauth2
    auth_url: %s
    token_url: %s
    revoke_url: %s
    client_id: sbctl-demo-legacy
groups:
  marketing:
    description: Brand accounts
  support:
    description: Customer care
`, srv.Issuer(), md.AuthorizationEndpoint, md.TokenEndpoint, md.RevocationEndpoint)
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	m, err := profiles.Open(profiles.Options{ConfigPath: cfgPath, StateDir: filepath.Join(dir, "state"), Store: st, Now: now})
	if err != nil {
		return nil, err
	}
	t0 := now()
	grant := func(sub string) (*profiles.ImportedToken, error) {
		tr, err := srv.Issue(sandbox.IssueRequest{ClientID: "sbctl-demo", Subject: sub, Scopes: []string{"openid", "offline_access", "profile"}})
		if err != nil {
			return nil, err
		}
		return &profiles.ImportedToken{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, TokenType: "Bearer", IDToken: tr.IDToken,
			Expiry: t0.Add(time.Duration(tr.ExpiresIn) * time.Second), RefreshExpiry: t0.Add(time.Duration(tr.RefreshTokenExpiresIn) * time.Second), ObtainedAt: t0}, nil
	}
	type demoProfile struct {
		name, provider, group string
		token                 func() (*profiles.ImportedToken, error)
	}
	imported := func(expiry time.Duration) func() (*profiles.ImportedToken, error) {
		return func() (*profiles.ImportedToken, error) {
			return &profiles.ImportedToken{AccessToken: "demo-long-lived-" + hex.EncodeToString([]byte(expiry.String())), TokenType: "Bearer", Expiry: t0.Add(expiry), ObtainedAt: t0.Add(-50 * 24 * time.Hour)}, nil
		}
	}
	list := []demoProfile{
		{"acme-x", "sandbox", "marketing", func() (*profiles.ImportedToken, error) { return grant("acme") }},
		{"広報アカウント", "sandbox", "marketing", func() (*profiles.ImportedToken, error) { return grant("kouhou") }},
		{"acme-fb", "legacy", "marketing", imported(2 * 24 * time.Hour)},
		{"acme-ig", "legacy", "marketing", imported(-26 * time.Hour)},
		{"acme-li", "sandbox", "support", func() (*profiles.ImportedToken, error) { return grant("li-user") }},
		{"acme-yt", "sandbox", "support", func() (*profiles.ImportedToken, error) { return grant("yt-user") }},
		{"acme-tt", "sandbox", "support", nil},
	}
	for _, p := range list {
		spec := profiles.AddSpec{Name: p.name, Provider: p.provider, Groups: []string{p.group}}
		if p.token == nil {
			if err := m.AddUnconnected(ctx, spec); err != nil {
				return nil, err
			}
			continue
		}
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		if err := m.AddWithToken(ctx, spec, tok); err != nil {
			return nil, err
		}
	}
	// Two accounts die at the network: the password changed, the app was
	// removed. Verify notices, as it would in a morning cron job.
	if err := errors.Join(srv.ChangePassword("li-user"), srv.RevokeAccount("yt-user")); err != nil {
		return nil, err
	}
	if _, err := m.Verify(ctx, []string{"acme-x", "広報アカウント", "acme-li", "acme-yt"}, false, 4); err != nil {
		return nil, err
	}
	return m, nil
}
