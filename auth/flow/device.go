package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sbctl/sbctl/auth"
	"golang.org/x/oauth2"
)

// DevicePrompt is what the user needs to approve a device sign-in. The user
// code is meant to be shown; the device code never leaves this package.
//
// Every field is safe to show on a terminal as it is (SECURITY 30): the
// addresses are absolute http(s) URLs of printable ASCII (auth.CheckURL) —
// a server that sends another verification_uri is refused, another
// verification_uri_complete is dropped — and the user code is one that
// auth.CleanText leaves unchanged. A user code is refused rather than
// cleaned: the person must type exactly what the server expects, and a
// cleaned code would be another code.
type DevicePrompt struct {
	VerificationURI         string
	VerificationURIComplete string // may be empty
	UserCode                string
	Expiry                  time.Time // zero if the server gave no lifetime
}

// DeviceParams configures DeviceFlow.
type DeviceParams struct {
	Stderr       io.Writer               // instructions; nil = os.Stderr
	OnPrompt     func(DevicePrompt)      // optional, e.g. for the TUI; called before polling starts
	AuthOptions  []oauth2.AuthCodeOption // extra device authorization request parameters
	TokenOptions []oauth2.AuthCodeOption // extra token request parameters
	Timeout      time.Duration           // 0 = until the device code expires (or ctx ends)
}

// Device runs the RFC 8628 device authorization grant with cfg (which needs
// Endpoint.DeviceAuthURL and TokenURL): it asks for a user code, prints where
// to enter it on stderr, and polls the token endpoint, honouring
// authorization_pending, slow_down and the server's interval. opts go to the
// device authorization request.
func Device(ctx context.Context, cfg *oauth2.Config, stderr io.Writer, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	return DeviceFlow(ctx, cfg, DeviceParams{Stderr: stderr, AuthOptions: opts})
}

// DeviceFlow is Device with every option.
func DeviceFlow(ctx context.Context, cfg *oauth2.Config, p DeviceParams) (*oauth2.Token, error) {
	if cfg == nil || cfg.Endpoint.DeviceAuthURL == "" {
		return nil, errors.New("this provider has no device authorization endpoint; use another redirect mode")
	}
	if err := checkEndpoint("device authorization endpoint", cfg.Endpoint.DeviceAuthURL); err != nil {
		return nil, err
	}
	if err := checkEndpoint("token endpoint", cfg.Endpoint.TokenURL); err != nil {
		return nil, err
	}
	if cfg.Endpoint.AuthStyle == oauth2.AuthStyleAutoDetect && cfg.ClientSecret == "" {
		// A public client has no secret to put in a header, and x/oauth2's
		// auto-detection would send every poll twice (header, then body) on
		// each authorization_pending, which strict servers answer with
		// slow_down. A new Config, not a copy: Config holds a cache.
		c := &oauth2.Config{ClientID: cfg.ClientID, Endpoint: cfg.Endpoint, RedirectURL: cfg.RedirectURL, Scopes: cfg.Scopes}
		c.Endpoint.AuthStyle = oauth2.AuthStyleInParams
		cfg = c
	}
	out := p.Stderr
	if out == nil {
		out = os.Stderr
	}
	parent := ctx
	if p.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Timeout)
		defer cancel()
	}
	start := time.Now()

	da, err := cfg.DeviceAuth(ctx, p.AuthOptions...)
	if err != nil {
		return nil, deviceError("asking for a device code", err)
	}
	prompt, err := devicePrompt(da)
	if err != nil {
		return nil, err
	}

	if p.OnPrompt != nil {
		p.OnPrompt(prompt)
	}
	fmt.Fprintf(out, "To sign in, open this URL on any device:\n%s\nand enter the code: %s\n", prompt.VerificationURI, prompt.UserCode)
	if prompt.VerificationURIComplete != "" {
		fmt.Fprintf(out, "(or open %s, which fills in the code)\n", prompt.VerificationURIComplete)
	}
	if !da.Expiry.IsZero() {
		fmt.Fprintf(out, "Waiting for approval (the code expires in %s; Ctrl-C cancels)...\n", fmtDuration(time.Until(da.Expiry)))
	} else {
		fmt.Fprintln(out, "Waiting for approval (Ctrl-C cancels)...")
	}

	tok, err := cfg.DeviceAccessToken(ctx, da, p.TokenOptions...)
	if err == nil {
		if err := checkDeviceToken(tok); err != nil {
			return nil, err
		}
		return tok, nil
	}
	switch {
	case parent.Err() != nil:
		return nil, fmt.Errorf("device sign-in cancelled: %w", context.Cause(parent))
	case ctx.Err() != nil && p.Timeout > 0 && (da.Expiry.IsZero() || time.Now().Before(da.Expiry)):
		return nil, &TimeoutError{After: time.Since(start).Round(time.Second)}
	case errors.Is(err, context.DeadlineExceeded):
		// x/oauth2 bounds polling by the code's own expiry.
		return nil, fmt.Errorf("the device code expired before the sign-in was approved; run the command again: %w", ErrTimeout)
	}
	return nil, deviceError("waiting for approval", err)
}

// maxUserCode bounds a user code: RFC 8628 §6.1 codes are a handful of
// characters a person types; a long one is not meant for a person.
const maxUserCode = 64

// devicePrompt checks what the device authorization response asks sbctl
// to show (SECURITY 30). Nothing the server sent is quoted in the errors.
func devicePrompt(da *oauth2.DeviceAuthResponse) (DevicePrompt, error) {
	// The verification address is printed and may be opened by the user; a
	// server must not be able to smuggle another scheme, terminal escapes,
	// bidi tricks or a look-alike host.
	if err := auth.CheckURL(da.VerificationURI); err != nil {
		return DevicePrompt{}, fmt.Errorf("the device authorization response has no usable verification_uri (%v): sbctl shows only plain http(s) addresses of printable ASCII, so the sign-in cannot go on; report it to the provider", err)
	}
	complete := da.VerificationURIComplete
	if complete != "" && auth.CheckURL(complete) != nil {
		complete = "" // a convenience: the plain URI and the code still work
	}
	switch {
	case da.UserCode == "":
		return DevicePrompt{}, errors.New("the device authorization response has no user_code")
	case auth.CleanText(da.UserCode, maxUserCode) != da.UserCode:
		return DevicePrompt{}, fmt.Errorf("the device authorization response has a user_code sbctl cannot show as it is (control, invisible or bidi characters, extra spaces, or over %d characters); report it to the provider", maxUserCode)
	case da.DeviceCode == "":
		return DevicePrompt{}, errors.New("the device authorization response has no device_code")
	}
	return DevicePrompt{VerificationURI: da.VerificationURI, VerificationURIComplete: complete, UserCode: da.UserCode, Expiry: da.Expiry}, nil
}

// checkDeviceToken refuses a granted token that is not one word of
// printable ASCII (SECURITY 29): `sbctl token` prints it, for
// `Authorization: Bearer $(sbctl token p)`, where an escape sequence would
// drive the terminal and a newline would add a header. The store checks
// every token again; refusing here names the cause. The token is never
// quoted.
func checkDeviceToken(tok *oauth2.Token) error {
	for _, f := range []struct{ name, value string }{{"access_token", tok.AccessToken}, {"refresh_token", tok.RefreshToken}} {
		if auth.CheckTokenText(f.name, f.value) != nil {
			return fmt.Errorf("the device sign-in was approved, but the token endpoint sent a token (%s) with spaces, control or non-ASCII characters, "+
				"which no real token has (tokens are one word of printable ASCII), so it was not kept; run the command again, and report it to the provider if it persists", f.name)
		}
	}
	return nil
}

// deviceError keeps x/oauth2's RetrieveError out of messages: its Error()
// includes the raw response body, which may hold tokens or codes.
func deviceError(step string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		// Only the error code: servers echo request bodies (client secret,
		// device code) in error_description, so it is never shown.
		ae := newAuthError(re.ErrorCode, "")
		if re.Response != nil {
			ae.HTTPStatus = re.Response.StatusCode
		}
		if ae.Code == "expired_token" {
			return fmt.Errorf("the device code expired before the sign-in was approved; run the command again: %w", ErrTimeout)
		}
		return ae
	}
	return fmt.Errorf("device sign-in failed while %s: %w", step, err)
}
