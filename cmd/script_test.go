package cmd_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/cmd"
)

// TestMain registers sbctl as a command of the test binary itself, so the
// scripts run the real CLI with no `go build`.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sbctl":       func() { os.Exit(cmd.Main()) },
		"fakebrowser": fakeBrowser,
	})
}

// scriptNow is the fixed clock of every script (SBCTL_NOW).
const scriptNow = "2026-11-26T12:00:00Z"

// TestScripts runs testdata/script/*.txtar: whole-CLI behaviour, both
// terminal and pipe output, every exit code.
func TestScripts(t *testing.T) {
	t.Parallel() // every script has its own hermetic tree and sandbox
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "testdata", "script"),
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			work := env.WorkDir
			for k, v := range map[string]string{
				"HOME":            filepath.Join(work, "home"),
				"XDG_CONFIG_HOME": filepath.Join(work, "cfg"),
				"XDG_STATE_HOME":  filepath.Join(work, "state"),
				"XDG_DATA_HOME":   filepath.Join(work, "data"),
				"XDG_CACHE_HOME":  filepath.Join(work, "cache"),
				"SBCTL_NOW":       scriptNow,
				// Most scripts use the explicit file store so they run
				// anywhere; keychain scripts unset it under [keyring].
				"SBCTL_TOKEN_STORE":     "file",
				"SBCTL_KEYRING_SERVICE": "sbctl-script-" + randomHex(),
				"SBCTL_KEYRING_TIMEOUT": "10s",
				"TERM":                  "xterm-256color",
			} {
				env.Setenv(k, v)
			}
			setupSandbox(env)
			for _, k := range []string{"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"} {
				if v := os.Getenv(k); v != "" {
					env.Setenv(k, v)
				}
			}
			return os.MkdirAll(filepath.Join(work, "cfg", "sbctl"), 0o755)
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "keyring":
				return keyringAvailable()
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"statuses":        cmdStatuses,
			"nofile":          cmdNoFile,
			"token-in":        cmdTokenIn,
			"fileperm":        cmdFilePerm,
			"jsonfield":       cmdJSONField,
			"sandbox-start":   cmdSandboxStart,
			"sandbox-stat":    cmdSandboxStat,
			"sandbox-account": cmdSandboxAccount,
			"token-delete":    cmdTokenDelete,
		},
	})
}

func randomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var keyringProbe = sync.OnceValues(func() (bool, error) {
	k := store.NewKeyring("sbctl-script-probe-" + randomHex())
	k.Timeout = 10 * time.Second
	err := k.Set(context.Background(), "probe", "x")
	if err == nil {
		_ = k.Delete(context.Background(), "probe")
		return true, nil
	}
	if os.Getenv("SBCTL_REQUIRE_KEYRING") == "1" {
		return false, fmt.Errorf("SBCTL_REQUIRE_KEYRING=1 but the keychain is unusable: %v", err)
	}
	fmt.Fprintf(os.Stderr, "keychain scripts skip: no usable keychain (%v)\n", err)
	return false, nil
})

func keyringAvailable() (bool, error) { return keyringProbe() }

// statuses FILE "name=status ..." compares a `profiles list -o json`
// output, in order.
func cmdStatuses(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: statuses file 'name=status ...'")
	}
	var list []struct{ Name, Status string }
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &list))
	var got []string
	for _, p := range list {
		got = append(got, p.Name+"="+p.Status)
	}
	match := strings.Join(got, " ") == strings.Join(strings.Fields(args[1]), " ")
	if match == neg {
		ts.Fatalf("statuses: got %q, want %q (neg=%v)", strings.Join(got, " "), args[1], neg)
	}
}

// jsonfield FILE INDEX FIELD WANT checks one field of one element
// ("null" for JSON null).
func cmdJSONField(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 4 {
		ts.Fatalf("usage: jsonfield file index field want")
	}
	var list []map[string]any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &list))
	i, err := strconv.Atoi(args[1])
	ts.Check(err)
	if i >= len(list) {
		ts.Fatalf("only %d elements", len(list))
	}
	v, ok := list[i][args[2]]
	if !ok {
		ts.Fatalf("no field %q", args[2])
	}
	got := fmt.Sprint(v)
	if v == nil {
		got = "null"
	}
	if (got == args[3]) == neg {
		ts.Fatalf("%s[%d].%s = %q, want %q", args[0], i, args[2], got, args[3])
	}
}

// nofile DIR STRING fails if any file under DIR (the keyring's own files
// excepted) contains STRING: secrets stay in their store.
func cmdNoFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: nofile dir string")
	}
	var found []string
	_ = filepath.WalkDir(ts.MkAbs(args[0]), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, string(filepath.Separator)+"keyrings"+string(filepath.Separator)) {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), args[1]) {
			found = append(found, p)
		}
		return nil
	})
	sort.Strings(found)
	if (len(found) == 0) == neg {
		ts.Fatalf("files containing %q: %v (neg=%v)", args[1], found, neg)
	}
}

// token-delete PROFILE deletes the profile's token from the script's token
// store (the file store, or the keychain when SBCTL_TOKEN_STORE is unset)
// behind sbctl's back, as a person or another tool would.
func cmdTokenDelete(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: token-delete profile")
	}
	var st store.Store = store.NewKeyring(ts.Getenv("SBCTL_KEYRING_SERVICE"))
	if ts.Getenv("SBCTL_TOKEN_STORE") == "file" {
		st = store.NewFile(filepath.Join(ts.Getenv("XDG_DATA_HOME"), "sbctl"), nil)
	}
	ts.Check(st.Delete(context.Background(), store.ProfileKey(args[0])))
}

// token-in PROFILE STRING: the profile's token in the real keychain (under
// the script's service) contains STRING.
func cmdTokenIn(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: token-in profile string")
	}
	k := store.NewKeyring(ts.Getenv("SBCTL_KEYRING_SERVICE"))
	tok, err := store.GetToken(context.Background(), k, args[0])
	ok := err == nil && strings.Contains(tok.AccessToken, args[1])
	if ok == neg {
		ts.Fatalf("token of %s in the keychain: err=%v (neg=%v)", args[0], err, neg)
	}
}

// fileperm PATH MODE checks permissions (octal).
func cmdFilePerm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: fileperm path mode")
	}
	st, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	if (uint64(st.Mode().Perm()) == want) == neg {
		ts.Fatalf("%s has mode %04o, want %s", args[0], st.Mode().Perm(), args[1])
	}
}
