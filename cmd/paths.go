package cmd

import (
	"os"
	"path/filepath"
)

// Where sbctl keeps its files (contract: SPEC §3). The paths come from the
// CLI's environment, so they are worked out here and handed to the domain
// (profiles.Options), which reads no environment itself.

// envConfig names the config file, instead of the XDG default.
const envConfig = "SBCTL_CONFIG"

// configPathFromEnv is $SBCTL_CONFIG, else
// $XDG_CONFIG_HOME/sbctl/config.yaml (XDG_CONFIG_HOME defaults to
// ~/.config on every OS), and whether $SBCTL_CONFIG named it. A path the
// user named (this, or --config) must exist; the default may be absent on
// a first run.
func configPathFromEnv() (string, bool) {
	if p := os.Getenv(envConfig); p != "" {
		return p, true
	}
	return filepath.Join(xdgDir("XDG_CONFIG_HOME", ".config"), "sbctl", "config.yaml"), false
}

// stateDir holds machine-written metadata and lock files:
// $XDG_STATE_HOME/sbctl (XDG_STATE_HOME defaults to ~/.local/state).
func stateDir() string {
	return filepath.Join(xdgDir("XDG_STATE_HOME", filepath.Join(".local", "state")), "sbctl")
}

// dataDir holds the explicit plain-file token store when the user opts in:
// $XDG_DATA_HOME/sbctl (XDG_DATA_HOME defaults to ~/.local/share).
func dataDir() string {
	return filepath.Join(xdgDir("XDG_DATA_HOME", filepath.Join(".local", "share")), "sbctl")
}

// xdgDir follows the XDG base directory rules on every OS (not
// adrg/xdg's macOS defaults, which would move a contract path): a
// relative value is invalid and ignored, so a typo cannot scatter files
// into the working directory.
func xdgDir(env, fallback string) string {
	if d := os.Getenv(env); d != "" && filepath.IsAbs(d) {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		home = os.TempDir()
	}
	return filepath.Join(home, fallback)
}
