package flow

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/sbctl/sbctl/auth"
)

// Mode is how the authorization response travels back to sbctl (SPEC §5):
// auth's redirect modes (auth.RedirectMode), under the names the flow's
// callers know them by. It is an alias, not a copy: there is one list of
// modes, and a provider's mode is passed here as it is.
type Mode = auth.RedirectMode

const (
	// ModeLoopback redirects the browser to http://127.0.0.1:PORT plus
	// Params.CallbackPath.
	ModeLoopback = auth.RedirectLoopback
	// ModeManual uses the loopback redirect URI but also reads the redirected
	// address (or the bare code) from Stdin, for SSH and headless machines.
	ModeManual = auth.RedirectManual
	// ModeRelay redirects to an HTTPS page the user hosts (RelayPage), which
	// forwards the response to the loopback listener.
	ModeRelay = auth.RedirectRelay
	// ModeDevice is RFC 8628; it does not go through Run but through Device.
	ModeDevice = auth.RedirectDevice
)

// DefaultTimeout is how long Run waits for the user when Params.Timeout is 0.
const DefaultTimeout = 5 * time.Minute

// DefaultCallbackPath is the loopback redirect path when Params.CallbackPath
// is empty. Providers pass their own, /callback/<provider name>: one
// redirect URI per provider is the mix-up defence of RFC 9700 §4.4.2
// (SECURITY 28).
const DefaultCallbackPath = "/callback"

// Params describes one authorization request. Only AuthURL and ClientID are
// required; every other field has a safe default.
type Params struct {
	AuthURL       string     // authorization endpoint (https, or http on a loopback host for local servers)
	ClientID      string     // sent as ClientIDParam
	Scopes        []string   // joined with ScopeSep; no scope parameter when empty
	ScopeSep      string     // " " by default; some networks use ","
	ClientIDParam string     // "client_id" by default; TikTok uses "client_key"
	ExtraParams   url.Values // e.g. access_type=offline, prompt=consent; may not override the security parameters
	Mode          Mode       // "" means loopback; device is refused (use Device)
	Port          int        // fixed loopback port registered with the network; 0 = OS-chosen
	CallbackPath  string     // default "/callback"; the listener answers on exactly this spelling
	PKCE          auth.PKCE  // the network's setting; "" (and optional) is S256
	Issuer        string     // expected iss (RFC 9207); compared exactly when the response carries one
	RequireIss    bool       // the server advertises authorization_response_iss_parameter_supported
	RelayURL      string     // relay mode: the HTTPS page the user hosts; it becomes the redirect_uri
	Browser       Opener     // nil = DefaultOpener()
	NoBrowser     bool       // print the URL instead of opening it
	Stdin         io.Reader  // manual mode: pasted redirected URL or bare code; nil = os.Stdin
	Stderr        io.Writer  // human messages; nil = os.Stderr
	Timeout       time.Duration
	OnURL         func(authURL string) // called once the listener is up, before the browser is opened; must not block
}

// Result is what the code exchange needs. RedirectURI must be sent unchanged
// in the token request; CodeVerifier is empty when PKCE is
// auth.PKCEUnsupported.
type Result struct {
	Code         string
	CodeVerifier string
	RedirectURI  string
	// Iss is the RFC 9207 issuer the response carried ("" if none). When
	// Params.Issuer was set it has already been checked; otherwise the caller
	// may check it.
	Iss string
}

// String keeps the code and verifier out of any accidental %v of a Result
// (a value receiver, so it covers both Result and *Result).
func (r Result) String() string {
	return fmt.Sprintf("flow.Result{Code:<redacted>, CodeVerifier:<redacted>, RedirectURI:%q, Iss:%q}", r.RedirectURI, r.Iss)
}

// GoString does the same for %#v.
func (r Result) GoString() string { return r.String() }

// reservedParams are set by Run itself; letting ExtraParams replace them would
// silently disable the state, PKCE or redirect checks.
var reservedParams = []string{"response_type", "redirect_uri", "state", "code_challenge", "code_challenge_method", "scope", "client_id"}

// normalize fills defaults and rejects parameters that would make the flow
// unsafe or impossible, before anything listens. The checks run in this
// order, so the first problem is the one reported.
func (p *Params) normalize() error {
	for _, check := range []func() error{p.checkMode, p.checkClient, p.checkListener, p.checkResponseChecks} {
		if err := check(); err != nil {
			return err
		}
	}
	if p.Mode == ModeRelay {
		if err := p.checkRelay(); err != nil {
			return err
		}
	}
	if p.Browser == nil {
		p.Browser = DefaultOpener()
	}
	if p.Stdin == nil {
		p.Stdin = os.Stdin
	}
	if p.Stderr == nil {
		p.Stderr = os.Stderr
	}
	if p.Timeout <= 0 {
		p.Timeout = DefaultTimeout
	}
	return nil
}

// checkMode accepts the modes Run serves; "" is loopback.
func (p *Params) checkMode() error {
	if p.Mode == "" {
		p.Mode = ModeLoopback
	}
	switch p.Mode {
	case ModeLoopback, ModeManual, ModeRelay:
		return nil
	case ModeDevice:
		return errors.New("flow.Run does not run the device flow; use flow.Device")
	}
	return fmt.Errorf("unknown redirect mode %q (want loopback, manual, relay or device)", p.Mode)
}

// checkClient checks the authorization request's own parameters.
func (p *Params) checkClient() error {
	if err := checkEndpoint("authorization endpoint", p.AuthURL); err != nil {
		return err
	}
	if p.ClientID == "" {
		return errors.New("no client_id configured for this provider")
	}
	if p.ScopeSep == "" {
		p.ScopeSep = " "
	}
	if p.ClientIDParam == "" {
		p.ClientIDParam = "client_id"
	}
	for k := range p.ExtraParams {
		if k == p.ClientIDParam || containsString(reservedParams, k) {
			return fmt.Errorf("extra authorization parameter %q is set by sbctl itself and cannot be overridden", k)
		}
	}
	return nil
}

// checkListener checks where the listener will answer.
func (p *Params) checkListener() error {
	if p.Port < 0 || p.Port > 65535 {
		return fmt.Errorf("redirect port %d is not a valid port (1-65535, or 0 for any)", p.Port)
	}
	if p.CallbackPath == "" {
		p.CallbackPath = DefaultCallbackPath
	}
	return checkCallbackPath(p.CallbackPath)
}

// checkResponseChecks makes sure the checks on the response can be made:
// a known PKCE setting, and an issuer to compare a required iss with.
func (p *Params) checkResponseChecks() error {
	if !p.PKCE.Valid() {
		return fmt.Errorf("unknown PKCE setting %q", p.PKCE)
	}
	if p.RequireIss && p.Issuer == "" {
		return errors.New("the provider requires the iss parameter but no issuer is configured to compare it with")
	}
	return nil
}

// checkRelay checks what relay mode needs: the hosted page's address, and a
// callback path the page can carry in state (relayPathName).
func (p *Params) checkRelay() error {
	if p.RelayURL == "" {
		return errors.New("relay mode needs the HTTPS address where you host the relay page (relay_url in the provider settings)")
	}
	if err := checkEndpoint("relay page", p.RelayURL); err != nil {
		return err
	}
	if _, ok := relayPathName(p.CallbackPath); !ok {
		return fmt.Errorf("relay mode forwards only to %s or %s/<name> (letters, digits, - and _; at most %d), not to the callback path %q: "+
			"set redirect_path to such a path (the relay page's address is what the network sees)", DefaultCallbackPath, DefaultCallbackPath, maxRelayName, p.CallbackPath)
	}
	return nil
}

// checkCallbackPath accepts a path the redirect URI can carry as it is:
// absolute, printable ASCII, spelt the way a URL spells it (escapes as %XX,
// nothing a browser would escape, no query or fragment) and without dot
// segments (a browser resolves them), so the browser sends back exactly
// these bytes and the listener can compare them exactly.
func checkCallbackPath(path string) error {
	u, err := url.Parse("http://127.0.0.1" + path)
	bad := err != nil || !strings.HasPrefix(path, "/") || auth.CheckURL("http://127.0.0.1"+path) != nil || u.EscapedPath() != path
	for _, seg := range strings.Split(path, "/") {
		seg = strings.ReplaceAll(strings.ToLower(seg), "%2e", ".")
		bad = bad || seg == "." || seg == ".."
	}
	if bad {
		return fmt.Errorf("callback path %q is not a URL path such as /callback/acme (it starts with /, and has no query, #fragment, spaces, dot segments or characters that need %%-escaping)", auth.CleanText(path, 100))
	}
	return nil
}

// checkEndpoint accepts https URLs, and http only on a loopback host (the
// sandbox and test servers); anything else would send the user's credentials
// or the code in clear text. An address of anything but printable ASCII is
// refused as well: it is shown to the person and opened in the browser
// (SECURITY 30), and the authorization endpoint may come from a server's
// discovery document.
func checkEndpoint(what, raw string) error {
	if err := auth.CheckURL(raw); err != nil {
		return fmt.Errorf("the %s %q cannot be used: %w", what, auth.CleanText(raw, 200), err)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("the %s %q is not an absolute URL without fragment or user info", what, raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); (ip != nil && ip.IsLoopback()) || strings.EqualFold(h, "localhost") {
			return nil
		}
		return fmt.Errorf("the %s %q must use https", what, raw)
	}
	return fmt.Errorf("the %s %q must be an https URL", what, raw)
}

// buildAuthURL keeps any query the endpoint already has (some networks put a
// version or tenant there) and adds the request parameters.
func buildAuthURL(p *Params, redirectURI, state string, pk pkce) (string, error) {
	u, err := url.Parse(p.AuthURL)
	if err != nil {
		return "", fmt.Errorf("the authorization endpoint is not a URL: %w", err)
	}
	q := u.Query()
	for k, vs := range p.ExtraParams {
		q[k] = append([]string(nil), vs...)
	}
	q.Set("response_type", "code")
	q.Set(p.ClientIDParam, p.ClientID)
	q.Set("redirect_uri", redirectURI)
	if len(p.Scopes) > 0 {
		q.Set("scope", strings.Join(p.Scopes, p.ScopeSep))
	}
	q.Set("state", state)
	if pk.challenge != "" {
		q.Set("code_challenge", pk.challenge)
		q.Set("code_challenge_method", pk.method)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
