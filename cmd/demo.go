package cmd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
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

	if !o.IO.CanRunTUI() {
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
	return o.RunTUI(ctx, m, tui.Options{Browser: opener, Title: "sbctl demo — a throwaway workspace", NoColor: o.IO.TUINoColor()})
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

// demoProfile is one profile of the demo workspace and how it gets its
// status: a sandbox grant (ok until the sandbox kills it), an imported
// long-lived token (expiring or expired by its expiry), or nothing (not
// connected).
type demoProfile struct {
	name, provider, group string
	subject               string        // a sandbox account: the profile gets a grant
	imported              time.Duration // else, if set: a long-lived token ending this far from now
}

// demoProfiles puts every status of SPEC §4 on screen, in three groups and
// enough rows (33) that sorting, filtering, batch actions and scrolling
// show: the first seven are the classic cast; the fleet around them is
// mostly healthy, as a real one is.
func demoProfiles() []demoProfile {
	day := 24 * time.Hour
	list := []demoProfile{
		{name: "acme-x", provider: "sandbox", group: "marketing", subject: "acme"},
		{name: "広報アカウント", provider: "sandbox", group: "marketing", subject: "kouhou"},
		{name: "acme-fb", provider: "legacy", group: "marketing", imported: 2 * day},
		{name: "acme-ig", provider: "legacy", group: "marketing", imported: -26 * time.Hour},
		{name: "acme-li", provider: "sandbox", group: "support", subject: "li-user"},
		{name: "acme-yt", provider: "sandbox", group: "support", subject: "yt-user"},
		{name: "acme-tt", provider: "sandbox", group: "support"},
		// Signs in by pasting the address the browser ends on (SSH, no
		// loopback): the TUI shows a paste field.
		{name: "acme-threads", provider: "sandbox-manual", group: "support", subject: "threads"},
		// Its network cannot be reached: the last check could not be
		// completed, so the status is unknown (SPEC §4), never ok.
		{name: "acme-pin", provider: "offline", group: "regional", subject: "pin"},
	}
	networks := []string{"instagram", "facebook", "threads", "linkedin", "x", "youtube", "tiktok", "pinterest"}
	regions := []struct{ code, group string }{{"us", "marketing"}, {"eu", "regional"}, {"jp", "regional"}}
	n := 0
	for _, r := range regions {
		for _, nw := range networks {
			p := demoProfile{name: nw + "-" + r.code, provider: "sandbox", group: r.group, subject: nw + "-" + r.code}
			switch n % 9 {
			case 4:
				p.provider, p.subject, p.imported = "legacy", "", time.Duration(3+n%4)*day // expiring
			case 7:
				p.provider, p.subject, p.imported = "legacy", "", 45*day // ok, no refresh
			}
			list = append(list, p)
			n++
		}
	}
	return list
}

// demoDeaths are the sandbox accounts that die at the network after they
// connected (the password changed, the app was removed): verify notices,
// as it would in a morning cron job.
var demoDeaths = struct{ passwordChanged, revoked []string }{
	passwordChanged: []string{"li-user", "tiktok-eu"},
	revoked:         []string{"yt-user", "facebook-jp"},
}

// buildDemoWorkspace writes the demo config and connects its profiles so
// that every status of SPEC §4 is on screen.
func buildDemoWorkspace(ctx context.Context, dir string, srv *sandbox.Server, st profiles.TokenStore, now func() time.Time) (*profiles.Manager, error) {
	md := srv.Metadata()
	cfg := fmt.Sprintf(`# sbctl demo workspace (deleted on exit)
providers:
  sandbox:
    type: oidc
    issuer: %[1]s
    client_id: sbctl-demo
    scopes: [openid, offline_access, profile]
  sandbox-manual:    # sign in by pasting the address (as over SSH)
    type: oidc
    issuer: %[1]s
    client_id: sbctl-demo
    scopes: [openid, offline_access, profile]
    redirect: manual
  legacy:            # long-lived tokens without refresh, imported with --with-token
    type: oauth2
    auth_url: %[2]s
    token_url: %[3]s
    revoke_url: %[4]s
    client_id: sbctl-demo-legacy
  offline:           # a network that cannot be reached right now
    type: oidc
    issuer: %[5]s
    client_id: sbctl-demo
    scopes: [openid, offline_access, profile]
groups:
  marketing:
    description: Brand accounts
  support:
    description: Customer care
  regional:
    description: Regional teams (EU, Japan)
`, srv.Issuer(), md.AuthorizationEndpoint, md.TokenEndpoint, md.RevocationEndpoint, unreachableIssuer())
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	m, err := profiles.Open(profiles.Options{ConfigPath: cfgPath, StateDir: filepath.Join(dir, "state"), Store: st, Now: now})
	if err != nil {
		return nil, err
	}
	t0 := now()
	var granted []string
	for _, p := range demoProfiles() {
		spec := profiles.AddSpec{Name: p.name, Provider: p.provider, Groups: []string{p.group}}
		tok, err := demoToken(srv, p, t0)
		switch {
		case err != nil:
			return nil, err
		case tok == nil:
			err = m.AddUnconnected(ctx, spec)
		default:
			err = m.AddWithToken(ctx, spec, tok)
		}
		if err != nil {
			return nil, err
		}
		if p.subject != "" {
			granted = append(granted, p.name)
		}
	}
	var kills []error
	for _, sub := range demoDeaths.passwordChanged {
		kills = append(kills, srv.ChangePassword(sub))
	}
	for _, sub := range demoDeaths.revoked {
		kills = append(kills, srv.RevokeAccount(sub))
	}
	if err := errors.Join(kills...); err != nil {
		return nil, err
	}
	if _, err := m.Verify(ctx, granted, false, 8); err != nil {
		return nil, err
	}
	return m, nil
}

// demoToken is a profile's token: a sandbox grant, an imported long-lived
// token, or nil (not connected).
func demoToken(srv *sandbox.Server, p demoProfile, t0 time.Time) (*profiles.ImportedToken, error) {
	switch {
	case p.subject != "":
		tr, err := srv.Issue(sandbox.IssueRequest{ClientID: "sbctl-demo", Subject: p.subject, Scopes: []string{"openid", "offline_access", "profile"}})
		if err != nil {
			return nil, err
		}
		return &profiles.ImportedToken{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, TokenType: "Bearer", IDToken: tr.IDToken,
			Expiry: t0.Add(time.Duration(tr.ExpiresIn) * time.Second), RefreshExpiry: t0.Add(time.Duration(tr.RefreshTokenExpiresIn) * time.Second), ObtainedAt: t0}, nil
	case p.imported != 0:
		return &profiles.ImportedToken{AccessToken: "demo-long-lived-" + hex.EncodeToString([]byte(p.name)), TokenType: "Bearer", Expiry: t0.Add(p.imported), ObtainedAt: t0.Add(-50 * 24 * time.Hour)}, nil
	}
	return nil, nil
}

// unreachableIssuer is an address on this machine where nothing listens:
// a port the kernel gave us and we closed at once.
func unreachableIssuer() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "http://127.0.0.1:9" // discard: refused on any sane machine
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}
