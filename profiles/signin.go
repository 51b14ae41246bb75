package profiles

import (
	"fmt"

	"github.com/sbctl/sbctl/auth/flow"
)

// What a front end needs of the sign-in flow, so that it imports only the
// domain (the CLI and the TUI never talk to auth/flow themselves).

// Opener opens a sign-in URL in a browser. nil in ReauthOptions means
// $SBCTL_BROWSER, then $BROWSER, then the system browser.
type Opener = flow.Opener

// OpenerFunc adapts a function to Opener.
type OpenerFunc = flow.OpenerFunc

// QuietOpener is the default browser with its own output discarded, for
// full-screen front ends whose screen it would scribble on.
func QuietOpener() Opener { return flow.QuietOpener() }

// The sign-in's outcomes a front end words itself (errors.Is).
var (
	ErrSignInDenied  = flow.ErrDenied  // the user declined in the browser
	ErrSignInTimeout = flow.ErrTimeout // nobody completed the sign-in in time
)

// DefaultSignInTimeout is how long a sign-in waits for the browser.
const DefaultSignInTimeout = flow.DefaultTimeout

// RelayPage is the static HTML page that relays Meta's HTTPS redirect to
// sbctl's listener (`sbctl providers relay-page`).
func RelayPage() string { return flow.RelayPage() }

// SignInMode is how the person signs in (SPEC §5). The zero value is the
// provider's own mode (loopback with the browser, or relay).
type SignInMode string

const (
	SignInDefault   SignInMode = ""
	SignInNoBrowser SignInMode = "no-browser" // print the URL instead of opening a browser
	SignInManual    SignInMode = "manual"     // paste the redirected URL (or the code) on stdin
	SignInDevice    SignInMode = "device"     // RFC 8628 device authorization
)

// SignInModes lists the modes a front end may offer.
var SignInModes = []SignInMode{SignInDefault, SignInNoBrowser, SignInManual, SignInDevice}

// Valid reports an unknown mode as a usage error.
func (m SignInMode) Valid() error {
	for _, ok := range SignInModes {
		if m == ok {
			return nil
		}
	}
	return &UsageError{Msg: fmt.Sprintf("unknown sign-in mode %q: use no-browser, manual or device", string(m))}
}
