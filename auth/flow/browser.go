package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/cli/browser"
	"github.com/sbctl/sbctl/auth"
)

// Opener shows a URL to the user, normally by starting a browser. Open should
// return once the browser is launched (or has clearly failed), and promptly
// when ctx is done; Run serves the callback concurrently either way. An
// error makes Run print the URL instead.
type Opener interface {
	Open(ctx context.Context, url string) error
}

// OpenerFunc adapts a function to Opener.
type OpenerFunc func(ctx context.Context, url string) error

// Open calls f.
func (f OpenerFunc) Open(ctx context.Context, u string) error { return f(ctx, u) }

// launchGrace is how long an opener waits for a launcher to fail before
// assuming the browser is up. Launchers such as xdg-open exit non-zero at once
// when they find nothing, which deserves the printed URL; a browser that keeps
// running is a success.
var launchGrace = 2 * time.Second

// DefaultOpener follows SPEC §5: $SBCTL_BROWSER, else $BROWSER, is a command
// run with the URL as its last argument and no shell; otherwise the system
// browser (xdg-open, open; on Windows ShellExecute through
// github.com/cli/browser). The variables are read at each Open. Every
// command it runs gets sbctl's environment without its secrets (ChildEnv);
// ShellExecute cannot be given an environment, so on Windows a browser it
// starts inherits sbctl's.
func DefaultOpener() Opener { return defaultOpener{out: os.Stderr} }

// QuietOpener is DefaultOpener with the browser's own output discarded, for
// full-screen front ends (the TUI) whose screen it would otherwise scribble
// on.
func QuietOpener() Opener { return defaultOpener{out: io.Discard} }

type defaultOpener struct {
	out io.Writer // where a launched browser's stdout and stderr go
}

func (o defaultOpener) Open(ctx context.Context, u string) error {
	if err := checkBrowserURL(u); err != nil {
		return err
	}
	for _, name := range []string{"SBCTL_BROWSER", "BROWSER"} {
		v := strings.TrimSpace(os.Getenv(name))
		if v == "" {
			continue
		}
		argv, err := SplitCommand(v)
		if err != nil {
			return fmt.Errorf("$%s: %w", name, err)
		}
		return commandOpener{argv: argv, source: "$" + name, out: o.out}.Open(ctx, u)
	}
	return systemOpener(o).Open(ctx, u)
}

// CommandOpener runs argv with the URL appended as one more argument, the
// way git and gh treat $BROWSER, with sbctl's environment minus its secrets.
func CommandOpener(argv ...string) Opener {
	return commandOpener{argv: append([]string(nil), argv...), source: "browser command", out: os.Stderr}
}

type commandOpener struct {
	argv   []string
	source string    // for messages: which variable the command came from
	out    io.Writer // the browser's stdout and stderr
}

func (c commandOpener) Open(ctx context.Context, u string) error {
	if err := checkBrowserURL(u); err != nil {
		return err
	}
	if len(c.argv) == 0 || c.argv[0] == "" {
		return fmt.Errorf("%s is empty", c.source)
	}
	// No shell: the URL is one argv element, so ;, $(...), & and quotes in it
	// are inert.
	args := append(append([]string(nil), c.argv[1:]...), u)
	started, err := launch(ctx, c.argv[0], args, c.out)
	if !started {
		return fmt.Errorf("cannot run %s (%s): %w", c.source, auth.CleanText(c.argv[0], 200), err)
	}
	if err != nil {
		return fmt.Errorf("%s (%s) failed: %w", c.source, auth.CleanText(c.argv[0], 200), err)
	}
	return nil
}

// launch starts a browser or launcher and reports its early failure (see
// waitLaunch); started is false when it could not even be started.
//
// exec.Command (not CommandContext) so the browser is not killed when the
// flow ends: it belongs to the user from now on. Its environment is
// sbctl's minus the secrets (SECURITY 32): a browser lives on long after
// the sign-in, and its /proc/PID/environ is readable by the user's other
// processes.
func launch(ctx context.Context, prog string, args []string, out io.Writer) (started bool, err error) {
	cmd := exec.Command(prog, args...)
	cmd.Env = ChildEnv(os.Environ())
	cmd.Stdin = nil // /dev/null: manual mode may be reading our stdin
	// Our stdout carries data (`sbctl token`, -o json); a browser's chatter
	// ("Opening in existing browser session.") goes to stderr instead.
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		return false, unwrapExec(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reap it whenever it exits
	return true, waitLaunch(ctx, exited)
}

// systemOpener starts the system's URL launcher: the programs
// github.com/cli/browser would run, run by sbctl itself so that they get a
// filtered environment (cli/browser offers no way to pass one). On Windows
// it is cli/browser's ShellExecute, an API call that takes no environment.
type systemOpener struct {
	out io.Writer
}

// browserOutput guards cli/browser's package-level output writers.
var browserOutput sync.Mutex

// errNoDisplay avoids launching a terminal browser (www-browser may be lynx)
// that would take over the terminal of a headless or SSH session.
var errNoDisplay = errors.New("no graphical display ($DISPLAY and $WAYLAND_DISPLAY are unset); set $BROWSER to choose a browser")

func (o systemOpener) Open(ctx context.Context, u string) error {
	if err := checkBrowserURL(u); err != nil {
		return err
	}
	if needsDisplay() && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" && os.Getenv("WSL_DISTRO_NAME") == "" {
		return errNoDisplay
	}
	launchers := systemLaunchers()
	if launchers == nil {
		return o.shellExecute(ctx, u)
	}
	for _, name := range launchers {
		prog, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if _, err := launch(ctx, prog, []string{u}, o.out); err != nil {
			return fmt.Errorf("cannot open the system browser (%s): %w", name, err)
		}
		return nil
	}
	return fmt.Errorf("cannot open the system browser: none of %s is installed; set $BROWSER to choose a browser", strings.Join(launchers, ", "))
}

// systemLaunchers lists, in cli/browser's order, the programs that open a
// URL on this system; nil where cli/browser calls an API instead
// (Windows).
func systemLaunchers() []string {
	switch runtime.GOOS {
	case "windows":
		return nil
	case "darwin":
		return []string{"open"}
	case "linux":
		return []string{"xdg-open", "x-www-browser", "www-browser", "wslview"}
	}
	return []string{"xdg-open"} // the BSDs, and a best guess elsewhere
}

// shellExecute opens u through cli/browser (Windows' ShellExecute).
func (o systemOpener) shellExecute(ctx context.Context, u string) error {
	// cli/browser writes a launcher's output to its package variables,
	// os.Stdout by default; stdout is for data, so point it elsewhere.
	exited := make(chan error, 1)
	go func() {
		browserOutput.Lock()
		defer browserOutput.Unlock()
		browser.Stdout, browser.Stderr = o.out, o.out
		exited <- browser.OpenURL(u)
	}()
	if err := waitLaunch(ctx, exited); err != nil {
		return fmt.Errorf("cannot open the system browser: %w", unwrapExec(err))
	}
	return nil
}

func needsDisplay() bool {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly", "solaris", "illumos":
		return true
	}
	return false
}

// waitLaunch reports a launcher's early failure. A launcher still running
// after launchGrace, or when the flow ends, counts as a success.
func waitLaunch(ctx context.Context, exited <-chan error) error {
	t := time.NewTimer(launchGrace)
	defer t.Stop()
	select {
	case err := <-exited:
		return err
	case <-t.C:
		return nil
	case <-ctx.Done():
		return nil
	}
}

// unwrapExec shortens exec's errors to what a person needs; exec.Error
// already names the program.
func unwrapExec(err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ee.Err
	}
	return err
}

// checkBrowserURL lets only plain http and https addresses reach a browser
// command or the system launcher: file:, javascript:, custom schemes, a
// user name in the host part, and anything that is not printable ASCII
// (escape sequences, bidi tricks, look-alike hosts) could make the launcher
// run or open something else, or mislead the person (auth.CheckURL, the
// one policy for addresses shown to or opened for a person). The URL is
// always one argument and no shell ever sees it, so shell metacharacters
// are inert and left alone (SECURITY 12).
func checkBrowserURL(raw string) error {
	if err := auth.CheckURL(raw); err != nil {
		return fmt.Errorf("refusing to open this address in a browser: %w", err)
	}
	return nil
}

// SplitCommand splits $BROWSER-style command text into argv without a shell:
// words are separated by white space, '...' and "..." quote (so paths with
// spaces work), and a backslash escapes white space, a quote or a backslash
// outside single quotes (elsewhere it is literal, for Windows paths). No
// variable, glob or command substitution happens.
func SplitCommand(s string) ([]string, error) {
	var w wordSplitter
	for _, r := range s {
		w.next(r)
	}
	if w.escaped {
		w.cur.WriteRune('\\')
	}
	if w.quote != 0 {
		return nil, errors.New("unterminated quote in the browser command")
	}
	w.endWord()
	if len(w.argv) == 0 {
		return nil, errors.New("the browser command is empty")
	}
	return w.argv, nil
}

// wordSplitter is SplitCommand's state between two runes.
type wordSplitter struct {
	argv    []string
	cur     strings.Builder
	inWord  bool
	quote   rune // 0, '\'' or '"'
	escaped bool // the rune before was an unquoted or double-quoted backslash
}

func (w *wordSplitter) next(r rune) {
	switch {
	case w.escaped:
		w.escape(r)
	case w.quote == '\'':
		if r == '\'' {
			w.quote = 0
		} else {
			w.cur.WriteRune(r)
		}
	case r == '\\':
		w.escaped, w.inWord = true, true
	case w.quote == '"':
		if r == '"' {
			w.quote = 0
		} else {
			w.cur.WriteRune(r)
		}
	case r == '\'' || r == '"':
		w.quote, w.inWord = r, true
	case r == ' ' || r == '\t' || r == '\n' || r == '\r':
		w.endWord()
	default:
		w.cur.WriteRune(r)
		w.inWord = true
	}
}

// escape takes the rune after a backslash. Outside quotes the backslash
// escapes white space, a quote or a backslash; inside "..." only " and a
// backslash. Before anything else it stays, so C:\Program Files\… keeps
// its backslashes.
func (w *wordSplitter) escape(r rune) {
	escapable := r == ' ' || r == '\t' || r == '\n' || r == '\'' || r == '"' || r == '\\'
	if !escapable || w.quote == '"' && r != '"' && r != '\\' {
		w.cur.WriteRune('\\')
	}
	w.cur.WriteRune(r)
	w.escaped = false
}

// endWord closes the word being read, if any.
func (w *wordSplitter) endWord() {
	if w.inWord {
		w.argv = append(w.argv, w.cur.String())
		w.cur.Reset()
		w.inWord = false
	}
}
