// Package flow obtains an OAuth 2.0 authorization code from the user through
// the browser, in the redirect modes of SPEC §5 (loopback, manual, relay), and
// runs the RFC 8628 device flow.
//
// It deliberately stops at the code: exchanging it is the provider layer's job
// because networks differ in how they authenticate the client and shape the
// token response. Run returns the code together with the PKCE verifier and the
// exact redirect_uri that was sent, which the exchange must repeat.
//
// The security properties (SECURITY.md items 1–14) are enforced here so that no
// caller can forget one: loopback-only listener, Host check, constant-time
// state check before anything else, RFC 9207 iss check, one callback only, a
// static page that reflects nothing, PKCE S256, and no secret in any message.
package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
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

	// Relay mode: the hosted page only knows the port (from state) and always
	// forwards to 127.0.0.1, so falling back to [::1] would break it.
	// A fixed port is registered as http://127.0.0.1:PORT, so [::1] would
	// not match it either.
	ln, err := listenLoopback(loopbackHosts(p.Mode != ModeRelay && p.Port == 0), p.Port)
	if err != nil {
		return nil, err
	}
	hostPort := ln.Addr().String() // "127.0.0.1:PORT" or "[::1]:PORT": what the browser sends as Host
	redirectURI := "http://" + hostPort + p.CallbackPath
	if p.Mode == ModeRelay {
		state = relayState(ln.Addr().(*net.TCPAddr).Port, state)
		redirectURI = p.RelayURL
	}
	authURL, err := buildAuthURL(&p, redirectURI, state, pk)
	if err != nil {
		ln.Close()
		return nil, err
	}

	chk := &checker{state: state, issuer: p.Issuer, requireIss: p.RequireIss}
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
	fmt.Fprintf(out, "Waiting for the sign-in to finish (times out in %s; Ctrl-C cancels)...\n", fmtDuration(p.Timeout))

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
				fmt.Fprintf(out, "Could not open a browser: %s\n", sanitize(err.Error(), 300))
				printURL(out, authURL)
			}

		case ev, ok := <-pastes:
			if !ok {
				pastes = nil
				fmt.Fprintln(out, "Input closed; still waiting for the browser to reach "+redirectURI)
				continue
			}
			if ev.tooLong {
				fmt.Fprintln(out, "That line is too long to be a redirected address or a code; paste it again.")
				continue
			}
			v, err := chk.paste(ev.line)
			if err != nil {
				fmt.Fprintf(out, "%s\nPaste the address your browser was redirected to (or just the code):\n", err)
				continue
			}
			if !cb.claim() {
				// The browser callback won the race; its verdict is on its way.
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
