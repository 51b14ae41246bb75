package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/sbctl/sbctl/auth"
)

// role is what kind of endpoint answered, which decides what a bare status
// means: a 401 from a token endpoint is the client's credentials, a 401 from
// an API call is the user's token.
type role int

const (
	roleOther role = iota
	roleToken
	roleResource
	roleRevoke
)

// request is one HTTP call. url may carry secrets in its query (Meta's
// endpoints require that), so it is never put in an error.
type request struct {
	op     string
	role   role
	method string
	url    string
	form   url.Values // POST body; nil for none

	basic                bool // HTTP Basic with basicUser/basicPass
	basicUser, basicPass string
	bearer               string
	// style is how clientAuth identified the client ("" when it did not).
	style auth.ClientAuth

	// secrets are scrubbed from any description the server echoes back.
	secrets []string
	// unsafe: resending could lose a rotated refresh token or reuse a code,
	// so a connection lost after the request was written is Ambiguous.
	unsafe bool
	// public: the request carries no secret at all (no client secret,
	// code, verifier or token, in the URL, the headers or a body), so it
	// may follow a redirect on the same host (see redirectPolicy). Only
	// discovery is public: a userinfo GET carries the access token.
	public bool
}

type response struct {
	status int
	header http.Header
	body   []byte
	host   string
	// style is how the request identified the client; refusedFirst is the
	// answer that refused the other style, when this was the second try.
	style        auth.ClientAuth
	refusedFirst *response
	// clock is when the answer arrived, by our clock and the server's Date.
	clock answerClock
}

func (r *response) ok() bool { return r.status >= 200 && r.status < 300 }

// maxBody bounds what is read from any answer; token responses are small.
const maxBody = 1 << 20

// send performs one request, once. It never retries: that is the caller's
// decision (SECURITY 22).
func (p *Provider) send(ctx context.Context, r request) (*response, error) {
	u, err := url.Parse(r.url)
	if err != nil || u.Host == "" {
		return nil, p.configError(r.op, "", "an endpoint URL is not valid", "check the provider's URLs in the config")
	}
	host := u.Host
	var body io.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	}
	// WroteRequest tells a failure before sending (safe to try again) from
	// one after (the server may have acted).
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			wrote.Store(true)
		}
	}}
	rctx := httptrace.WithClientTrace(ctx, trace)
	if r.public {
		rctx = withNoSecret(rctx)
	}
	req, err := http.NewRequestWithContext(rctx, r.method, r.url, body)
	if err != nil {
		return nil, p.configError(r.op, host, "the request could not be built", "check the provider's URLs in the config")
	}
	if r.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if r.basic {
		// RFC 6749 §2.3.1: both parts are form-encoded before Basic.
		req.SetBasicAuth(url.QueryEscape(r.basicUser), url.QueryEscape(r.basicPass))
	}
	if r.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return nil, p.networkError(r, host, err, wrote.Load())
	}
	defer resp.Body.Close()
	clock := newAnswerClock(p.now(), parseDate(resp.Header))
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		// The server answered and the answer was lost: on a rotating refresh
		// this is exactly the window in which the new token can vanish.
		e := p.networkError(r, host, err, true)
		e.Status = resp.StatusCode
		return nil, e
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b, host: host, style: r.style, clock: clock}, nil
}

// networkError describes a transport failure in our own words: the text of a
// *url.Error contains the URL (and so, for Meta, a token), and some transport
// errors quote bytes the server sent.
func (p *Provider) networkError(r request, host string, err error, wrote bool) *Error {
	var re *redirectError
	if errors.As(err, &re) {
		return p.redirectRefused(r, host, re)
	}
	what, cause := describeNetErr(err)
	e := &Error{Kind: KindTransient, Provider: p.name, Op: r.op, Host: host, cause: cause}
	e.detail = what + " (" + host + ")"
	if wrote && r.unsafe {
		e.Ambiguous = true
		e.detail = what + " after the request was sent (" + host + ")"
	}
	if isDNSFailure(err) {
		// Most often a typo in the config, which waiting will not fix; it
		// stays transient because a machine that lost its network looks
		// the same, and that must not mark a profile needs_reauth.
		e.detail = "the host name " + hostOnly(host) + " could not be resolved"
		e.advice = "check the provider's URL or issuer in the config (or the network connection)"
	}
	return e
}

// redirectRefused is the error for a redirect sbctl did not follow. It
// names the host the redirect pointed to, never its path or query (a
// server can put anything there). The server answered, so whether it acted
// on an unsafe request is unknown: Ambiguous, never resent.
func (p *Provider) redirectRefused(r request, host string, re *redirectError) *Error {
	e := &Error{Kind: KindConfig, Provider: p.name, Op: r.op, Host: host, Ambiguous: r.unsafe}
	if re.secret {
		e.detail = "the server (" + host + ") answered with a redirect to " + re.to +
			", which sbctl does not follow for a request that carries a secret (client secret, code or token)"
		e.advice = "check the provider's URLs in the config: an endpoint that redirects has usually moved, and its new address belongs in the config"
		if r.unsafe && r.op == opExchange {
			e.advice += "; then start the sign-in again"
		}
		return e
	}
	e.detail = "the server (" + host + ") redirected to another host, " + re.to + ", which sbctl does not follow"
	e.advice = "set the provider's issuer (or its endpoint URLs) to the server's own address"
	return e
}

func isDNSFailure(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && !dnsErr.IsTimeout
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

func describeNetErr(err error) (string, error) {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	var recErr tls.RecordHeaderError
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "the request was cancelled", context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return "the request timed out", context.DeadlineExceeded
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "the request timed out", context.DeadlineExceeded
	case errors.As(err, &dnsErr):
		return "the host name could not be resolved", nil
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the connection was refused", nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return "the connection dropped", nil
	case errors.As(err, &certErr), errors.As(err, &hostErr), errors.As(err, &authErr), errors.As(err, &recErr):
		return "the TLS connection failed (certificate not trusted, or not a TLS server)", nil
	case errors.Is(err, errInsecureRedirect):
		return "the server redirected to plain http", nil
	case errors.Is(err, errTooManyRedirects):
		return "the server redirected too many times", nil
	}
	return "network error", nil
}

var (
	errInsecureRedirect = errors.New("redirect from https to http")
	errTooManyRedirects = errors.New("too many redirects")
)

// userAgent is how sbctl names itself to every server.
const userAgent = "sbctl"

// sbctlTransport sets what every request to a provider carries, whoever
// builds it: send, or x/oauth2 in the device flow (through HTTPClient), and
// compares every answer's Date with the local clock (see ClockSkew).
type sbctlTransport struct {
	base  http.RoundTripper
	meter *clockMeter
}

func (t sbctlTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	// A RoundTripper must not change the request it is given.
	r = r.Clone(r.Context())
	// The page a request came from is nobody's business, and on a
	// redirect it would be the previous URL with its query.
	r.Header.Del("Referer")
	r.Header.Set("User-Agent", userAgent)
	if r.Header.Get("Accept") == "" {
		r.Header.Set("Accept", "application/json")
	}
	resp, err := t.base.RoundTrip(r)
	if err == nil {
		t.meter.record(r.URL.Host, resp.Header)
		if rerr := refuseRedirect(r, resp); rerr != nil {
			resp.Body.Close()
			return nil, rerr
		}
		resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxBody), Closer: resp.Body}
	}
	return resp, err
}

// limitedBody bounds what any reader of an answer gets to maxBody.
type limitedBody struct {
	io.Reader
	io.Closer
}

// providerClient is a copy of the caller's client with sbctl's headers and
// redirect policy (redirectPolicy, refuseRedirect), whose answers update meter; the caller's client itself
// is not changed. A client that already is one (another Provider's
// HTTPClient) is rewrapped, so each Provider measures its own servers.
func providerClient(hc *http.Client, meter *clockMeter) *http.Client {
	c := withRedirectPolicy(hc)
	base := c.Transport
	if st, ok := base.(sbctlTransport); ok {
		base = st.base
	}
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = sbctlTransport{base: base, meter: meter}
	return c
}

// HTTPClient is the client every request of this Provider goes through:
// the caller's timeout and transport, sbctl's User-Agent and Accept
// headers, never a Referer, answers cut at 1 MiB, and no redirect
// followed: a redirect comes back as an error naming the host it pointed
// to (see redirectPolicy). Hand it to x/oauth2
// (context.WithValue(ctx, oauth2.HTTPClient, p.HTTPClient())) so the device
// flow talks to the server as sbctl does. Each call returns a new copy;
// changing it does not change the Provider.
func (p *Provider) HTTPClient() *http.Client {
	c := *p.hc
	return &c
}

// noSecretKey marks the context of a request that carries no secret at
// all (request.public). Requests without it, including every request
// x/oauth2 makes through HTTPClient, never follow a redirect.
type noSecretKey struct{}

func withNoSecret(ctx context.Context) context.Context {
	return context.WithValue(ctx, noSecretKey{}, true)
}

func carriesNoSecret(r *http.Request) bool {
	v, _ := r.Context().Value(noSecretKey{}).(bool)
	return v
}

// maxRedirects bounds the hops a request without secrets may follow.
const maxRedirects = 3

// redirectError is a redirect that was not followed. to is the host it
// pointed to, made fit to print; secret: the request carried one.
type redirectError struct {
	to     string
	secret bool
}

func (e *redirectError) Error() string {
	if e.secret {
		return "the server answered with a redirect to " + e.to + ", which sbctl does not follow for a request that carries a secret"
	}
	return "the server redirected to another host, " + e.to + ", which sbctl does not follow"
}

func newRedirectError(target *url.URL, secret bool) *redirectError {
	to := ""
	if target != nil {
		to = auth.CleanText(target.Host, 100)
	}
	if to == "" {
		to = "an unnamed host"
	}
	return &redirectError{to: to, secret: secret}
}

// isRedirect: the statuses net/http follows.
func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// refuseRedirect turns a redirect answer to a request that carries a
// secret into an error before net/http sees it: the request is never
// re-sent anywhere (Meta's GETs carry the app secret, the code and tokens
// in the query, and following would also hand the whole URL to the next
// host as Referer), and no error holds the Location the server chose,
// which net/http would otherwise put in its *url.Error.
func refuseRedirect(r *http.Request, resp *http.Response) error {
	if carriesNoSecret(r) || !isRedirect(resp.StatusCode) {
		return nil
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil // not a redirect net/http would follow
	}
	target, err := r.URL.Parse(loc)
	if err != nil {
		target = nil
	}
	return newRedirectError(target, true)
}

// redirectPolicy is the CheckRedirect of every Provider's client
// (SECURITY 27). A request that carries a secret never gets here
// (refuseRedirect), but is refused here too, should a transport of the
// caller's hand net/http the redirect. A request without secrets (the
// discovery document) may follow at most maxRedirects hops on the same
// host name, never from https to http. Another host is refused even
// though nothing secret would travel: the issuer's metadata must come
// from the issuer's own host (RFC 8414 §3), and a redirect elsewhere is
// how a hijacked or mistyped issuer would hand sbctl someone else's
// endpoints. Referer is never sent.
func redirectPolicy(req *http.Request, via []*http.Request) error {
	req.Header.Del("Referer")
	if len(via) == 0 {
		return nil
	}
	if !carriesNoSecret(req) {
		return newRedirectError(req.URL, true)
	}
	if !strings.EqualFold(req.URL.Hostname(), via[0].URL.Hostname()) {
		return newRedirectError(req.URL, false)
	}
	if len(via) > maxRedirects {
		return errTooManyRedirects
	}
	if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return errInsecureRedirect
	}
	return nil
}

// withRedirectPolicy copies the caller's client with redirectPolicy; the
// caller's client itself is not changed.
func withRedirectPolicy(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = redirectPolicy
	return &c
}
