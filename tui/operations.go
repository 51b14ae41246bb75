package tui

import (
	"context"
	"errors"
	"io"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/sbctl/sbctl/profiles"
)

// workState is the operations' state beyond the running one: the marks,
// the queue, the results and message log, and the note's lifecycle.
type workState struct {
	marks   map[string]bool
	queue   []request
	batches int // the last batch id handed out

	log       resultsLog
	noteSeq   int           // counts notes shown, so a fade ends only its own
	fadeAfter time.Duration // 0: noteFade (tests shorten it)
	now       func() time.Time
}

// clock is the wall clock of the countdown (tests fix it).
func (m *Model) clock() time.Time {
	if m.work.now != nil {
		return m.work.now()
	}
	return time.Now()
}

// countdownEvery is how often a waiting sign-in's countdown moves.
const countdownEvery = time.Second

// countdownMsg moves the countdown of sign-in id.
type countdownMsg struct {
	id  int
	now time.Time
}

func countdown(id int) tea.Cmd {
	return tea.Tick(countdownEvery, func(t time.Time) tea.Msg { return countdownMsg{id: id, now: t} })
}

// start runs r, f or v on the marked profiles, else on the selected one;
// while another operation runs, it is queued.
func (m *Model) start(kind opKind) tea.Cmd {
	r, ok := m.request(kind)
	if !ok {
		return m.setNote(noteWarn, "No profile selected.")
	}
	if m.op != nil {
		text, _ := m.enqueue(r)
		return m.setNote(noteInfo, text)
	}
	if !m.note.lasting() {
		m.note = note{} // a success of before does not describe what runs now
	}
	return m.launch(r)
}

// startOn runs kind on the named profiles whatever is marked or selected
// (a sign-in of the profile the add form just added); queued like start.
func (m *Model) startOn(kind opKind, names ...string) tea.Cmd {
	m.work.batches++
	r := request{kind: kind, names: names, batch: m.work.batches, size: len(names), multi: len(names) > 1}
	if m.op != nil {
		text, _ := m.enqueue(r)
		return m.setNote(noteInfo, text)
	}
	return m.launch(r)
}

// launch starts a request. A series of sign-ins starts its first; the rest
// goes back to the head of the queue, so they run one after another before
// anything queued later.
func (m *Model) launch(r request) tea.Cmd {
	names, skipped := m.stillListed(r)
	if len(names) == 0 {
		// Everything it was for left the config meanwhile.
		cmd := m.setNote(noteWarn, skipped)
		if next, ok := m.dequeue(); ok {
			return tea.Batch(cmd, m.launch(next))
		}
		return cmd
	}
	if r.kind == opReauth && len(names) > 1 {
		rest := r
		rest.names = names[1:]
		m.work.queue = append([]request{rest}, m.work.queue...)
		names = names[:1]
	}
	m.nextID++
	op := &operation{id: m.nextID, kind: r.kind, names: names, batch: r.batch, size: r.size, total: len(names)}
	if !r.multi || r.kind == opReauth {
		op.name = names[0]
	}
	op.ctx, op.cancel = context.WithCancel(m.ctx)
	m.op = op
	m.showQueue()
	ev := newOpEvents()
	op.events = ev.ch
	var work tea.Cmd
	switch r.kind {
	case opReauth:
		work = tea.Batch(op.run(m.tracker, ev, m.reauthWork(op, ev)), countdown(op.id))
	case opRefresh:
		work = op.run(m.tracker, ev, refreshWork(m.mgr, names, ev))
	case opVerify:
		work = op.run(m.tracker, ev, verifyWork(m.mgr, names, ev))
	}
	return tea.Batch(m.spinner.Tick, work, waitEvent(op))
}

// reauthWork prepares a sign-in: its mode, known before it starts so the
// box can offer the paste field or the device code at once, its timeout
// for the countdown, and the pipe a paste goes through.
func (m *Model) reauthWork(op *operation, ev *opEvents) func(context.Context) opDoneMsg {
	ro := profiles.ReauthOptions{
		Browser: m.browser(),
		Timeout: m.opts.ReauthTimeout,
		// The flow's messages would land on the screen the TUI draws:
		// they become lines in the sign-in box instead.
		Stderr: ev,
		OnURL:  ev.OnURL,
	}
	if m.opts.NoBrowser {
		ro.Mode = profiles.SignInNoBrowser
	}
	s := &op.signIn
	s.mode, _ = m.mgr.SignInModeOf(op.name, ro.Mode) // an error is Reauth's to report
	s.timeout = ro.Timeout
	s.paste = newPasteField(m.styles)
	pr, pw := io.Pipe()
	s.stdin = pw
	ro.Stdin = pr
	return reauthWork(m.mgr, op.name, ro, pw)
}

// finish reports an operation's outcome, records its results, reloads the
// list (which now holds what the operation recorded in the state file) and
// starts what was queued. esc on a running operation drops the queue too:
// "stop" means stop.
func (m *Model) finish(msg opDoneMsg) tea.Cmd {
	op := m.op
	if op == nil || msg.id != op.id {
		return nil
	}
	cancelled := op.cancelling
	m.op = nil
	b := m.record(op, msg, cancelled)
	n := m.summary(op, msg, b, cancelled)
	if cancelled || op.kind != opReauth || !m.seriesGoesOn(op.batch) {
		b.summary = n // the batch is over
	}
	if cancelled || errors.Is(msg.err, context.Canceled) {
		n.text += m.dropQueue()
	}
	cmds := []tea.Cmd{m.showNote(n), loadList(m.ctx, m.mgr)}
	if op.kind == opReauth && msg.err == nil && msg.reauth.View.Name != "" {
		m.replaceView(msg.reauth.View) // the new status at once; the reload confirms it
	}
	if next, ok := m.dequeue(); ok {
		cmds = append(cmds, m.launch(next))
	}
	return tea.Batch(cmds...)
}

// browser is the opener for sign-ins: the configured one, else the default
// with the browser's own output discarded, since it would land on the
// screen the TUI draws.
func (m *Model) browser() profiles.Opener {
	if m.opts.Browser != nil {
		return m.opts.Browser
	}
	return profiles.QuietOpener()
}

// workUpdate handles the operations' own messages (their news, their end,
// the spinner, the countdown, pastes, fading notes); false for any other
// message.
func (m *Model) workUpdate(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case opEventMsg:
		if m.op == nil || msg.id != m.op.id {
			return nil, true // a finished operation's late news
		}
		m.op.add(msg.opEvent, m.clock())
		s := &m.op.signIn
		if s.manual() && s.url != "" && !s.pasteOn {
			s.pasteOn = true
			s.paste.SetWidth(m.pasteWidth())
			return tea.Batch(waitEvent(m.op), s.paste.Focus()), true
		}
		return waitEvent(m.op), true

	case opDoneMsg:
		return m.finish(msg), true

	case spinner.TickMsg:
		// The spinner turns only while something runs: dropping the tick
		// stops it.
		if m.op == nil {
			return nil, true
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return cmd, true

	case countdownMsg:
		// Once a second, and only while the sign-in runs.
		if m.op == nil || msg.id != m.op.id {
			return nil, true
		}
		m.op.signIn.tick(msg.now)
		return countdown(msg.id), true

	case tea.PasteMsg:
		if !m.pasting() {
			return nil, false // the filter's, if it is open
		}
		return m.pasteMsg(msg), true

	case pasteSentMsg:
		if m.op != nil && msg.id == m.op.id && msg.err != nil {
			m.op.signIn.sending = false
		}
		return nil, true

	case noteFadeMsg:
		m.fade(msg)
		return nil, true
	}
	return nil, false
}

// workKey gives a key to the operations first: the open log scrolls (and
// esc closes it), the paste field takes every other key but esc, and a
// running sign-in copies its address; false when the key is not theirs.
func (m *Model) workKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	switch {
	case m.work.log.open && m.logKey(msg):
		return nil, true
	case m.pasting():
		// Still the field's under the log: the box stays on screen, and a
		// letter must never become a command there.
		return m.pasteKey(msg)
	case m.op != nil && m.op.kind == opReauth && m.op.signIn.copyTarget() != "" && key.Matches(msg, copyKey):
		return m.copyAddress(), true
	}
	return nil, false
}

// footerContext is what the footer's help depends on beyond the keymap
// (the root passes it with footer.SetContext).
func (m *Model) footerContext() footerContext {
	return footerContext{
		Showing: m.showing,
		Pasting: m.pasting(),
		CanCopy: m.op != nil && m.op.kind == opReauth && !m.pasting() && m.op.signIn.copyTarget() != "",
		LogOpen: m.work.log.open,
		Marked:  len(m.work.marks),
	}
}
