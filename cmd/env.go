package cmd

import (
	"fmt"
	"os"
	"strconv"

	"github.com/sbctl/sbctl/profiles"
)

// The environment variables of SPEC §3 are read here, in the front end;
// the domain gets their values through profiles.Options (kubelogin's
// split: cmd reads flags and the environment, the use cases read neither).
const (
	envTokenStore     = "SBCTL_TOKEN_STORE"
	envKeyringService = "SBCTL_KEYRING_SERVICE"
	envKeyringTimeout = "SBCTL_KEYRING_TIMEOUT"
	envKeyringChunk   = "SBCTL_KEYRING_CHUNK"
	// Team mode (docs/team.md): the team database, and a CI or server
	// member's team key (base64) used instead of the keychain item.
	envDatabaseURL = "SBCTL_DATABASE_URL"
	envTeamKey     = "SBCTL_TEAM_KEY"
)

// storeOptions is the token store that --token-store (or
// $SBCTL_TOKEN_STORE) names, with the keychain's tuning variables.
func storeOptions(flag string) (profiles.StoreOptions, error) {
	o := profiles.StoreOptions{
		Kind:           flag,
		KeyringService: os.Getenv(envKeyringService),
		FileDir:        dataDir(),
	}
	if o.Kind == "" {
		o.Kind = os.Getenv(envTokenStore)
	}
	if s := os.Getenv(envKeyringTimeout); s != "" {
		d, err := profiles.ParseDuration(s)
		if err != nil {
			return o, fmt.Errorf("%s: %w", envKeyringTimeout, err)
		}
		o.KeyringTimeout = d
	}
	if s := os.Getenv(envKeyringChunk); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 16 {
			return o, fmt.Errorf("%s=%q: want a number of bytes of at least 16", envKeyringChunk, s)
		}
		o.KeyringChunk = n
	}
	return o, nil
}

// clientSecretFromEnv is $SBCTL_CLIENT_SECRET_<PROVIDER>, for CI.
func clientSecretFromEnv(provider string) string {
	return os.Getenv(profiles.ClientSecretEnv(provider))
}
