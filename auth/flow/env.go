package flow

import "strings"

// secretEnvPrefixes and secretEnvNames are the environment variables that
// hold sbctl's secrets (SECURITY 32). A child process (the browser, a
// notification command) needs none of them, and any process of the same
// user can read another's initial environment (/proc/PID/environ), so they
// are taken out of every child's environment. Compared case-insensitively:
// Windows treats names so, and leaving "sbctl_client_secret_x" to a child
// on Unix would be no gain.
var (
	secretEnvPrefixes = []string{"SBCTL_CLIENT_SECRET_"}
	secretEnvNames    = []string{
		"SBCTL_TEAM_KEY",
		"SBCTL_DATABASE_URL", // a PostgreSQL URL may carry the password
		"PGPASSWORD",
	}
)

// SecretEnv reports whether the environment variable name holds one of
// sbctl's secrets: SBCTL_CLIENT_SECRET_<PROVIDER>, SBCTL_TEAM_KEY,
// SBCTL_DATABASE_URL or PGPASSWORD. It is the one list every child process
// is filtered with (see ChildEnv).
func SecretEnv(name string) bool {
	upper := strings.ToUpper(name)
	for _, p := range secretEnvPrefixes {
		if strings.HasPrefix(upper, p) {
			return true
		}
	}
	for _, n := range secretEnvNames {
		if upper == n {
			return true
		}
	}
	return false
}

// ChildEnv returns environ (normally os.Environ()) without the variables
// SecretEnv names, for exec.Cmd.Env. The result is never nil, since a nil
// Env makes exec pass the whole environment. Entries without a name
// (Windows' per-drive "=C:=C:\..." entries) are kept as they are.
func ChildEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if name != "" && SecretEnv(name) {
			continue
		}
		out = append(out, kv)
	}
	return out
}
