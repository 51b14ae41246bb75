package profiles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/sbctl/sbctl/auth/provider"
	"github.com/sbctl/sbctl/profiles/team"
)

// The agent (`sbctl agent`) keeps a fleet alive unattended: each pass
// lists the profiles, renews those whose access token is about to end or
// has not been renewed for a long time, asks the networks about those not
// checked for a while, and tells the notification sinks of every change.
// Between passes it sleeps on a timer until the next thing is due (at
// most AgentMaxWait), so an idle agent costs nothing.

// Agent defaults (the flags of `sbctl agent`).
const (
	DefaultRefreshMargin  = 15 * time.Minute
	DefaultRefreshAtLeast = 24 * time.Hour
	DefaultVerifyEvery    = 6 * time.Hour
	// AgentMaxWait is the longest sleep between passes: a config edit, a
	// profile re-authenticated elsewhere, a connection entering its
	// `expiring` window or (team mode) a standby taking over are seen
	// within it.
	AgentMaxWait = time.Minute
)

// The failure discipline: a transient failure waits backoffFirst, then
// twice as long after each further one, up to backoffMax, less up to a
// fifth at random so that a fleet that failed together does not retry
// together; a network's Retry-After is honoured when longer.
const (
	backoffFirst = 30 * time.Second
	backoffMax   = time.Hour
	// agentMinWait keeps a pass from following another at once when
	// something is due again immediately (a clock jump, a failed listing).
	agentMinWait = time.Second
)

// AgentOptions tune RunAgent. Zero durations take the defaults; a
// negative RefreshAtLeast or VerifyEvery turns that schedule off.
type AgentOptions struct {
	// RefreshMargin: renew when the access token ends within it.
	RefreshMargin time.Duration
	// RefreshAtLeast: renew when the last renewal (or the sign-in) is older
	// than this, whatever the expiry: networks end grants unused for long
	// (Google after 6 months, 90-day idle limits), and Meta's long-lived
	// tokens are exchanged for fresh ones on this schedule.
	RefreshAtLeast time.Duration
	// VerifyEvery: ask the network about each profile not checked (or
	// renewed) for this long.
	VerifyEvery time.Duration
	// Once does one pass and returns (a timer or cron job).
	Once bool
	// Concurrency of the renewals and checks of a pass (0: DefaultConcurrency).
	Concurrency int
	// MaxWait replaces AgentMaxWait (tests).
	MaxWait time.Duration
	// Log receives the agent's log lines (names, outcomes, reasons,
	// durations: never a secret); nil discards them.
	Log *slog.Logger
	// OnPass is told of every pass when it ends (metrics).
	OnPass func(PassStats)
	// OnRenewal, OnVerify and OnNotify are told of each renewal, check
	// and delivery of a pass, as the pass ends.
	OnRenewal func(RenewResult)
	OnVerify  func(VerifyResult)
	OnNotify  func(SinkResult)
	// Wait sleeps until the next pass; nil is a real timer that ends early
	// with ctx. Tests advance a fake clock (Options.Now) instead.
	Wait func(ctx context.Context, d time.Duration) error

	// notify replaces Manager.NotifyTransitions (tests watch what a pass
	// hands on).
	notify func(ctx context.Context, views []View, renewals []RenewResult) NotifyReport
}

// PassStats is what one pass of the agent did.
type PassStats struct {
	// At is when the pass began (the Manager's clock); Took how long it
	// ran (the wall clock).
	At   time.Time
	Took time.Duration
	// Views are the profiles as the pass left them.
	Views []View
	// Renewed and Verified count the renewals that got a new token and
	// the checks the networks answered; Failed the renewals and checks
	// that failed for a transient reason (they back off).
	Renewed, Failed, Verified int
	// Renewals are the pass's renewals; with Once they also answer for
	// every profile that needs re-authentication, as `sbctl refresh --all`
	// does. Verifications are its checks; Notified its deliveries.
	Renewals      []RenewResult
	Verifications []VerifyResult
	Notified      NotifyReport
	// Next is when the next pass is due.
	Next time.Time
	// Standby: in team mode another agent is the team's active one, so
	// this pass did nothing (Views is empty).
	Standby bool
	// Err is why the pass could not list the profiles (a config file that
	// cannot be read, the team database out of reach); it is retried.
	Err error
}

// RunAgent runs the agent's passes until ctx ends, then returns the last
// pass's stats and nil: an interruption lets renewals in flight finish
// and store their tokens (GracePeriod) and starts nothing new. With Once
// it does one pass and returns its stats with the pass's error (ctx's,
// when interrupted).
//
// In team mode exactly one agent per team is active (team.AgentLease):
// the others stand by, try again at each pass, and one of them takes over
// within a pass of the active agent's connection ending.
func (m *Manager) RunAgent(ctx context.Context, o AgentOptions) (PassStats, error) {
	if err := m.mayDo(ctx, actRefresh, team.RoleMember); err != nil {
		return PassStats{}, err
	}
	a := newAgent(m, o)
	defer a.releaseLease()
	a.log.Info("agent started", "profiles", len(m.config().Profiles), "refresh_margin", a.margin.String(),
		"refresh_at_least", durationOrOff(a.atLeast), "verify_every", durationOrOff(a.verifyEvery), "team", m.TeamMode(), "once", o.Once)
	started := m.now()
	for {
		st := a.pass(ctx)
		a.finish(st, started)
		if o.Once {
			a.writeStatus(st, started, true)
			if st.Err == nil && ctx.Err() != nil {
				st.Err = ctx.Err()
			}
			return st, st.Err
		}
		if ctx.Err() != nil {
			break
		}
		if err := a.wait(ctx, st.Next.Sub(m.now())); err != nil || ctx.Err() != nil {
			break
		}
	}
	a.writeStatus(a.last, started, true)
	a.log.Info("agent stopped")
	return a.last, nil
}

func durationOrOff(d time.Duration) string {
	if d <= 0 {
		return "off"
	}
	return d.String()
}

// agent is one RunAgent's memory between passes: what failed and when to
// try again, and what was refused until its record changes.
type agent struct {
	m   *Manager
	o   AgentOptions
	log *slog.Logger

	margin, atLeast, verifyEvery, maxWait time.Duration
	concurrency                           int

	// renewRetry and verifyRetry are the profiles backing off after a
	// transient failure; refused those a network refused (see block).
	renewRetry, verifyRetry map[string]*retry
	refused                 map[string]block

	// db is the team database (nil in file mode); lease is held while
	// this agent is the team's active one.
	db       *team.DB
	lease    *team.AgentLease
	standing bool   // the standby was logged (said once, not every pass)
	leaseErr string // the last failure to take the lease that was logged
	// leaseFailure is why the last try to take the lease failed (nil when
	// it was only held by another agent): a --once pass reports it.
	leaseFailure error

	// notify delivers a pass's events (Manager.NotifyTransitions; tests
	// watch it).
	notify func(ctx context.Context, views []View, renewals []RenewResult) NotifyReport
	// jitter returns a random duration in [0, d).
	jitter func(d time.Duration) time.Duration

	last PassStats
}

// retry is one profile's backoff: failures in a row, and not before when
// the next attempt goes.
type retry struct {
	failures  int
	notBefore time.Time
}

// block: the network refused the profile's grant (or only a reauth can
// help), so the agent does not try it again until its record changes: a
// new connection (connectedAt differs), or a record written after at
// that no longer says needs_reauth (someone renewed or verified it).
type block struct {
	connectedAt time.Time
	at          time.Time
}

func newAgent(m *Manager, o AgentOptions) *agent {
	a := &agent{
		m: m, o: o, log: o.Log,
		margin: o.RefreshMargin, atLeast: o.RefreshAtLeast, verifyEvery: o.VerifyEvery,
		maxWait: o.MaxWait, concurrency: o.Concurrency,
		renewRetry: map[string]*retry{}, verifyRetry: map[string]*retry{}, refused: map[string]block{},
		db:     teamDBOf(m),
		notify: m.NotifyTransitions,
		jitter: func(d time.Duration) time.Duration { return rand.N(d) },
	}
	if o.notify != nil {
		a.notify = o.notify
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.margin <= 0 {
		a.margin = DefaultRefreshMargin
	}
	if a.atLeast == 0 {
		a.atLeast = DefaultRefreshAtLeast
	}
	if a.verifyEvery == 0 {
		a.verifyEvery = DefaultVerifyEvery
	}
	if a.maxWait <= 0 {
		a.maxWait = AgentMaxWait
	}
	if a.concurrency == 0 {
		a.concurrency = DefaultConcurrency
	}
	return a
}

// teamDBOf is the team database behind m's backend, nil in file mode (and
// for a test's stand-in backend, which has no agent lease).
func teamDBOf(m *Manager) *team.DB {
	if m.backend == nil {
		return nil
	}
	return m.backend.db
}

// wait sleeps d (bounded to agentMinWait..maxWait) or until ctx ends.
func (a *agent) wait(ctx context.Context, d time.Duration) error {
	d = min(max(d, agentMinWait), a.maxWait)
	if a.o.Wait != nil {
		return a.o.Wait(ctx, d)
	}
	return sleepContext(ctx, d)
}

// finish hands the pass on (OnPass, the per-item callbacks), logs it and
// records it in the agent's status file.
func (a *agent) finish(st PassStats, started time.Time) {
	for _, r := range st.Renewals {
		if a.o.OnRenewal != nil {
			a.o.OnRenewal(r)
		}
	}
	for _, r := range st.Verifications {
		if a.o.OnVerify != nil {
			a.o.OnVerify(r)
		}
	}
	for _, list := range [][]SinkResult{st.Notified.Sent, st.Notified.Failed} {
		for _, r := range list {
			if a.o.OnNotify != nil {
				a.o.OnNotify(r)
			}
		}
	}
	if a.o.OnPass != nil {
		a.o.OnPass(st)
	}
	if !st.Standby && st.Err == nil {
		// A pass that found nothing to do is the minute's look at the
		// config: not worth a line a minute in the journal.
		level := slog.LevelDebug
		if len(st.Renewals)+len(st.Verifications)+len(st.Notified.Sent)+len(st.Notified.Failed) > 0 {
			level = slog.LevelInfo
		}
		a.log.Log(context.Background(), level, "pass", "profiles", len(st.Views), "renewed", st.Renewed, "failed", st.Failed, "verified", st.Verified,
			"notified", len(st.Notified.Sent), "took", st.Took.Round(time.Millisecond).String(), "next", st.Next.UTC().Format(time.RFC3339))
	}
	a.last = st
	if !a.o.Once {
		a.writeStatus(st, started, false)
	}
}

// active makes sure this agent may work: always in file mode; in team
// mode while it holds the team's agent lease, which it checks (or tries to
// take) at every pass.
func (a *agent) active(ctx context.Context) bool {
	if a.db == nil {
		return true
	}
	// Each call is bounded by the database's timeout; a stop arriving
	// meanwhile must not pass for a lost lease.
	ctx = context.WithoutCancel(ctx)
	if a.lease != nil {
		err := a.lease.Held(ctx)
		if err == nil {
			return true
		}
		a.lease = nil
		a.log.Warn("lost the team's agent lease; standing by", "error", err.Error())
	}
	lease, ok, err := a.db.AgentLease(ctx)
	a.leaseFailure = err
	switch {
	case err != nil:
		if err.Error() != a.leaseErr { // said once per problem, not every pass
			a.log.Warn("cannot take the team's agent lease; standing by", "error", err.Error())
			a.leaseErr = err.Error()
		}
		return false
	case !ok:
		a.leaseErr = ""
		if !a.standing {
			a.log.Info("standing by: another agent is active for this team; taking over when it stops")
			a.standing = true
		}
		return false
	}
	a.lease, a.standing, a.leaseErr = lease, false, ""
	a.log.Info("active: this agent keeps the team's profiles alive")
	return true
}

func (a *agent) releaseLease() {
	if a.lease != nil {
		a.lease.Release()
		a.lease = nil
	}
}

// pass does one round of the agent's work.
func (a *agent) pass(ctx context.Context) (st PassStats) {
	began := time.Now()
	st.At = a.m.now()
	defer func() { st.Took = time.Since(began) }()
	if !a.active(ctx) {
		st.Standby = true
		st.Next = st.At.Add(a.maxWait)
		if a.o.Once && a.leaseFailure != nil {
			// A cron line must not read "all fine" from a pass that
			// renewed and checked nothing.
			st.Err = fmt.Errorf("cannot take the team's agent lease (%w); nothing was renewed or checked", a.leaseFailure)
		}
		return st
	}
	snap, err := a.look(ctx)
	if err != nil {
		st.Err, st.Next = err, st.At.Add(a.maxWait)
		if ctx.Err() == nil {
			a.log.Error("cannot list the profiles; trying again", "error", err.Error(), "retry_in", a.maxWait.String())
		}
		return st
	}
	st.Views = snap.views
	p := a.plan(snap, st.At)
	if len(p.renew)+len(p.report) > 0 {
		st.Renewals = a.renew(ctx, p, snap)
	}
	if verify := p.verifyAfter(st.Renewals); len(verify) > 0 && ctx.Err() == nil {
		st.Verifications = a.verify(ctx, verify, snap)
	}
	if len(st.Renewals)+len(st.Verifications) > 0 {
		if after, err := a.look(context.WithoutCancel(ctx)); err == nil {
			snap = after
			st.Views = snap.views
		}
	}
	if ctx.Err() == nil {
		st.Notified = a.deliver(ctx, st.Views, st.Renewals)
	}
	st.Renewed, st.Failed, st.Verified = tally(st.Renewals, st.Verifications)
	st.Next = a.next(snap, a.m.now())
	return st
}

func tally(renewals []RenewResult, checks []VerifyResult) (renewed, failed, verified int) {
	for _, r := range renewals {
		switch {
		case r.Interrupted:
		case r.Outcome == OutcomeRenewed:
			renewed++
		case r.Outcome == OutcomeFailed:
			failed++
		}
	}
	for _, r := range checks {
		if r.Failed {
			failed++
		} else {
			verified++
		}
	}
	return renewed, failed, verified
}

// deliver tells the sinks what changed; a failed sink is said, and tried
// again next time (NotifyTransitions remembers what it sent).
func (a *agent) deliver(ctx context.Context, views []View, renewals []RenewResult) NotifyReport {
	rep := a.notify(ctx, views, renewals)
	for _, r := range rep.Sent {
		a.log.Info("notified", "sink", r.Sink, "event", string(r.Event.Kind), "profile", r.Event.Profile)
	}
	for _, r := range rep.Failed {
		msg := "unknown error"
		if r.Err != nil {
			msg = r.Err.Error()
		}
		a.log.Warn("notification failed; trying again next pass", "sink", r.Sink, "event", string(r.Event.Kind), "profile", r.Event.Profile, "error", msg)
	}
	return rep
}

// backoff records one more transient failure of name in rs and returns
// the wait before the next attempt: backoffFirst doubling up to
// backoffMax, less up to a fifth at random; retryAfter when the network
// asked for longer.
func (a *agent) backoff(rs map[string]*retry, name string, now time.Time, retryAfter time.Duration) time.Duration {
	r := rs[name]
	if r == nil {
		r = &retry{}
		rs[name] = r
	}
	r.failures++
	d := backoffFirst
	for i := 1; i < r.failures && d < backoffMax; i++ {
		d *= 2
	}
	d = min(d, backoffMax)
	d -= a.jitter(d / 5)
	if retryAfter > d {
		d = retryAfter
	}
	r.notBefore = now.Add(d)
	return d
}

// retryAfter is the wait a network asked for with its failure (0: none).
func retryAfter(err error) time.Duration {
	var pe *provider.Error
	if errors.As(err, &pe) {
		return pe.RetryAfter
	}
	return 0
}
