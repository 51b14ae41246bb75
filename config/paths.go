// Package config reads and edits sbctl's hand-written configuration file and
// knows where sbctl keeps its files (XDG base directories).
package config

import (
	"os"
	"path/filepath"
)

// Environment variables that move sbctl's files (contract: SPEC §3).
const (
	EnvConfig = "SBCTL_CONFIG"
)

// Path is the configuration file: $SBCTL_CONFIG, else
// $XDG_CONFIG_HOME/sbctl/config.yaml (XDG_CONFIG_HOME defaults to ~/.config).
func Path() string {
	p, _ := PathFromEnv()
	return p
}

// PathFromEnv is Path, and whether it came from $SBCTL_CONFIG. A path the
// user named (this, or --config) must exist — load it with
// Options.MustExist — while the default path may be absent on a first run.
func PathFromEnv() (string, bool) {
	if p := os.Getenv(EnvConfig); p != "" {
		return p, true
	}
	return filepath.Join(xdgDir("XDG_CONFIG_HOME", ".config"), "sbctl", "config.yaml"), false
}

// StateDir holds machine-written metadata and lock files:
// $XDG_STATE_HOME/sbctl (XDG_STATE_HOME defaults to ~/.local/state).
func StateDir() string {
	return filepath.Join(xdgDir("XDG_STATE_HOME", filepath.Join(".local", "state")), "sbctl")
}

// DataDir holds the explicit plain-file token store when the user opts in:
// $XDG_DATA_HOME/sbctl (XDG_DATA_HOME defaults to ~/.local/share).
func DataDir() string {
	return filepath.Join(xdgDir("XDG_DATA_HOME", filepath.Join(".local", "share")), "sbctl")
}

// xdgDir follows the XDG base directory rules on every OS: a relative value
// is invalid and ignored, so a typo cannot scatter files into the cwd.
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
