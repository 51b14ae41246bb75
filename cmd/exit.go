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

// exitError ends a command with a code. Err, when set, is what Run prints
// to stderr; a nil Err is silent: the command has already told the user
// what happened (withCode(code, nil)).
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

// phrase is an error as the CLI says it: the domain says what happened,
// and the CLI adds the command that helps, in its own words.
func phrase(err error) string {
	msg := err.Error()
	var reauth interface{ Profile() string }
	var nc *profiles.NotConnectedError
	var ir *profiles.ImportRejectedError
	var refused *profiles.RemoveRefusedError
	var unfinished *profiles.RemoveUnfinishedError
	switch {
	case errors.As(err, &nc):
		msg += fmt.Sprintf("; connect it with `sbctl reauth %s`", nc.Name)
	case errors.As(err, &ir):
		msg += fmt.Sprintf("; connect it with `sbctl reauth %s`", ir.Name)
	case errors.As(err, &reauth):
		msg += fmt.Sprintf("; run `sbctl reauth %s`", reauth.Profile())
	case errors.As(err, &refused):
		switch {
		case refused.KeepRemote:
			msg += "\nnothing was removed; retry, use --keep-remote to remove only the local copy, or --force to remove it anyway"
		case refused.Forceable:
			msg += " (nothing was removed; use --force to remove the profile anyway)"
		}
	case errors.As(err, &unfinished) && unfinished.FinishKeepRemote:
		msg += fmt.Sprintf("; run `sbctl profiles remove %s --keep-remote` to finish", unfinished.Name)
	}
	return msg
}
