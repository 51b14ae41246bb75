package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// note is a message at the bottom of the screen: the outcome of the last
// operation, or news. Success and information fade after a few seconds;
// warnings and errors stay until esc (messages.go).
type note struct {
	kind noteKind
	text string
}

// lasting reports whether the note stays until dismissed.
func (n note) lasting() bool { return n.kind == noteWarn || n.kind == noteErr }

// outcome words an operation's result on one profile for the note line.
// Everything from elsewhere (names, messages a network sent) is cleaned
// before it is laid out, and advice meant for the command line is put in
// the TUI's terms (tuiText).
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

// errText is an error as the TUI shows it.
func errText(err error) string { return tuiText(clean(err.Error())) }

func reauthNote(msg opDoneMsg, name string) note {
	if msg.err != nil {
		return note{noteErr, fmt.Sprintf("Sign-in to %s failed: %s", name, errText(msg.err))}
	}
	acct := clean(msg.reauth.Account.Name)
	if acct == "" {
		acct = clean(msg.reauth.Account.ID)
	}
	if prev := clean(msg.reauth.PreviousAccount); prev != "" {
		// Signing in with the wrong browser account is easy to do and
		// easy to miss: the profile now posts as someone else.
		return note{noteWarn, fmt.Sprintf("Connected %s as %s — it was connected as %s before. If that is the wrong account, press r and sign in as %s.",
			name, profiles.Dash(acct), prev, prev)}
	}
	if acct != "" {
		return note{noteOK, fmt.Sprintf("Connected %s as %s.", name, acct)}
	}
	return note{noteOK, fmt.Sprintf("Connected %s.", name)}
}

// refreshNote words a refresh of one profile: its one result, or the error
// that kept it from having one.
func refreshNote(msg opDoneMsg, name string, now time.Time) note {
	if len(msg.renew) == 0 {
		if msg.err != nil {
			return note{noteErr, fmt.Sprintf("Refreshing %s failed: %s", name, errText(msg.err))}
		}
		return note{noteWarn, fmt.Sprintf("Nothing to refresh for %s.", name)}
	}
	return renewNote(msg.renew[0], name, now)
}

// neverConnected is how Refresh reports a profile it found no token for.
const neverConnected = "never connected"

func renewNote(r profiles.RenewResult, name string, now time.Time) note {
	text := tuiText(clean(r.Message))
	switch {
	case r.MayHaveLost:
		return note{noteErr, fmt.Sprintf("%s: sbctl stopped while its renewal was on its way, so the network may have replaced its refresh token. Press v to check it, and r if the grant is gone.", name)}
	case r.Interrupted:
		return note{noteWarn, fmt.Sprintf("Refresh of %s was not started (interrupted); nothing changed.", name)}
	}
	switch r.Outcome {
	case profiles.OutcomeRenewed:
		if r.ExpiresAt != nil {
			return note{noteOK, fmt.Sprintf("Renewed %s; the new access token expires %s.", name, profiles.RelativeTime(*r.ExpiresAt, now))}
		}
		return note{noteOK, fmt.Sprintf("Renewed %s.", name)}
	case profiles.OutcomeFresh:
		return note{noteInfo, fmt.Sprintf("%s's token is still good (perhaps renewed by another process).", name)}
	case profiles.OutcomeNeedsReauth:
		if r.Reason == "" && r.Message == neverConnected {
			return note{noteWarn, fmt.Sprintf("%s is not connected yet. Press r to connect it.", name)}
		}
		why := text
		if r.Reason != "" {
			why = string(r.Reason) + ": " + text
		}
		return note{noteErr, fmt.Sprintf("%s needs re-authentication (%s). Press r to sign in again.", name, why)}
	case profiles.OutcomeNotRenewable:
		return notRenewableNote(r, name, text, now)
	}
	return note{noteErr, fmt.Sprintf("Refreshing %s failed: %s", name, text)}
}

// notRenewableNote tells a token that cannot be renewed yet (a network's
// rule on its age: it says when to try again) from one that never can (no
// refresh token): that one works until it expires, then needs a sign-in.
func notRenewableNote(r profiles.RenewResult, name, text string, now time.Time) note {
	text = strings.TrimSuffix(text, ".")
	if strings.Contains(text, "try again") {
		return note{noteWarn, fmt.Sprintf("%s cannot be renewed yet: %s.", name, text)}
	}
	until := "until it expires"
	if r.ExpiresAt != nil {
		until = "until it expires " + profiles.RelativeTime(*r.ExpiresAt, now)
	}
	return note{noteWarn, fmt.Sprintf("%s cannot be renewed: %s. Its access token works %s; press r before then to sign in again.", name, text, until)}
}

// verifyNote words a verification of one profile, as refreshNote does.
func verifyNote(msg opDoneMsg, name string) note {
	if len(msg.verify) == 0 {
		if msg.err != nil {
			return note{noteErr, fmt.Sprintf("Verifying %s failed: %s", name, errText(msg.err))}
		}
		return note{noteWarn, fmt.Sprintf("Nothing to verify for %s.", name)}
	}
	return checkNote(msg.verify[0], name)
}

// checkNote words the network's answer: confirmed, could not ask, rejected
// (with its reason), or nothing to ask about.
func checkNote(r profiles.VerifyResult, name string) note {
	text := tuiText(clean(r.Message))
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

// describe names a running operation for the "queued" note.
func (op *operation) describe() string {
	switch {
	case op.name == "":
		return "the " + strings.ToLower(kindTitle(op.kind, len(op.names)))
	case op.kind == opReauth:
		return "the sign-in to " + clean(op.name)
	case op.kind == opRefresh:
		return "the refresh of " + clean(op.name)
	}
	return "the verification of " + clean(op.name)
}

// kindTitle names an action on n profiles: "Refresh of 12 profiles".
func kindTitle(kind opKind, n int) string {
	switch kind {
	case opReauth:
		return fmt.Sprintf("Sign-ins to %s", plural(n, "profile"))
	case opRefresh:
		return fmt.Sprintf("Refresh of %s", plural(n, "profile"))
	}
	return fmt.Sprintf("Verification of %s", plural(n, "profile"))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// renewWorked: the profile's connection is fine after the refresh.
func renewWorked(r profiles.RenewResult) bool {
	return !r.Interrupted && !r.MayHaveLost && (r.Outcome == profiles.OutcomeRenewed || r.Outcome == profiles.OutcomeFresh)
}

// counts is a batch's tally, in the order it is worded.
type counts []struct {
	n    int
	what string
}

func (c counts) text() string {
	var parts []string
	for _, x := range c {
		if x.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", x.n, x.what))
		}
	}
	return strings.Join(parts, ", ")
}

// refreshSummary words a batch refresh (as `sbctl refresh` sums one up).
func refreshSummary(results []profiles.RenewResult, total int, cancelled bool) note {
	var renewed, fresh, reauth, notRenewable, failed, notStarted, lost int
	for _, r := range results {
		switch {
		case r.MayHaveLost:
			lost++
		case r.Interrupted:
			notStarted++
		case r.Outcome == profiles.OutcomeRenewed:
			renewed++
		case r.Outcome == profiles.OutcomeFresh:
			fresh++
		case r.Outcome == profiles.OutcomeNeedsReauth:
			reauth++
		case r.Outcome == profiles.OutcomeNotRenewable:
			notRenewable++
		default:
			failed++
		}
	}
	c := counts{{renewed, "renewed"}, {fresh, "still good"}, {reauth, "need re-authentication"},
		{notRenewable, "cannot be renewed"}, {failed, "failed"}, {lost, "may have lost their grant (press v)"}, {notStarted, "not started"}}
	kind := noteOK
	switch {
	case lost > 0:
		kind = noteErr
	case reauth+notRenewable+failed+notStarted > 0 || cancelled:
		kind = noteWarn
	}
	return summaryNote(opRefresh, total, cancelled, kind, c.text(), reauth+notRenewable+failed+notStarted+lost)
}

// verifySummary words a batch verification.
func verifySummary(results []profiles.VerifyResult, total int, cancelled bool) note {
	var ok, rejected, failed, none int
	for _, r := range results {
		switch {
		case r.Valid:
			ok++
		case r.Failed:
			failed++
		case r.Reason != "":
			rejected++
		default:
			none++
		}
	}
	c := counts{{ok, "confirmed"}, {rejected, "rejected"}, {failed, "could not be checked"}, {none, "not connected"}}
	kind := noteOK
	if rejected+failed+none > 0 || cancelled {
		kind = noteWarn
	}
	return summaryNote(opVerify, total, cancelled, kind, c.text(), rejected+failed+none)
}

// reauthSummary words the end of a series of sign-ins from its log entry.
func reauthSummary(items []logItem, total int, cancelled bool) note {
	var ok, changed, failed int
	for _, it := range items {
		switch it.kind {
		case noteOK:
			ok++
		case noteWarn:
			if it.worked {
				changed++
			} else {
				failed++
			}
		default:
			failed++
		}
	}
	c := counts{{ok + changed, "connected"}, {changed, "to another account than before"}, {failed, "failed or cancelled"}, {total - len(items), "not started"}}
	kind := noteOK
	if changed+failed > 0 || cancelled {
		kind = noteWarn
	}
	return summaryNote(opReauth, total, cancelled, kind, c.text(), failed+total-len(items))
}

// summaryNote is a batch's note: what it did, and that the profiles it
// did not fix (unfixed) stay marked for the next key.
func summaryNote(kind opKind, total int, cancelled bool, nk noteKind, tally string, unfixed int) note {
	title := kindTitle(kind, total)
	if cancelled {
		title += " cancelled"
	}
	if tally == "" {
		tally = "nothing was done"
	}
	text := title + ": " + tally + "."
	if unfixed > 0 {
		text += " The profiles it did not fix stay marked."
	}
	return note{nk, text + pressForResults}
}

// pressForResults ends a batch's note; the log itself does without it.
const pressForResults = " Press " + logKeyName + " for each result."
