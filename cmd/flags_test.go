package cmd

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/profiles"
)

// Flag parsing, checked the GitHub CLI way (token_test.go): each command
// is built with a runF that captures its options, executed with
// arguments, and the parsed options or the usage error compared. Nothing
// runs: the Factory's Manager fails the test if a command opens it.

// flagCase is one command line: want is the projection of the options
// runF received, or wantErr a part of the usage error (exit 2) refusing
// the line before runF.
type flagCase[P any] struct {
	args    []string
	want    P
	wantErr string
}

// flagFactory is a Factory whose dependencies must not be used.
func flagFactory(t *testing.T) *Factory {
	t.Helper()
	ios, _, _, _ := Test()
	return &Factory{
		IO: ios,
		Manager: func() (*profiles.Manager, error) {
			t.Error("flag parsing opened the Manager")
			return nil, errors.New("no Manager in flag tests")
		},
	}
}

// execUnderRoot runs c as a subcommand of a root with Run's flag handling
// (flag errors are usage errors, exclusive flags are checked first).
func execUnderRoot(c *cobra.Command, args []string) error {
	root := &cobra.Command{
		Use: "sbctl", SilenceErrors: true, SilenceUsage: true,
		PersistentPreRunE: func(c *cobra.Command, _ []string) error { return checkFlagGroups(c) },
	}
	root.SetFlagErrorFunc(flagUsageErr)
	root.AddCommand(c)
	root.SetArgs(args)
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	_, err := root.ExecuteC()
	return err
}

func checkFlags[O, P any](t *testing.T, build func(*Factory, func(*O) error) *cobra.Command, project func(*O) P, cases []flagCase[P]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			var got *O
			c := build(flagFactory(t), func(o *O) error {
				got = o
				return nil
			})
			err := execUnderRoot(c, tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				if code := exitCode(err); code != ExitUsage {
					t.Errorf("exit code %d for %q, want %d (usage)", code, err, ExitUsage)
				}
				if got != nil {
					t.Errorf("runF ran despite the usage error")
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got == nil {
				t.Fatal("runF was not called")
			}
			if p := project(got); !reflect.DeepEqual(p, tc.want) {
				t.Errorf("options\n got %+v\nwant %+v", p, tc.want)
			}
		})
	}
}

type reauthParsed struct {
	Name      string
	Mode      profiles.SignInMode
	Timeout   time.Duration
	WithToken bool
}

func TestReauthFlags(t *testing.T) {
	t.Parallel()
	def := profiles.DefaultSignInTimeout
	checkFlags(t, newReauthCmd, func(o *reauthOptions) reauthParsed {
		return reauthParsed{o.Name, o.Mode, o.Timeout, o.WithToken}
	}, []flagCase[reauthParsed]{
		{args: []string{"reauth", "p"}, want: reauthParsed{"p", profiles.SignInDefault, def, false}},
		{args: []string{"reauth", "p", "--no-browser"}, want: reauthParsed{"p", profiles.SignInNoBrowser, def, false}},
		{args: []string{"reauth", "p", "--manual", "--timeout", "90s"}, want: reauthParsed{"p", profiles.SignInManual, 90 * time.Second, false}},
		{args: []string{"reauth", "p", "--device", "--timeout", "1d"}, want: reauthParsed{"p", profiles.SignInDevice, 24 * time.Hour, false}},
		{args: []string{"reauth", "p", "--with-token"}, want: reauthParsed{"p", profiles.SignInDefault, def, true}},
		{args: []string{"reauth", "p", "--manual", "--device"}, wantErr: "--device and --manual cannot be used together"},
		{args: []string{"reauth", "p", "--no-browser", "--manual", "--device"}, wantErr: "--device and --manual and --no-browser cannot be used together"},
		{args: []string{"reauth", "p", "--with-token", "--no-browser"}, wantErr: "--no-browser and --with-token cannot be used together"},
		{args: []string{"reauth", "p", "--timeout", "soon"}, wantErr: "invalid duration"},
		{args: []string{"reauth"}, wantErr: "sbctl reauth takes one profile name (got 0 arguments)"},
		{args: []string{"reauth", "a", "b"}, wantErr: "takes one profile name (got 2 arguments)"},
		{args: []string{"reauth", "p", "--browser"}, wantErr: "unknown flag: --browser"},
	})
}

type refreshParsed struct {
	Names          []string
	All            bool
	ExpiringWithin time.Duration
	Concurrency    int
	Format         string
}

func TestRefreshFlags(t *testing.T) {
	t.Parallel()
	checkFlags(t, newRefreshCmd, func(o *refreshOptions) refreshParsed {
		return refreshParsed{o.Names, o.All, o.ExpiringWithin, o.Concurrency, o.Format}
	}, []flagCase[refreshParsed]{
		{args: []string{"refresh", "a", "b"}, want: refreshParsed{[]string{"a", "b"}, false, 0, profiles.DefaultConcurrency, ""}},
		{args: []string{"refresh", "--all", "--expiring-within", "7d", "-c", "3", "-o", "json"}, want: refreshParsed{[]string{}, true, 7 * 24 * time.Hour, 3, "json"}},
		{args: []string{"refresh", "-a", "--concurrency", "64"}, want: refreshParsed{[]string{}, true, 0, 64, ""}},
		{args: []string{"refresh"}, wantErr: "name profiles to refresh, or use --all"},
		{args: []string{"refresh", "--all", "-c", "0"}, wantErr: "--concurrency 0: use 1 to 64"},
		{args: []string{"refresh", "--all", "-c", "65"}, wantErr: "--concurrency 65"},
		{args: []string{"refresh", "--all", "-o", "yaml"}, wantErr: "refresh prints only json (-o json)"},
		{args: []string{"refresh", "--all", "--expiring-within", "-1d"}, wantErr: "--expiring-within"},
	})
}

type verifyParsed struct {
	Names       []string
	All         bool
	Concurrency int
	Format      string
	Quiet       bool
}

func TestVerifyFlags(t *testing.T) {
	t.Parallel()
	checkFlags(t, newProfilesVerifyCmd, func(o *verifyOptions) verifyParsed {
		return verifyParsed{o.Names, o.All, o.Concurrency, o.Format, o.Quiet}
	}, []flagCase[verifyParsed]{
		{args: []string{"verify", "acme-x", "acme-fb"}, want: verifyParsed{[]string{"acme-x", "acme-fb"}, false, profiles.DefaultConcurrency, "", false}},
		{args: []string{"verify", "--all", "-q", "-c", "2"}, want: verifyParsed{[]string{}, true, 2, "", true}},
		{args: []string{"verify", "-a", "-o", "json"}, want: verifyParsed{[]string{}, true, profiles.DefaultConcurrency, "json", false}},
		{args: []string{"verify"}, wantErr: "name profiles to verify, or use --all"},
		{args: []string{"verify", "--all", "-o", "table"}, wantErr: "verify prints only json (-o json)"},
		{args: []string{"verify", "--all", "-c", "100"}, wantErr: "--concurrency 100: use 1 to 64"},
	})
}

type tokenParsed struct {
	Name   string
	MinTTL time.Duration
}

func TestTokenFlags(t *testing.T) {
	t.Parallel()
	checkFlags(t, newTokenCmd, func(o *tokenOptions) tokenParsed {
		return tokenParsed{o.Name, o.MinTTL}
	}, []flagCase[tokenParsed]{
		{args: []string{"token", "acme-x"}, want: tokenParsed{"acme-x", profiles.DefaultMinTTL}},
		{args: []string{"token", "acme-x", "--min-ttl", "10m"}, want: tokenParsed{"acme-x", 10 * time.Minute}},
		{args: []string{"token", "acme-x", "--min-ttl", "0"}, want: tokenParsed{"acme-x", 0}},
		{args: []string{"token"}, wantErr: "sbctl token takes one profile name (got 0 arguments)"},
		{args: []string{"token", "a", "b"}, wantErr: "(got 2 arguments)"},
		{args: []string{"token", "a", "--min-ttl", "a while"}, wantErr: "invalid duration"},
	})
}

type listParsed struct {
	Filter profiles.Filter
	Format string
}

func TestProfilesListFlags(t *testing.T) {
	t.Parallel()
	checkFlags(t, newProfilesListCmd, func(o *listOptions) listParsed {
		return listParsed{o.Filter, o.Format}
	}, []flagCase[listParsed]{
		{args: []string{"list"}, want: listParsed{profiles.Filter{}, "table"}},
		{args: []string{"ls", "-o", "json"}, want: listParsed{profiles.Filter{}, "json"}},
		{
			args: []string{"list", "-g", "marketing", "-p", "x", "--status", "expired, needs_reauth", "-s", "ok", "--expiring-within", "30d", "-o", "yaml"},
			want: listParsed{profiles.Filter{
				Group: "marketing", Provider: "x", ExpiringWithin: 30 * 24 * time.Hour,
				Statuses: []profiles.Status{profiles.StatusExpired, profiles.StatusNeedsReauth, profiles.StatusOK},
			}, "yaml"},
		},
		{args: []string{"list", "--status", "expird"}, wantErr: `unknown status "expird"`},
		{args: []string{"list", "-o", "xml"}, wantErr: `unknown output format "xml"`},
		{args: []string{"list", "extra"}, wantErr: "sbctl list takes no arguments (got 1 arguments)"},
		{args: []string{"list", "--expiring-within", "a week"}, wantErr: "invalid duration"},
	})
}

type checkParsed struct {
	Filter profiles.Filter
	Format string
	Quiet  bool
}

func TestProfilesCheckFlags(t *testing.T) {
	t.Parallel()
	checkFlags(t, newProfilesCheckCmd, func(o *checkOptions) checkParsed {
		return checkParsed{o.Filter, o.Format, o.Quiet}
	}, []flagCase[checkParsed]{
		{args: []string{"check"}, want: checkParsed{profiles.Filter{}, "", false}},
		{args: []string{"check", "-q", "--group", "g", "--expiring-within", "14d"}, want: checkParsed{profiles.Filter{Group: "g", ExpiringWithin: 14 * 24 * time.Hour}, "", true}},
		{args: []string{"check", "-o", "json", "-p", "acme"}, want: checkParsed{profiles.Filter{Provider: "acme"}, "json", false}},
		{args: []string{"check", "-o", "yaml"}, wantErr: "profiles check prints only json (-o json)"},
		{args: []string{"check", "--status", "ok"}, wantErr: "unknown flag: --status"},
		{args: []string{"check", "now"}, wantErr: "takes no arguments"},
	})
}

type showParsed struct {
	Name           string
	Format         string
	ExpiringWithin time.Duration
}

func TestProfilesShowFlags(t *testing.T) {
	t.Parallel()
	checkFlags(t, newProfilesShowCmd, func(o *showOptions) showParsed {
		return showParsed{o.Name, o.Format, o.ExpiringWithin}
	}, []flagCase[showParsed]{
		{args: []string{"show", "p"}, want: showParsed{"p", "table", 0}},
		{args: []string{"show", "広報アカウント", "-o", "json", "--expiring-within", "1d"}, want: showParsed{"広報アカウント", "json", 24 * time.Hour}},
		{args: []string{"show"}, wantErr: "sbctl show takes one profile name (got 0 arguments)"},
		{args: []string{"show", "p", "-o", "csv"}, wantErr: `unknown output format "csv"`},
	})
}

type addParsed struct {
	Name, Provider       string
	Groups, Scopes       []string
	NoConnect, WithToken bool
	Mode                 profiles.SignInMode
	Timeout              time.Duration
}

func TestProfilesAddFlags(t *testing.T) {
	t.Parallel()
	def := profiles.DefaultSignInTimeout
	checkFlags(t, newProfilesAddCmd, func(o *addOptions) addParsed {
		return addParsed{o.Name, o.Provider, o.Groups, o.Scopes, o.NoConnect, o.WithToken, o.Mode, o.Timeout}
	}, []flagCase[addParsed]{
		{args: []string{"add", "acme-x", "--provider", "x"}, want: addParsed{"acme-x", "x", nil, nil, false, false, profiles.SignInDefault, def}},
		{
			args: []string{"add", "acme-x", "-p", "x", "-g", "marketing", "--group", "support,brand", "--scope", "tweet.read", "--scope", "users.read"},
			want: addParsed{"acme-x", "x", []string{"marketing", "support", "brand"}, []string{"tweet.read", "users.read"}, false, false, profiles.SignInDefault, def},
		},
		{args: []string{"add", "p", "-p", "x", "--device", "--timeout", "2m"}, want: addParsed{"p", "x", nil, nil, false, false, profiles.SignInDevice, 2 * time.Minute}},
		{args: []string{"add", "p", "-p", "x", "--no-connect"}, want: addParsed{"p", "x", nil, nil, true, false, profiles.SignInDefault, def}},
		{args: []string{"add", "p", "-p", "x", "--with-token"}, want: addParsed{"p", "x", nil, nil, false, true, profiles.SignInDefault, def}},
		{args: []string{"add", "p"}, wantErr: "--provider is required (see `sbctl providers list`)"},
		{args: []string{"add", "p", "-p", "x", "--no-connect", "--with-token"}, wantErr: "--no-connect and --with-token cannot be used together"},
		{args: []string{"add", "p", "-p", "x", "--with-token", "--manual"}, wantErr: "--manual and --with-token cannot be used together"},
		{args: []string{"add", "p", "-p", "x", "--no-connect", "--timeout", "1m"}, wantErr: "--no-connect and --timeout cannot be used together"},
		{args: []string{"add", "p", "-p", "x", "--no-browser", "--device"}, wantErr: "--device and --no-browser cannot be used together"},
		{args: []string{"add", "--provider", "x"}, wantErr: "takes one profile name (got 0 arguments)"},
	})
}

type removeParsed struct {
	Name                   string
	KeepRemote, Force, Yes bool
}

func TestProfilesRemoveFlags(t *testing.T) {
	t.Parallel()
	checkFlags(t, newProfilesRemoveCmd, func(o *removeOptions) removeParsed {
		return removeParsed{o.Name, o.KeepRemote, o.Force, o.Yes}
	}, []flagCase[removeParsed]{
		{args: []string{"remove", "p"}, want: removeParsed{"p", false, false, false}},
		{args: []string{"rm", "p", "--keep-remote", "-y"}, want: removeParsed{"p", true, false, true}},
		{args: []string{"remove", "p", "--force", "--yes"}, want: removeParsed{"p", false, true, true}},
		{args: []string{"remove"}, wantErr: "takes one profile name (got 0 arguments)"},
		{args: []string{"remove", "p", "--purge"}, wantErr: "unknown flag: --purge"},
	})
}

type providerParsed struct {
	Name, Preset, ClientID, Issuer, AuthURL, TokenURL string
	Scopes                                            []string
	Redirect, RelayURL, RedirectPath, ClientAuth      string
	RedirectPort                                      int
}

func TestProvidersAddFlags(t *testing.T) {
	t.Parallel()
	checkFlags(t, newProvidersAddCmd, func(o *providersAddOptions) providerParsed {
		s := o.Spec
		return providerParsed{s.Name, s.Preset, s.ClientID, s.Issuer, s.AuthURL, s.TokenURL, s.Scopes,
			string(s.Redirect), s.RelayURL, s.RedirectPath, string(s.ClientAuth), s.RedirectPort}
	}, []flagCase[providerParsed]{
		{args: []string{"add", "x", "--client-id", "abc123"}, want: providerParsed{Name: "x", ClientID: "abc123"}},
		{
			args: []string{"add", "acme", "--preset", "oidc", "--issuer", "https://id.acme.example", "--client-id", "sbctl",
				"--scope", "openid", "--scope", "offline_access", "--client-auth", "client_secret_post", "--redirect-port", "8766",
				"--redirect", "loopback", "--redirect-path", "/cb"},
			want: providerParsed{Name: "acme", Preset: "oidc", ClientID: "sbctl", Issuer: "https://id.acme.example",
				Scopes: []string{"openid", "offline_access"}, Redirect: "loopback", RedirectPath: "/cb", ClientAuth: "client_secret_post", RedirectPort: 8766},
		},
		{
			args: []string{"add", "legacy", "--preset", "oauth2", "--auth-url", "https://l.example/a", "--token-url", "https://l.example/t", "--client-id", "cli", "--redirect", "relay", "--relay-url", "https://r.example/"},
			want: providerParsed{Name: "legacy", Preset: "oauth2", ClientID: "cli", AuthURL: "https://l.example/a", TokenURL: "https://l.example/t", Redirect: "relay", RelayURL: "https://r.example/"},
		},
		{args: []string{"add", "--client-id", "c"}, wantErr: "takes one provider name (got 0 arguments)"},
		{args: []string{"add", "x", "--redirect-port", "high"}, wantErr: "--redirect-port"},
	})
}

// A command runs with the Factory's Manager, whatever it is: a test can
// hand it a fake (here one that cannot open), and the error is the
// command's.
func TestCommandsUseTheFactorysManager(t *testing.T) {
	t.Parallel()
	boom := errors.New("the fake Manager refuses")
	for _, args := range [][]string{
		{"token", "p"}, {"profiles", "list"}, {"profiles", "show", "p"}, {"refresh", "--all"},
		{"profiles", "verify", "--all"}, {"groups", "list"}, {"providers", "list"}, {"doctor"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			ios, _, out, errOut := Test()
			calls := 0
			f := &Factory{IO: ios, Manager: func() (*profiles.Manager, error) {
				calls++
				return nil, boom
			}}
			if code := Run(t.Context(), f, args); code != ExitError {
				t.Errorf("exit %d, want %d", code, ExitError)
			}
			if calls != 1 {
				t.Errorf("Manager called %d times, want 1", calls)
			}
			if !strings.Contains(errOut.String(), "sbctl: "+boom.Error()) || out.Len() != 0 {
				t.Errorf("stdout %q, stderr %q", out, errOut)
			}
		})
	}
}
