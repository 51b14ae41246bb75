package cmd_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sbctl/sbctl/auth/sandbox"
	"github.com/sbctl/sbctl/auth/sandbox/sandboxtest"
	"github.com/sbctl/sbctl/config"
)

// fakeBrowser is a "browser" for scripts ($BROWSER=fakebrowser): it follows
// the authorization URL's redirects (the sandbox's auto-approve) to the
// loopback callback, like a person clicking through, and reports the
// callback page's status.
func fakeBrowser() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: fakebrowser URL")
		os.Exit(2)
	}
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Get(os.Args[len(os.Args)-1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakebrowser:", err)
		os.Exit(1)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "fakebrowser: callback page answered", resp.Status)
		os.Exit(1)
	}
}

// sandboxKey is the key of a script's *scriptSandbox in testscript's
// per-script Values. Scripts run in parallel, so each keeps its sandbox in
// its own Env rather than in a package-level map.
type sandboxKey struct{}

// scriptSandbox holds the sandbox a script started, if any. It is only ever
// touched by its own script's goroutine.
type scriptSandbox struct {
	srv *sandbox.Server
}

// setupSandbox gives the script its own sandbox slot; call it from every
// Params.Setup whose Cmds include the sandbox-* commands.
func setupSandbox(env *testscript.Env) {
	env.Values[sandboxKey{}] = &scriptSandbox{}
}

// sandboxSlot is the script's slot; a Setup that forgot setupSandbox is a
// mistake in the test, not in the script.
func sandboxSlot(ts *testscript.TestScript) *scriptSandbox {
	slot, ok := ts.Value(sandboxKey{}).(*scriptSandbox)
	if !ok {
		ts.Fatalf("the test's Setup does not call setupSandbox")
	}
	return slot
}

// scriptServer is the sandbox started by this script.
func scriptServer(ts *testscript.TestScript) *sandbox.Server {
	srv := sandboxSlot(ts).srv
	if srv == nil {
		ts.Fatalf("no sandbox-start in this script")
	}
	return srv
}

// sandbox-start [--rotate] [--access-ttl D] [--refresh-ttl D] starts an
// auto-approving sandbox in the test process and sets $ISSUER.
func cmdSandboxStart(ts *testscript.TestScript, neg bool, args []string) {
	opts := sandbox.Options{AutoApprove: true} // Listen, unlike Start, takes opts as they are
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--rotate":
			opts.RotateRefresh = true
		case "--access-ttl", "--refresh-ttl":
			d, err := config.ParseDuration(args[i+1])
			ts.Check(err)
			if args[i] == "--access-ttl" {
				opts.AccessTTL = d
			} else {
				opts.RefreshTTL = d
			}
			i++
		default:
			ts.Fatalf("sandbox-start: unknown flag %s", args[i])
		}
	}
	slot := sandboxSlot(ts)
	if slot.srv != nil {
		// A second server would leave $ISSUER and the stats pointing at
		// different sandboxes.
		ts.Fatalf("sandbox-start: this script already started a sandbox")
	}
	srv, err := sandboxtest.Listen(opts)
	ts.Check(err)
	ts.Defer(func() { _ = srv.Close() })
	slot.srv = srv
	ts.Setenv("ISSUER", srv.Issuer())
}

// sandbox-stat FIELD N: a counter of the script's sandbox (the JSON name in
// sandbox.Stats, e.g. code_exchanges, revocations).
func cmdSandboxStat(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: sandbox-stat field n")
	}
	st := reflect.ValueOf(scriptServer(ts).Stats())
	for i := 0; i < st.NumField(); i++ {
		tag := strings.Split(st.Type().Field(i).Tag.Get("json"), ",")[0]
		if tag != args[0] {
			continue
		}
		got := fmt.Sprint(st.Field(i).Interface())
		want, err := strconv.Atoi(args[1])
		ts.Check(err)
		if (got == strconv.Itoa(want)) == neg {
			ts.Fatalf("sandbox %s = %s, want %d", args[0], got, want)
		}
		return
	}
	ts.Fatalf("no sandbox stat %q", args[0])
}

// sandbox-account ACTION SUB: expire, revoke or password-change an account.
func cmdSandboxAccount(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: sandbox-account expire|revoke|password-change sub")
	}
	srv := scriptServer(ts)
	var err error
	switch args[0] {
	case "expire":
		err = srv.ExpireAccount(args[1])
	case "revoke":
		err = srv.RevokeAccount(args[1])
	case "password-change":
		err = srv.ChangePassword(args[1])
	default:
		ts.Fatalf("unknown action %s", args[0])
	}
	ts.Check(err)
}

// TestSandboxCommandsKeepStatePerScript runs many scripts at once, each
// starting its own sandbox and then using it over and over, so that state
// shared between scripts shows up under -race (one script's sandbox-start
// writing while another's sandbox-stat reads: the race the old package-level
// map had).
func TestSandboxCommandsKeepStatePerScript(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i := range 8 {
		// The commands must reach the sandbox whose issuer sandbox-start
		// put in this script's $ISSUER, not a neighbour's.
		script := "sandbox-start\n" + strings.Repeat("sandbox-stat code_exchanges 0\nsandbox-issuer-is $ISSUER\n", 200)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("sandbox%d.txtar", i)), []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	testscript.Run(t, testscript.Params{
		Dir: dir,
		Setup: func(env *testscript.Env) error {
			setupSandbox(env)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sandbox-start":     cmdSandboxStart,
			"sandbox-stat":      cmdSandboxStat,
			"sandbox-issuer-is": cmdSandboxIssuerIs,
		},
	})
}

// sandbox-issuer-is URL: the script's own sandbox has this issuer.
func cmdSandboxIssuerIs(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: sandbox-issuer-is url")
	}
	if got := scriptServer(ts).Issuer(); (got == args[0]) == neg {
		ts.Fatalf("sandbox issuer = %s, want %s (neg=%v)", got, args[0], neg)
	}
}
