package profiles

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/config"
)

// Notifications (issue 13): the sinks of `notify:` hear of each change of
// a profile's health once — not at every pass of the agent, not again
// after a restart, not from every machine of a team.
//
// What was told is kept with the profile's state record (Record.Notified),
// so it lives wherever the record does: the state file, or the team
// database's state rows. A send is claimed before it starts: under the
// state lock the transition is decided again from the record as it is
// then (a compare-and-set on the recorded status), the new status and the
// events it owes are written with a claim, and only then do the sinks run.
// A second process (or machine) deciding under the same lock finds the
// status already recorded and sends nothing. After the sends, a second
// update strikes the sinks that succeeded off what is owed; a sink that
// failed (or hung and was killed) stays owed and is retried on the next
// call, alone — the sinks that got the event do not get it twice. A claim
// whose process died is taken over once its lease ends (at least once,
// then: a crash between a send and its record may repeat that send).
//
// A newer transition replaces what an older one still owes: a sink that
// was down while a profile died and came back hears the profile's news as
// it is now (recovered, say), not a backlog.

// EventKind names what happened to a profile.
type EventKind string

const (
	EventNeedsReauth   EventKind = "needs_reauth"
	EventExpired       EventKind = "expired"
	EventExpiring      EventKind = "expiring"
	EventRenewalFailed EventKind = "renewal_failed"
	EventRecovered     EventKind = "recovered"
	EventRenewed       EventKind = "renewed"
)

// ParseEventKind checks an event name given on the command line.
func ParseEventKind(s string) (EventKind, error) {
	if slices.Contains(config.NotifyEvents, s) {
		return EventKind(s), nil
	}
	return "", &UsageError{Msg: fmt.Sprintf("unknown event %q: use one of %s%s", s, strings.Join(config.NotifyEvents, ", "), config.DidYouMean(s, config.NotifyEvents))}
}

// Event is what a sink receives. The JSON names are a contract; absent
// values are null, times RFC 3339 UTC.
type Event struct {
	Kind     EventKind `json:"event"`
	Profile  string    `json:"profile"`
	Provider string    `json:"provider"`
	Groups   []string  `json:"groups"`
	Account  string    `json:"account"`
	Status   Status    `json:"status"`
	Reason   string    `json:"reason"`
	// PreviousStatus is the status the sinks were last told of ("" when
	// nothing was recorded before).
	PreviousStatus      Status     `json:"previous_status"`
	ConnectionExpiresAt *time.Time `json:"connection_expires_at"`
	// Detail is what went wrong in a sentence (renewal_failed), cleaned
	// of anything a terminal or a chat would act on.
	Detail string `json:"detail,omitempty"`
	// Fix is the command that fixes it ("sbctl reauth acme-x").
	Fix  string    `json:"fix"`
	At   time.Time `json:"at"`
	Host string    `json:"host"`
	// Test marks the sample events of `sbctl notify test`.
	Test bool `json:"test,omitempty"`
}

// MarshalJSON writes absent strings as null, as `profiles list -o json`
// does.
func (e Event) MarshalJSON() ([]byte, error) {
	type wire struct {
		Kind                EventKind  `json:"event"`
		Profile             string     `json:"profile"`
		Provider            string     `json:"provider"`
		Groups              []string   `json:"groups"`
		Account             *string    `json:"account"`
		Status              Status     `json:"status"`
		Reason              *string    `json:"reason"`
		PreviousStatus      *string    `json:"previous_status"`
		ConnectionExpiresAt *time.Time `json:"connection_expires_at"`
		Detail              string     `json:"detail,omitempty"`
		Fix                 *string    `json:"fix"`
		At                  time.Time  `json:"at"`
		Host                string     `json:"host"`
		Test                bool       `json:"test,omitempty"`
	}
	groups := e.Groups
	if groups == nil {
		groups = []string{}
	}
	return json.Marshal(wire{
		Kind: e.Kind, Profile: e.Profile, Provider: e.Provider, Groups: groups, Account: strPtr(e.Account),
		Status: e.Status, Reason: strPtr(e.Reason), PreviousStatus: strPtr(string(e.PreviousStatus)),
		ConnectionExpiresAt: utc(e.ConnectionExpiresAt), Detail: e.Detail, Fix: strPtr(e.Fix),
		At: e.At.UTC(), Host: e.Host, Test: e.Test,
	})
}

// NotifyMark is Record.Notified: the status the sinks were last told of
// and the deliveries still owed.
type NotifyMark struct {
	Status Status `json:"status"`
	// Window is the connection expiry an `expiring` event warned of: one
	// warning per window, not per pass.
	Window *time.Time `json:"window,omitempty"`
	// RenewalFailed: a renewal_failed was sent and no renewal has
	// succeeded since.
	RenewalFailed bool `json:"renewal_failed,omitempty"`
	// Owed are events claimed but not yet delivered to every sink.
	Owed []OwedEvent `json:"owed,omitempty"`
	// Claim and ClaimedUntil: a process is delivering Owed until then;
	// others leave them to it.
	Claim        string     `json:"claim,omitempty"`
	ClaimedUntil *time.Time `json:"claimed_until,omitempty"`
}

// OwedEvent is an event and the sinks (config.NotifySink.ID) that have not
// had it yet.
type OwedEvent struct {
	Event Event    `json:"event"`
	Sinks []string `json:"sinks"`
}

// NotifyReport says what NotifyTransitions or NotifyTest delivered, per
// sink and event. Err is a problem recording what was sent (the sends it
// could not claim were not made, and are tried again next time).
type NotifyReport struct {
	Sent, Failed []SinkResult
	Err          error
}

// SinkResult is one delivery of one event to one sink (Sink is the sink's
// name: no webhook URL).
type SinkResult struct {
	Sink  string
	Event Event
	Err   error
}

// HasSinks says whether the config has any `notify:` sink.
func (m *Manager) HasSinks() bool { return len(m.notifyConfig()) > 0 }

// notifyConfig is the sinks of the config in use; in team mode they are
// this machine's (the local file), since the team catalog holds no sinks.
func (m *Manager) notifyConfig() []config.NotifySink {
	if m.backend != nil {
		if m.local == nil {
			return nil
		}
		return m.local.Notify
	}
	return m.config().Notify
}

// perSinkConcurrency bounds the deliveries one sink has at once (a
// thousand profiles dying together must not start a thousand pagers).
const perSinkConcurrency = 4

// claimSlack is how long after the deliveries' own deadline a claim holds:
// time to record the outcome before another process takes over.
const claimSlack = 30 * time.Second

// notifyRun is one call's sinks, clock and claim.
type notifyRun struct {
	m     *Manager
	sinks []*sink
	byID  map[string]*sink
	now   time.Time
	host  string
	claim string
	until time.Time
}

func (m *Manager) newNotifyRun() *notifyRun {
	r := &notifyRun{m: m, byID: map[string]*sink{}, now: m.now(), host: CleanText(host(), 200)}
	names := map[string]int{}
	for _, c := range m.notifyConfig() {
		s := m.newSink(c)
		if n := names[s.name]; n > 0 {
			s.name = fmt.Sprintf("%s #%d", s.name, n+1)
		}
		names[c.Name()]++
		r.sinks = append(r.sinks, s)
		r.byID[s.id] = s
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	r.claim = hex.EncodeToString(b[:])
	r.until = r.now.Add(r.budget() + claimSlack)
	return r
}

// budget is how long the deliveries of one call may take: the longest
// sink timeout, and a moment to stop what overran it.
func (r *notifyRun) budget() time.Duration {
	var d time.Duration
	for _, s := range r.sinks {
		d = max(d, s.timeout)
	}
	return d + killGrace + time.Second
}

// delivery is one event for one sink; owed is its index in the profile's
// NotifyMark.Owed, -1 for an event that is not recorded (renewed, test).
type delivery struct {
	sink    *sink
	event   Event
	profile string
	owed    int
}

// subject is what an event says about the profile besides its health.
type subject struct {
	name, provider string
	groups         []string
}

// NotifyTransitions compares each view (and each renewal) with what the
// sinks were last told about the profile, sends the events of the
// changes (once per transition; `expiring` once per window;
// renewal_failed once until a renewal succeeds; renewed for each success,
// to the sinks that ask), and records what it sent. The status is decided
// again from the profile's record under the state lock, so a view taken
// before another process changed the record never sends stale news. Sinks
// run concurrently; the call returns within about the longest sink
// timeout. A failed or killed sink is reported and retried next time.
func (m *Manager) NotifyTransitions(ctx context.Context, views []View, renewals []RenewResult) NotifyReport {
	r := m.newNotifyRun()
	if len(r.sinks) == 0 {
		return NotifyReport{}
	}
	subjects, byName := r.subjects(views, renewals)
	st, err := m.State.Load()
	if err != nil && !errors.Is(err, errStateMissing) {
		return NotifyReport{Err: fmt.Errorf("reading what was notified: %w", err)}
	}
	if ds, dirty := r.plan(st, subjects, byName, false); len(ds) == 0 && !dirty {
		return NotifyReport{}
	}
	var ds []delivery
	err = m.updateState(ctx, func(s *State) error {
		ds, _ = r.plan(s, subjects, byName, true)
		return nil
	})
	if err != nil {
		// Unclaimed, nothing may be sent: another process could be
		// sending the same news.
		return NotifyReport{Err: fmt.Errorf("recording the notifications: %w; nothing was sent, it is tried again next time", err)}
	}
	rep, errs := r.send(ctx, ds)
	rep.Err = r.settle(ctx, ds, errs)
	return rep
}

// subjects lists the profiles to look at: the views', then those only a
// renewal names; byName is the last renewal of each profile.
func (r *notifyRun) subjects(views []View, renewals []RenewResult) ([]subject, map[string]*RenewResult) {
	byName := map[string]*RenewResult{}
	for i := range renewals {
		if !renewals[i].Interrupted {
			byName[renewals[i].Name] = &renewals[i]
		}
	}
	seen := map[string]bool{}
	var out []subject
	for _, v := range views {
		seen[v.Name] = true
		out = append(out, subject{name: v.Name, provider: v.Provider, groups: v.Groups})
	}
	for _, res := range renewals {
		if seen[res.Name] {
			continue
		}
		seen[res.Name] = true
		if p, ok := r.m.config().Profile(res.Name); ok {
			out = append(out, subject{name: p.Name, provider: p.Provider, groups: p.Groups})
		}
	}
	return out, byName
}

// plan decides, for each subject, what to send and what to record. With
// apply it writes the new marks (and the claim) into s; without, it only
// says whether there is anything to do (dirty: a mark would change).
func (r *notifyRun) plan(s *State, subjects []subject, renewals map[string]*RenewResult, apply bool) (ds []delivery, dirty bool) {
	window := r.m.config().Defaults.ExpiringWithin
	for _, sub := range subjects {
		rec := s.Profiles[sub.name]
		if rec == nil {
			continue // never connected: nothing to tell, nowhere to record
		}
		h := Evaluate(rec, r.now, window)
		events, next, changed := decide(rec.Notified, h, renewals[sub.name])
		var prev Status
		if rec.Notified != nil {
			prev = rec.Notified.Status
		}
		built := make([]Event, 0, len(events))
		for _, k := range events {
			built = append(built, r.event(k, sub, rec, h, prev, renewals[sub.name]))
		}
		owed, claimed := r.owe(rec.Notified, &next, built)
		for i, o := range owed {
			for _, id := range o.Sinks {
				if sk := r.byID[id]; sk != nil {
					ds = append(ds, delivery{sink: sk, event: o.Event, profile: sub.name, owed: i})
				}
			}
		}
		ds = append(ds, r.renewed(sub, rec, h, prev, renewals[sub.name])...)
		dirty = dirty || changed || claimed
		if apply && (changed || claimed) {
			rec.Notified = &next
		}
	}
	return ds, dirty
}

// owe puts the new events, or the old ones still owed, under this run's
// claim. It returns what this run is to deliver (the mark's Owed, by
// index) and whether it claimed anything.
func (r *notifyRun) owe(prev, next *NotifyMark, events []Event) ([]OwedEvent, bool) {
	if len(events) > 0 {
		next.Owed = nil // news replaces what is still owed of older news
		for _, ev := range events {
			var ids []string
			for _, s := range r.sinks {
				if s.cfg.Wants(string(ev.Kind)) {
					ids = append(ids, s.id)
				}
			}
			if len(ids) > 0 {
				next.Owed = append(next.Owed, OwedEvent{Event: ev, Sinks: ids})
			}
		}
	} else if prev == nil || !r.retryable(prev) {
		return nil, false
	}
	if len(next.Owed) == 0 {
		next.Claim, next.ClaimedUntil = "", nil
		return nil, false
	}
	until := r.until.UTC()
	next.Claim, next.ClaimedUntil = r.claim, &until
	return next.Owed, true
}

// retryable: the mark owes a sink this run knows, and no live claim is on
// it.
func (r *notifyRun) retryable(m *NotifyMark) bool {
	if m.ClaimedUntil != nil && r.now.Before(*m.ClaimedUntil) {
		return false
	}
	for _, o := range m.Owed {
		for _, id := range o.Sinks {
			if r.byID[id] != nil {
				return true
			}
		}
	}
	return false
}

// renewed is the `renewed` events of a successful renewal, for the sinks
// that ask: not recorded, since every renewal is its own event.
func (r *notifyRun) renewed(sub subject, rec *Record, h Health, prev Status, res *RenewResult) []delivery {
	if res == nil || res.Outcome != OutcomeRenewed {
		return nil
	}
	var ds []delivery
	for _, s := range r.sinks {
		if s.cfg.Wants(string(EventRenewed)) {
			ds = append(ds, delivery{sink: s, event: r.event(EventRenewed, sub, rec, h, prev, res), profile: sub.name, owed: -1})
		}
	}
	return ds
}

// problem statuses are those whose end is news (recovered).
func problem(s Status) bool {
	return s == StatusNeedsReauth || s == StatusExpired || s == StatusExpiring
}

// decide is the transition of one profile: the events due and the mark to
// record. prev nil is a profile nothing was recorded for, taken as ok: a
// profile found dead the first time is news, one found healthy is not. An
// unknown status is not news: nothing is known to have changed.
func decide(prev *NotifyMark, h Health, res *RenewResult) (events []EventKind, next NotifyMark, changed bool) {
	next = NotifyMark{Status: StatusOK}
	if prev != nil {
		next = *prev
	}
	was := next.Status
	switch st := h.Status; {
	case st == StatusUnknown:
	case st == StatusExpiring:
		if was != StatusExpiring || !sameWindow(next.Window, h.ConnectionExpiry) {
			events = append(events, EventExpiring)
			w := h.ConnectionExpiry.UTC()
			next.Status, next.Window = st, &w
		}
	case st == was:
	case st == StatusNeedsReauth || st == StatusExpired:
		events = append(events, EventKind(st))
		next.Status, next.Window, next.RenewalFailed = st, nil, false
	case st == StatusOK:
		if problem(was) {
			events = append(events, EventRecovered)
			next.RenewalFailed = false
		}
		next.Status, next.Window = st, nil
	default: // not_connected: recorded, so that a new connection is not a recovery
		next.Status, next.Window, next.RenewalFailed = st, nil, false
	}
	if res != nil {
		events, next = decideRenewal(events, next, h, res)
	}
	// A first sight is recorded too (unless unknown), so the next event
	// can say what the status was before.
	changed = prev == nil && h.Status != StatusUnknown || prev != nil && !sameMark(*prev, next)
	return events, next, changed
}

// decideRenewal adds what a renewal says: a transient failure once until a
// renewal succeeds (then recovered). A definite rejection is the status's
// news (needs_reauth), not the renewal's.
func decideRenewal(events []EventKind, next NotifyMark, h Health, res *RenewResult) ([]EventKind, NotifyMark) {
	switch res.Outcome {
	case OutcomeFailed:
		if !next.RenewalFailed && h.Status != StatusNeedsReauth && h.Status != StatusExpired {
			events = append(events, EventRenewalFailed)
			next.RenewalFailed = true
		}
	case OutcomeRenewed:
		if next.RenewalFailed {
			next.RenewalFailed = false
			if !slices.Contains(events, EventRecovered) {
				events = append(events, EventRecovered)
			}
		}
	}
	return events, next
}

// sameWindow: an expiry estimate that moved by a minute or less is the
// same window (clocks and truncation), not a new warning.
func sameWindow(w *time.Time, exp time.Time) bool {
	if w == nil {
		return false
	}
	d := w.Sub(exp)
	return d <= time.Minute && d >= -time.Minute
}

func sameMark(a, b NotifyMark) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// event builds the event of kind about one profile.
func (r *notifyRun) event(kind EventKind, sub subject, rec *Record, h Health, prev Status, res *RenewResult) Event {
	ev := Event{
		Kind: kind, Profile: sub.name, Provider: sub.provider, Groups: slices.Clone(sub.groups),
		Account: CleanText(firstNonEmpty(rec.Account, rec.AccountID), 200),
		Status:  h.Status, Reason: string(h.Reason), PreviousStatus: prev,
		At: r.now.UTC().Truncate(time.Second), Host: r.host,
	}
	if !h.ConnectionExpiry.IsZero() {
		ev.ConnectionExpiresAt = utc(&h.ConnectionExpiry)
	}
	switch kind {
	case EventNeedsReauth, EventExpired, EventExpiring:
		ev.Fix = "sbctl reauth " + sub.name
	case EventRenewalFailed:
		ev.Fix = "sbctl refresh " + sub.name
		if res != nil {
			ev.Reason = string(res.Reason)
			ev.Detail = CleanText(res.Message, 300)
		}
	case EventRenewed:
		if res != nil {
			ev.Detail = "renewed; access expires " + formatWhen(res.ExpiresAt)
		}
	}
	return ev
}

func formatWhen(t *time.Time) string {
	if t == nil {
		return "at no known time"
	}
	return t.UTC().Format(time.RFC3339)
}

// send delivers ds concurrently, each within its sink's timeout and all
// within the run's budget. A sink that timed out gets no more of this
// run's events: they fail at once (and stay owed).
func (r *notifyRun) send(ctx context.Context, ds []delivery) (NotifyReport, []error) {
	ctx, cancel := context.WithTimeout(ctx, r.budget())
	defer cancel()
	errs := make([]error, len(ds))
	sems := map[*sink]chan struct{}{}
	stuck := map[*sink]*atomic.Bool{}
	for _, s := range r.sinks {
		sems[s], stuck[s] = make(chan struct{}, perSinkConcurrency), &atomic.Bool{}
	}
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Go(func() {
			select {
			case sems[d.sink] <- struct{}{}:
				defer func() { <-sems[d.sink] }()
			case <-ctx.Done():
				errs[i] = errNotSentInTime
				return
			}
			if stuck[d.sink].Load() {
				errs[i] = errSinkStuck
				return
			}
			errs[i] = d.sink.deliverWithin(ctx, d.event)
			if errors.Is(errs[i], errSinkTimeout) {
				stuck[d.sink].Store(true)
			}
		})
	}
	wg.Wait()
	var rep NotifyReport
	for i, d := range ds {
		res := SinkResult{Sink: d.sink.name, Event: d.event, Err: errs[i]}
		if errs[i] == nil {
			rep.Sent = append(rep.Sent, res)
		} else {
			rep.Failed = append(rep.Failed, res)
		}
	}
	return rep, errs
}

var (
	errNotSentInTime = errors.New("not sent: the time for this round of notifications ran out (or sbctl is stopping); it is tried again next time")
	errSinkStuck     = errors.New("not sent: the sink timed out on an earlier event; it is tried again next time")
)

// settle strikes what was delivered off what this run claimed, and lets
// the claims go; what failed stays owed for the next call. errs are the
// deliveries' outcomes, in ds order. It runs even when ctx ended: the
// record of what was sent must not be lost.
func (r *notifyRun) settle(ctx context.Context, ds []delivery, errs []error) error {
	done := map[string]map[int][]string{} // profile → owed index → sinks that had it
	for i, d := range ds {
		if d.owed < 0 {
			continue
		}
		if done[d.profile] == nil {
			done[d.profile] = map[int][]string{}
		}
		if errs[i] == nil {
			done[d.profile][d.owed] = append(done[d.profile][d.owed], d.sink.id)
		}
	}
	if len(done) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), LockTimeout)
	defer cancel()
	err := r.m.updateState(ctx, func(s *State) error {
		for name, had := range done {
			rec := s.Profiles[name]
			if rec == nil || rec.Notified == nil || rec.Notified.Claim != r.claim {
				continue // newer news replaced the claim meanwhile
			}
			mark := *rec.Notified
			mark.Owed = strike(mark.Owed, had)
			mark.Claim, mark.ClaimedUntil = "", nil
			rec.Notified = &mark
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording what was notified: %w; the sinks may hear of it again", err)
	}
	return nil
}

// strike removes the sinks that had each owed event; events no sink
// still owes go.
func strike(owed []OwedEvent, done map[int][]string) []OwedEvent {
	var out []OwedEvent
	for i, o := range owed {
		var left []string
		for _, id := range o.Sinks {
			if !slices.Contains(done[i], id) {
				left = append(left, id)
			}
		}
		if len(left) > 0 {
			out = append(out, OwedEvent{Event: o.Event, Sinks: left})
		}
	}
	return out
}

// NotifyTest sends a sample event of kind (needs_reauth when "") to every
// sink, whatever events it asks for: `sbctl notify test`. Nothing is
// recorded.
func (m *Manager) NotifyTest(ctx context.Context, kind EventKind) NotifyReport {
	if kind == "" {
		kind = EventNeedsReauth
	}
	if _, err := ParseEventKind(string(kind)); err != nil {
		return NotifyReport{Err: err}
	}
	r := m.newNotifyRun()
	if len(r.sinks) == 0 {
		return NotifyReport{Err: m.noSinksError()}
	}
	ev := r.sample(kind)
	ds := make([]delivery, len(r.sinks))
	for i, s := range r.sinks {
		ds[i] = delivery{sink: s, event: ev, owed: -1}
	}
	rep, _ := r.send(ctx, ds)
	return rep
}

// ErrNoSinks: the config has no `notify:` sinks.
var ErrNoSinks = errors.New("no notification sinks")

func (m *Manager) noSinksError() error {
	where := m.ConfigPath()
	if m.backend != nil && m.local != nil {
		where = m.local.Path
	}
	return fmt.Errorf("%w: %s has no `notify:` list; add a sink such as `notify: [{command: [\"/usr/local/bin/page-team\"], events: [needs_reauth, expired]}]`", ErrNoSinks, where)
}

// sample is the test event of kind: about no real profile, marked test.
func (r *notifyRun) sample(kind EventKind) Event {
	now := r.now.UTC().Truncate(time.Second)
	ev := Event{
		Kind: kind, Profile: "example", Provider: "example", Groups: []string{}, Account: "someone@example.com",
		Status: StatusNeedsReauth, Reason: string(auth.ReasonAccessRevoked), PreviousStatus: StatusOK,
		Fix: "sbctl reauth example", At: now, Host: r.host, Test: true,
	}
	switch kind {
	case EventExpired:
		ev.Status, ev.Reason = StatusExpired, string(auth.ReasonExpired)
		ev.ConnectionExpiresAt = &now
	case EventExpiring:
		exp := now.Add(3 * config.Day)
		ev.Status, ev.Reason, ev.ConnectionExpiresAt = StatusExpiring, "", &exp
	case EventRenewalFailed:
		ev.Status, ev.Reason, ev.Fix = StatusUnknown, "", "sbctl refresh example"
		ev.Detail = "the network did not answer (a sample event from sbctl notify test)"
	case EventRecovered, EventRenewed:
		ev.Status, ev.Reason, ev.Fix, ev.PreviousStatus = StatusOK, "", "", StatusNeedsReauth
	}
	return ev
}
