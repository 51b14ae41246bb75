package profiles

import (
	"strings"
	"time"
)

// The presentation rules both front ends follow live here, once: what a
// profile's detail view says, what to advise, how a row is emphasised and
// how times read. The CLI and the TUI only lay them out and phrase the
// one thing that differs by medium: how to start an action (a command in
// the CLI, a key in the TUI).

// Field is one line of a profile's detail view.
type Field struct {
	Label, Value string
	// Tone colours the value where it is a status (the first field).
	Tone Tone
}

// Details is what `profiles show` and the TUI's detail pane list about a
// profile, in order. Text from the network is cleaned.
func Details(v View, now time.Time) []Field {
	status := string(v.Status)
	if v.Reason != nil {
		status += " (" + *v.Reason + ")"
	}
	out := []Field{{Label: "Status", Value: status, Tone: v.Status.Tone()}}
	add := func(label, value string) { out = append(out, Field{Label: label, Value: value}) }
	if v.Detail != "" {
		add("Why", CleanText(v.Detail, 0))
	}
	add("Provider", v.Provider)
	add("Account", AccountLabel(v))
	add("Groups", Dash(strings.Join(v.Groups, ", ")))
	add("Connection ends", WhenLong(v.ConnectionExpiresAt, now, "not known to expire"))
	add("Access token", WhenLong(v.ExpiresAt, now, "no expiry given"))
	switch {
	case v.Renewable:
		add("Refresh token", WhenLong(v.RefreshExpiresAt, now, "yes, no expiry given"))
	case storeWasUnreadable(v):
		add("Refresh token", "not known (the token store could not be read)")
	case v.Status != StatusNotConnected:
		add("Refresh token", "none (a reauth is the only way to renew)")
	}
	add("Connected", WhenLong(v.ConnectedAt, now, "-"))
	add("Last refreshed", WhenLong(v.LastRefreshedAt, now, "never"))
	if len(v.Scopes) > 0 {
		add("Scopes", strings.Join(v.Scopes, " "))
	}
	return out
}

// AccountLabel is the account as a detail view shows it: the name, with
// the network's id when it differs; "id X" when only the id is known;
// "-" when nothing is.
func AccountLabel(v View) string {
	name, id := "", ""
	if v.Account != nil {
		name = CleanText(*v.Account, 0)
	}
	if v.AccountID != nil {
		id = CleanText(*v.AccountID, 0)
	}
	switch {
	case name == "" && id == "":
		return "-"
	case name == "":
		return "id " + id
	case id == "" || id == name:
		return name
	}
	return name + " (id " + id + ")"
}

// Advice is what to do about a profile now: a sentence stem, the action
// that does it, and what to do differently when signing in again. The
// front end finishes the sentence with its way to start the action.
type Advice struct {
	Action Action
	// Say is the stem, such as "Re-authenticate" or "Renew it before it
	// ends"; "" when nothing needs doing.
	Say string
	// Hint is a sentence for the sign-in ("sign in with the account's new
	// password"), or "".
	Hint string
}

// AdviceFor is the advice for a profile (SPEC §4's "what to do").
func AdviceFor(v View) Advice {
	a := Advice{Action: v.Action()}
	switch a.Action {
	case ActionConnect:
		a.Say = "Connect it"
	case ActionReauth:
		a.Say, a.Hint = "Re-authenticate", SignInHint(v.ReasonCode())
	case ActionRenew:
		a.Say = "Renew it before it ends"
	case ActionReauthBeforeEnd:
		a.Say = "Re-authenticate before it ends"
	case ActionRecheck:
		a.Say = "The last check could not be completed"
		if storeWasUnreadable(v) {
			// Asking the network would not help: the token is behind the
			// store. Once it opens, the next check reads it.
			a.Say = "Unlock the keychain, then check again"
		}
	}
	return a
}

// storeWasUnreadable: the profile is unknown because its state was lost
// while the token store could not be read (a locked keychain), not because
// a network did not answer.
func storeWasUnreadable(v View) bool {
	return v.Status == StatusUnknown && strings.HasSuffix(v.Detail, storeUnavailableWhy)
}

// Column is a column of the profile table, in the order both front ends
// show them.
type Column int

const (
	ColName Column = iota
	ColProvider
	ColAccount
	ColGroups
	ColStatus
	ColExpires
	ColReason
)

// CellTone is how one cell of a profile's row reads (SPEC §4): the status
// in its own colour; on a dead connection the name and the reason in red
// too, so the eye finds the row and why; a never-connected row dim.
func (v *View) CellTone(c Column) Tone {
	t := v.Status.Tone()
	switch {
	case c == ColStatus:
		return t
	case t == ToneBad && (c == ColName || c == ColReason):
		return ToneBad
	case t == ToneMuted:
		return ToneMuted
	}
	return ToneNeutral
}

// When is a time in a table cell: relative ("in 3d") when relative, else
// RFC 3339; "-" when unknown.
func When(t *time.Time, now time.Time, relative bool) string {
	if t == nil {
		return "-"
	}
	if relative {
		return RelativeTime(*t, now)
	}
	return t.UTC().Format(time.RFC3339)
}

// WhenLong is a time in a detail view: absolute and relative; none when
// unknown.
func WhenLong(t *time.Time, now time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.UTC().Format(time.RFC3339) + " (" + RelativeTime(*t, now) + ")"
}

// Dash stands in for an empty value.
func Dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
