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

// opKind is what an operation does to its profiles.
type opKind int

const (
	opReauth opKind = iota + 1
	opRefresh
	opVerify
)

// opEventMsg is news from a running operation: the authorization URL, a
// line the flow printed (e.g. "Could not open a browser: …"), or how far a
// batch is.
type opEventMsg struct {
	id int
	opEvent
}

type opEvent struct {
	url      string
	line     string
	progress *opProgress
}

// opProgress is a batch's count so far. Each event carries the whole count,
// so one dropped on a full buffer is made good by the next.
type opProgress struct {
	done, total, failed int
}

// opDoneMsg ends an operation.
type opDoneMsg struct {
	id     int
	kind   opKind
	name   string   // the one profile, or "" for a batch
	names  []string // every profile it ran on
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

// progress tells how far a batch is.
func (e *opEvents) progress(done, total, failed int) {
	e.send(opEvent{progress: &opProgress{done: done, total: total, failed: failed}})
}

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
// would fight the first for the browser. A refresh or verify of several
// profiles is one operation (one call through the domain's bounded pool);
// several sign-ins are one operation each, one after another (batch.go).
type operation struct {
	id         int
	kind       opKind
	name       string   // the one profile; "" for a batch
	names      []string // every profile it runs on
	batch      int      // the results log's entry it reports to
	size       int      // the profiles of the whole batch (a series of sign-ins runs one at a time)
	ctx        context.Context
	cancel     context.CancelFunc
	cancelling bool
	events     <-chan opEvent // the URL, the flow's messages, the progress

	// A batch's progress.
	done, total, failed int

	// A sign-in: what the flow said, read into what the box shows
	// (signinflow.go).
	signIn signInState
	// after describes what is queued behind this operation, for the box.
	after []string
}

// maxFlowLines is how many of the flow's own messages an operation keeps
// for the sign-in box, beyond those it reads into its own fields.
const maxFlowLines = 4

// add keeps a piece of news: the URL, a flow line (read by flowLine), or
// a batch's progress.
func (op *operation) add(ev opEvent, now time.Time) {
	if ev.progress != nil && ev.progress.done >= op.done {
		op.done, op.total, op.failed = ev.progress.done, ev.progress.total, ev.progress.failed
	}
	if ev.url != "" {
		op.signIn.gotURL(ev.url, now)
	}
	if ev.line != "" {
		op.signIn.flowLine(ev.line, now)
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
		msg.id, msg.kind, msg.name, msg.names = op.id, op.kind, op.name, op.names
		return msg
	}
}

// reauthWork signs in. The TUI owns the terminal's input, so a flow in
// manual mode reads from stdin, a pipe whose writer the sign-in box keeps:
// the paste field writes the pasted line into it (paste.go). The writer is
// closed when the flow ends, which ends the flow's reader and fails any
// paste still being written.
func reauthWork(mgr *profiles.Manager, name string, o profiles.ReauthOptions, stdin *io.PipeWriter) func(context.Context) opDoneMsg {
	return func(ctx context.Context) opDoneMsg {
		defer stdin.Close()
		res, err := mgr.Reauth(ctx, name, o)
		return opDoneMsg{reauth: res, err: err}
	}
}

// refreshWork renews the profiles in one call, through the domain's
// bounded pool and rate limits (the same as `sbctl refresh`), telling ev
// how far it is.
func refreshWork(mgr *profiles.Manager, names []string, ev *opEvents) func(context.Context) opDoneMsg {
	return func(ctx context.Context) opDoneMsg {
		failed := 0 // Progress is called one at a time
		res, err := mgr.Refresh(ctx, profiles.RefreshOptions{Names: names, Progress: func(done, total int, r profiles.RenewResult) {
			if !renewWorked(r) {
				failed++
			}
			ev.progress(done, total, failed)
		}})
		return opDoneMsg{renew: res, err: err}
	}
}

// verifyWork asks the profiles' networks in one call, through the same
// bounded pool.
func verifyWork(mgr *profiles.Manager, names []string, ev *opEvents) func(context.Context) opDoneMsg {
	return func(ctx context.Context) opDoneMsg {
		failed := 0
		res, err := mgr.VerifyWith(ctx, profiles.VerifyOptions{Names: names, Progress: func(done, total int, r profiles.VerifyResult) {
			if !r.Valid {
				failed++
			}
			ev.progress(done, total, failed)
		}})
		return opDoneMsg{verify: res, err: err}
	}
}
