package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/sbctl/sbctl/profiles"
)

// signInBox shows the running operation above the footer: a spinner, what
// runs, how far it is and how to cancel it, and for a sign-in what the
// person has to do: the URL to open (with a countdown), the paste field of
// manual mode, or the device flow's code. It is as tall as it needs to be,
// up to the height it is given; when that is too little it drops its least
// important lines first, and the URL, which the person may have to copy,
// goes only when even it alone cannot fit (then the box says how to copy
// it instead). The root gives the rest of the screen to the table.
type signInBox struct {
	styles styles
	width  int
	height int // the most lines it may take; 0: as many as it needs
	// noBrowser: the flow only shows the URL (an SSH session), so the box
	// says to open it rather than "if none opened".
	noBrowser bool

	op      *operation // nil: nothing runs
	spinner string     // the spinner's current frame, drawn by the root's spinner
}

func (b *signInBox) SetStyles(s styles) { b.styles = s }

// SetSize gives the box its width; its height is what View returns.
func (b *signInBox) SetSize(w int) { b.width = w }

// SetHeight bounds the box's height (0: no bound).
func (b *signInBox) SetHeight(h int) { b.height = max(h, 0) }

// SetOperation chooses what the box shows; op nil empties it.
func (b *signInBox) SetOperation(op *operation, spinner string) {
	b.op, b.spinner = op, spinner
}

// A section is some lines of the box with a priority: when the box is
// too short, the sections with the highest number go first.
type section struct {
	prio  int
	lines []string
	url   bool // the URL: replaced by a hint rather than cut in half
}

const (
	prioHead = iota
	prioAddress
	prioProblem
	prioIntro
	prioHint
	prioFlow
	prioQueue
)

// View draws the box, each line at most width cells, at most height lines.
func (b signInBox) View() string {
	if b.op == nil {
		return ""
	}
	secs := []section{{prio: prioHead, lines: []string{b.head()}}}
	if b.op.kind == opReauth {
		secs = append(secs, b.signInSections()...)
	}
	if len(b.op.after) > 0 {
		secs = append(secs, section{prio: prioQueue, lines: []string{b.styles.muted.Render("  Then: " + joinAnd(b.op.after))}})
	}
	lines := fitSections(secs, b.height, b.tooSmall())
	for i, l := range lines {
		lines[i] = truncate(l, b.width) // the indent alone can overflow a tiny terminal
	}
	return strings.Join(lines, "\n")
}

// fitSections drops the least important sections until the rest fit in h
// lines; the URL section gives way to a one-line hint only when nothing
// else is left to drop.
func fitSections(secs []section, h int, hint []string) []string {
	count := func() int {
		n := 0
		for _, s := range secs {
			n += len(s.lines)
		}
		return n
	}
	for h > 0 && count() > h {
		worst := 0
		for i, s := range secs {
			if s.prio > secs[worst].prio {
				worst = i
			}
		}
		if secs[worst].prio <= prioAddress {
			break
		}
		secs = slices.Delete(secs, worst, worst+1)
	}
	if h > 0 && count() > h {
		for i, s := range secs {
			if s.url {
				secs[i].lines = hint
			}
		}
	}
	var out []string
	for _, s := range secs {
		out = append(out, s.lines...)
	}
	if h > 0 && len(out) > h {
		out = out[:h]
	}
	return out
}

// tooSmall stands in for the URL on a screen too small to show it whole.
func (b signInBox) tooSmall() []string {
	k := "c"
	if b.op.signIn.pasteOn {
		k = "ctrl+y"
	}
	var lines []string
	for _, l := range wrap("Screen too small to show the address: press "+k+" to copy it.", b.width-2, 2) {
		lines = append(lines, "  "+b.styles.noteWarn.Render(l))
	}
	return lines
}

// head is the first line: the spinner, what runs, the time left or the
// progress, and how to cancel it. The cancel hint is always there; on a
// narrow screen the wording gets shorter, then the countdown goes, then
// the name is cut.
func (b signInBox) head() string {
	op, st := b.op, b.styles
	lead := b.spinner + " "
	room := b.width - ansi.StringWidth(lead)
	forms := b.headForms()
	pick := forms[len(forms)-1]
	for _, f := range forms {
		if ansi.StringWidth(f.title+f.extra+f.hint) <= room {
			pick = f
			break
		}
	}
	if op.cancelling {
		pick.hint = " — cancelling…"
	}
	title := truncate(pick.title, max(room-ansi.StringWidth(pick.extra+pick.hint), 1))
	return lead + st.opTitle.Render(title) + st.muted.Render(pick.extra+pick.hint)
}

// headForm is one wording of the head, from the longest.
type headForm struct{ title, extra, hint string }

func (b signInBox) headForms() []headForm {
	op := b.op
	name := clean(op.name)
	const hint, short = " (esc cancels)", " · esc cancels"
	switch op.kind {
	case opReauth:
		var left, tiny string
		if s := op.signIn; !s.deadline.IsZero() {
			left, tiny = " · "+fmtLeft(s.left)+" left", " · "+fmtLeft(s.left)
		}
		var bare string
		if tiny != "" {
			bare = strings.TrimPrefix(tiny, " ·")
		}
		return []headForm{
			{"Signing in to " + name, left, hint},
			{"Signing in to " + name, tiny, hint},
			{"Sign-in to " + name, tiny, short},
			{"Sign-in to " + name, bare, short},
			{"Sign-in to " + name, "", short},
			{name, bare, short},
			{name, "", short},
		}
	}
	title, brief := "Refreshing "+name, name
	if op.kind == opVerify {
		title = "Verifying " + name + " with its network"
	}
	if op.name == "" {
		title = "Refreshing " + progress(op.done, op.total) + "…"
		if op.kind == opVerify {
			title = "Verifying " + progress(op.done, op.total) + " with their networks…"
		}
		brief = fmt.Sprintf("%d/%d…", op.done, op.total)
	}
	extra := ""
	if op.failed > 0 {
		extra = fmt.Sprintf(" · %d failed", op.failed)
	}
	return []headForm{{title, extra, hint}, {title, extra, short}, {brief, extra, short}}
}

// progress is "7 of 12 profiles", or "12 profiles" before the first
// answer.
func progress(done, total int) string {
	if done == 0 {
		return plural(total, "profile")
	}
	return fmt.Sprintf("%d of %s", done, plural(total, "profile"))
}

// fmtLeft is a countdown: 4:59, or 1:02:03.
func fmtLeft(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// signInSections are what the person has to do, in the box's own words.
func (b signInBox) signInSections() []section {
	s, st := &b.op.signIn, b.styles
	var secs []section
	text := func(prio int, style func(...string) string, t string, maxLines int) {
		var lines []string
		for _, l := range wrap(t, b.width-2, maxLines) {
			lines = append(lines, "  "+style(l))
		}
		secs = append(secs, section{prio: prio, lines: lines})
	}
	note := st.flowNote.Render
	switch {
	case s.device():
		secs = append(secs, b.deviceSections()...)
	case s.url == "":
		text(prioIntro, note, "Starting the sign-in…", 1)
	default:
		text(prioIntro, note, b.intro(), 2)
		secs = append(secs, section{prio: prioAddress, lines: b.address(s.url), url: true})
	}
	if s.manual() && s.url != "" {
		secs = append(secs, b.pasteSections()...)
	}
	for _, l := range s.lines {
		text(prioFlow, note, l, 2)
	}
	return secs
}

// intro says what to do with the URL, as it is known now: whether a
// browser was opened, could not be, or is not opened at all.
func (b signInBox) intro() string {
	s := &b.op.signIn
	switch {
	case s.manual():
		return "Open this address in a browser, on any machine, and sign in (ctrl+y copies it):"
	case s.browserFailed:
		return "No browser could be opened: open this URL yourself (c copies it):"
	case b.noBrowser || s.mode == profiles.SignInNoBrowser || s.printedURL:
		return "Open this URL in a browser on this machine (c copies it):"
	}
	return "Waiting for the browser. If none opened, open this URL (c copies it):"
}

// address is a URL as whole lines of the box's width, with no indent, so
// that a line-by-line copy takes nothing but the address. (Bubble Tea's
// renderer owns every cell and cuts lines at the screen's edge, so the
// terminal cannot soft-wrap a long line for us.) Every piece is the same
// OSC 8 link, one click where the terminal supports it, and c copies it
// whole.
func (b signInBox) address(u string) []string {
	w := max(b.width, 8)
	id := fmt.Sprintf("id=sbctl-signin-%d", b.op.id)
	var lines []string
	for _, l := range strings.Split(ansi.Hardwrap(u, w, false), "\n") {
		lines = append(lines, ansi.SetHyperlink(u, id)+b.styles.url.Render(l)+ansi.ResetHyperlink())
	}
	return lines
}

// pasteSections are manual mode's: where the browser goes, what to paste,
// the field, why the last paste was refused, and the field's keys.
func (b signInBox) pasteSections() []section {
	s, st := &b.op.signIn, b.styles
	var secs []section
	add := func(prio int, t string, style func(...string) string, maxLines int) {
		var lines []string
		for _, l := range wrap(t, b.width-2, maxLines) {
			lines = append(lines, "  "+style(l))
		}
		secs = append(secs, section{prio: prio, lines: lines})
	}
	if s.redirectURI != "" {
		add(prioFlow, "After you approve, the browser goes to "+s.redirectURI+"; on another machine that page does not load, which is fine.", st.flowNote.Render, 2)
	}
	add(prioIntro, "Paste the address your browser ended on, or just the code, then press enter:", st.flowNote.Render, 2)
	f := s.paste
	f.SetWidth(max(b.width-5, 1)) // a copy: the placeholder needs the width to show
	field := "  " + f.View()
	if s.sending {
		field = "  " + st.muted.Render("Checking what you pasted…")
	}
	// Without the field the sign-in cannot end, so it goes no sooner than
	// the URL, which the copy key can stand in for.
	secs = append(secs, section{prio: prioAddress, lines: []string{field}})
	if s.problem != "" {
		add(prioProblem, s.problem, st.noteWarn.Render, 2)
	}
	// The field's keys are on the help line (footer.go shortKeys).
	return secs
}

// deviceSections are the device flow's: the address and the code, which
// the person types on another device, so both stand out.
func (b signInBox) deviceSections() []section {
	s, st := &b.op.signIn, b.styles
	if s.deviceURI == "" {
		return []section{{prio: prioIntro, lines: []string{"  " + st.flowNote.Render("Asking for a device code…")}}}
	}
	secs := []section{
		{prio: prioIntro, lines: []string{"  " + st.flowNote.Render(truncate("On any device, open this address and enter the code:", b.width-2))}},
		{prio: prioAddress, lines: b.address(s.deviceURI), url: true},
	}
	if s.userCode != "" {
		secs = append(secs, section{prio: prioAddress, lines: []string{"  Code: " + st.bold.Render(s.userCode)}})
	}
	if s.deviceComplete != "" {
		var lines []string
		for _, l := range wrap("Or open "+s.deviceComplete+", which fills in the code (c copies it).", b.width-2, 2) {
			lines = append(lines, "  "+st.flowNote.Render(l))
		}
		secs = append(secs, section{prio: prioHint, lines: lines})
	}
	return secs
}
