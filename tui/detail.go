package tui

import (
	"strings"
	"time"

	"github.com/sbctl/sbctl/profiles"
)

// detailPane shows one profile in full: what `sbctl profiles show` prints,
// with the keys that fix it.
type detailPane struct {
	styles        styles
	view          profiles.View
	has           bool
	now           time.Time
	width, height int
}

func (d *detailPane) SetStyles(s styles) { d.styles = s }

func (d *detailPane) SetSize(w, h int) { d.width, d.height = w, h }

// SetProfile chooses the profile shown; ok false shows nothing.
func (d *detailPane) SetProfile(v profiles.View, ok bool, now time.Time) {
	d.view, d.has, d.now = v, ok, now
}

const detailLabelWidth = 17

// View draws exactly height lines of at most width cells; long values wrap
// under their value column, and what does not fit is cut at the bottom
// (the advice is put first among the optional lines so it survives).
func (d detailPane) View() string {
	if d.height <= 0 || d.width <= 0 {
		return ""
	}
	var lines []string
	if !d.has {
		lines = append(lines, d.styles.dim.Render("  No profile selected."))
	} else {
		lines = d.lines()
	}
	for len(lines) < d.height {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = truncate(l, d.width)
	}
	return strings.Join(lines[:d.height], "\n")
}

func (d detailPane) lines() []string {
	v, now, st := d.view, d.now, d.styles
	out := []string{st.bold.Render(clean(v.Name))}
	valueWidth := max(d.width-2-detailLabelWidth, 10)
	field := func(label, value string) {
		for i, w := range wrap(value, valueWidth, 0) {
			l := ""
			if i == 0 {
				l = label
			}
			out = append(out, "  "+st.label.Render(fit(l, detailLabelWidth))+w)
		}
	}

	status := st.status(v.Status).Render(string(v.Status))
	if v.Reason != nil {
		status += " (" + clean(*v.Reason) + ")"
	}
	field("Status", status)
	if v.Detail != "" {
		field("Why", clean(v.Detail))
	}
	if todo := whatToDo(v); todo != "" {
		field("What to do", todo)
	}
	field("Provider", clean(v.Provider))
	account := clean(deref(v.Account))
	if id := clean(deref(v.AccountID)); id != "" && id != account {
		if account == "" {
			account = "id " + id
		} else {
			account += " (id " + id + ")"
		}
	}
	field("Account", orDash(account))
	field("Groups", orDash(clean(strings.Join(v.Groups, ", "))))
	field("Connection ends", whenLong(v.ConnectionExpiresAt, now, "not known to expire"))
	field("Access expires", whenLong(v.ExpiresAt, now, "no expiry given"))
	switch {
	case v.Renewable:
		field("Refresh token", whenLong(v.RefreshExpiresAt, now, "yes, no expiry given"))
	case v.Status != profiles.StatusNotConnected:
		field("Refresh token", "none (a reauth is the only way to renew)")
	}
	field("Connected", whenLong(v.ConnectedAt, now, "-"))
	field("Last refreshed", whenLong(v.LastRefreshedAt, now, "never"))
	if len(v.Scopes) > 0 {
		field("Scopes", clean(strings.Join(v.Scopes, " ")))
	}
	return out
}

// whatToDo is the advice of `sbctl profiles show`, in the TUI's keys with
// the command alongside for scripts. (The CLI words its own copy; a shared
// helper in profiles would keep the two in step.)
func whatToDo(v profiles.View) string {
	name := clean(v.Name) // names are one printable word (config.ValidateName): no quoting needed
	switch v.Action() {
	case profiles.ActionConnect:
		return "Connect it: press r (sbctl reauth " + name + ")."
	case profiles.ActionReauth:
		msg := "Re-authenticate: press r (sbctl reauth " + name + ")."
		if hint := profiles.SignInHint(v.ReasonCode()); hint != "" {
			msg += " " + strings.ToUpper(hint[:1]) + hint[1:] + "."
		}
		return msg
	case profiles.ActionRenew:
		return "Renew it before it ends: press f (sbctl refresh " + name + "), or r to sign in again."
	case profiles.ActionReauthBeforeEnd:
		return "Re-authenticate before it ends: press r (sbctl reauth " + name + ")."
	case profiles.ActionRecheck:
		return "The last check could not be completed: press v to ask the network again."
	}
	return ""
}
