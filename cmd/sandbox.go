package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/auth/sandbox"
)

func newSandboxCmd(f *Factory) *cobra.Command {
	c := group("sandbox", "Run a local OAuth 2.0 / OIDC server to try sbctl and to test against",
		newSandboxServeCmd(f, nil),
		newSandboxAccountCmd(f, "expire", "Expire every token of an account (reason: expired)", nil),
		newSandboxAccountCmd(f, "revoke", "Revoke an account's grants, as if the user removed the app (reason: access_revoked)", nil),
		newSandboxAccountCmd(f, "password-change", "Change an account's password: its grants die (reason: password_changed)", nil),
	)
	return c
}

type sandboxServeOptions struct {
	IO *IOStreams

	Addr          string
	AutoApprove   bool
	AccessTTL     time.Duration
	RefreshTTL    time.Duration
	RotateRefresh bool
	TokenLatency  time.Duration
	Quiet         bool
}

func newSandboxServeCmd(f *Factory, runF func(*sandboxServeOptions) error) *cobra.Command {
	o := &sandboxServeOptions{IO: f.IO, AccessTTL: sandbox.DefaultAccessTTL, RefreshTTL: sandbox.DefaultRefreshTTL}
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve a real OAuth 2.0 authorization server with OIDC discovery on loopback",
		Long: `Serve a strict OAuth 2.0 authorization server on loopback: authorization
code with PKCE S256, refresh tokens (optionally rotating, with reuse
detection), RFC 7009 revocation, RFC 7662 introspection, OIDC discovery and
userinfo, and the RFC 8628 device flow. Any client id with a loopback
redirect URI is accepted.

When ready it prints one JSON line to stdout with issuer,
authorization_endpoint, token_endpoint, revocation_endpoint,
introspection_endpoint and userinfo_endpoint, then serves until Ctrl-C.
Point an oidc provider at the issuer:

  providers:
    sandbox:
      type: oidc
      issuer: <issuer>
      client_id: any-name
      scopes: [openid, offline_access]

Accounts are chosen with login_hint (default "sandbox-user"); make their
grants die with 'sbctl sandbox expire|revoke|password-change <account>'.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			return runWith(c.Context(), o, runF, runSandboxServe)
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.Addr, "addr", sandbox.DefaultAddr, "loopback address to listen on (port 0: any free port)")
	fl.BoolVar(&o.AutoApprove, "auto-approve", false, "approve every authorization at once (no approval page)")
	fl.Var(durationFlag{&o.AccessTTL}, "access-ttl", "access token lifetime")
	fl.Var(durationFlag{&o.RefreshTTL}, "refresh-ttl", "refresh token lifetime")
	fl.BoolVar(&o.RotateRefresh, "rotate-refresh", false, "issue a new refresh token on every refresh; reuse of an old one revokes the grant")
	fl.Var(durationFlag{&o.TokenLatency}, "token-latency", "delay added to every token request (to measure refresh under latency)")
	fl.BoolVarP(&o.Quiet, "quiet", "q", false, "do not log requests to stderr")
	return c
}

func runSandboxServe(ctx context.Context, o *sandboxServeOptions) error {
	opts := sandbox.Options{
		Addr: o.Addr, AutoApprove: o.AutoApprove, AccessTTL: o.AccessTTL, RefreshTTL: o.RefreshTTL,
		RotateRefresh: o.RotateRefresh, TokenLatency: o.TokenLatency, Now: o.IO.Now,
	}
	if !o.Quiet {
		// The sandbox's log lines already start with "sandbox: ".
		opts.Logf = func(format string, args ...any) { fmt.Fprintf(o.IO.ErrOut, format+"\n", args...) }
	}
	srv, err := sandbox.New(opts)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if err := srv.Start(); err != nil {
		return fmt.Errorf("starting the sandbox on %s: %w (pick another --addr, or 127.0.0.1:0 for any free port)", o.Addr, err)
	}
	defer srv.Close()
	b, err := json.Marshal(srv.Metadata())
	if err != nil {
		return err
	}
	fmt.Fprintln(o.IO.Out, string(b))
	if o.IO.ErrTTY {
		fmt.Fprintf(o.IO.ErrOut, "Sandbox issuer %s is ready; Ctrl-C stops it.\n", srv.Issuer())
	}
	<-ctx.Done()
	return nil
}

// sandboxAccountOptions are `sbctl sandbox expire|revoke|password-change`.
type sandboxAccountOptions struct {
	IO *IOStreams

	Action  string // the admin endpoint: expire, revoke, password-change
	Account string
	Issuer  string
}

func newSandboxAccountCmd(f *Factory, action, short string, runF func(*sandboxAccountOptions) error) *cobra.Command {
	o := &sandboxAccountOptions{IO: f.IO, Action: action}
	c := &cobra.Command{
		Use:   action + " <account> --issuer URL",
		Short: short,
		Args:  exactArgs(1, "one account (the sandbox subject, e.g. sandbox-user)"),
		RunE: func(c *cobra.Command, args []string) error {
			o.Account = args[0]
			if o.Issuer == "" {
				return usageErr("--issuer is required: the issuer URL that `sbctl sandbox serve` printed")
			}
			u, err := url.Parse(o.Issuer)
			if err != nil || u.Scheme != "http" || u.Host == "" {
				return usageErr("--issuer %q is not the sandbox's http://127.0.0.1:PORT issuer", o.Issuer)
			}
			return runWith(c.Context(), o, runF, runSandboxAccount)
		},
	}
	c.Flags().StringVar(&o.Issuer, "issuer", "", "the sandbox's issuer URL")
	return c
}

// runSandboxAccount asks a running sandbox's admin endpoint to kill an
// account's grants.
func runSandboxAccount(ctx context.Context, o *sandboxAccountOptions) error {
	endpoint := strings.TrimSuffix(o.Issuer, "/") + "/sandbox/accounts/" + url.PathEscape(o.Account) + "/" + o.Action
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the sandbox at %s: is `sbctl sandbox serve` running?", o.Issuer)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("the sandbox has no account %q (accounts exist once they have signed in)", o.Account)
	case resp.StatusCode/100 != 2:
		return fmt.Errorf("the sandbox answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(o.IO.ErrOut, "Sandbox account %q: %s done.\n", o.Account, o.Action)
	return nil
}
