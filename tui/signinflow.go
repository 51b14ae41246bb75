package tui

import (
	"io"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"

	"github.com/sbctl/sbctl/profiles"
)

// The sign-in flow talks to a terminal: it prints its instructions
// ("Open this URL in a browser to continue:", "… then press Enter:",
// "Ctrl-C cancels") on the stderr it is given, which the TUI turns into
// lines. Shown raw they would contradict the TUI (Ctrl-C quits it; esc
// cancels) and repeat what the box already says, so each line is read
// here into what the box draws in its own words: the URL, the redirect
// address, the device code, a refused paste, a browser that could not
// open. Lines not recognised are kept, cleaned of terminal-only advice.

// signInState is what a running sign-in has told the TUI so far.
type signInState struct {
	// mode is what the domain said the sign-in will be
	// (profiles.SignInModeOf), refined by what the flow prints.
	mode profiles.SignInMode
	// timeout is ReauthTimeout (0: the flow's default); deadline is when
	// the flow gives up, known once it has started waiting.
	timeout  time.Duration
	deadline time.Time
	left     time.Duration // as of the last countdown tick

	url           string // the authorization URL
	redirectURI   string // manual mode: where the browser goes after approval
	printedURL    bool   // the flow printed the URL: no browser was, or will be, opened
	browserFailed bool

	// Device flow.
	deviceURI, deviceComplete, userCode string
	expectDeviceURI                     bool

	// Manual mode: the paste field, whether a paste is out being checked,
	// and why the last one was refused.
	paste   textinput.Model
	stdin   *io.PipeWriter // the flow's stdin
	pasteOn bool
	sending bool
	problem string

	lines []string // other messages of the flow, cleaned
	last  string   // the last line kept, in case the next says it was an error
}

func (s *signInState) manual() bool { return s.mode == profiles.SignInManual }
func (s *signInState) device() bool { return s.mode == profiles.SignInDevice }

// copyTarget is the address the copy key puts on the clipboard: the
// sign-in URL, or for a device flow the address that fills in the code.
func (s *signInState) copyTarget() string {
	switch {
	case s.url != "":
		return s.url
	case s.deviceComplete != "":
		return s.deviceComplete
	}
	return s.deviceURI
}

// gotURL: the flow has its URL and starts waiting now, so the countdown
// starts too (a browser flow's timeout defaults to the flow's; a device
// flow's is the code's life, which it prints).
func (s *signInState) gotURL(u string, now time.Time) {
	s.url = u
	d := s.timeout
	if d <= 0 {
		d = profiles.DefaultSignInTimeout
	}
	s.startCountdown(now, d)
}

func (s *signInState) startCountdown(now time.Time, d time.Duration) {
	if d <= 0 || !s.deadline.IsZero() {
		return
	}
	s.deadline = now.Add(d)
	s.left = d
}

// tick updates the time left; false once there is no countdown.
func (s *signInState) tick(now time.Time) {
	if s.deadline.IsZero() {
		return
	}
	s.left = max(s.deadline.Sub(now), 0)
}

// The flow's lines, by their start (auth/flow prints them; a change there
// that this no longer recognises only shows the line as it is).
const (
	flowOpenURL       = "Open this URL in a browser to continue:"
	flowCouldNotOpen  = "Could not open a browser:"
	flowAfterApprove  = "After you approve, the browser goes to "
	flowIfPageFails   = "If that page does not load"
	flowPasteHere     = "paste it here"
	flowWaiting       = "Waiting for the sign-in to finish"
	flowPasteAgain    = "Paste the address your browser was redirected to"
	flowTooLong       = "That line is too long"
	flowInputClosed   = "Input closed;"
	flowDeviceOpen    = "To sign in, open this URL on any device:"
	flowDeviceCode    = "and enter the code: "
	flowDeviceOr      = "(or open "
	flowDeviceWaiting = "Waiting for approval"
)

// flowLine reads one line the flow printed.
func (s *signInState) flowLine(l string, now time.Time) {
	switch {
	case l == s.url:
		// The URL again, printed for a terminal: the box shows it already.
		s.printedURL = true
	case strings.HasPrefix(l, flowOpenURL):
		s.printedURL = true
	case strings.HasPrefix(l, flowCouldNotOpen):
		s.browserFailed, s.printedURL = true, true
		s.keep(l)
	case strings.HasPrefix(l, flowAfterApprove):
		s.redirectURI = strings.TrimSuffix(strings.TrimPrefix(l, flowAfterApprove), "...")
		s.mode = profiles.SignInManual
	case strings.HasPrefix(l, flowIfPageFails), strings.Contains(l, flowPasteHere):
		s.mode = profiles.SignInManual
	case strings.HasPrefix(l, flowWaiting), strings.HasPrefix(l, flowInputClosed):
		// The countdown says how long; esc, not Ctrl-C, cancels.
	case strings.HasPrefix(l, flowPasteAgain):
		// The flow refused the paste; the line before said why.
		s.refused(s.last)
	case strings.HasPrefix(l, flowTooLong):
		s.refused("that line is too long to be a redirected address or a code")
	default:
		s.deviceLine(l, now)
	}
}

// deviceLine reads the device flow's instructions; any other line is kept.
func (s *signInState) deviceLine(l string, now time.Time) {
	switch {
	case strings.HasPrefix(l, flowDeviceOpen):
		s.mode, s.expectDeviceURI = profiles.SignInDevice, true
	case s.expectDeviceURI && isWebAddress(l):
		s.deviceURI, s.expectDeviceURI = l, false
	case strings.HasPrefix(l, flowDeviceCode):
		s.userCode = strings.TrimSpace(strings.TrimPrefix(l, flowDeviceCode))
	case strings.HasPrefix(l, flowDeviceOr) && strings.HasSuffix(l, ", which fills in the code)"):
		u := strings.TrimSuffix(strings.TrimPrefix(l, flowDeviceOr), ", which fills in the code)")
		if isWebAddress(u) {
			s.deviceComplete = u
		}
	case strings.HasPrefix(l, flowDeviceWaiting):
		// "Waiting for approval (the code expires in 10m; Ctrl-C cancels)...":
		// the code's life bounds the wait, and the box counts it down.
		d := s.timeout
		if left, ok := deviceExpiry(l); ok && (d <= 0 || left < d) {
			d = left
		}
		s.startCountdown(now, d)
	default:
		s.keep(l)
	}
}

// keep adds a line the box shows as it is, minus advice meant for a
// terminal the flow owns.
func (s *signInState) keep(l string) {
	l = dropCtrlC(l)
	if l == "" {
		return
	}
	s.last = l
	s.lines = append(s.lines, l)
	if len(s.lines) > maxFlowLines {
		s.lines = s.lines[len(s.lines)-maxFlowLines:]
	}
}

// refused: the flow did not take the paste and waits for another. Its
// explanation becomes the box's problem line instead of a flow line.
func (s *signInState) refused(why string) {
	if n := len(s.lines); n > 0 && s.lines[n-1] == why {
		s.lines = s.lines[:n-1]
	}
	s.last = ""
	s.sending = false
	if why == "" {
		why = "the flow did not accept it"
	}
	s.problem = "That did not work: " + strings.TrimSuffix(why, ".") + ". Paste it again."
}

// dropCtrlC removes the flow's "Ctrl-C cancels": in the TUI Ctrl-C quits
// and esc cancels, which the box says itself.
func dropCtrlC(l string) string {
	for _, s := range []string{"; Ctrl-C cancels", " (Ctrl-C cancels)", "Ctrl-C cancels"} {
		l = strings.ReplaceAll(l, s, "")
	}
	return strings.TrimSpace(strings.ReplaceAll(l, "()", ""))
}

func isWebAddress(s string) bool {
	return (strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) && !strings.ContainsAny(s, " \t")
}

// deviceExpiry reads "(the code expires in 9m30s;" from the device flow's
// waiting line.
func deviceExpiry(l string) (time.Duration, bool) {
	_, rest, ok := strings.Cut(l, "expires in ")
	if !ok {
		return 0, false
	}
	word, _, _ := strings.Cut(rest, ";")
	word, _, _ = strings.Cut(word, ")")
	d, err := time.ParseDuration(strings.TrimSpace(word))
	return d, err == nil && d > 0
}
