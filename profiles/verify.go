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
)

// VerifyResult is one profile's answer from its network.
type VerifyResult struct {
	Name    string      `json:"name"`
	Valid   bool        `json:"valid"`
	Reason  auth.Reason `json:"reason,omitempty"`
	Check   string      `json:"check,omitempty"`
	Message string      `json:"message,omitempty"`
	Failed  bool        `json:"failed,omitempty"` // the question could not be answered
}

// Verify asks each profile's network whether its grant is still good
// (introspection, debug_token, tokeninfo, userinfo or "me"), concurrently,
// and records the answers: a rejection marks the profile needs_reauth with
// its reason; a temporary failure changes nothing but `unknown`.
func (m *Manager) Verify(ctx context.Context, names []string, all bool, concurrency int) ([]VerifyResult, error) {
	var selected []*config.Profile
	if all {
		selected = m.Config.Profiles
	}
	for _, n := range names {
		p, err := m.Profile(n)
		if err != nil {
			return nil, err
		}
		if !all {
			selected = append(selected, p)
		}
	}
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	results := make([]VerifyResult, len(selected))
	updates := make([]RenewResult, len(selected))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for i, p := range selected {
		g.Go(func() error {
			vr, upd := m.verifyOne(gctx, p)
			upd.at = m.now()
			mu.Lock()
			results[i], updates[i] = vr, upd
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	if err := m.saveRecords(context.WithoutCancel(ctx), updates); err != nil {
		return results, err
	}
	return results, ctx.Err()
}

func (m *Manager) verifyOne(ctx context.Context, p *config.Profile) (VerifyResult, RenewResult) {
	vr := VerifyResult{Name: p.Name}
	upd := RenewResult{Name: p.Name}
	failed := func(err error) (VerifyResult, RenewResult) {
		vr.Failed, vr.Message = true, err.Error()
		var pe *provider.Error
		if errors.As(err, &pe) && pe.Kind == provider.KindTransient {
			upd.update = unknownRecord(err)
		}
		return vr, upd
	}
	st, err := m.Store()
	if err != nil {
		return failed(err)
	}
	tok, err := store.GetToken(ctx, st, p.Name)
	if errors.Is(err, store.ErrNotFound) {
		vr.Message = "never connected"
		return vr, upd
	}
	if err != nil {
		return failed(err)
	}
	// Checks other than introspection look at the access token: renew a
	// lapsed one first, so an expired access token is not taken for a
	// dead grant.
	if !tok.Expiry.IsZero() && !m.now().Before(tok.Expiry) && tok.HasRefresh() {
		r := m.renewOne(ctx, p, renewOptions{Retries: 1})
		switch r.Outcome {
		case OutcomeRenewed, OutcomeFresh:
			tok = r.token
			upd.update = r.update
		case OutcomeNeedsReauth:
			vr.Reason, vr.Message = r.Reason, r.Message
			upd.update = r.update
			return vr, upd
		default:
			return failed(r.err)
		}
	}
	prov, err := m.providerFor(ctx, p.Provider, p.Scopes)
	if err != nil {
		return failed(err)
	}
	v, err := prov.Verify(ctx, tok)
	if err != nil {
		return failed(err)
	}
	vr.Check = v.Check
	now := m.now().UTC()
	prev := upd.update
	if v.Valid {
		vr.Valid = true
		upd.update = func(cur *Record) *Record {
			if prev != nil {
				cur = prev(cur)
			}
			cur.Connected, cur.NeedsReauth, cur.Reason, cur.Unknown, cur.LastError = true, false, "", false, ""
			cur.LastVerifiedAt = &now
			if !v.DataAccessExpiry.IsZero() {
				d := v.DataAccessExpiry.UTC()
				cur.ConsentExpiresAt = &d
			}
			if !v.Expiry.IsZero() {
				e := v.Expiry.UTC()
				cur.ExpiresAt = &e
			}
			return cur
		}
		return vr, upd
	}
	reason := v.Reason
	if reason == "" {
		reason = auth.ReasonInvalid
	}
	vr.Reason, vr.Message = reason, reason.Explain()
	upd.update = func(cur *Record) *Record {
		cur = deadRecord(reason, reason.Explain())(cur)
		cur.LastVerifiedAt = &now
		return cur
	}
	return vr, upd
}
