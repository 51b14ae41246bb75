package profiles

import (
	"context"
	"errors"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
	"github.com/sbctl/sbctl/profiles/team"
)

// VerifyResult is one profile's answer from its network.
type VerifyResult struct {
	Name    string      `json:"name"`
	Valid   bool        `json:"valid"`
	Reason  auth.Reason `json:"reason,omitempty"`
	Check   string      `json:"check,omitempty"`
	Message string      `json:"message,omitempty"`
	Failed  bool        `json:"failed,omitempty"` // the question could not be answered
	// Status is the profile's status once the answer is recorded.
	Status Status `json:"status"`
}

// Verify asks each profile's network whether its grant is still good
// (introspection, debug_token, tokeninfo, userinfo or "me"), concurrently,
// and records the answers: a rejection marks the profile needs_reauth with
// its reason; a temporary failure changes nothing but `unknown`.
func (m *Manager) Verify(ctx context.Context, names []string, all bool, concurrency int) ([]VerifyResult, error) {
	return m.VerifyWith(ctx, VerifyOptions{Names: names, All: all, Concurrency: concurrency})
}

// VerifyOptions select what VerifyWith asks about, as RefreshOptions do for
// Refresh.
type VerifyOptions struct {
	// Names are checked; with All, every profile is (Names must still
	// exist).
	Names       []string
	All         bool
	Concurrency int // 0: DefaultConcurrency
	// Progress is told of each answered profile (from several goroutines,
	// one at a time), so a front end can show how far a long check is.
	Progress func(done, total int, r VerifyResult)
}

// VerifyWith is Verify with every option.
func (m *Manager) VerifyWith(ctx context.Context, o VerifyOptions) ([]VerifyResult, error) {
	if err := m.mayDo(ctx, actVerify, team.RoleMember); err != nil {
		return nil, err
	}
	var selected []*config.Profile
	if o.All {
		selected = m.config().Profiles
	}
	for _, n := range o.Names {
		p, err := m.Profile(n)
		if err != nil {
			return nil, err
		}
		if !o.All {
			selected = append(selected, p)
		}
	}
	concurrency := o.Concurrency
	if concurrency == 0 {
		concurrency = DefaultConcurrency
	}
	if err := CheckConcurrency(concurrency); err != nil {
		return nil, err
	}
	// A renewed token waiting in a recovery file is the grant: move it in
	// first, so the check asks about it.
	_, _ = m.RestoreRecovered(ctx)
	results := make([]VerifyResult, len(selected))
	updates := make([]RenewResult, len(selected))
	var mu sync.Mutex
	done := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for i, p := range selected {
		g.Go(func() error {
			vr, upd := m.verifyOne(gctx, p)
			upd.at = m.now()
			mu.Lock()
			results[i], updates[i] = vr, upd
			done++
			if o.Progress != nil {
				o.Progress(done, len(selected), vr)
			}
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	if err := m.saveRecords(context.WithoutCancel(ctx), updates); err != nil {
		return results, err
	}
	if st, err := m.State.Load(); err == nil {
		now, window := m.now(), m.config().Defaults.ExpiringWithin
		for i, p := range selected {
			results[i].Status = Evaluate(st.Profiles[p.Name], now, window).Status
		}
	}
	return results, ctx.Err()
}

func (m *Manager) verifyOne(ctx context.Context, p *config.Profile) (VerifyResult, RenewResult) {
	vr := VerifyResult{Name: p.Name}
	upd := RenewResult{Name: p.Name}
	// Every failure to get an answer leaves the profile unknown, with why:
	// a check that could not be made is never taken for a good one.
	failed := func(err error) (VerifyResult, RenewResult) {
		vr.Failed, vr.Message = true, err.Error()
		upd.update = unknownRecord(err)
		return vr, upd
	}
	st, err := m.Store()
	if err != nil {
		return failed(err)
	}
	tok, err := store.GetToken(ctx, st, p.Name)
	if errors.Is(err, store.ErrNotFound) {
		vr.Message = "no token is stored (never connected, or its token was deleted)"
		upd.update = goneRecord
		return vr, upd
	}
	if err != nil {
		return failed(err)
	}
	// Checks other than introspection look at the access token: renew a
	// lapsed one first, so an expired access token is not taken for a
	// dead grant.
	renewed := false
	if !tok.Expiry.IsZero() && !m.now().Before(tok.Expiry) && tok.HasRefresh() {
		r := m.renewOne(ctx, p, renewOptions{Retries: 1})
		if done, vres, ures := verdictOfRenewal(vr, upd, r); done {
			return vres, ures
		}
		tok, upd.update, renewed = r.token, r.update, true
	}
	prov, err := m.providerFor(ctx, p.Provider, p.Scopes)
	if err != nil {
		return failed(err)
	}
	v, err := prov.Verify(ctx, tok)
	m.warnSkew(prov)
	if errors.Is(err, provider.ErrCheckByRenewal) && tok.HasRefresh() && !renewed {
		// The network cannot say (a public client may not introspect,
		// userinfo refuses without a reason): a renewal is the proof.
		r := m.renewOne(ctx, p, renewOptions{Force: true, Retries: 1})
		if done, vres, ures := verdictOfRenewal(vr, upd, r); done {
			return vres, ures
		}
		vr.Check, vr.Valid = CheckRenewal, true
		return vr, m.validVerdict(upd, r.update, &provider.Verdict{Valid: true, Expiry: r.token.Expiry})
	}
	if err != nil {
		return failed(err)
	}
	if !v.Valid && v.Reason == auth.ReasonExpired && tok.HasRefresh() && !renewed {
		// The network says the access token lapsed before sbctl's own
		// estimate: that is no verdict on the grant. Renew, and ask again
		// with the new token.
		r := m.renewOne(ctx, p, renewOptions{Force: true, Retries: 1})
		if done, vres, ures := verdictOfRenewal(vr, upd, r); done {
			return vres, ures
		}
		tok, upd.update = r.token, r.update
		if v, err = prov.Verify(ctx, tok); err != nil {
			return failed(err)
		}
	}
	return m.applyVerdict(ctx, p.Name, tok, v, vr, upd)
}

// applyVerdict turns the network's answer on tok into the check's result and
// the record update that stores it.
func (m *Manager) applyVerdict(ctx context.Context, name string, tok *auth.Token, v *provider.Verdict, vr VerifyResult, upd RenewResult) (VerifyResult, RenewResult) {
	vr.Check = string(v.Check)
	if v.Valid {
		vr.Valid = true
		m.noteVerdict(ctx, name, tok, "")
		return vr, m.validVerdict(upd, upd.update, v)
	}
	reason := v.Reason
	if reason == "" {
		reason = auth.ReasonInvalid
	}
	vr.Reason, vr.Message = reason, reason.Explain()
	m.noteVerdict(ctx, name, tok, reason)
	now := m.now().UTC()
	dead := deadRecord(reason, reason.Explain(), m.endedAt(tok))
	upd.update = func(cur *Record) *Record {
		cur = dead(cur)
		cur.LastVerifiedAt = &now
		return cur
	}
	return vr, upd
}

// verdictOfRenewal turns a renewal done for a check into the check's
// answer when the renewal already decided it (a rejection, a failure);
// done is false when the renewal worked and the check goes on.
func verdictOfRenewal(vr VerifyResult, upd RenewResult, r RenewResult) (done bool, _ VerifyResult, _ RenewResult) {
	switch r.Outcome {
	case OutcomeRenewed, OutcomeFresh:
		return false, vr, upd
	case OutcomeNeedsReauth:
		vr.Reason, vr.Message = r.Reason, r.Message
		upd.update = r.update
		return true, vr, upd
	}
	vr.Failed, vr.Message = true, r.Message
	upd.update = r.update
	if upd.update == nil && r.err != nil {
		upd.update = unknownRecord(r.err)
	}
	return true, vr, upd
}

// CheckRenewal names the check made by renewing with the refresh token,
// where the network offers no other way to ask.
const CheckRenewal = "renewal"

func (m *Manager) validVerdict(upd RenewResult, prev func(*Record) *Record, v *provider.Verdict) RenewResult {
	upd.update = m.verifiedRecord(prev, v)
	return upd
}

// verifiedRecord records a good answer on top of what a renewal done for
// the check changed (prev, may be nil).
func (m *Manager) verifiedRecord(prev func(*Record) *Record, v *provider.Verdict) func(*Record) *Record {
	now := m.now().UTC()
	return func(cur *Record) *Record {
		if prev != nil {
			cur = prev(cur)
		}
		cur.Connected, cur.NeedsReauth, cur.Reason, cur.Unknown, cur.LastError, cur.EndedAt, cur.Rebuilt = true, false, "", false, "", nil, false
		cur.LastVerifiedAt = &now
		if !v.DataAccessExpiry.IsZero() {
			d := v.DataAccessExpiry.UTC()
			cur.ConsentExpiresAt = &d
		}
		if !v.Expiry.IsZero() {
			e := v.Expiry.UTC()
			cur.ExpiresAt = &e
		}
		switch {
		case !v.RefreshExpiry.IsZero():
			e := v.RefreshExpiry.UTC()
			cur.RefreshExpiresAt = &e
		case cur.RefreshExpiresAt != nil && !now.Before(*cur.RefreshExpiresAt):
			// The grant was just shown alive: a refresh expiry that our
			// clock says passed was a wrong prediction.
			cur.RefreshExpiresAt = nil
		}
		return cur
	}
}
