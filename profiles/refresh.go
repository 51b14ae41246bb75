package profiles

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/sbctl/sbctl/auth/provider"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
	"github.com/sbctl/sbctl/profiles/team"
)

// DefaultConcurrency is how many profiles `refresh` and `verify` handle at
// once; MaxConcurrency bounds what a user may ask for (networks throttle
// bursts, and each profile holds a lock file and a connection).
const (
	DefaultConcurrency = 8
	MaxConcurrency     = 64
)

// CheckConcurrency refuses a parallelism outside 1..MaxConcurrency.
func CheckConcurrency(n int) error {
	if n < 1 || n > MaxConcurrency {
		return &UsageError{Msg: fmt.Sprintf("--concurrency %d: use 1 to %d", n, MaxConcurrency)}
	}
	return nil
}

// RefreshOptions select what `sbctl refresh` renews.
type RefreshOptions struct {
	// Names are renewed whatever their expiry.
	Names []string
	// All renews every connected profile (that its network lets renew).
	All bool
	// ExpiringWithin, when set, keeps only profiles whose access token or
	// connection ends within the window.
	ExpiringWithin time.Duration
	Concurrency    int
	// Progress is told of each finished profile (from several goroutines,
	// one at a time).
	Progress func(done, total int, r RenewResult)
}

// Refresh renews many profiles with bounded parallelism and per-network
// rate limits. Profiles that only a reauth can help are reported, not
// contacted.
func (m *Manager) Refresh(ctx context.Context, o RefreshOptions) ([]RenewResult, error) {
	if err := m.mayDo(ctx, actRefresh, team.RoleMember); err != nil {
		return nil, err
	}
	conc := o.Concurrency
	if conc == 0 {
		conc = DefaultConcurrency
	}
	if err := CheckConcurrency(conc); err != nil {
		return nil, err
	}
	selected, err := m.selectProfiles(o.Names, o.All)
	if err != nil {
		return nil, err
	}
	st, err := m.loadState(ctx)
	if err != nil {
		return nil, err
	}
	results, work, force := m.triage(ctx, selected, st, o)
	out := make([]RenewResult, len(work))
	limits := newRateLimits()
	var mu sync.Mutex
	done, total := len(results), len(results)+len(work)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for i, p := range work {
		g.Go(func() error {
			r := m.renewOne(gctx, p, renewOptions{Force: force[p.Name], Retries: 3, Wait: limits.waiter(m, p.Provider)})
			out[i] = r
			mu.Lock()
			done++
			if o.Progress != nil {
				o.Progress(done, total, r)
			}
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	results = append(results, out...)
	// A refresh that failed stored nothing, so no write carries its audit
	// event: the team's log gets one of its own (rejections by the
	// network are logged with the token they mark).
	for _, r := range out {
		if r.Outcome == OutcomeFailed {
			m.audit(context.WithoutCancel(ctx), auditRefreshFailed, r.Name, r.Message)
		}
	}
	if err := m.saveRecords(context.WithoutCancel(ctx), out); err != nil {
		return results, err
	}
	return results, ctx.Err()
}

// selectProfiles is the named profiles, then (with all) every other one,
// in config order.
func (m *Manager) selectProfiles(names []string, all bool) ([]*config.Profile, error) {
	var selected []*config.Profile
	seen := map[string]bool{}
	for _, n := range names {
		p, err := m.Profile(n)
		if err != nil {
			return nil, err
		}
		if !seen[p.Name] {
			selected = append(selected, p)
			seen[p.Name] = true
		}
	}
	if all {
		for _, p := range m.current().Profiles {
			if !seen[p.Name] {
				selected = append(selected, p)
			}
		}
	}
	return selected, nil
}

// triage sorts the selected profiles into those answered from the state
// alone (never connected, known dead, not ending within the window) and
// those to renew; force says which renewals go ahead whatever the token's
// expiry.
func (m *Manager) triage(ctx context.Context, selected []*config.Profile, st *State, o RefreshOptions) (done []RenewResult, work []*config.Profile, force map[string]bool) {
	now := m.now()
	force = map[string]bool{}
	for _, n := range o.Names {
		if p, err := m.Profile(n); err == nil {
			force[p.Name] = true
		}
	}
	for _, p := range selected {
		rec := st.Profiles[p.Name]
		switch {
		case (rec == nil || !rec.Connected) && !m.holdsToken(ctx, p.Name):
			done = append(done, RenewResult{Name: p.Name, Outcome: OutcomeNeedsReauth, Message: "never connected"})
			continue
		case rec == nil || !rec.Connected:
			// The store holds a token the state does not know of (an
			// import killed between the two): renew it, which records it.
			force[p.Name] = true
		case rec.NeedsReauth:
			done = append(done, RenewResult{Name: p.Name, Outcome: OutcomeNeedsReauth, Reason: rec.Reason, Message: rec.Reason.Explain()})
			continue
		case o.ExpiringWithin > 0 && !endsWithin(rec, now, o.ExpiringWithin):
			done = append(done, RenewResult{Name: p.Name, Outcome: OutcomeFresh, ExpiresAt: utc(rec.ExpiresAt)})
			continue
		}
		force[p.Name] = force[p.Name] || o.ExpiringWithin > 0 || o.All
		work = append(work, p)
	}
	return done, work, force
}

// holdsToken reports whether the token store has a token for the profile
// (an unreadable store counts as yes: the renewal then says what is wrong).
func (m *Manager) holdsToken(ctx context.Context, name string) bool {
	st, err := m.Store()
	if err != nil {
		return true
	}
	_, err = store.GetToken(ctx, st, name)
	return !errors.Is(err, store.ErrNotFound)
}

// endsWithin: the access token or the connection ends within the window.
func endsWithin(rec *Record, now time.Time, window time.Duration) bool {
	if rec.ExpiresAt != nil && rec.ExpiresAt.Sub(now) <= window {
		return true
	}
	exp, _ := connectionExpiry(rec)
	return !exp.IsZero() && exp.Sub(now) <= window
}

// rateLimits keeps one limiter per provider. Networks get a polite default
// (their token endpoints throttle bursts); generic and sandbox providers,
// which are the user's own servers, get none.
type rateLimits struct {
	mu sync.Mutex
	by map[string]*rate.Limiter
}

func newRateLimits() *rateLimits { return &rateLimits{by: map[string]*rate.Limiter{}} }

// NetworkRate is the request rate allowed per network during a refresh.
const NetworkRate = 20

func (l *rateLimits) waiter(m *Manager, providerName string) func(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.by[providerName]
	if !ok {
		lim = rate.NewLimiter(rate.Inf, 0)
		if cp, found := m.config().Provider(providerName); found && cp.Type != provider.TypeOIDC && cp.Type != provider.TypeOAuth2 {
			lim = rate.NewLimiter(NetworkRate, NetworkRate)
		}
		l.by[providerName] = lim
	}
	return lim.Wait
}
