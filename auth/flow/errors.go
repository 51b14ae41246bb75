package flow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sbctl/sbctl/auth"
)

// ErrDenied matches (errors.Is) the error returned when the user declined
// access in the browser (error=access_denied, RFC 6749 §4.1.2.1).
var ErrDenied = errors.New("access denied")

// ErrTimeout matches (errors.Is) the error returned when nobody completed the
// sign-in in time.
var ErrTimeout = errors.New("sign-in timed out")

// AuthError is an error response from the authorization server that came
// with the right state (so it is genuine). Code and Description are what the
// server sent, passed through auth.CleanText (safe to print); the provider
// layer may map Code (invalid_scope, unauthorized_client, ...) to its own
// advice.
type AuthError struct {
	Code        string
	Description string
	// HTTPStatus is set for device-flow errors (from the token endpoint), 0
	// for browser redirects.
	HTTPStatus int
}

// newAuthError keeps only what auth.CleanText lets through (SECURITY 30):
// the server chooses both texts, and the person reads them on a terminal.
func newAuthError(code, desc string) *AuthError {
	return &AuthError{Code: auth.CleanText(code, 64), Description: auth.CleanText(desc, 300)}
}

func (e *AuthError) Error() string {
	var b strings.Builder
	if e.Code == "access_denied" {
		b.WriteString("you denied access in the browser (the network answered access_denied); run the command again to retry")
	} else {
		code := e.Code
		if code == "" {
			code = "an error response without an error code"
		}
		b.WriteString("the authorization server refused the sign-in: ")
		b.WriteString(code)
		if e.HTTPStatus != 0 {
			fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
		}
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrDenied) work without string matching.
func (e *AuthError) Is(target error) bool {
	return target == ErrDenied && e.Code == "access_denied"
}

// TimeoutError says how long the flow waited and how to get more time.
type TimeoutError struct{ After time.Duration }

func (e *TimeoutError) Error() string {
	longer := 2 * e.After
	if longer < time.Minute {
		longer = 10 * time.Minute
	}
	return fmt.Sprintf("timed out after %s waiting for the sign-in to finish in the browser; "+
		"run the command again (add --timeout %s to allow more time)", fmtDuration(e.After), fmtDuration(longer))
}

// Is lets callers test for ErrTimeout or context.DeadlineExceeded alike.
func (e *TimeoutError) Is(target error) bool {
	return target == ErrTimeout || target == context.DeadlineExceeded
}

// fmtDuration prints "5m" rather than "5m0s" in messages people read.
func fmtDuration(d time.Duration) string {
	if d >= time.Second {
		d = d.Round(time.Second)
	} else {
		d = d.Round(time.Millisecond)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
