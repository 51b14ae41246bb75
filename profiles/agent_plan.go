package profiles

import (
	"context"
	"time"

	"github.com/sbctl/sbctl/auth/provider"
)

// fleet is the profiles as one listing saw it: the views, and the records
// behind them for what a view does not show (when a profile was last
// checked, whether a network refused it).
type fleet struct {
	views  []View
	byName map[string]*View
	recs   map[string]*Record
}

func (a *agent) look(ctx context.Context) (fleet, error) {
	views, err := a.m.List(ctx, Filter{})
	if err != nil {
		return fleet{}, err
	}
	s := fleet{views: views, byName: make(map[string]*View, len(views)), recs: map[string]*Record{}}
	for i := range views {
		s.byName[views[i].Name] = &views[i]
	}
	// The listing just read (or rebuilt) the state; a failure to read it
	// again only leaves the checks' times unknown, which makes them due.
	if st, _ := a.m.State.Load(); st != nil && st.Profiles != nil {
		s.recs = st.Profiles
	}
	return s, nil
}

// agentPlan is what a pass does: the renewals and checks that are due,
// and (Once) the profiles only a reauth can help, which Refresh answers
// from the state without contacting anyone, so that the pass reports them
// as `sbctl refresh --all` would.
type agentPlan struct {
	renew, report, verify []string
}

// verifyAfter is the checks still to make once renewals are done: a
// profile just renewed (or refused, or failing) needs no other question.
func (p agentPlan) verifyAfter(renewals []RenewResult) []string {
	asked := make(map[string]bool, len(renewals))
	for _, r := range renewals {
		asked[r.Name] = true
	}
	var out []string
	for _, n := range p.verify {
		if !asked[n] {
			out = append(out, n)
		}
	}
	return out
}

// plan decides what is due at now. Something due a little later (the
// slack) is done now too, so that a fleet whose tokens end a few seconds
// apart is served by one pass, not by one pass each.
func (a *agent) plan(s fleet, now time.Time) agentPlan {
	var p agentPlan
	for i := range s.views {
		v := &s.views[i]
		rec := s.recs[v.Name]
		a.unblock(v, rec)
		if a.o.Once && v.Status.NeedsAction() {
			p.report = append(p.report, v.Name)
		}
		if !a.eligible(v, rec) {
			continue
		}
		if due, ok := a.renewDue(v, now); ok && !due.After(now.Add(slack(a.margin))) && !backingOff(a.renewRetry[v.Name], now) {
			p.renew = append(p.renew, v.Name)
		}
		if due, ok := a.verifyDue(v, rec, now); ok && !due.After(now.Add(slack(a.verifyEvery))) && !backingOff(a.verifyRetry[v.Name], now) {
			p.verify = append(p.verify, v.Name)
		}
	}
	a.forgetRemoved(s)
	return p
}

// backingOff: a failed profile's wait has not ended (the slack does not
// shorten a backoff, nor a network's Retry-After).
func backingOff(r *retry, now time.Time) bool { return r != nil && now.Before(r.notBefore) }

// slack is how early something due may be done: a quarter of its period,
// at most a minute.
func slack(period time.Duration) time.Duration { return min(period/4, time.Minute) }

// next is when the next pass is due: the earliest renewal or check, at
// most maxWait away.
func (a *agent) next(s fleet, now time.Time) time.Time {
	next := now.Add(a.maxWait)
	for i := range s.views {
		v := &s.views[i]
		rec := s.recs[v.Name]
		if !a.eligible(v, rec) {
			continue
		}
		if due, ok := a.renewDue(v, now); ok && due.Before(next) {
			next = due
		}
		if due, ok := a.verifyDue(v, rec, now); ok && due.Before(next) {
			next = due
		}
	}
	return next
}

// eligible: the agent may renew or check the profile. Not when it has no
// token, a network refused it (until it is re-authenticated: no retry
// storms against a dead grant), or the agent saw a renewal refused.
func (a *agent) eligible(v *View, rec *Record) bool {
	switch v.Status {
	case StatusNotConnected, StatusNeedsReauth:
		return false
	}
	if rec != nil && rec.NeedsReauth {
		return false
	}
	_, refused := a.refused[v.Name]
	return !refused
}

// renewable: the profile's network renews it without the browser: with
// its refresh token, or (Meta) by exchanging the long-lived token itself.
func (a *agent) renewable(v *View) bool {
	cp, ok := a.m.config().Provider(v.Provider)
	if !ok {
		return false
	}
	pr, _ := provider.Lookup(cp.Type)
	switch pr.Renewal {
	case provider.RenewRefreshToken:
		return v.Renewable
	case provider.RenewFBExchange, provider.RenewIGRefreshToken, provider.RenewTHRefreshToken:
		return true
	}
	return false
}

// renewDue is when the profile is to be renewed: its access token's
// expiry less the margin, but (in the loop) never before half the token's
// life has passed, so a token shorter-lived than the margin is not renewed
// at every pass; its connection's end less the margin; and at least
// RefreshAtLeast after its last renewal. A failing
// profile waits for its backoff. ok is false when nothing makes it due.
func (a *agent) renewDue(v *View, now time.Time) (time.Time, bool) {
	if !a.renewable(v) {
		return time.Time{}, false
	}
	from := v.LastRefreshedAt
	if from == nil {
		from = v.ConnectedAt
	}
	var due time.Time
	if v.ExpiresAt != nil {
		due = v.ExpiresAt.Add(-a.margin)
		// A single pass (--once) renews what the margin says: the timer
		// or cron job that runs it sets the pace.
		if from != nil && from.Before(*v.ExpiresAt) && !a.o.Once {
			if half := from.Add(v.ExpiresAt.Sub(*from) / 2); half.After(due) {
				due = half
			}
		}
	}
	// The rule of `refresh --expiring-within` also counts the connection:
	// a renewal may extend a refresh token about to end (rotating networks
	// issue a fresh one). Once per window: a renewal that did not extend
	// it is not repeated at every pass.
	if c := v.ConnectionExpiresAt; c != nil {
		window := c.Add(-a.margin)
		if (from == nil || from.Before(window.Add(-slack(a.margin)))) && (due.IsZero() || window.Before(due)) {
			due = window
		}
	}
	if a.atLeast > 0 {
		at := now // never renewed that sbctl knows of
		if from != nil {
			at = from.Add(a.atLeast)
		}
		if due.IsZero() || at.Before(due) {
			due = at
		}
	}
	if due.IsZero() {
		return due, false
	}
	if r := a.renewRetry[v.Name]; r != nil && r.notBefore.After(due) {
		due = r.notBefore
	}
	return due, true
}

// verifyDue is when the profile is to be checked: VerifyEvery after it
// was last shown alive (connected, renewed or verified), or after its
// backoff.
func (a *agent) verifyDue(v *View, rec *Record, now time.Time) (time.Time, bool) {
	if a.verifyEvery <= 0 {
		return time.Time{}, false
	}
	due := now
	if rec != nil {
		if last := lastWrite(rec); !last.IsZero() {
			due = last.Add(a.verifyEvery)
		}
	}
	if r := a.verifyRetry[v.Name]; r != nil && r.notBefore.After(due) {
		due = r.notBefore
	}
	return due, true
}

// refuse stops the agent's attempts on a profile until its record changes.
func (a *agent) refuse(name string, v *View, now time.Time) {
	b := block{at: now}
	if v != nil && v.ConnectedAt != nil {
		b.connectedAt = *v.ConnectedAt
	}
	a.refused[name] = b
	delete(a.renewRetry, name)
	delete(a.verifyRetry, name)
}

// unblock lifts a refusal once the profile's record changed: a new
// connection (a reauth, an import), or someone renewed or verified it
// since without a refusal.
func (a *agent) unblock(v *View, rec *Record) {
	b, ok := a.refused[v.Name]
	if !ok {
		return
	}
	var connected time.Time
	if v.ConnectedAt != nil {
		connected = *v.ConnectedAt
	}
	if !connected.Equal(b.connectedAt) || (rec != nil && !rec.NeedsReauth && lastWrite(rec).After(b.at)) {
		delete(a.refused, v.Name)
		a.log.Info("profile changed; renewing and checking it again", "profile", v.Name, "provider", v.Provider, "status", string(v.Status))
	}
}

// forgetRemoved drops what the agent remembers of profiles no longer in
// the config.
func (a *agent) forgetRemoved(s fleet) {
	for _, m := range []map[string]*retry{a.renewRetry, a.verifyRetry} {
		for name := range m {
			if s.byName[name] == nil {
				delete(m, name)
			}
		}
	}
	for name := range a.refused {
		if s.byName[name] == nil {
			delete(a.refused, name)
		}
	}
}

// renew runs the pass's renewals through Refresh (its bounded pool and
// per-network rate limits) and learns from each outcome.
func (a *agent) renew(ctx context.Context, p agentPlan, s fleet) []RenewResult {
	names := append(append([]string(nil), p.renew...), p.report...)
	results, err := a.m.Refresh(ctx, RefreshOptions{Names: names, Concurrency: a.concurrency})
	now := a.m.now()
	if err != nil && ctx.Err() == nil {
		a.log.Error("renewals", "error", err.Error())
		if results == nil {
			// Nothing was tried (a profile removed meanwhile, a refused
			// permission): back off rather than ask again at once.
			for _, n := range p.renew {
				a.backoff(a.renewRetry, n, now, 0)
			}
		}
	}
	due := make(map[string]bool, len(p.renew))
	for _, n := range p.renew {
		due[n] = true
	}
	for _, r := range results {
		v := s.byName[r.Name]
		var wait time.Duration
		if due[r.Name] {
			wait = a.noteRenewal(r, v, now)
		}
		a.logRenewal(r, v, wait)
	}
	return results
}

// noteRenewal learns from one renewal; it returns the backoff it started
// (0: none).
func (a *agent) noteRenewal(r RenewResult, v *View, now time.Time) time.Duration {
	switch {
	case r.Interrupted:
	case r.Outcome == OutcomeRenewed || r.Outcome == OutcomeFresh:
		delete(a.renewRetry, r.Name)
	case r.Outcome == OutcomeNeedsReauth:
		a.refuse(r.Name, v, now)
	case r.Outcome == OutcomeFailed, r.Outcome == OutcomeNotRenewable:
		return a.backoff(a.renewRetry, r.Name, now, retryAfter(r.err))
	}
	return 0
}

func (a *agent) logRenewal(r RenewResult, v *View, wait time.Duration) {
	attrs := []any{"profile", r.Name}
	if v != nil {
		attrs = append(attrs, "provider", v.Provider)
	}
	switch {
	case r.MayHaveLost:
		a.log.Error("stopped while its renewal was in flight: the network may have replaced its refresh token", append(attrs, "fix", "sbctl profiles verify "+r.Name)...)
	case r.Interrupted:
		a.log.Info("renewal not started: stopping", attrs...)
	case r.Outcome == OutcomeRenewed:
		if r.ExpiresAt != nil {
			attrs = append(attrs, "expires_at", r.ExpiresAt.UTC().Format(time.RFC3339))
		}
		if r.Recovered != "" {
			attrs = append(attrs, "note", r.Message)
		}
		a.log.Info("renewed", attrs...)
	case r.Outcome == OutcomeFresh:
		a.log.Debug("still fresh", attrs...)
	case r.Outcome == OutcomeNeedsReauth:
		a.log.Warn("needs re-authentication", append(attrs, "reason", string(r.Reason), "message", r.Message, "fix", "sbctl reauth "+r.Name)...)
	case r.Outcome == OutcomeNotRenewable:
		a.log.Info("cannot be renewed now", append(attrs, "message", r.Message, "retry_in", wait.Round(time.Second).String())...)
	default:
		a.log.Warn("renewal failed", append(attrs, "error", r.Message, "retry_in", wait.Round(time.Second).String())...)
	}
}

// verify asks the networks about the pass's profiles due for a check.
func (a *agent) verify(ctx context.Context, names []string, s fleet) []VerifyResult {
	results, err := a.m.VerifyWith(ctx, VerifyOptions{Names: names, Concurrency: a.concurrency})
	now := a.m.now()
	if err != nil && ctx.Err() == nil {
		a.log.Error("checks", "error", err.Error())
		if results == nil {
			for _, n := range names {
				a.backoff(a.verifyRetry, n, now, 0)
			}
		}
	}
	for _, r := range results {
		v := s.byName[r.Name]
		attrs := []any{"profile", r.Name}
		if v != nil {
			attrs = append(attrs, "provider", v.Provider)
		}
		switch {
		case r.Failed:
			wait := a.backoff(a.verifyRetry, r.Name, now, 0)
			if ctx.Err() == nil {
				a.log.Warn("check failed", append(attrs, "error", r.Message, "retry_in", wait.Round(time.Second).String())...)
			}
		case r.Reason != "":
			a.refuse(r.Name, v, now)
			a.log.Warn("needs re-authentication", append(attrs, "status", string(r.Status), "reason", string(r.Reason), "message", r.Message, "fix", "sbctl reauth "+r.Name)...)
		default:
			delete(a.verifyRetry, r.Name)
			a.log.Debug("verified", append(attrs, "check", r.Check)...)
		}
	}
	return results
}
