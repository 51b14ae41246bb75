package provider

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/sbctl/sbctl/auth"
)

// ErrorKind says what a failure means for the connection.
type ErrorKind int

const (
	// KindOther is anything else (a malformed answer, an unexpected status).
	// It is the zero value so that a forgotten Kind never marks a profile
	// needs_reauth.
	KindOther ErrorKind = iota
	// KindDefinite: the grant is dead and needs re-authentication; Reason
	// says why.
	KindDefinite
	// KindTransient: network failure, timeout, 5xx or 429 (see RetryAfter).
	// Never a reason for needs_reauth.
	KindTransient
	// KindConfig: the client id or secret, a scope, an endpoint or a
	// permission is wrong; the user must fix the config or the app.
	KindConfig
)

func (k ErrorKind) String() string {
	switch k {
	case KindDefinite:
		return "definite"
	case KindTransient:
		return "transient"
	case KindConfig:
		return "config"
	}
	return "other"
}

var (
	// ErrNoRevocation is returned by Revoke for networks without a revocation
	// call (Instagram, Threads, Pinterest, servers without revocation_endpoint).
	ErrNoRevocation = errors.New("the network offers no way to revoke a token from here: remove the app in the account's settings")
	// ErrNoCheck is returned by Verify when the provider has neither a
	// check endpoint nor a userinfo endpoint.
	ErrNoCheck = errors.New("the provider has no introspection or userinfo endpoint to check a token with")
	// ErrNoAccount is returned by Account when neither an ID token nor a
	// userinfo endpoint can tell who the account is.
	ErrNoAccount = errors.New("the provider has no ID token or userinfo endpoint to read the account from")
	// ErrCannotRenew is wrapped by Renew's error when CanRenew says no.
	ErrCannotRenew = errors.New("the token cannot be renewed without re-authentication")
	// ErrMissingSecret is wrapped by the KindConfig error of an operation
	// that needs the client secret when none is configured.
	ErrMissingSecret = errors.New("no client secret is configured")
	// ErrCheckByRenewal is wrapped by Verify's error when the network's
	// answers cannot tell a live grant from a dead one and only a renewal
	// with the refresh token can:
	//
	//   - the access token has lapsed (or is missing) and the server gives
	//     this client no other way to ask about the grant: a public client
	//     where introspection needs client authentication, or no
	//     introspection endpoint at all;
	//   - introspection calls the refresh token inactive but a self-contained
	//     (JWT) access token active. A server that revoked the grant answers
	//     so (Dex: the JWT stays valid until it expires), and so does one
	//     that introspects access tokens only (zitadel/oidc; RFC 7662 allows
	//     it).
	//
	// The error is KindOther: nothing is known to be wrong yet. The caller
	// should renew (under the profile lock, storing a rotated refresh token
	// first) and take the renewal's outcome as the verdict: a definite
	// rejection means the grant is dead, a new token proves it alive.
	ErrCheckByRenewal = errors.New("only a renewal with the refresh token can tell whether the grant is alive")
)

// Error is a failure talking to a provider. Its message says what happened
// and what to do, and never contains a token, code, verifier, client secret,
// request URL or raw response body: only the OAuth error code and a
// sanitized, length-limited description from a JSON error body.
type Error struct {
	Kind   ErrorKind
	Reason auth.Reason // why the grant is dead; set only for KindDefinite
	Status int         // HTTP status; 0 when no answer arrived
	// Code is the error code from the body: an RFC 6749 code such as
	// "invalid_grant", Meta's "190/460" (code/subcode), LinkedIn's
	// serviceErrorCode, TikTok's error.code.
	Code        string
	Description string        // sanitized, at most maxDescription characters
	RetryAfter  time.Duration // from Retry-After on 429/503; 0 = not said
	// Ambiguous: the request reached the server (or may have) but no answer
	// came back. On a rotating provider the server may already have replaced
	// the refresh token: do not resend it; re-read the store or verify.
	Ambiguous bool

	Provider string // provider name, for the message
	Op       string // "exchange", "refresh", "revoke", "verify", "account", "discovery", "device"
	Host     string // endpoint host (never the path or query)

	detail string // our own sentence about what happened
	advice string // our own sentence about what to do
	cause  error  // only sentinels and context errors, never network text
	// clientErr: the network refused the client itself (its id, secret or
	// authentication method), so the advice depends on what kind of client
	// it is; see Provider.explainClientError.
	clientErr bool
}

// The operations, as they appear in Error.Op.
const (
	opExchange  = "exchange"
	opRefresh   = "refresh"
	opRevoke    = "revoke"
	opVerify    = "verify"
	opAccount   = "account"
	opDiscovery = "discovery"
	opDevice    = "device"
)

func (e *Error) Error() string {
	var b strings.Builder
	if e.Provider != "" {
		b.WriteString(e.Provider)
		b.WriteString(": ")
	}
	if ph := opPhrase(e.Op); ph != "" {
		b.WriteString(ph)
		b.WriteString(" failed: ")
	}
	b.WriteString(e.what())
	if e.Code != "" || e.Description != "" {
		b.WriteString(" (the server said ")
		switch {
		case e.Code != "" && e.Description != "":
			b.WriteString(e.Code + ": " + quote(e.Description))
		case e.Code != "":
			b.WriteString(e.Code)
		default:
			b.WriteString(quote(e.Description))
		}
		b.WriteString(")")
	}
	if adv := e.todo(); adv != "" {
		b.WriteString("; ")
		b.WriteString(adv)
	}
	return b.String()
}

// Unwrap exposes only sentinels (ErrCannotRenew, ErrMissingSecret) and
// context errors, so errors.Is works without leaking network error text.
func (e *Error) Unwrap() error { return e.cause }

// Definite reports whether err is an *Error of KindDefinite, and its reason.
func Definite(err error) (auth.Reason, bool) {
	var e *Error
	if errors.As(err, &e) && e.Kind == KindDefinite {
		return e.Reason, true
	}
	return "", false
}

func opPhrase(op string) string {
	switch op {
	case opExchange:
		return "exchanging the authorization code"
	case opRefresh:
		return "renewing the token"
	case opRevoke:
		return "revoking the token"
	case opVerify:
		return "checking the token"
	case opAccount:
		return "reading the account"
	case opDiscovery:
		return "reading the OpenID configuration"
	case opDevice:
		return "receiving the device sign-in's token"
	case opClock:
		return "comparing the clock"
	}
	return ""
}

func (e *Error) what() string {
	if e.detail != "" {
		return e.detail
	}
	on := ""
	if e.Host != "" {
		on = " from " + e.Host
	}
	switch e.Kind {
	case KindDefinite:
		if e.Op == opExchange {
			return "the network rejected the authorization code"
		}
		r := e.Reason
		if r == "" {
			r = auth.ReasonInvalid
		}
		return "the grant is no longer valid: " + r.Explain() + " [" + string(r) + "]"
	case KindTransient:
		if e.Status != 0 {
			return "HTTP " + itoa(e.Status) + on
		}
		return "network error"
	case KindConfig:
		return "the network refused the request (HTTP " + itoa(e.Status) + ")"
	}
	if e.Status != 0 {
		return "unexpected HTTP " + itoa(e.Status) + on
	}
	return "unexpected failure"
}

func (e *Error) todo() string {
	if e.advice != "" {
		return e.advice
	}
	switch e.Kind {
	case KindDefinite:
		if e.Op == opExchange {
			return "start the sign-in again"
		}
		return "re-authenticate with `sbctl reauth`"
	case KindTransient:
		switch {
		case e.Ambiguous && e.Op == opExchange:
			return "the code may already have been used, so it was not sent again: start the sign-in again"
		case e.Ambiguous:
			return "the server may already have replaced the refresh token, so the request was not sent again: " +
				"check with `sbctl profiles verify` and re-authenticate if the grant is gone"
		case e.RetryAfter > 0:
			return "try again in " + e.RetryAfter.Round(time.Second).String()
		}
		return "try again later"
	case KindConfig:
		return "check the provider's settings in the config"
	}
	return ""
}

// configError is a KindConfig error with our own words.
func (p *Provider) configError(op, host, detail, advice string) *Error {
	return &Error{Kind: KindConfig, Provider: p.name, Op: op, Host: host, detail: detail, advice: advice}
}

// requireSecret fails early, before any request, when the network only has
// confidential clients and no secret is configured.
func (p *Provider) requireSecret(op string) error {
	if p.set.ClientSecret != "" {
		return nil
	}
	e := p.configError(op, "", "no client secret is configured for "+p.name+" ("+p.preset.Title+" needs one)",
		"store it with `sbctl providers set-secret "+p.name+"` (or its environment variable)")
	e.cause = ErrMissingSecret
	return e
}

func itoa(n int) string { return strconv.Itoa(n) }

func quote(s string) string { return strconv.Quote(s) }

// truncate cuts s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos] + "…"
		}
		i++
	}
	return s
}
