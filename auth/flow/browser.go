package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/cli/browser"
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
// browser through github.com/cli/browser. The variables are read at each Open.
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
// way git and gh treat $BROWSER.
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
	// are inert. exec.Command (not CommandContext) so the browser is not
	// killed when the flow ends; it belongs to the user from now on.
	args := append(append([]string(nil), c.argv[1:]...), u)
	cmd := exec.Command(c.argv[0], args...)
	cmd.Stdin = nil // /dev/null: manual mode may be reading our stdin
	// Our stdout carries data (`sbctl token`, -o json); a browser's chatter
	// ("Opening in existing browser session.") goes to stderr instead.
	cmd.Stdout = c.out
	cmd.Stderr = c.out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot run %s (%s): %w", c.source, sanitize(c.argv[0], 200), unwrapExec(err))
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reap it whenever it exits
	if err := waitLaunch(ctx, exited); err != nil {
		return fmt.Errorf("%s (%s) failed: %w", c.source, sanitize(c.argv[0], 200), err)
	}
	return nil
}

// systemOpener uses xdg-open, open or rundll32 through github.com/cli/browser.
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
	// cli/browser writes the launcher's output to its package variables,
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

// checkBrowserURL lets only http and https reach a browser command or the
// system launcher: file:, javascript:, custom schemes and anything that is not
// a clean URL could make the launcher run or open something else.
func checkBrowserURL(raw string) error {
	if strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return errors.New("refusing to open a URL containing spaces or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("refusing to open an unparsable URL")
	}
	if s := strings.ToLower(u.Scheme); (s != "http" && s != "https") || u.Host == "" {
		return errors.New("refusing to open a URL that is not http or https")
	}
	return nil
}

// SplitCommand splits $BROWSER-style command text into argv without a shell:
// words are separated by white space, '...' and "..." quote (so paths with
// spaces work), and a backslash escapes white space, a quote or a backslash
// outside single quotes (elsewhere it is literal, for Windows paths). No
// variable, glob or command substitution happens.
func SplitCommand(s string) ([]string, error) {
	var (
		argv    []string
		cur     strings.Builder
		inWord  bool
		quote   rune // 0, '\'' or '"'
		escaped bool
	)
	for _, r := range s {
		switch {
		case escaped:
			if !(r == ' ' || r == '\t' || r == '\n' || r == '\'' || r == '"' || r == '\\') || quote == '"' && r != '"' && r != '\\' {
				cur.WriteRune('\\')
			}
			cur.WriteRune(r)
			escaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\\':
			escaped, inWord = true, true
		case quote == '"':
			if r == '"' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if inWord {
				argv = append(argv, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if escaped {
		cur.WriteRune('\\')
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote in the browser command")
	}
	if inWord {
		argv = append(argv, cur.String())
	}
	if len(argv) == 0 {
		return nil, errors.New("the browser command is empty")
	}
	return argv, nil
}
