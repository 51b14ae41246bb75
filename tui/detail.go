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
		lines = append(lines, d.styles.muted.Render("  No profile selected."))
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
	v, st := d.view, d.styles
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
	todo := whatToDo(v)
	for i, f := range profiles.Details(v, d.now) {
		if todo != "" && !explainsStatus(i, f) {
			// The advice comes right after what it answers.
			field("What to do", todo)
			todo = ""
		}
		value := clean(f.Value)
		if f.Tone != profiles.ToneNeutral {
			value = st.tone(f.Tone).Render(value)
		}
		field(clean(f.Label), value)
	}
	if todo != "" {
		field("What to do", todo)
	}
	return out
}

// explainsStatus reports the detail fields that say what state the profile
// is in (the first, profiles.Details promises) and why, which the advice
// follows.
func explainsStatus(i int, f profiles.Field) bool { return i == 0 || f.Label == "Why" }

// whatToDo is the domain's advice (profiles.AdviceFor, the one the CLI
// follows) finished for this medium: the key that does it, with the command
// alongside for scripts.
func whatToDo(v profiles.View) string {
	a := profiles.AdviceFor(v)
	if a.Say == "" {
		return ""
	}
	msg := a.Say + ": " + howTo(a.Action, clean(v.Name)) + "."
	if a.Hint != "" {
		msg += " " + strings.ToUpper(a.Hint[:1]) + a.Hint[1:] + "."
	}
	return msg
}

// howTo is how this screen starts an action. Names are one printable word
// (config.ValidateName): the command needs no quoting.
func howTo(a profiles.Action, name string) string {
	switch a {
	case profiles.ActionConnect, profiles.ActionReauth, profiles.ActionReauthBeforeEnd:
		return "press r (sbctl reauth " + name + ")"
	case profiles.ActionRenew:
		return "press f (sbctl refresh " + name + "), or r to sign in again"
	case profiles.ActionRecheck:
		return "press v to check it again"
	}
	return ""
}
