package flow

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/sbctl/sbctl/auth"
)

// Browser is what the default opener would run, found the way it finds
// it: $SBCTL_BROWSER, else $BROWSER, else the system's launcher. `sbctl
// doctor` reports it; one resolution, so the two can never disagree.
type Browser struct {
	// Source is "$SBCTL_BROWSER", "$BROWSER" or "system".
	Source string
	// Program is the executable found on PATH ("" when none was).
	Program string
	// Candidates are the system launchers looked for (Source "system").
	Candidates []string
}

// ErrNoBrowser: nothing the default opener could run was found; sign-ins
// print the URL instead.
var ErrNoBrowser = errors.New("no browser found")

// ResolveBrowser finds the browser DefaultOpener would use. An error other
// than ErrNoBrowser names a browser variable that is set but unusable.
func ResolveBrowser() (Browser, error) {
	for _, name := range []string{"SBCTL_BROWSER", "BROWSER"} {
		v := strings.TrimSpace(os.Getenv(name))
		if v == "" {
			continue
		}
		b := Browser{Source: "$" + name}
		argv, err := SplitCommand(v)
		if err != nil {
			return b, fmt.Errorf("$%s: %w", name, err)
		}
		p, err := exec.LookPath(argv[0])
		if err != nil {
			return b, fmt.Errorf("$%s names %q, which is not an executable on PATH", name, auth.CleanText(argv[0], 200))
		}
		b.Program = p
		return b, nil
	}
	b := Browser{Source: "system", Candidates: systemLaunchers()}
	if b.Candidates == nil {
		b.Program = "ShellExecute" // Windows: cli/browser asks the shell
		return b, nil
	}
	for _, name := range b.Candidates {
		if p, err := exec.LookPath(name); err == nil {
			b.Program = p
			return b, nil
		}
	}
	return b, ErrNoBrowser
}
