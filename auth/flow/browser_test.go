package flow

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// argvRecorder writes a script that records its arguments, one per line,
// into a file, and returns the script and that file. The shell lines in
// before run ahead of the record, so whatever they leave (a pid file) exists
// once readArgv has returned; those in after run once it is written.
func argvRecorder(t *testing.T, before, after string) (script, record string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shell script browser")
	}
	dir := t.TempDir()
	record = filepath.Join(dir, "argv")
	script = filepath.Join(dir, "fake browser") // a space, to exercise quoting
	body := "#!/bin/sh\n" + before + ": > \"$REC.tmp\"\nfor a in \"$0\" \"$@\"; do printf '%s\\n' \"$a\" >> \"$REC.tmp\"; done\nmv \"$REC.tmp\" \"$REC\"\n" + after
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("REC", record)
	return script, record
}

// readArgv waits for the script to have written its record.
func readArgv(t *testing.T, record string) []string {
	t.Helper()
	var b []byte
	waitFor(t, "the browser command", func() bool {
		var err error
		b, err = os.ReadFile(record)
		return err == nil
	})
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func quote(s string) string { return "'" + s + "'" }

func TestDefaultOpenerSBCTLBrowser(t *testing.T) {
	script, rec := argvRecorder(t, "", "")
	t.Setenv("BROWSER", "/bin/false")
	t.Setenv("SBCTL_BROWSER", quote(script)+" --new-window   -x")
	const u = "https://auth.example/authorize?a=1&b=2"
	if err := DefaultOpener().Open(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if got, want := readArgv(t, rec), []string{script, "--new-window", "-x", u}; !reflect.DeepEqual(got, want) {
		t.Fatalf("argv %q, want %q", got, want)
	}
}

func TestDefaultOpenerBROWSER(t *testing.T) {
	script, rec := argvRecorder(t, "", "")
	t.Setenv("SBCTL_BROWSER", "")
	t.Setenv("BROWSER", quote(script)+" --flag")
	const u = "http://127.0.0.1:1/x"
	if err := DefaultOpener().Open(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if got, want := readArgv(t, rec), []string{script, "--flag", u}; !reflect.DeepEqual(got, want) {
		t.Fatalf("argv %q, want %q", got, want)
	}
}

func TestDefaultOpenerNoShell(t *testing.T) {
	script, rec := argvRecorder(t, "", "")
	t.Setenv("SBCTL_BROWSER", quote(script))
	dir := t.TempDir()
	t.Chdir(dir)
	u := "https://auth.example/a?x=1;$(touch%20pwned)&y=`touch pwned2`|touch pwned3"
	u = strings.ReplaceAll(u, " ", "%20") // spaces are refused; keep the metacharacters
	if err := DefaultOpener().Open(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	got := readArgv(t, rec)
	if len(got) != 2 || got[1] != u {
		t.Fatalf("argv %q: the URL is not exactly one argument", got)
	}
	for _, f := range []string{"pwned", "pwned2", "pwned3", "x"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Fatalf("%s was created: a shell ran", f)
		}
	}
}

func TestDefaultOpenerRefusesNonHTTP(t *testing.T) {
	script, rec := argvRecorder(t, "", "")
	t.Setenv("SBCTL_BROWSER", quote(script))
	for _, u := range []string{
		"file:///etc/passwd",
		"javascript:alert(1)",
		"ftp://example.com/",
		"data:text/html,hi",
		"//example.com/",
		"/etc/passwd",
		"https://example.com/a b",
		"https://example.com/\n--new-window",
		"-https://example.com/",
		"",
	} {
		if err := DefaultOpener().Open(context.Background(), u); err == nil {
			t.Errorf("%q: opened", u)
		}
		if err := CommandOpener(script).Open(context.Background(), u); err == nil {
			t.Errorf("%q: opened by CommandOpener", u)
		}
	}
	if _, err := os.Stat(rec); err == nil {
		t.Fatal("the browser command ran for a refused URL")
	}
}

func TestDefaultOpenerFailures(t *testing.T) {
	t.Setenv("SBCTL_BROWSER", "/nonexistent/browser --flag")
	err := DefaultOpener().Open(context.Background(), "https://a.example/")
	if err == nil || !strings.Contains(err.Error(), "$SBCTL_BROWSER") {
		t.Fatalf("missing command: %v", err)
	}
	if runtime.GOOS != "windows" {
		t.Setenv("SBCTL_BROWSER", "false")
		if err := DefaultOpener().Open(context.Background(), "https://a.example/"); err == nil {
			t.Fatal("a browser command that exits 1 at once counts as a success")
		}
	}
	t.Setenv("SBCTL_BROWSER", `"unterminated`)
	if err := DefaultOpener().Open(context.Background(), "https://a.example/"); err == nil {
		t.Fatal("unterminated quote accepted")
	}
}

// A browser command that blocks (until the page loaded, or forever) does not
// hold up the callback, and Run returns without waiting for it.
func TestBlockingBrowserCommand(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	t.Setenv("PIDFILE", pidFile)
	// The pid is in place before the argv record the test waits for, so the
	// cleanup always finds the process; exec keeps that pid, and keeps the
	// browser a direct child that the opener reaps. Its output goes to
	// /dev/null: were a failing test to end before it learnt the pid, the
	// sleep would not also hold go test's output pipe open for 30 s.
	script, rec := argvRecorder(t,
		"echo $$ > \"$PIDFILE.tmp\" && mv \"$PIDFILE.tmp\" \"$PIDFILE\"\n",
		"exec sleep 30 </dev/null >/dev/null 2>&1\n")
	t.Setenv("SBCTL_BROWSER", quote(script))
	r := start(t, Params{Browser: DefaultOpener()})
	readArgv(t, rec)
	pid := readPID(t, pidFile)
	t.Cleanup(func() { killAndWait(t, pid) })

	do(t, "GET", r.callbackURL(r.good("c")), "")
	began := time.Now()
	if res, err := r.wait(t); err != nil || res.Code != "c" {
		t.Fatalf("%v %v", res, err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Fatalf("Run waited %v for the browser", d)
	}
	// Run has returned; the browser command is still the user's.
	if err := signalProcess(pid, syscall.Signal(0)); err != nil {
		t.Fatalf("the browser command did not outlive the flow: %v", err)
	}
}

// readPID reads a pid file written by a fake browser.
func readPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the browser wrote no pid before its argv record: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		t.Fatalf("pid file %q: %v", b, err)
	}
	return pid
}

// killAndWait kills a fake browser and waits until it is gone (the opener's
// own goroutine reaps it), so no test leaves a process behind.
func killAndWait(t *testing.T, pid int) {
	t.Helper()
	if err := signalProcess(pid, os.Kill); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("kill %d: %v", pid, err)
		return
	}
	waitFor(t, "the browser command to exit", func() bool {
		return errors.Is(signalProcess(pid, syscall.Signal(0)), os.ErrProcessDone)
	})
}

// signalProcess signals pid; os.ErrProcessDone once it has exited and been
// reaped.
func signalProcess(pid int, sig os.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	defer p.Release()
	return p.Signal(sig)
}

func TestOpenerFailsInRunPrintsURL(t *testing.T) {
	t.Setenv("SBCTL_BROWSER", "/nonexistent/browser")
	r := start(t, Params{Browser: DefaultOpener()})
	waitFor(t, "printed URL", func() bool { return strings.Contains(r.stderr.String(), r.authURL) })
	if !strings.Contains(r.stderr.String(), "Open this URL in a browser to continue:\n"+r.authURL+"\n") {
		t.Fatalf("stderr:\n%s", r.stderr)
	}
	do(t, "GET", r.callbackURL(r.good("c")), "")
	if _, err := r.wait(t); err != nil {
		t.Fatal(err)
	}
}

func TestSystemOpenerNeedsDisplay(t *testing.T) {
	if !needsDisplay() {
		t.Skip("no display concept here")
	}
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("WSL_DISTRO_NAME", "")
	t.Setenv("SBCTL_BROWSER", "")
	t.Setenv("BROWSER", "")
	if err := DefaultOpener().Open(context.Background(), "https://a.example/"); err != errNoDisplay {
		t.Fatalf("err = %v", err)
	}
}

func TestSplitCommand(t *testing.T) {
	for in, want := range map[string][]string{
		"firefox":                         {"firefox"},
		"  firefox   --new-window  ":      {"firefox", "--new-window"},
		"'/opt/My Browser/run' -x":        {"/opt/My Browser/run", "-x"},
		`"/opt/My Browser/run" "a \"b\""`: {"/opt/My Browser/run", `a "b"`},
		`/opt/My\ Browser/run`:            {"/opt/My Browser/run"},
		`C:\Programs\browser.exe`:         {`C:\Programs\browser.exe`},
		`"C:\Program Files\b.exe" --x`:    {`C:\Program Files\b.exe`, "--x"},
		"echo $(id) ; rm -rf ~ `x` | y &": {"echo", "$(id)", ";", "rm", "-rf", "~", "`x`", "|", "y", "&"},
		"a''b":                            {"ab"},
		"''":                              {""},
		`trailing\`:                       {`trailing\`},
	} {
		got, err := SplitCommand(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "   ", `"open`, `'open`} {
		if _, err := SplitCommand(bad); err == nil {
			t.Errorf("SplitCommand(%q) accepted", bad)
		}
	}
}
