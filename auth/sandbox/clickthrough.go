package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// ClickThrough plays the person at the browser, for `sbctl demo` and for
// tests: Open fetches the authorization URL and follows its redirects, as a
// browser does when the server approves at once (Options.AutoApprove), until
// the client's loopback callback has answered. It has the method of sbctl's
// sign-in opener (Open(ctx, url) error), so it can be handed to a sign-in
// directly; the sandbox does not import the client to say so.
//
// Open blocks until the callback page has loaded, like a browser command
// that waits for its page, and stops when ctx ends. It returns an error only
// when the click-through could not reach the callback (the server showed a
// page instead of redirecting, or refused the request); what the callback
// made of the sign-in is the client's to report. Its errors name hosts and
// statuses, never a URL's query, which carries the state and the code.
//
// It only visits loopback addresses: the authorization URL and every
// redirect must be http on 127.0.0.0/8, [::1] or localhost, so it can never
// be made to talk to another machine.
type ClickThrough struct {
	// Timeout bounds the whole click-through; default 20 s.
	Timeout time.Duration
}

// maxClicks bounds the redirects followed, as browsers do.
const maxClicks = 10

// Open follows authURL to the callback of the redirect_uri it names.
func (c ClickThrough) Open(ctx context.Context, authURL string) error {
	start, err := url.Parse(authURL)
	if err != nil {
		return errors.New("sandbox click-through: the authorization URL does not parse")
	}
	if err := loopbackURL(start); err != nil {
		return err
	}
	callback := start.Query().Get("redirect_uri")
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	reached := false // a request to the callback was sent
	client := &http.Client{
		// No keep-alive and no proxy: nothing is left behind after Open,
		// and nothing leaves the machine.
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxClicks {
				return errors.New("sandbox click-through: too many redirects")
			}
			if err := loopbackURL(req.URL); err != nil {
				return err
			}
			reached = reached || isCallback(req.URL, callback)
			return nil
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, start.String(), nil)
	if err != nil {
		return errors.New("sandbox click-through: the authorization URL is not a valid request")
	}
	reached = isCallback(start, callback)
	resp, err := client.Do(req)
	if err != nil {
		if reached {
			// The callback was asked; the client may well have closed its
			// listener as soon as it had the code.
			return nil
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the url.Error's text would repeat the query
		}
		return fmt.Errorf("sandbox click-through: visiting %s: %w", start.Host, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if !reached {
		return fmt.Errorf("sandbox click-through: %s answered %s without redirecting to the callback (is the sandbox approving at once?)", resp.Request.URL.Host, resp.Status)
	}
	return nil
}

// loopbackURL refuses a URL the click-through must not visit.
func loopbackURL(u *url.URL) error {
	host := u.Hostname()
	if u.Scheme != "http" || !loopbackHost(host) {
		return fmt.Errorf("sandbox click-through: refusing to visit %s://%s: only http on a loopback address", u.Scheme, u.Host)
	}
	return nil
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback() && ip.Zone() == ""
}

// isCallback says whether u is the redirect URI (scheme, host and path;
// the query is the server's answer).
func isCallback(u *url.URL, redirectURI string) bool {
	if redirectURI == "" {
		return false
	}
	r, err := url.Parse(redirectURI)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Scheme, r.Scheme) && sameHostPort(u.Host, r.Host) && u.Path == r.Path
}

func sameHostPort(a, b string) bool {
	ah, ap, errA := net.SplitHostPort(a)
	bh, bp, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil {
		return strings.EqualFold(a, b)
	}
	return strings.EqualFold(ah, bh) && ap == bp
}
