package cmd

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/profiles"
)

type initParsed struct {
	Provider, ClientID, SecretFile, Profile string
	Groups                                  []string
	NoConnect                               bool
	Mode                                    profiles.SignInMode
	Timeout                                 time.Duration
}

func TestInitFlags(t *testing.T) {
	t.Parallel()
	def := profiles.DefaultSignInTimeout
	checkFlags(t, newInitCmd, func(o *initOptions) initParsed {
		return initParsed{o.Provider, o.ClientID, o.ClientSecretFile, o.Profile, o.Groups, o.NoConnect, o.Mode, o.Timeout}
	}, []flagCase[initParsed]{
		{args: []string{"init", "--provider", "x", "--client-id", "abc"}, want: initParsed{Provider: "x", ClientID: "abc", Mode: profiles.SignInDefault, Timeout: def}},
		{args: []string{"init", "-p", "tiktok", "--client-id", "aw", "--client-secret-file", "-", "--profile", "brand", "-g", "a", "-g", "b", "--no-connect"},
			want: initParsed{"tiktok", "aw", "-", "brand", []string{"a", "b"}, true, profiles.SignInDefault, def}},
		{args: []string{"init", "--provider", "x", "--profile", "p", "--manual", "--timeout", "90s"}, want: initParsed{Provider: "x", Profile: "p", Mode: profiles.SignInManual, Timeout: 90 * time.Second}},
		// No terminal (the flag tests' streams are buffers): no form, so
		// the flags must say what to set up.
		{args: []string{"init"}, wantErr: "without one, give the answers as flags: missing --provider and --client-id"},
		{args: []string{"init", "--client-id", "abc"}, wantErr: "missing --provider"},
		{args: []string{"init", "--profile", "p"}, wantErr: "missing --provider"},
		{args: []string{"init", "--provider", "x", "--group", "g"}, wantErr: "--group needs --profile"},
		{args: []string{"init", "--provider", "x", "--profile", "p", "--no-connect", "--device"}, wantErr: "--device and --no-connect cannot be used together"},
		{args: []string{"init", "x"}, wantErr: "sbctl init takes no arguments (got 1 arguments)"},
	})
}

// initWS is a machine for init: a config path (the file need not exist), a
// state directory and a plain-file token store.
type initWS struct {
	cfg string
	fs  *store.File
	m   *profiles.Manager
}

func newInitWS(t *testing.T, config string) *initWS {
	t.Helper()
	dir := t.TempDir()
	w := &initWS{cfg: filepath.Join(dir, "sbctl", "config.yaml"), fs: store.NewFile(filepath.Join(dir, "data"), nil)}
	if config != "" {
		if err := os.MkdirAll(filepath.Dir(w.cfg), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(w.cfg, []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := profiles.Open(profiles.Options{ConfigPath: w.cfg, StateDir: filepath.Join(dir, "state"), Store: w.fs})
	if err != nil {
		t.Fatal(err)
	}
	w.m = m
	return w
}

func (w *initWS) config(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(w.cfg)
	if errors.Is(err, os.ErrNotExist) {
		return "(no file)"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// options are init's options on this machine, in a pipe, with a form
// that must not be asked.
func (w *initWS) options(t *testing.T) (*initOptions, *bytes.Buffer, *bytes.Buffer) {
	ios, in, _, errOut := Test()
	return &initOptions{
		IO: ios, Manager: func() (*profiles.Manager, error) { return w.m, nil }, Timeout: time.Minute,
		Form: func(context.Context, *initOptions, *profiles.Manager) (profiles.SetupSpec, error) {
			t.Error("the form was asked for")
			return profiles.SetupSpec{}, errors.New("no form here")
		},
	}, in, errOut
}

// The non-interactive first run: the provider written, the secret read from
// stdin into the token store (never echoed), the redirect URI to register
// shown, the first profile added.
func TestInitWithFlags(t *testing.T) {
	t.Parallel()
	w := newInitWS(t, "")
	o, in, errOut := w.options(t)
	in.WriteString("SECRETMARK\n")
	o.Provider, o.ClientID, o.ClientSecretFile, o.Profile, o.NoConnect = "tiktok", "aw123", "-", "brand", true
	if err := runInit(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if got, want := w.config(t), "providers:\n  tiktok:\n    client_id: aw123\nprofiles:\n  brand:\n    provider: tiktok\n"; got != want {
		t.Errorf("config:\n%s\nwant:\n%s", got, want)
	}
	for _, want := range []string{
		`Added provider "tiktok" (TikTok) to ` + w.cfg,
		"Register this redirect URI with TikTok: http://127.0.0.1:<any port>/callback/tiktok/",
		"Stored its client secret",
		`Added profile "brand" (tiktok)`,
		"Connect it with `sbctl reauth brand`",
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut.String(), "SECRETMARK") {
		t.Errorf("the secret was echoed:\n%s", errOut)
	}
	if v, err := w.fs.Get(t.Context(), store.ClientKey("tiktok")); err != nil || v != "SECRETMARK" {
		t.Errorf("stored secret %q, %v", v, err)
	}
}

// On a terminal, a network that needs a secret asks for it (readSecret,
// echo off, as `providers set-secret` does; the test's stdin is a buffer,
// which it reads whole); without a terminal the output says how to add it.
func TestInitSecretPromptAndHint(t *testing.T) {
	t.Parallel()
	w := newInitWS(t, "")
	o, in, errOut := w.options(t)
	o.IO.InTTY, o.IO.ErrTTY = true, true
	in.WriteString("SECRETMARK")
	o.Provider, o.ClientID = "linkedin", "li-1"
	if err := runInit(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if v, err := w.fs.Get(t.Context(), store.ClientKey("linkedin")); err != nil || v != "SECRETMARK" {
		t.Errorf("stored secret %q, %v", v, err)
	}
	if !strings.Contains(errOut.String(), "Stored its client secret") || !strings.Contains(errOut.String(), "Next: add a profile") {
		t.Errorf("stderr:\n%s", errOut)
	}

	w2 := newInitWS(t, "")
	o2, _, errOut2 := w2.options(t)
	o2.Provider, o2.ClientID = "linkedin", "li-1"
	if err := runInit(t.Context(), o2); err != nil {
		t.Fatal(err)
	}
	if want := "It needs your app's client secret: sbctl providers set-secret linkedin (reads it from stdin), or set $SBCTL_CLIENT_SECRET_LINKEDIN."; !strings.Contains(errOut2.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut2)
	}
}

const initExisting = "# our team\nproviders:\n  x:\n    client_id: abc   # the X app\n"

// An existing config is added to, never overwritten: a provider it has is
// refused by name (a usage error), and can carry a new profile.
func TestInitKeepsExistingProviders(t *testing.T) {
	t.Parallel()
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		w := newInitWS(t, initExisting)
		o, _, _ := w.options(t)
		o.Provider, o.ClientID = "x", "other"
		err := runInit(t.Context(), o)
		if err == nil || !strings.Contains(err.Error(), `provider "x" is configured already in `+w.cfg) || exitCode(err) != ExitUsage {
			t.Fatalf("err = %v (exit %d), want a usage error naming x", err, exitCode(err))
		}
		if got := w.config(t); got != initExisting {
			t.Errorf("config changed:\n%s", got)
		}
	})
	t.Run("nothing to do", func(t *testing.T) {
		t.Parallel()
		w := newInitWS(t, initExisting)
		o, _, _ := w.options(t)
		o.Provider = "x"
		if err := runInit(t.Context(), o); err == nil || !strings.Contains(err.Error(), "add --profile NAME") || exitCode(err) != ExitUsage {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("profile on it", func(t *testing.T) {
		t.Parallel()
		w := newInitWS(t, initExisting)
		o, _, _ := w.options(t)
		o.Provider, o.Profile, o.NoConnect = "x", "acme-x", true
		if err := runInit(t.Context(), o); err != nil {
			t.Fatal(err)
		}
		if got, want := w.config(t), initExisting+"profiles:\n  acme-x:\n    provider: x\n"; got != want {
			t.Errorf("config:\n%s\nwant:\n%s", got, want)
		}
	})
}

func TestInitUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                       string
		provider, clientID, secret string
		profile                    string
		wantErr                    string
	}{
		{"unknown provider", "nope", "c", "", "", `--provider "nope" is neither a configured provider nor a network preset: use one of x, facebook,`},
		{"generic kind", "oidc", "c", "", "", "sbctl providers add <name> --preset oidc or oauth2"},
		{"no client id", "tiktok", "", "", "", "missing --client-id: register an app with TikTok (redirect URI http://127.0.0.1:<any port>/callback/tiktok/)"},
		{"bad profile name", "tiktok", "c", "", "a b", `profile name "a b"`},
		{"empty secret file", "tiktok", "c", "empty", "", "is empty"},
		{"missing secret file", "tiktok", "c", "missing", "", "--client-secret-file: open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newInitWS(t, initExisting)
			o, _, _ := w.options(t)
			o.Provider, o.ClientID, o.Profile = tc.provider, tc.clientID, tc.profile
			if tc.secret != "" {
				o.ClientSecretFile = filepath.Join(t.TempDir(), tc.secret)
				if tc.secret == "empty" {
					if err := os.WriteFile(o.ClientSecretFile, nil, 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			err := runInit(t.Context(), o)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if code := exitCode(err); code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if got := w.config(t); got != initExisting {
				t.Errorf("config changed:\n%s", got)
			}
		})
	}
}

// On a terminal without flags, the form's answers are written the same way.
func TestInitForm(t *testing.T) {
	t.Parallel()
	w := newInitWS(t, "groups:\n  marketing: {}\n")
	o, _, errOut := w.options(t)
	o.IO.InTTY, o.IO.ErrTTY = true, true
	o.NoConnect = true
	asked := false
	o.Form = func(_ context.Context, _ *initOptions, m *profiles.Manager) (profiles.SetupSpec, error) {
		asked = true
		q := newInitQuestions(m)
		q.picked = []string{"x", "tiktok"}
		q.details() // binds the answers, as the form does
		q.setups[0].ClientID, q.setups[1].ClientID = "abc", "aw"
		q.profile, q.provider, q.groups = " acme-x ", "x", []string{"marketing"}
		return q.spec(), nil
	}
	if err := runInit(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if !asked {
		t.Fatal("the form was not asked")
	}
	want := "groups:\n  marketing: {}\nproviders:\n  x:\n    client_id: abc\n  tiktok:\n    client_id: aw\nprofiles:\n  acme-x:\n    provider: x\n    groups: [marketing]\n"
	if got := w.config(t); got != want {
		t.Errorf("config:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(errOut.String(), "Register this redirect URI with X: http://127.0.0.1:8765/callback/x") {
		t.Errorf("stderr:\n%s", errOut)
	}

	// With no network picked and none configured there is nothing to ask
	// or write.
	q := newInitQuestions(newInitWS(t, "").m)
	q.picked = nil
	if q.details() != nil {
		t.Error("a form with nothing to ask")
	}
	if s := q.spec(); s.Profile != nil || len(s.Providers) != 0 {
		t.Errorf("empty answers = %+v, want nothing", s)
	}
}

// The form offers the networks not configured yet, with what to register.
func TestInitFormChoices(t *testing.T) {
	t.Parallel()
	w := newInitWS(t, initExisting+"profiles:\n  acme-x:\n    provider: x\n")
	q := newInitQuestions(w.m)
	if got := strings.Join(infoNames(q.configured), ","); got != "x" {
		t.Errorf("configured = %s", got)
	}
	for _, c := range q.fresh {
		if c.Name == "x" || c.Name == "oidc" || c.Name == "oauth2" {
			t.Errorf("offered %s as a network to set up", c.Name)
		}
	}
	if q.details() == nil {
		t.Fatal("no question although x can take a profile")
	}
	q.profile = "  "
	if s := q.spec(); s.Profile != nil || len(s.Providers) != 0 {
		t.Errorf("an empty name added %+v", s)
	}
	if got := q.choice("linkedin").RegisterText(); !strings.Contains(got, "Its redirect URI: http://127.0.0.1:8765/callback/linkedin") {
		t.Errorf("RegisterText = %q", got)
	}
}
