package cmd

import (
	"path/filepath"
	"testing"
)

// Moved from config (TestPathFromEnv), with the relative-value rule of
// xdgDir and the two other directories.
func TestConfigPathFromEnv(t *testing.T) {
	// t.Setenv: not parallel.
	t.Setenv(envConfig, "/etc/sbctl.yaml")
	if p, ok := configPathFromEnv(); p != "/etc/sbctl.yaml" || !ok {
		t.Errorf("configPathFromEnv() = %q, %v", p, ok)
	}
	t.Setenv(envConfig, "")
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	if p, ok := configPathFromEnv(); p != filepath.Join("/xdg", "sbctl", "config.yaml") || ok {
		t.Errorf("configPathFromEnv() = %q, %v", p, ok)
	}
}

func TestXDGDirsIgnoreRelativeValues(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv(envConfig, "")
	t.Setenv("XDG_CONFIG_HOME", "relative/cfg")
	t.Setenv("XDG_STATE_HOME", "state")
	t.Setenv("XDG_DATA_HOME", "./data")
	for _, c := range []struct{ name, got, want string }{
		{"config", first(configPathFromEnv()), filepath.Join(home, ".config", "sbctl", "config.yaml")},
		{"state", stateDir(), filepath.Join(home, ".local", "state", "sbctl")},
		{"data", dataDir(), filepath.Join(home, ".local", "share", "sbctl")},
	} {
		if c.got != c.want {
			t.Errorf("%s dir with a relative XDG value = %q, want %q", c.name, c.got, c.want)
		}
	}
	t.Setenv("XDG_STATE_HOME", "/abs/state")
	t.Setenv("XDG_DATA_HOME", "/abs/data")
	if got := stateDir(); got != filepath.Join("/abs/state", "sbctl") {
		t.Errorf("stateDir() = %q", got)
	}
	if got := dataDir(); got != filepath.Join("/abs/data", "sbctl") {
		t.Errorf("dataDir() = %q", got)
	}
}

func first[A, B any](a A, _ B) A { return a }
