package tui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sbctl/sbctl/profiles"
)

// Everything that can wait on a disk, a keychain or a network runs here, in
// tea.Cmds (goroutines of the program), and comes back to Update as a
// message. Update itself never blocks.

// listMsg is a fresh list of every profile.
type listMsg struct {
	views []profiles.View
	now   time.Time
	err   error
}

// loadList lists every profile. The group and text filters are applied in
// the model, so switching groups needs no reload. List reads only the
// config and the state file (the keychain only when the state file must be
// rebuilt), but that is still I/O, so it is a Cmd.
func loadList(ctx context.Context, mgr *profiles.Manager) tea.Cmd {
	return func() tea.Msg {
		views, err := mgr.List(ctx, profiles.Filter{})
		return listMsg{views: views, now: mgr.Now(), err: err}
	}
}

// tickMsg asks for a reload, so relative times stay true and changes made by
// other processes (a cron `sbctl refresh`) show up.
type tickMsg struct{}

const reloadEvery = time.Minute

func tick() tea.Cmd {
	return tea.Tick(reloadEvery, func(time.Time) tea.Msg { return tickMsg{} })
}

// opKind is what an operation does to the selected profile.
type opKind int

const (
	opReauth opKind = iota + 1
	opRefresh
	opVerify
)

// opEventMsg is news from a running operation: the authorization URL, or a
// line the flow printed (e.g. "Could not open a browser: …").
type opEventMsg struct {
	id int
	opEvent
}

type opEvent struct {
	url  string
	line string
}

// opDoneMsg ends an operation.
type opDoneMsg struct {
	id     int
	kind   opKind
	name   string
	reauth profiles.ReauthResult
	renew  []profiles.RenewResult
	verify []profiles.VerifyResult
	err    error
}

// opEvents carries a flow's URL and printed lines from the flow's goroutines
// to the model. Sending never blocks: a sign-in must not hang because the
// screen is slow, so when the buffer is full a line is dropped (the URL is
// sent first, into an empty buffer, and is never lost).
type opEvents struct {
	ch chan opEvent

	mu      sync.Mutex
	closed  bool
	partial bytes.Buffer
}

func newOpEvents() *opEvents { return &opEvents{ch: make(chan opEvent, 32)} }

func (e *opEvents) send(ev opEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	select {
	case e.ch <- ev:
	default:
	}
}

// OnURL is ReauthOptions.OnURL.
func (e *opEvents) OnURL(u string) { e.send(opEvent{url: u}) }

// Write is ReauthOptions.Stderr: the flow's messages become lines in the
// TUI instead of bytes on the terminal the TUI is drawing on.
func (e *opEvents) Write(p []byte) (int, error) {
	e.mu.Lock()
	e.partial.Write(p)
	var lines []string
	for {
		b := e.partial.Bytes()
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, string(b[:i]))
		e.partial.Next(i + 1)
	}
	e.mu.Unlock()
	for _, l := range lines {
		if l = strings.TrimSpace(clean(l)); l != "" {
			e.send(opEvent{line: l})
		}
	}
	return len(p), nil
}

// close ends the stream; waitEvent then returns nil.
func (e *opEvents) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed {
		e.closed = true
		close(e.ch)
	}
}

// waitEvent delivers the next event of operation op; Update asks for the
// next one each time, until the stream closes or the operation's context
// ends (the TUI quit before the operation even started).
func waitEvent(op *operation) tea.Cmd {
	id, ch, done := op.id, op.events, op.ctx.Done()
	return func() tea.Msg {
		select {
		case ev, ok := <-ch:
			if ok {
				return opEventMsg{id: id, opEvent: ev}
			}
		case <-done:
		}
		return nil
	}
}

// tracker counts running operations so Run can wait, briefly, for them to
// unwind after the TUI ends: a cancelled sign-in closes its loopback
// listener (SPEC §5) before the process exits.
type tracker struct {
	mu     sync.Mutex
	n      int
	closed bool
	idle   chan struct{}
}

// begin registers an operation; false once the TUI has ended.
func (t *tracker) begin() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.n++
	return true
}

func (t *tracker) end() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	if t.n == 0 && t.idle != nil {
		close(t.idle)
		t.idle = nil
	}
}

// wait refuses new operations and waits up to limit for running ones.
func (t *tracker) wait(limit time.Duration) {
	t.mu.Lock()
	t.closed = true
	if t.n == 0 {
		t.mu.Unlock()
		return
	}
	idle := make(chan struct{})
	t.idle = idle
	t.mu.Unlock()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-idle:
	case <-timer.C:
	}
}

// operation is the running reauth, refresh or verify. One runs at a time:
// the screen has one place for its URL and spinner, and a second sign-in
// would fight the first for the browser.
type operation struct {
	id         int
	kind       opKind
	name       string
	ctx        context.Context
	cancel     context.CancelFunc
	cancelling bool
	url        string
	lines      []string       // the flow's latest messages
	events     <-chan opEvent // a sign-in's URL and messages
}

// maxFlowLines is how many of the flow's own messages an operation keeps
// for the sign-in box: enough for a device flow's instructions (URL, code,
// hint, wait).
const maxFlowLines = 6

// add keeps a piece of news from the flow: the URL, and the latest lines
// (the URL itself is not repeated as a line).
func (op *operation) add(ev opEvent) {
	if ev.url != "" {
		op.url = ev.url
	}
	if ev.line != "" && ev.line != op.url {
		op.lines = append(op.lines, ev.line)
		if len(op.lines) > maxFlowLines {
			op.lines = op.lines[len(op.lines)-maxFlowLines:]
		}
	}
}

// run wraps an operation's work: registered with the tracker, its context
// released when it ends, its event stream closed so waitEvent stops.
func (op *operation) run(tr *tracker, ev *opEvents, work func(ctx context.Context) opDoneMsg) tea.Cmd {
	return func() tea.Msg {
		defer op.cancel()
		if ev != nil {
			defer ev.close()
		}
		if !tr.begin() {
			return nil
		}
		defer tr.end()
		msg := work(op.ctx)
		msg.id, msg.kind, msg.name = op.id, op.kind, op.name
		return msg
	}
}

func reauthWork(mgr *profiles.Manager, name string, o profiles.ReauthOptions) func(context.Context) opDoneMsg {
	return func(ctx context.Context) opDoneMsg {
		// The TUI owns the terminal's input: a flow in manual mode must not
		// read it. It gets a reader that ends with the flow; the loopback
		// listener still completes the sign-in.
		stdin, closeStdin := io.Pipe()
		defer closeStdin.Close()
		o.Stdin = stdin
		res, err := mgr.Reauth(ctx, name, o)
		return opDoneMsg{reauth: res, err: err}
	}
}

func refreshWork(mgr *profiles.Manager, name string) func(context.Context) opDoneMsg {
	return func(ctx context.Context) opDoneMsg {
		res, err := mgr.Refresh(ctx, profiles.RefreshOptions{Names: []string{name}})
		return opDoneMsg{renew: res, err: err}
	}
}

func verifyWork(mgr *profiles.Manager, name string) func(context.Context) opDoneMsg {
	return func(ctx context.Context) opDoneMsg {
		res, err := mgr.Verify(ctx, []string{name}, false, 1)
		return opDoneMsg{verify: res, err: err}
	}
}
