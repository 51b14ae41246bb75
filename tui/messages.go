package tui

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// Messages have a lifecycle: a success or a piece of information fades
// after noteFade; a warning or an error stays until esc dismisses it (or
// another note replaces it). Every note also goes into the session's
// message log, and each operation's per-profile results into the results
// log, both shown by the log view (logKeyName), where a long error chain
// the note line had to cut can be read in full.

// noteFade is how long a success or information note stays.
const noteFade = 5 * time.Second

// logKeyName is the key that opens the log (keys.go LogView), as notes
// name it.
const logKeyName = "L"

// Bounds on the session's history, so a TUI left open for days with a
// reload error every minute stays small.
const (
	maxLogMessages = 500
	maxLogBatches  = 50
)

// noteFadeMsg ends a fading note, if it is still the one shown.
type noteFadeMsg struct {
	seq  int
	text string
}

// setNote shows a note, logs it, and returns the Cmd that fades it (nil
// for a warning or an error, which stay until esc). Callers return the
// Cmd; one that drops it leaves the note up until the next.
func (m *Model) setNote(k noteKind, text string) tea.Cmd {
	return m.showNote(note{k, clean(text)})
}

func (m *Model) showNote(n note) tea.Cmd {
	n.text = tuiText(n.text)
	m.note = n
	m.work.noteSeq++
	if n.text == "" {
		return nil
	}
	m.work.log.addMessage(m.mgr.Now(), n)
	if n.lasting() {
		return nil
	}
	d := m.work.fadeAfter
	if d <= 0 {
		d = noteFade
	}
	seq, text := m.work.noteSeq, n.text
	return tea.Tick(d, func(time.Time) tea.Msg { return noteFadeMsg{seq: seq, text: text} })
}

// fade ends the note if it is still the one the tick was for: a note set
// since (by any path) is left alone.
func (m *Model) fade(msg noteFadeMsg) {
	if msg.seq == m.work.noteSeq && m.note.text == msg.text && !m.note.lasting() {
		m.note = note{}
	}
}

// noteEscAction is what esc does to the note: "dismiss message" while a
// warning or an error is shown, else "".
func (m *Model) noteEscAction() string {
	if m.note.text != "" && m.note.lasting() {
		return "dismiss message"
	}
	return ""
}

// dismissNote clears a warning or an error; false when there was none.
func (m *Model) dismissNote() bool {
	if m.noteEscAction() == "" {
		return false
	}
	m.note = note{}
	return true
}

// Advice in the domain's messages is written for the command line; in
// the TUI the same action is a key.
var cliAdvice = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile("[:;] (run sbctl reauth|re-authenticate with `sbctl reauth`)$"), ""},
	{regexp.MustCompile("(run sbctl reauth|re-authenticate with `sbctl reauth`)"), "press r to sign in again"},
	{regexp.MustCompile("run `sbctl reauth[^`]*`"), "press r"},
	{regexp.MustCompile("`sbctl reauth[^`]*`"), "a sign-in (r)"},
	{regexp.MustCompile("check with `sbctl profiles verify[^`]*`"), "check with v"},
}

// tuiText puts a message in the TUI's terms: CLI advice becomes the key
// that does it, and a prefix a chain of wrapped errors repeats
// (`provider "x": provider "x": …`) is said once.
func tuiText(s string) string {
	for _, a := range cliAdvice {
		s = a.re.ReplaceAllString(s, a.with)
	}
	return dedupePrefixes(s)
}

func dedupePrefixes(s string) string {
	parts := strings.Split(s, ": ")
	out := parts[:1]
	for _, p := range parts[1:] {
		if p == out[len(out)-1] {
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, ": ")
}

// logItem is one profile's result in a batch, worded as its note.
type logItem struct {
	kind   noteKind
	text   string
	worked bool // the action did what it was for (marks of these are cleared)
}

// logBatch is one action on some profiles: a refresh or verify of many in
// one call, or a series of sign-ins.
type logBatch struct {
	id      int
	title   string
	at      time.Time
	items   []logItem
	summary note
}

type logMessage struct {
	at    time.Time
	n     note
	count int // the same message in a row
}

// resultsLog is the log view: the batches' results (newest first), then
// the session's messages. It is drawn in the body's place, scrolled with
// the move keys. Its lines are wrapped once per change or width, not per
// frame: a batch over 10,000 profiles holds 10,000 lines.
type resultsLog struct {
	open          bool
	width, height int
	offset        int

	batches  []*logBatch
	messages []logMessage

	cache      []logLine
	cacheWidth int
	stale      bool
}

type logRole int

const (
	roleBlank logRole = iota
	roleSection
	roleBatch
	roleItem
	roleMessage
)

type logLine struct {
	role logRole
	kind noteKind
	text string
}

// SetSize gives the log its box (the body's).
func (l *resultsLog) SetSize(w, h int) {
	l.width, l.height = w, h
	l.clampOffset()
}

func (l *resultsLog) addMessage(at time.Time, n note) {
	if k := len(l.messages); k > 0 && l.messages[k-1].n == n {
		l.messages[k-1].count++
		l.messages[k-1].at = at
	} else {
		l.messages = append(l.messages, logMessage{at: at, n: n, count: 1})
	}
	if len(l.messages) > maxLogMessages {
		l.messages = l.messages[len(l.messages)-maxLogMessages:]
	}
	l.stale = true
}

// batch is the log entry of batch id, made on first use.
func (l *resultsLog) batch(id int, title string, at time.Time) *logBatch {
	for _, b := range l.batches {
		if b.id == id {
			return b
		}
	}
	b := &logBatch{id: id, title: title, at: at}
	l.batches = append(l.batches, b)
	if len(l.batches) > maxLogBatches {
		l.batches = l.batches[len(l.batches)-maxLogBatches:]
	}
	l.stale = true
	return b
}

func (l *resultsLog) changed() { l.stale = true }

// lines are the log's content, wrapped to its width.
func (l *resultsLog) lines() []logLine {
	w := max(l.width, 1)
	if !l.stale && l.cacheWidth == w && l.cache != nil {
		return l.cache
	}
	var out []logLine
	// Wrapped lines hang under the first, past its mark or time.
	add := func(role logRole, kind noteKind, indent, text string) {
		iw := ansi.StringWidth(indent)
		for i, s := range wrap(text, w-iw, 0) {
			if i == 1 {
				indent = strings.Repeat(" ", iw)
			}
			out = append(out, logLine{role, kind, indent + s})
		}
	}
	if len(l.batches) == 0 {
		add(roleSection, noteInfo, "", "Results")
		add(roleItem, noteInfo, "  ", "No action has run yet in this session.")
	}
	for i := len(l.batches) - 1; i >= 0; i-- {
		b := l.batches[i]
		head := b.title + " (running)"
		if b.summary.text != "" {
			head = strings.TrimSuffix(b.summary.text, pressForResults)
		}
		add(roleBatch, b.summary.kind, b.at.Format("15:04:05")+"  ", head)
		for _, it := range b.items {
			add(roleItem, it.kind, "  "+kindMark(it.kind)+" ", it.text)
		}
		out = append(out, logLine{})
	}
	add(roleSection, noteInfo, "", "Messages")
	if len(l.messages) == 0 {
		add(roleItem, noteInfo, "  ", "None yet.")
	}
	for i := len(l.messages) - 1; i >= 0; i-- {
		msg := l.messages[i]
		text := msg.n.text
		if msg.count > 1 {
			text += fmt.Sprintf(" (×%d)", msg.count)
		}
		add(roleMessage, msg.n.kind, "  "+msg.at.Format("15:04:05")+" ", text)
	}
	l.cache, l.cacheWidth, l.stale = out, w, false
	return out
}

// kindMark says a result's kind without colour (NO_COLOR, a screen
// reader).
func kindMark(k noteKind) string {
	switch k {
	case noteOK:
		return "✓"
	case noteWarn:
		return "!"
	case noteErr:
		return "✗"
	}
	return "·"
}

func (l *resultsLog) pageSize() int { return max(l.height-1, 1) }

func (l *resultsLog) scroll(n int) {
	l.offset += n
	l.clampOffset()
}

func (l *resultsLog) clampOffset() {
	l.offset = min(l.offset, max(len(l.lines())-l.pageSize(), 0))
	l.offset = max(l.offset, 0)
}

// View draws the log into its box: a title line, then a page of lines.
func (l *resultsLog) View(st styles) string {
	lines := l.lines()
	page := l.pageSize()
	end := min(l.offset+page, len(lines))
	right := "L or esc closes"
	if len(lines) > page {
		right = fmt.Sprintf("%d–%d of %d · ↑/↓ scroll · ", l.offset+1, end, len(lines)) + right
	}
	title := st.title.Render("Results and messages")
	if gap := l.width - ansi.StringWidth(title) - ansi.StringWidth(right); gap >= 2 {
		title += strings.Repeat(" ", gap) + st.muted.Render(right)
	}
	out := []string{truncate(title, l.width)}
	for _, ln := range lines[l.offset:end] {
		out = append(out, truncate(styleLogLine(st, ln), l.width))
	}
	for len(out) < l.height {
		out = append(out, "")
	}
	return strings.Join(out, "\n")
}

func styleLogLine(st styles, ln logLine) string {
	switch ln.role {
	case roleSection:
		return st.bold.Render(ln.text)
	case roleBatch:
		return st.bold.Render(ln.text)
	case roleItem, roleMessage:
		return st.note(ln.kind).Render(ln.text)
	}
	return ln.text
}

// toggleLog opens or closes the log view.
func (m *Model) toggleLog() {
	m.work.log.open = !m.work.log.open
	if m.work.log.open {
		m.work.log.offset = 0
		m.work.log.clampOffset()
	}
}

// logView is the log, drawn in the body's place; "" when it is closed.
func (m *Model) logView() string {
	if !m.work.log.open {
		return ""
	}
	return m.work.log.View(m.styles)
}

// logEscAction is what esc does to the log: "close log" while it is open.
func (m *Model) logEscAction() string {
	if m.work.log.open {
		return "close log"
	}
	return ""
}

// logKey scrolls the open log with the move keys and closes it with esc;
// false for any other key (q still quits, ? still helps).
func (m *Model) logKey(msg tea.KeyPressMsg) bool {
	l, k := &m.work.log, m.keys
	switch {
	case msg.String() == "esc":
		l.open = false
	case key.Matches(msg, k.Up):
		l.scroll(-1)
	case key.Matches(msg, k.Down):
		l.scroll(1)
	case key.Matches(msg, k.PageUp):
		l.scroll(-l.pageSize())
	case key.Matches(msg, k.PageDown):
		l.scroll(l.pageSize())
	case key.Matches(msg, k.Top):
		l.scroll(-len(l.lines()))
	case key.Matches(msg, k.Bottom):
		l.scroll(len(l.lines()))
	default:
		return false
	}
	return true
}
