package cmd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
	"github.com/sbctl/sbctl/profiles"
)

func TestNotifyTestFlags(t *testing.T) {
	t.Parallel()
	checkFlags(t, newNotifyTestCmd, func(o *notifyTestOptions) string { return o.Event }, []flagCase[string]{
		{args: []string{"test"}, want: "needs_reauth"},
		{args: []string{"test", "--event", "recovered"}, want: "recovered"},
		{args: []string{"test", "--event", "recoverd"}, wantErr: `--event: unknown event "recoverd": use one of needs_reauth, expired, expiring, renewal_failed, recovered, renewed (did you mean "recovered"?)`},
		{args: []string{"test", "x"}, wantErr: "takes no arguments"},
	})
}

// notifyCmdWS is a config with sinks, a state directory and a file store.
type notifyCmdWS struct {
	dir string
	fs  *store.File
	m   *profiles.Manager
}

func newNotifyCmdWS(t *testing.T, notify string) *notifyCmdWS {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("providers:\n  x:\n    client_id: abc\nprofiles:\n  p1:\n    provider: x\n"+notify), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &notifyCmdWS{dir: dir, fs: store.NewFile(filepath.Join(dir, "data"), nil)}
	m, err := profiles.Open(profiles.Options{ConfigPath: cfg, StateDir: filepath.Join(dir, "state"), Store: w.fs})
	if err != nil {
		t.Fatal(err)
	}
	w.m = m
	return w
}

func (w *notifyCmdWS) manager() (*profiles.Manager, error) { return w.m, nil }

func shOrSkip(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the sink scripts are POSIX shell")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on PATH for the sink scripts")
	}
	return sh
}

// `sbctl notify test` sends to every sink — whatever events each asks
// for — and says which failed (exit 1).
func TestRunNotifyTest(t *testing.T) {
	t.Parallel()
	sh := shOrSkip(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "events")
	w := newNotifyCmdWS(t, fmt.Sprintf("notify:\n  - command: [%q, -c, %q]\n    events: [expired]\n    name: pager\n  - command: [%q, -c, 'echo nope >&2; exit 3']\n    name: broken\n", sh, "cat >> '"+out+"'", sh))
	ios, _, stdout, stderr := Test()
	err := runNotifyTest(context.Background(), &notifyTestOptions{IO: ios, Manager: w.manager, Event: "recovered"})
	if code := exitCode(err); code != ExitError {
		t.Errorf("exit %d (%v), want 1", code, err)
	}
	got := stderr.String()
	for _, want := range []string{"A sample recovered event, to 2 sinks:", "pager   sent", "broken  failed  " + sh + " exited with status 3: nope"} {
		if !strings.Contains(got, want) {
			t.Errorf("stderr lacks %q:\n%s", want, got)
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout: %q", stdout)
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), `"event":"recovered"`) || !strings.Contains(string(b), `"test":true`) || strings.Count(string(b), "\n") != 1 {
		t.Errorf("the pager got %q", b)
	}
}

func TestRunNotifyTestWithoutSinks(t *testing.T) {
	t.Parallel()
	w := newNotifyCmdWS(t, "")
	ios, _, _, _ := Test()
	err := runNotifyTest(context.Background(), &notifyTestOptions{IO: ios, Manager: w.manager, Event: "needs_reauth"})
	if err == nil || !strings.Contains(err.Error(), "has no `notify:` list") || exitCode(err) != ExitError {
		t.Errorf("err = %v (exit %d)", err, exitCode(err))
	}
}

func TestRunNotifySetSecret(t *testing.T) {
	t.Parallel()
	w := newNotifyCmdWS(t, "")
	ios, in, _, stderr := Test()
	in.WriteString("k3y-value\n")
	if err := runNotifySetSecret(context.Background(), &notifySetSecretOptions{IO: ios, Manager: w.manager, Name: "ops-hook"}); err != nil {
		t.Fatal(err)
	}
	if v, err := w.fs.Get(context.Background(), config.NotifySecretKey("ops-hook")); err != nil || v != "k3y-value" {
		t.Errorf("stored %q, %v", v, err)
	}
	if !strings.Contains(stderr.String(), "Stored the signing key notify:ops-hook in ") || strings.Contains(stderr.String(), "k3y") {
		t.Errorf("stderr: %q", stderr)
	}
	err := runNotifySetSecret(context.Background(), &notifySetSecretOptions{IO: ios, Manager: w.manager, Name: "a b"})
	if exitCode(err) != ExitUsage {
		t.Errorf("a bad name: %v (exit %d)", err, exitCode(err))
	}
}

// After a command's results, a transition is sent; a failing sink is a
// warning on stderr, never the command's error.
func TestNotifyAfterWarns(t *testing.T) {
	t.Parallel()
	sh := shOrSkip(t)
	w := newNotifyCmdWS(t, fmt.Sprintf("notify:\n  - command: [%q, -c, 'exit 7']\n    name: broken\n", sh))
	ctx := context.Background()
	// p1 connected, as a sign-in leaves it (written as the state file is).
	if err := os.MkdirAll(filepath.Join(w.dir, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, "state", "state.json"), []byte(`{"version":1,"profiles":{"p1":{"connected":true,"has_refresh":true}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ios, _, _, stderr := Test()
	notifyAfter(ctx, ios.ErrOut, w.m, profiles.Filter{}, []profiles.RenewResult{{Name: "p1", Outcome: profiles.OutcomeFailed, Message: "503"}})
	if got := stderr.String(); !strings.Contains(got, "warning: the renewal_failed event of p1 did not reach broken: "+sh+" exited with status 7; it is tried again next time") {
		t.Errorf("stderr:\n%s", got)
	}
}
