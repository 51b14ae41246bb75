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
)

// Mode is how the authorization response travels back to sbctl (SPEC §5).
type Mode string

const (
	// ModeLoopback redirects the browser to http://127.0.0.1:PORT/callback.
	ModeLoopback Mode = "loopback"
	// ModeManual uses the loopback redirect URI but also reads the redirected
	// address (or the bare code) from Stdin, for SSH and headless machines.
	ModeManual Mode = "manual"
	// ModeRelay redirects to an HTTPS page the user hosts (RelayPage), which
	// forwards the response to the loopback listener.
	ModeRelay Mode = "relay"
	// ModeDevice is RFC 8628; it does not go through Run but through Device.
	ModeDevice Mode = "device"
)

// DefaultTimeout is how long Run waits for the user when Params.Timeout is 0.
const DefaultTimeout = 5 * time.Minute

// DefaultCallbackPath is the loopback redirect path when Params.CallbackPath is empty.
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
	CallbackPath  string     // default "/callback"
	PKCE          PKCE       // zero value is S256
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
// in the token request; CodeVerifier is empty when PKCE is PKCENone.
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
// unsafe or impossible, before anything listens.
func (p *Params) normalize() error {
	if p.Mode == "" {
		p.Mode = ModeLoopback
	}
	switch p.Mode {
	case ModeLoopback, ModeManual, ModeRelay:
	case ModeDevice:
		return errors.New("flow.Run does not run the device flow; use flow.Device")
	default:
		return fmt.Errorf("unknown redirect mode %q (want loopback, manual, relay or device)", p.Mode)
	}
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
	if p.Port < 0 || p.Port > 65535 {
		return fmt.Errorf("redirect port %d is not a valid port (1-65535, or 0 for any)", p.Port)
	}
	if p.CallbackPath == "" {
		p.CallbackPath = DefaultCallbackPath
	}
	if !strings.HasPrefix(p.CallbackPath, "/") || strings.ContainsAny(p.CallbackPath, "?#") {
		return fmt.Errorf("callback path %q must start with / and have no query or fragment", p.CallbackPath)
	}
	switch p.PKCE {
	case PKCES256, PKCEHexS256, PKCENone:
	default:
		return fmt.Errorf("unknown PKCE setting %d", p.PKCE)
	}
	if p.RequireIss && p.Issuer == "" {
		return errors.New("the provider requires the iss parameter but no issuer is configured to compare it with")
	}
	if p.Mode == ModeRelay {
		if p.RelayURL == "" {
			return errors.New("relay mode needs the HTTPS address where you host the relay page (relay_url in the provider settings)")
		}
		if err := checkEndpoint("relay page", p.RelayURL); err != nil {
			return err
		}
		if p.CallbackPath != DefaultCallbackPath {
			return errors.New("relay mode forwards to " + DefaultCallbackPath + "; a custom callback path cannot be used with it")
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

// checkEndpoint accepts https URLs, and http only on a loopback host (the
// sandbox and test servers); anything else would send the user's credentials
// or the code in clear text.
func checkEndpoint(what, raw string) error {
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
