package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sbctl/sbctl/profiles"
)

type noteKind int

const (
	noteInfo noteKind = iota
	noteOK
	noteWarn
	noteErr
)

// note is the outcome of the last operation, shown in the footer until the
// next one.
type note struct {
	kind noteKind
	text string
}

// outcome words an operation's result for the note line. Everything from
// elsewhere (names, messages a network sent) is cleaned before it is laid
// out.
func outcome(msg opDoneMsg, cancelled bool, now time.Time) note {
	name := clean(msg.name)
	if msg.err != nil && (cancelled || errors.Is(msg.err, context.Canceled)) {
		return cancelledNote(msg.kind, name)
	}
	switch msg.kind {
	case opReauth:
		return reauthNote(msg, name)
	case opRefresh:
		return refreshNote(msg, name, now)
	case opVerify:
		return verifyNote(msg, name)
	}
	return note{}
}

// cancelledNote: the user pressed esc (or quit) while it ran. A cancelled
// sign-in stores nothing, which is worth saying.
func cancelledNote(kind opKind, name string) note {
	switch kind {
	case opReauth:
		return note{noteWarn, fmt.Sprintf("Sign-in to %s cancelled; nothing changed.", name)}
	case opRefresh:
		return note{noteWarn, fmt.Sprintf("Refresh of %s cancelled.", name)}
	}
	return note{noteWarn, fmt.Sprintf("Verification of %s cancelled.", name)}
}

func reauthNote(msg opDoneMsg, name string) note {
	if msg.err != nil {
		return note{noteErr, fmt.Sprintf("Sign-in to %s failed: %s", name, clean(msg.err.Error()))}
	}
	if acct := clean(msg.reauth.Account.Name); acct != "" {
		return note{noteOK, fmt.Sprintf("Connected %s as %s.", name, acct)}
	}
	return note{noteOK, fmt.Sprintf("Connected %s.", name)}
}

// refreshNote words a refresh of one profile: its one result, or the error
// that kept it from having one.
func refreshNote(msg opDoneMsg, name string, now time.Time) note {
	if len(msg.renew) == 0 {
		if msg.err != nil {
			return note{noteErr, fmt.Sprintf("Refreshing %s failed: %s", name, clean(msg.err.Error()))}
		}
		return note{noteWarn, fmt.Sprintf("Nothing to refresh for %s.", name)}
	}
	return renewNote(msg.renew[0], name, now)
}

func renewNote(r profiles.RenewResult, name string, now time.Time) note {
	text := clean(r.Message)
	switch r.Outcome {
	case profiles.OutcomeRenewed:
		if r.ExpiresAt != nil {
			return note{noteOK, fmt.Sprintf("Renewed %s; the new access token expires %s.", name, profiles.RelativeTime(*r.ExpiresAt, now))}
		}
		return note{noteOK, fmt.Sprintf("Renewed %s.", name)}
	case profiles.OutcomeFresh:
		return note{noteInfo, fmt.Sprintf("%s's token is still good (perhaps renewed by another process).", name)}
	case profiles.OutcomeNeedsReauth:
		why := text
		if r.Reason != "" {
			why = string(r.Reason) + ": " + text
		}
		return note{noteErr, fmt.Sprintf("%s needs re-authentication (%s). Press r to sign in again.", name, why)}
	case profiles.OutcomeNotRenewable:
		return note{noteWarn, fmt.Sprintf("%s cannot be renewed now: %s", name, text)}
	}
	return note{noteErr, fmt.Sprintf("Refreshing %s failed: %s", name, text)}
}

// verifyNote words a verification of one profile, as refreshNote does.
func verifyNote(msg opDoneMsg, name string) note {
	if len(msg.verify) == 0 {
		if msg.err != nil {
			return note{noteErr, fmt.Sprintf("Verifying %s failed: %s", name, clean(msg.err.Error()))}
		}
		return note{noteWarn, fmt.Sprintf("Nothing to verify for %s.", name)}
	}
	return checkNote(msg.verify[0], name)
}

// checkNote words the network's answer: confirmed, could not ask, rejected
// (with its reason), or nothing to ask about.
func checkNote(r profiles.VerifyResult, name string) note {
	text := clean(r.Message)
	switch {
	case r.Valid:
		how := ""
		if r.Check != "" {
			how = " (" + clean(r.Check) + ")"
		}
		return note{noteOK, fmt.Sprintf("The network confirms %s's grant%s.", name, how)}
	case r.Failed:
		return note{noteWarn, fmt.Sprintf("Could not verify %s: %s", name, text)}
	case r.Reason != "":
		return note{noteErr, fmt.Sprintf("The network rejected %s (%s: %s). Press r to sign in again.", name, r.Reason, text)}
	}
	return note{noteWarn, fmt.Sprintf("%s: %s. Press r to connect it.", name, profiles.Dash(text))}
}

// describe names a running operation for the "still busy" note.
func (op *operation) describe() string {
	switch op.kind {
	case opReauth:
		return "the sign-in to " + op.name
	case opRefresh:
		return "refreshing " + op.name
	}
	return "verifying " + op.name
}
