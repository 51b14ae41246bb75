package profiles

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sbctl/sbctl/auth/store"
)

// The first-run form offers the configured providers first, then the
// network presets not configured yet, each with its redirect URI; the
// generic kinds (which need endpoints) and configured presets are not
// offered again.
func TestSetupChoices(t *testing.T) {
	t.Parallel()
	w := newEditWS(t, "providers:\n  acme:\n    type: oidc\n    issuer: https://id.acme.example\n    client_id: sbctl\n  x:\n    client_id: abc\n    redirect_port: 8766\n")
	m := w.open(t, nil)
	var names []string
	byName := map[string]ProviderInfo{}
	for _, c := range m.SetupChoices() {
		names = append(names, c.Name)
		byName[c.Name] = c
	}
	want := "acme x facebook instagram threads linkedin google youtube tiktok pinterest"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("choices = %q, want %q", got, want)
	}
	if c := byName["x"]; !c.Configured || c.RedirectURI != "http://127.0.0.1:8766/callback/x" {
		t.Errorf("configured x = %+v, want configured with its own port", c)
	}
	if c := byName["tiktok"]; c.Configured || !c.NeedsSecret || c.RedirectURI != "http://127.0.0.1:<any port>/callback/tiktok/" {
		t.Errorf("tiktok = %+v, want a preset not configured, needing a secret, with its redirect URI", c)
	}
	if c := byName["linkedin"]; c.Title != "LinkedIn" || c.RedirectURI != "http://127.0.0.1:8765/callback/linkedin" {
		t.Errorf("linkedin = %+v", c)
	}
}

func TestCheckProfileName(t *testing.T) {
	t.Parallel()
	w := newEditWS(t, teamConfig)
	m := w.open(t, nil)
	for _, tc := range []struct{ name, wantErr string }{
		{"acme-new", ""},
		{"広報", ""},
		{"", "profile name is empty"},
		{"a b", `profile name "a b": use letters, digits`},
		{"-x", "not starting with '-' or '.'"},
		{"acme-x", `profile "acme-x" already exists (` + w.cfg + ":"},
	} {
		err := m.CheckProfileName(tc.name)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("CheckProfileName(%q) = %v, want nil", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("CheckProfileName(%q) = %v, want %q", tc.name, err, tc.wantErr)
		}
		var ue *UsageError
		if err != nil && !errors.As(err, &ue) {
			t.Errorf("CheckProfileName(%q): %T is not a usage error", tc.name, err)
		}
	}
}

func TestCheckClientSecret(t *testing.T) {
	t.Parallel()
	if got, err := CheckClientSecret("  s3cr3t\n"); err != nil || got != "s3cr3t" {
		t.Errorf("CheckClientSecret = %q, %v; want the trimmed secret", got, err)
	}
	for _, bad := range []string{"", " \n", "two words-SECRETMARK", "line1\nline2-SECRETMARK"} {
		_, err := CheckClientSecret(bad)
		if err == nil {
			t.Errorf("CheckClientSecret(%q) accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), "SECRETMARK") {
			t.Errorf("the error quotes the secret: %v", err)
		}
	}
}

// The checks of a form's fields: a client id is required, a secret is
// optional but one word; errors never quote it.
func TestFormAnswerChecks(t *testing.T) {
	t.Parallel()
	if CheckClientIDAnswer("  ") == nil || CheckClientIDAnswer("abc") != nil {
		t.Error("CheckClientIDAnswer")
	}
	if CheckClientSecretAnswer("") != nil || CheckClientSecretAnswer(" s3\n") != nil {
		t.Error("CheckClientSecretAnswer refused an empty or good secret")
	}
	if err := CheckClientSecretAnswer("two SECRETMARK"); err == nil || strings.Contains(err.Error(), "SECRETMARK") {
		t.Errorf("CheckClientSecretAnswer(two words) = %v", err)
	}
	p := ProviderInfo{Title: "X", RedirectURI: "http://127.0.0.1:8765/callback/x", RedirectNote: "register it exactly"}
	if got, want := p.RegisterText(), "Register an app with X.\nIts redirect URI: http://127.0.0.1:8765/callback/x\n(register it exactly)"; got != want {
		t.Errorf("RegisterText = %q, want %q", got, want)
	}
}

// SetUp on a machine with no config: the provider is written as
// `providers add` writes it, its secret goes to the token store (never the
// config), the profile is added unconnected.
func TestSetUpFirstRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sbctl", "config.yaml")
	fs := store.NewFile(filepath.Join(dir, "data"), nil)
	m, err := Open(Options{ConfigPath: cfg, StateDir: filepath.Join(dir, "state"), Store: fs})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := m.SetUp(ctx, SetupSpec{
		Providers: []ProviderSetup{{Preset: "tiktok", ClientID: " aw123 ", ClientSecret: "SECRETMARK\n"}, {Preset: "x", ClientID: "abc"}},
		Profile:   &AddSpec{Name: "brand", Provider: "tiktok"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Providers) != 2 || res.Providers[0].Name != "tiktok" || res.Providers[1].RedirectURI != "http://127.0.0.1:8765/callback/x" {
		t.Errorf("providers = %+v", res.Providers)
	}
	if strings.Join(res.Secrets, ",") != "tiktok" || res.Profile != "brand" {
		t.Errorf("result = %+v", res)
	}
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := "providers:\n  tiktok:\n    client_id: aw123\n  x:\n    client_id: abc\nprofiles:\n  brand:\n    provider: tiktok\n"
	if string(b) != want {
		t.Errorf("config:\n%s\nwant:\n%s", b, want)
	}
	if v, err := fs.Get(ctx, store.ClientKey("tiktok")); err != nil || v != "SECRETMARK" {
		t.Errorf("stored secret = %q, %v", v, err)
	}
}

// setupConfig has a network preset configured, and a profile on it.
const setupConfig = "# team\nproviders:\n  x:\n    client_id: abc   # our X app\nprofiles:\n  acme-x:\n    provider: x\n"

// What can be checked before writing is checked first: a bad secret or
// profile name writes nothing. A provider that exists is refused by name,
// and nothing of it is overwritten.
func TestSetUpChangesNothingOnBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		spec    SetupSpec
		wantErr string
	}{
		{"bad secret", SetupSpec{Providers: []ProviderSetup{{Preset: "tiktok", ClientID: "c", ClientSecret: "two SECRETMARK"}}}, "tiktok: the client secret contains spaces"},
		{"bad profile name", SetupSpec{Providers: []ProviderSetup{{Preset: "tiktok", ClientID: "c"}}, Profile: &AddSpec{Name: "a b", Provider: "tiktok"}}, `profile name "a b"`},
		{"existing profile", SetupSpec{Providers: []ProviderSetup{{Preset: "tiktok", ClientID: "c"}}, Profile: &AddSpec{Name: "acme-x", Provider: "tiktok"}}, `profile "acme-x" already exists`},
		{"existing provider", SetupSpec{Providers: []ProviderSetup{{Preset: "x", ClientID: "other", ClientSecret: "SECRETMARK"}}}, `provider "x" already exists`},
		{"no client id", SetupSpec{Providers: []ProviderSetup{{Preset: "tiktok", ClientID: "  "}}}, "--client-id is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newEditWS(t, setupConfig)
			m := w.open(t, nil)
			res, err := m.SetUp(ctx, tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "SECRETMARK") {
				t.Errorf("the error quotes the secret: %v", err)
			}
			if len(res.Providers) != 0 || res.Profile != "" {
				t.Errorf("result = %+v, want nothing done", res)
			}
			if got := w.read(t); got != setupConfig {
				t.Errorf("the config changed:\n%s", got)
			}
			for _, p := range []string{"acme", "tiktok", "x"} {
				if _, err := w.fs.Get(ctx, store.ClientKey(p)); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("a client secret of %s was stored (err %v)", p, err)
				}
			}
		})
	}
}

// A failure after a provider was written leaves it (a valid entry) and
// says so through the result: the front end shows its redirect URI.
func TestSetUpReportsWhatWasDone(t *testing.T) {
	t.Parallel()
	w := newEditWS(t, setupConfig)
	m := w.open(t, nil)
	res, err := m.SetUp(context.Background(), SetupSpec{
		Providers: []ProviderSetup{{Preset: "tiktok", ClientID: "c"}, {Preset: "x", ClientID: "again"}},
	})
	if err == nil || !strings.Contains(err.Error(), `provider "x" already exists`) {
		t.Fatalf("err = %v", err)
	}
	if len(res.Providers) != 1 || res.Providers[0].Name != "tiktok" {
		t.Errorf("result = %+v, want tiktok done", res)
	}
	if c := w.parsed(t); strings.Join(c.ProviderNames(), " ") != "x tiktok" {
		t.Errorf("providers = %v, want x (unchanged) and tiktok", c.ProviderNames())
	}
	if !strings.Contains(w.read(t), "client_id: abc   # our X app") {
		t.Errorf("x was changed:\n%s", w.read(t))
	}
}
