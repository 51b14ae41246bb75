package tui

import (
	"io"
	"strings"
	"unicode"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// The paste field of a manual sign-in (SPEC §5 `redirect: manual`, the
// SSH path): the person opens the URL in a browser anywhere, approves, and
// pastes the address the browser ended on (or just the code). The TUI
// writes that line into the flow's stdin, a pipe (commands.go reauthWork);
// the flow checks it exactly as it checks a line typed into `sbctl reauth`.
// While the field is shown, letters are text, not keys: only esc (cancel
// the sign-in), ctrl+c (quit) and ctrl+y (copy the URL) act.

// maxPasteLen is the flow's own bound on a pasted line (auth/flow
// maxPaste); a longer one is refused here without being sent.
const maxPasteLen = 16 << 10

// pasteKeys are the keys of the paste field, for the box's hint and the
// footer (which shows them instead of the table's keys).
var pasteKeys = struct {
	Send, Copy, Cancel, Quit key.Binding
}{
	Send:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "send")),
	Copy:   key.NewBinding(key.WithKeys("ctrl+y"), key.WithHelp("ctrl+y", "copy address")),
	Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel sign-in")),
	Quit:   key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
}

// copyKeys copy the sign-in address outside the paste field.
var copyKey = key.NewBinding(key.WithKeys("c", "y", "ctrl+y"), key.WithHelp("c", "copy address"))

func newPasteField(s styles) textinput.Model {
	f := textinput.New()
	f.Prompt = "> "
	f.Placeholder = "paste here"
	f.CharLimit = maxPasteLen
	st := s.input
	// A steady cursor: a blinking one wakes the program twice a second
	// for as long as the sign-in waits.
	st.Cursor.Blink = false
	f.SetStyles(st)
	return f
}

// pasting reports whether the paste field has the keyboard.
func (m *Model) pasting() bool {
	return m.op != nil && m.op.kind == opReauth && !m.op.cancelling && m.op.signIn.pasteOn
}

// pasteKey is a key while the paste field has the keyboard; false only for
// esc, which the root turns into "cancel the sign-in".
func (m *Model) pasteKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	s := &m.op.signIn
	switch {
	case key.Matches(msg, pasteKeys.Cancel):
		return nil, false
	case key.Matches(msg, pasteKeys.Send):
		return m.sendPaste(s.paste.Value()), true
	case key.Matches(msg, pasteKeys.Copy):
		return m.copyAddress(), true
	}
	if s.sending {
		return nil, true // the last paste is being checked
	}
	s.paste.SetWidth(m.pasteWidth())
	var cmd tea.Cmd
	s.paste, cmd = s.paste.Update(msg)
	return cmd, true
}

// pasteWidth is the field's width in the box: the screen's, less the
// indent and its prompt.
func (m *Model) pasteWidth() int {
	w, _ := m.size()
	return max(w-5, 1)
}

// pasteMsg is a bracketed paste into the field. A whole redirected address
// is sent at once (it is what the field asks for, and Enter after it is
// then harmless); anything else, such as a bare code, waits for enter.
func (m *Model) pasteMsg(msg tea.PasteMsg) tea.Cmd {
	s := &m.op.signIn
	if s.sending {
		return nil
	}
	text := pastedText(msg.Content)
	if looksLikeResponse(text) && s.paste.Value() == "" {
		return m.sendPaste(text)
	}
	s.paste.SetWidth(m.pasteWidth())
	var cmd tea.Cmd
	s.paste, cmd = s.paste.Update(tea.PasteMsg{Content: text})
	return cmd
}

// pasteSentMsg: the line reached the flow (or could not: it had ended).
type pasteSentMsg struct {
	id  int
	err error
}

// sendPaste writes one line into the flow's stdin, in a Cmd: the pipe
// blocks until the flow reads it. The field is emptied at once, so the
// code it held is not left on the screen.
func (m *Model) sendPaste(text string) tea.Cmd {
	s := &m.op.signIn
	text = pastedText(text)
	switch {
	case text == "":
		s.problem = "Nothing to send yet: paste the address your browser ended on, or just the code."
		return nil
	case len(text) > maxPasteLen:
		s.problem = "That is too long to be a redirected address or a code. Paste it again."
		s.paste.Reset()
		return nil
	case s.stdin == nil:
		return nil
	}
	s.paste.Reset()
	s.sending, s.problem = true, ""
	w, id := s.stdin, m.op.id
	return func() tea.Msg {
		_, err := io.WriteString(w, text+"\n")
		return pasteSentMsg{id: id, err: err}
	}
}

// copyAddress puts the sign-in address on the clipboard with OSC 52. No
// answer comes back, so the note says what it depends on.
func (m *Model) copyAddress() tea.Cmd {
	u := m.op.signIn.copyTarget()
	if u == "" {
		return m.setNote(noteInfo, "There is no sign-in address to copy yet.")
	}
	return tea.Batch(tea.SetClipboard(u), m.setNote(noteInfo, "Copied the sign-in address to the clipboard (OSC 52; your terminal must allow it)."))
}

// pastedText is a paste as one line: neither an address nor a code holds
// white space, so line breaks a terminal or a mail client put in are
// dropped with any other, as are control characters.
func pastedText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// looksLikeResponse: an address with the authorization response in its
// query, as the browser ends on it.
func looksLikeResponse(s string) bool {
	_, q, ok := strings.Cut(s, "?")
	return ok && (strings.Contains(q, "code=") || strings.Contains(q, "error="))
}
