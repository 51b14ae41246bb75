package cmd_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sbctl/sbctl/auth/sandbox"
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

// sandboxes are the running sandbox of each script, by work dir.
var sandboxes = map[string]*sandbox.Server{}

// sandbox-start [--rotate] [--access-ttl D] [--refresh-ttl D] starts an
// auto-approving sandbox in the test process and sets $ISSUER.
func cmdSandboxStart(ts *testscript.TestScript, neg bool, args []string) {
	opts := sandbox.Options{AutoApprove: true}
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
	srv, err := sandbox.New(opts)
	ts.Check(err)
	ts.Check(srv.Start())
	ts.Defer(func() { _ = srv.Close() })
	sandboxes[ts.Getenv("WORK")] = srv
	ts.Setenv("ISSUER", srv.Issuer())
}

// sandbox-stat FIELD N: a counter of the script's sandbox (the JSON name in
// sandbox.Stats, e.g. code_exchanges, revocations).
func cmdSandboxStat(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: sandbox-stat field n")
	}
	srv := sandboxes[ts.Getenv("WORK")]
	if srv == nil {
		ts.Fatalf("no sandbox-start in this script")
	}
	st := reflect.ValueOf(srv.Stats())
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
	srv := sandboxes[ts.Getenv("WORK")]
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
