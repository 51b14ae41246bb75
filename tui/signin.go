package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// signInBox shows the running operation above the footer: a spinner, what
// runs and how to cancel it, and, for a sign-in, the URL to open and the
// flow's latest messages. It is as tall as it needs to be (nothing when no
// operation runs); the root gives the rest of the screen to the table.
type signInBox struct {
	styles styles
	width  int
	// noBrowser: the flow only shows the URL (an SSH session), so the box
	// says to open it rather than "if none opened".
	noBrowser bool

	op      *operation // nil: nothing runs
	spinner string     // the spinner's current frame, drawn by the root's spinner
}

func (b *signInBox) SetStyles(s styles) { b.styles = s }

// SetSize gives the box its width; its height is what View returns.
func (b *signInBox) SetSize(w int) { b.width = w }

// SetOperation chooses what the box shows; op nil empties it.
func (b *signInBox) SetOperation(op *operation, spinner string) {
	b.op, b.spinner = op, spinner
}

// View draws the box, each line at most width cells.
func (b signInBox) View() string {
	if b.op == nil {
		return ""
	}
	w := b.width
	lines := []string{truncate(b.head(), w)}
	if b.op.kind == opReauth {
		lines = append(lines, b.flowLines()...)
	}
	for i, l := range lines {
		lines[i] = truncate(l, w) // the indent alone can overflow a tiny terminal
	}
	return strings.Join(lines, "\n")
}

// head is the first line: the spinner, what runs, and how to cancel it.
func (b signInBox) head() string {
	op, st := b.op, b.styles
	name := clean(op.name)
	var head string
	switch op.kind {
	case opReauth:
		head = "Signing in to " + name
	case opRefresh:
		head = "Refreshing " + name
	case opVerify:
		head = "Verifying " + name + " with its network"
	}
	hint := " (esc cancels)"
	if op.cancelling {
		hint = " — cancelling…"
	}
	return b.spinner + " " + st.opTitle.Render(head) + st.muted.Render(hint)
}

// flowLines are a sign-in's URL (wrapped, never cut: the user may have to
// copy it) and the flow's own messages, indented under the head.
func (b signInBox) flowLines() []string {
	op, st, w := b.op, b.styles, b.width
	var lines []string
	indent := func(text string) {
		for _, l := range wrap(text, w-2, 2) {
			lines = append(lines, "  "+st.flowNote.Render(l))
		}
	}
	switch {
	case op.url == "" && len(op.lines) == 0:
		lines = append(lines, st.flowNote.Render(truncate("  Starting the sign-in…", w)))
	case op.url != "":
		if b.noBrowser {
			indent("Open this URL in a browser on this machine:")
		} else {
			indent("Waiting for the browser. If none opened, open this URL:")
		}
		// A terminal that knows OSC 8 makes the URL one click, however it
		// wraps.
		for _, l := range strings.Split(ansi.Hardwrap(op.url, max(w-2, 8), false), "\n") {
			lines = append(lines, "  "+ansi.SetHyperlink(op.url)+st.url.Render(l)+ansi.ResetHyperlink())
		}
	}
	for _, fl := range op.lines {
		indent(fl)
	}
	return lines
}
