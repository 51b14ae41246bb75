package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/sbctl/sbctl/profiles"
)

// Exit codes (contract: SPEC §4).
const (
	ExitOK          = 0
	ExitError       = 1
	ExitUsage       = 2
	ExitNeedsAction = 3
	ExitExpiring    = 4 // check/verify: only profiles expiring within the window
	ExitNeedsReauth = 4 // token/refresh: only a re-authentication can help
	ExitInterrupted = 130
)

// ExitError ends a command with a code. Msg, when set, is printed to
// stderr; a silent ExitError has already told the user what happened.
type exitError struct {
	Code int
	Err  error
}

func (e *exitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *exitError) Unwrap() error { return e.Err }

// withCode attaches an exit code; err nil means "print nothing".
func withCode(code int, err error) error { return &exitError{Code: code, Err: err} }

// usageErr is a bad command line (exit 2).
func usageErr(format string, args ...any) error {
	return withCode(ExitUsage, fmt.Errorf(format, args...))
}

// exitCode maps an error to the process's exit code, in one place.
func exitCode(err error) int {
	var ee *exitError
	var ue *profiles.UsageError
	var nf *profiles.NotFoundError
	var nr *profiles.NeedsReauthError
	var nc *profiles.NotConnectedError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.Code
	case errors.As(err, &nr), errors.As(err, &nc):
		return ExitNeedsReauth
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.As(err, &ue), errors.As(err, &nf):
		return ExitUsage
	}
	return ExitError
}
