// Package flow obtains an OAuth 2.0 authorization code from the user through
// the browser, in the redirect modes of SPEC §5 (loopback, manual, relay), and
// runs the RFC 8628 device flow.
//
// It deliberately stops at the code: exchanging it is the provider layer's job
// because networks differ in how they authenticate the client and shape the
// token response. Run returns the code together with the PKCE verifier and the
// exact redirect_uri that was sent, which the exchange must repeat.
//
// The security properties (SECURITY.md items 1–14, and the flow's part of
// 28–32) are enforced here so that no caller can forget one: loopback-only
// listener on exactly the provider's own callback path, Host check,
// constant-time state check before anything else, RFC 9207 iss check, one
// callback only, a static page that reflects nothing, PKCE S256, no secret
// in any message, server text shown only through auth.CleanText, device
// tokens of printable ASCII only, and browsers started without sbctl's
// secret environment variables.
package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
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

	state, err := newState()
	if err != nil {
		return nil, err
	}
	pk := newPKCE(p.PKCE)

	ln, err := listen(&p)
	if err != nil {
		return nil, err
	}
	hostPort := ln.Addr().String() // "127.0.0.1:PORT" or "[::1]:PORT": what the browser sends as Host
	redirectURI, state, relayName := redirectFor(&p, ln, state)
	// Printed and opened, so printable ASCII only (SECURITY 30): normalize
	// checked AuthURL and RelayURL, and every parameter is %-encoded.
	authURL, err := buildAuthURL(&p, redirectURI, state, pk)
	if err != nil {
		ln.Close()
		return nil, err
	}

	chk := &checker{state: state, issuer: p.Issuer, requireIss: p.RequireIss, path: p.CallbackPath}
	cb := newCallback(chk, hostPort, p.CallbackPath)
	srv := newServer(cb)
	serveDone := make(chan struct{})
	go func() {
		defer close(serveDone)
		_ = srv.Serve(ln) // returns ErrServerClosed once stop runs
	}()

	openCtx, cancelOpen := context.WithCancel(ctx)
	openDone := make(chan error, 1)
	opening := false
	var stopPaste func()
	defer func() {
		// The listener goes first, so the port refuses connections from the
		// moment Run stops waiting; then the opener is told to give up.
		stopServer(srv, ln, serveDone)
		cancelOpen()
		if opening {
			waitOpener(openDone)
		}
		if stopPaste != nil {
			stopPaste()
		}
	}()

	// The listener is accepting from here on, before anyone sees the URL.
	if p.OnURL != nil {
		p.OnURL(authURL)
	}
	out := p.Stderr
	var pastes <-chan pasteEvent
	switch {
	case p.Mode == ModeManual:
		// On a remote machine a local browser would be the wrong one, and a
		// terminal browser would fight us for stdin, so manual never opens one.
		printManual(out, authURL, redirectURI)
		pastes, stopPaste = readPastes(p.Stdin)
	case p.NoBrowser:
		printURL(out, authURL)
	default:
		opening = true
		go func() { openDone <- p.Browser.Open(openCtx, authURL) }()
	}
	printWaiting(out, &p, relayName)

	result := func(v verdict) (*Result, error) {
		if v.err != nil {
			return nil, v.err
		}
		return &Result{Code: v.code, CodeVerifier: pk.verifier, RedirectURI: redirectURI, Iss: v.iss}, nil
	}
	openResult := (<-chan error)(openDone)
	for {
		select {
		case v := <-cb.done:
			return result(v)

		case err := <-openResult:
			openResult = nil
			opening = false
			if err != nil {
				fmt.Fprintf(out, "Could not open a browser: %s\n", auth.CleanText(err.Error(), 300))
				printURL(out, authURL)
			}

		case ev, ok := <-pastes:
			if !ok {
				pastes = nil
				fmt.Fprintln(out, "Input closed; still waiting for the browser to reach "+redirectURI)
				continue
			}
			v, accepted := takePaste(out, chk, ev)
			if !accepted || !cb.claim() {
				// A refused paste keeps the flow waiting; an accepted one
				// that lost the race to the browser callback too: the
				// callback's verdict is on its way.
				continue
			}
			return result(v)

		case <-ctx.Done():
			// Claim the flow so a late browser request gets a refusal instead
			// of a success page for a flow nobody is waiting on. If a callback
			// claimed it first, its page already says "signed in": honour it.
			if !cb.claim() {
				return result(<-cb.done)
			}
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				limit := p.Timeout
				if dl, ok := parent.Deadline(); ok && dl.Sub(start) < limit {
					limit = dl.Sub(start)
				}
				return nil, &TimeoutError{After: limit}
			}
			return nil, fmt.Errorf("sign-in cancelled: %w", context.Cause(ctx))
		}
	}
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
