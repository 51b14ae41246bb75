package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/sbctl/sbctl/auth"
)

// Run obtains an authorization code. It listens on loopback, opens (or
// prints) the authorization URL, and returns when a valid response arrives,
// the user denies access (an error matching ErrDenied), the timeout passes
// (ErrTimeout), or ctx is cancelled (an error matching context.Canceled).
// In every case the listener is closed before Run returns.
func Run(ctx context.Context, p Params) (*Result, error) {
	if err := p.normalize(); err != nil {
		return nil, err
	}
	start := time.Now()
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()

	s, err := startListener(&p)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	s.announce(ctx)
	return s.wait(ctx, parent, start)
}

// signIn is one Run from the moment its listener is up.
type signIn struct {
	p           *Params
	pk          pkce
	ln          net.Listener
	redirectURI string
	authURL     string
	relayName   string
	chk         *checker
	cb          *callback
	srv         *http.Server
	serveDone   chan struct{}

	// The browser being opened (opening until its result is read), and
	// the pasted lines of manual mode.
	cancelOpen context.CancelFunc
	openDone   chan error
	opening    bool
	pastes     <-chan pasteEvent
	stopPaste  func()
}

// startListener draws the state and the PKCE verifier, binds the listener
// and starts serving the callback path, so the URL is known and answered
// before anyone sees it.
func startListener(p *Params) (*signIn, error) {
	state, err := newState()
	if err != nil {
		return nil, err
	}
	s := &signIn{p: p, pk: newPKCE(p.PKCE), cancelOpen: func() {}, openDone: make(chan error, 1)}
	if s.ln, err = listen(p); err != nil {
		return nil, err
	}
	hostPort := s.ln.Addr().String() // "127.0.0.1:PORT" or "[::1]:PORT": what the browser sends as Host
	s.redirectURI, state, s.relayName = redirectFor(p, s.ln, state)
	// Printed and opened, so printable ASCII only (SECURITY 30): normalize
	// checked AuthURL and RelayURL, and every parameter is %-encoded.
	if s.authURL, err = buildAuthURL(p, s.redirectURI, state, s.pk); err != nil {
		s.ln.Close()
		return nil, err
	}
	s.chk = &checker{state: state, issuer: p.Issuer, requireIss: p.RequireIss, path: p.CallbackPath}
	s.cb = newCallback(s.chk, hostPort, p.CallbackPath)
	s.srv = newServer(s.cb)
	s.serveDone = make(chan struct{})
	go func() {
		defer close(s.serveDone)
		_ = s.srv.Serve(s.ln) // returns ErrServerClosed once stop runs
	}()
	return s, nil
}

// stop closes everything startListener and announce started. The listener
// goes first, so the port refuses connections from the moment Run stops
// waiting; then the opener is told to give up.
func (s *signIn) stop() {
	stopServer(s.srv, s.ln, s.serveDone)
	s.cancelOpen()
	if s.opening {
		waitOpener(s.openDone)
	}
	if s.stopPaste != nil {
		s.stopPaste()
	}
}

// announce hands the URL on: to OnURL, then to the person, by opening the
// browser, printing it, or (manual mode) printing it and reading pastes.
func (s *signIn) announce(ctx context.Context) {
	p, out := s.p, s.p.Stderr
	if p.OnURL != nil {
		p.OnURL(s.authURL)
	}
	switch {
	case p.Mode == ModeManual:
		// On a remote machine a local browser would be the wrong one, and a
		// terminal browser would fight us for stdin, so manual never opens one.
		printManual(out, s.authURL, s.redirectURI)
		s.pastes, s.stopPaste = readPastes(p.Stdin)
	case p.NoBrowser:
		printURL(out, s.authURL)
	default:
		var openCtx context.Context
		openCtx, s.cancelOpen = context.WithCancel(ctx)
		s.opening = true
		go func() { s.openDone <- p.Browser.Open(openCtx, s.authURL) }()
	}
	printWaiting(out, p, s.relayName)
}

// wait serves the flow until it ends: a callback's verdict, an accepted
// paste, the timeout or cancellation. A browser that could not be opened
// or input that closed only changes what the person is told.
func (s *signIn) wait(ctx, parent context.Context, start time.Time) (*Result, error) {
	out := s.p.Stderr
	openResult := (<-chan error)(s.openDone)
	if !s.opening {
		openResult = nil
	}
	for {
		select {
		case v := <-s.cb.done:
			return s.result(v)

		case err := <-openResult:
			openResult = nil
			s.opening = false
			if err != nil {
				fmt.Fprintf(out, "Could not open a browser: %s\n", auth.CleanText(err.Error(), 300))
				printURL(out, s.authURL)
			}

		case ev, ok := <-s.pastes:
			if !ok {
				s.pastes = nil
				fmt.Fprintln(out, "Input closed; still waiting for the browser to reach "+s.redirectURI)
				continue
			}
			v, accepted := takePaste(out, s.chk, ev)
			if !accepted || !s.cb.claim() {
				// A refused paste keeps the flow waiting; an accepted one
				// that lost the race to the browser callback too: the
				// callback's verdict is on its way.
				continue
			}
			return s.result(v)

		case <-ctx.Done():
			return s.ended(ctx, parent, start)
		}
	}
}

// ended is the flow's answer when its context is done. It claims the flow
// so a late browser request gets a refusal instead of a success page for a
// flow nobody is waiting on; if a callback claimed it first, its page
// already says "signed in", and that is honoured.
func (s *signIn) ended(ctx, parent context.Context, start time.Time) (*Result, error) {
	if !s.cb.claim() {
		return s.result(<-s.cb.done)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		limit := s.p.Timeout
		if dl, ok := parent.Deadline(); ok && dl.Sub(start) < limit {
			limit = dl.Sub(start)
		}
		return nil, &TimeoutError{After: limit}
	}
	return nil, fmt.Errorf("sign-in cancelled: %w", context.Cause(ctx))
}

func (s *signIn) result(v verdict) (*Result, error) {
	if v.err != nil {
		return nil, v.err
	}
	return &Result{Code: v.code, CodeVerifier: s.pk.verifier, RedirectURI: s.redirectURI, Iss: v.iss}, nil
}

// listen binds the loopback listener. Relay mode: the hosted page only
// knows the port and path (from state) and always forwards to 127.0.0.1,
// so falling back to [::1] would break it. A fixed port is registered as
// http://127.0.0.1:PORT, so [::1] would not match it either.
func listen(p *Params) (net.Listener, error) {
	ln, err := listenLoopback(loopbackHosts(p.Mode != ModeRelay && p.Port == 0), p.Port)
	var busy *PortInUseError
	if errors.As(err, &busy) {
		busy.Path = p.CallbackPath // the redirect URI to register names it
	}
	return ln, err
}

// redirectFor returns the redirect_uri to send and the state: the loopback
// address itself, or in relay mode the relay page, with the listener's
// port and path name (relayName) carried in state for the page.
func redirectFor(p *Params, ln net.Listener, random string) (redirectURI, state, relayName string) {
	if p.Mode != ModeRelay {
		return "http://" + ln.Addr().String() + p.CallbackPath, random, ""
	}
	relayName, _ = relayPathName(p.CallbackPath) // normalize checked it
	return p.RelayURL, relayState(ln.Addr().(*net.TCPAddr).Port, relayName, random), relayName
}

// takePaste checks one pasted line; a refusal is explained on out, and the
// flow keeps waiting.
func takePaste(out io.Writer, chk *checker, ev pasteEvent) (verdict, bool) {
	if ev.tooLong {
		fmt.Fprintln(out, "That line is too long to be a redirected address or a code; paste it again.")
		return verdict{}, false
	}
	v, err := chk.paste(ev.line)
	if err != nil {
		fmt.Fprintf(out, "%s\nPaste the address your browser was redirected to (or just the code):\n", err)
		return verdict{}, false
	}
	return v, true
}

func printWaiting(w io.Writer, p *Params, relayName string) {
	fmt.Fprintf(w, "Waiting for the sign-in to finish (times out in %s; Ctrl-C cancels)...\n", fmtDuration(p.Timeout))
	if relayName != "" {
		// A page hosted from an older sbctl cannot read the provider's
		// path in state and stops there; say what to do about it.
		fmt.Fprintf(w, "If the relay page says the address is not an sbctl sign-in, it is an older copy: host the page from `sbctl providers relay-page` again at %s.\n", p.RelayURL)
	}
}

func printURL(w io.Writer, authURL string) {
	fmt.Fprintf(w, "Open this URL in a browser to continue:\n%s\n", authURL)
}

func printManual(w io.Writer, authURL, redirectURI string) {
	printURL(w, authURL)
	fmt.Fprintf(w, "After you approve, the browser goes to %s...\n"+
		"If that page does not load (the browser is on another machine), copy the full address from its address bar\n"+
		"and paste it here (or paste just the code), then press Enter:\n", redirectURI)
}

// waitOpener gives an opener that ignores its context a short while to
// return, so a well-behaved one leaves no goroutine behind and a broken one
// cannot hang the command.
func waitOpener(done <-chan error) {
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}
