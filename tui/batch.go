package tui

import (
	"fmt"
	"slices"
	"time"

	"github.com/sbctl/sbctl/profiles"
)

// Batch actions. space marks the selected row and the mark-all key marks
// every visible row; r, f and v then act on every marked profile instead of
// the selected one. A refresh or a verify of the marked profiles is one
// call of the domain (profiles.Manager.Refresh / VerifyWith), through the
// same bounded pool and rate limits as `sbctl refresh`; sign-ins run one
// after another, each its own browser sign-in. An action asked for while
// another runs is queued and starts when it ends.
//
// After a batch, the profiles it fixed are unmarked and the others stay
// marked, so the next key can follow up on them: a refresh that found two
// profiles needing a sign-in leaves those two marked for r.

// request is an action asked for: a kind on some profiles.
type request struct {
	kind  opKind
	names []string
	batch int  // its results log entry
	size  int  // how many profiles the whole batch has (a series of sign-ins shrinks)
	multi bool // a batch (marked rows), reported as one
}

func (r request) describe() string {
	if !r.multi {
		switch r.kind {
		case opReauth:
			return "sign in to " + clean(r.names[0])
		case opRefresh:
			return "refresh " + clean(r.names[0])
		}
		return "verify " + clean(r.names[0])
	}
	n := plural(len(r.names), "profile")
	switch r.kind {
	case opReauth:
		return "sign in to " + n
	case opRefresh:
		return "refresh " + n
	}
	return "verify " + n
}

// toggleMark marks or unmarks a profile.
func (m *Model) toggleMark(name string) {
	if m.work.marks[name] {
		delete(m.work.marks, name)
		return
	}
	if m.work.marks == nil {
		m.work.marks = map[string]bool{}
	}
	m.work.marks[name] = true
}

// markAll marks every profile named (the visible rows); when all of them
// are marked already, it unmarks them instead, so the same key undoes it.
func (m *Model) markAll(names []string) {
	all := len(names) > 0 && !slices.ContainsFunc(names, func(n string) bool { return !m.work.marks[n] })
	for _, n := range names {
		if all {
			delete(m.work.marks, n)
		} else {
			if m.work.marks == nil {
				m.work.marks = map[string]bool{}
			}
			m.work.marks[n] = true
		}
	}
}

func (m *Model) clearMarks()               { m.work.marks = nil }
func (m *Model) isMarked(name string) bool { return m.work.marks[name] }

// markFunc is what the table asks about marks: nil while none is set, so
// the table keeps the cell of the mark column for the rows.
func (m *Model) markFunc() func(string) bool {
	if len(m.work.marks) == 0 {
		return nil
	}
	return m.isMarked
}

// markedNames are the marked profiles that still exist, in list order.
func (m *Model) markedNames() []string {
	if len(m.work.marks) == 0 {
		return nil
	}
	var out []string
	for _, v := range m.all {
		if m.work.marks[v.Name] {
			out = append(out, v.Name)
		}
	}
	return out
}

// request is what r, f or v is asked to act on: the marked profiles, else
// the selected one.
func (m *Model) request(kind opKind) (request, bool) {
	if names := m.markedNames(); len(names) > 0 {
		m.work.batches++
		return request{kind: kind, names: names, batch: m.work.batches, size: len(names), multi: len(names) > 1}, true
	}
	v, ok := m.table.Selected()
	if !ok {
		return request{}, false
	}
	m.work.batches++
	return request{kind: kind, names: []string{v.Name}, batch: m.work.batches, size: 1}, true
}

// stillListed is the request's profiles that are still in the list (the
// config may have changed since it was asked for); the others are logged
// as skipped, and skipped says so for a note when none is left.
func (m *Model) stillListed(r request) (names []string, skipped string) {
	var gone []string
	for _, n := range r.names {
		if slices.ContainsFunc(m.all, func(v profiles.View) bool { return v.Name == n }) {
			names = append(names, n)
		} else {
			gone = append(gone, clean(n))
		}
	}
	if len(gone) == 0 {
		return names, ""
	}
	b := m.work.log.batch(r.batch, kindTitle(r.kind, r.size), m.mgr.Now())
	for _, n := range gone {
		b.items = append(b.items, logItem{kind: noteWarn, text: n + " is no longer in the config; skipped."})
	}
	m.work.log.changed()
	return names, fmt.Sprintf("Nothing to %s: %s no longer in the config.", r.describe(), isAre(joinAnd(gone), len(gone)))
}

func isAre(s string, n int) string {
	if n == 1 {
		return s + " is"
	}
	return s + " are"
}

// enqueue keeps an action for when the running one ends.
func (m *Model) enqueue(r request) (string, bool) {
	for _, q := range m.work.queue {
		if q.kind == r.kind && slices.Equal(q.names, r.names) {
			return fmt.Sprintf("Already queued: %s.", r.describe()), false
		}
	}
	ahead := ""
	if n := len(m.work.queue); n > 0 {
		ahead = fmt.Sprintf(" and %d more queued", n)
	}
	m.work.queue = append(m.work.queue, r)
	m.showQueue()
	return fmt.Sprintf("Queued: %s (after %s%s).", r.describe(), m.op.describe(), ahead), true
}

// dequeue takes the next action, if any.
func (m *Model) dequeue() (request, bool) {
	if len(m.work.queue) == 0 {
		return request{}, false
	}
	r := m.work.queue[0]
	m.work.queue = m.work.queue[1:]
	return r, true
}

// dropQueue forgets everything queued (esc cancelled the running action)
// and says what was dropped; "" when nothing was.
func (m *Model) dropQueue() string {
	if len(m.work.queue) == 0 {
		return ""
	}
	var what []string
	for _, r := range m.work.queue {
		what = append(what, r.describe())
	}
	m.work.queue = nil
	return " Dropped what was queued: " + joinAnd(what) + "."
}

// showQueue tells the running operation what waits behind it (the box
// says "Then: …").
func (m *Model) showQueue() {
	if m.op == nil {
		return
	}
	m.op.after = m.op.after[:0]
	for _, r := range m.work.queue {
		m.op.after = append(m.op.after, r.describe())
	}
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return fmt.Sprintf("%s and %s", joinComma(s[:len(s)-1]), s[len(s)-1])
}

func joinComma(s []string) string {
	out := s[0]
	for _, x := range s[1:] {
		out += ", " + x
	}
	return out
}

// record puts an operation's per-profile results into its log entry and
// unmarks the profiles it fixed. It returns the entry.
func (m *Model) record(op *operation, msg opDoneMsg, cancelled bool) *logBatch {
	now := m.mgr.Now()
	b := m.work.log.batch(op.batch, kindTitle(op.kind, op.size), now)
	for _, it := range results(op, msg, cancelled, now) {
		b.items = append(b.items, it.logItem)
		if it.worked {
			delete(m.work.marks, it.name)
		}
	}
	m.work.log.changed()
	return b
}

type namedItem struct {
	name string
	logItem
}

// results words each profile's outcome as its own note would.
func results(op *operation, msg opDoneMsg, cancelled bool, now time.Time) []namedItem {
	var out []namedItem
	switch {
	case op.kind == opReauth:
		n := outcome(opDoneMsg{kind: opReauth, name: op.names[0], reauth: msg.reauth, err: msg.err}, cancelled, now)
		out = append(out, namedItem{op.names[0], logItem{n.kind, n.text, msg.err == nil}})
	case len(msg.renew) > 0:
		for _, r := range msg.renew {
			n := renewNote(r, clean(r.Name), now)
			out = append(out, namedItem{r.Name, logItem{n.kind, n.text, renewWorked(r)}})
		}
	case len(msg.verify) > 0:
		for _, r := range msg.verify {
			n := checkNote(r, clean(r.Name))
			out = append(out, namedItem{r.Name, logItem{n.kind, n.text, r.Valid}})
		}
	default:
		// No per-profile result: the call failed as a whole.
		n := outcome(opDoneMsg{kind: op.kind, name: batchName(op), err: msg.err}, cancelled, now)
		out = append(out, namedItem{"", logItem{n.kind, n.text, false}})
	}
	return out
}

// batchName names a batch in one of outcome's sentences ("Refreshing 3
// profiles failed: …").
func batchName(op *operation) string {
	if len(op.names) == 1 {
		return op.names[0]
	}
	return plural(len(op.names), "profile")
}

// seriesGoesOn reports whether more sign-ins of batch id are queued.
func (m *Model) seriesGoesOn(id int) bool {
	return slices.ContainsFunc(m.work.queue, func(r request) bool { return r.batch == id })
}

// summary is the note for a finished operation: the note of its one
// profile, or the tally of many.
func (m *Model) summary(op *operation, msg opDoneMsg, b *logBatch, cancelled bool) note {
	now := m.mgr.Now()
	switch {
	case op.size <= 1, op.kind == opReauth && m.seriesGoesOn(op.batch) && !cancelled:
		// Each sign-in of a series says how it went; the last sums up.
		return outcome(opDoneMsg{kind: op.kind, name: op.names[0], reauth: msg.reauth, renew: msg.renew, verify: msg.verify, err: msg.err}, cancelled, now)
	case op.kind == opReauth:
		return reauthSummary(b.items, op.size, cancelled)
	case op.kind == opRefresh && len(msg.renew) > 0:
		return refreshSummary(msg.renew, op.size, cancelled)
	case op.kind == opVerify && len(msg.verify) > 0:
		return verifySummary(msg.verify, op.size, cancelled)
	}
	return outcome(opDoneMsg{kind: op.kind, name: batchName(op), err: msg.err}, cancelled, now)
}
