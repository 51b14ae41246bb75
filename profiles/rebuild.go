package profiles

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/store"
)

// loadState reads the state file, rebuilding it from the token store when
// it is missing or corrupt while profiles are configured.
func (m *Manager) loadState(ctx context.Context) (*State, error) {
	st, err := m.State.Load()
	switch {
	case err == nil:
		return st, nil
	case errors.Is(err, errStateMissing) && len(m.config().Profiles) == 0:
		return st, nil
	case errors.Is(err, errStateMissing), errors.Is(err, ErrStateCorrupt):
		return m.rebuildState(ctx, err)
	}
	return nil, err
}

// updateState applies change to the state file. A missing or corrupt
// state is rebuilt from the token store first (when profiles are
// configured), so a write never turns the other profiles into
// not_connected.
func (m *Manager) updateState(ctx context.Context, change func(*State) error) error {
	if _, err := m.State.Load(); err != nil && len(m.config().Profiles) > 0 &&
		(errors.Is(err, errStateMissing) || errors.Is(err, ErrStateCorrupt)) {
		if _, err := m.rebuildState(ctx, err); err != nil {
			return err
		}
	}
	return m.State.Update(ctx, change)
}

// rebuildState asks the token store which profiles hold a token. It is the
// only time listing touches the keychain; afterwards the state file exists.
func (m *Manager) rebuildState(ctx context.Context, why error) (*State, error) {
	// A missing state file is the normal first run with a hand-written
	// config: rebuild quietly. A corrupt one is news.
	if errors.Is(why, ErrStateCorrupt) {
		what := "is corrupt"
		if strings.Contains(why.Error(), errNotRegular.Error()) {
			what = "is " + errNotRegular.Error()
		}
		m.warnOut(Warning{Text: fmt.Sprintf("the state file %s %s (kept as %s.corrupt); rebuilding it from the token store…", m.State.Path, what, m.State.Path), StateRebuilt: true})
	}
	st := &State{Version: stateVersion, Profiles: map[string]*Record{}}
	s, err := m.Store()
	if err != nil {
		return m.unknownState(err), nil
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, p := range m.config().Profiles {
		g.Go(func() error {
			t, err := store.GetToken(gctx, s, p.Name)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			var ue *store.UnavailableError
			if errors.As(err, &ue) {
				return err
			}
			rec := &Record{Connected: true, Unknown: err != nil}
			if err == nil {
				rec = rebuiltRecord(t)
			} else {
				rec.LastError = err.Error()
			}
			mu.Lock()
			st.Profiles[p.Name] = rec
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return m.unknownState(err), nil
	}
	err = m.State.Update(ctx, func(cur *State) error {
		cur.Profiles = st.Profiles
		return nil
	})
	if err != nil {
		fmt.Fprintf(m.warn, "warning: could not save the rebuilt state: %v\n", err)
	}
	m.storeWarnMu.Lock()
	m.warnedStore = "" // the store answered: a later failure is news again
	m.storeWarnMu.Unlock()
	return st, nil
}

// unknownState is used when the state is lost and the store cannot be
// asked: every profile is `unknown` rather than wrongly `not_connected`.
// The warning carries the store's own fix (unlock the keychain…); a front
// end that lists again and again (the TUI, every minute) gets it once for
// as long as the problem stays the same.
func (m *Manager) unknownState(cause error) *State {
	text := fmt.Sprintf("cannot rebuild the state: %v", cause)
	m.storeWarnMu.Lock()
	fresh := text != m.warnedStore
	m.warnedStore = text
	m.storeWarnMu.Unlock()
	if fresh {
		m.warnOut(Warning{Text: text, StoreUnavailable: true, Err: cause})
	}
	st := &State{Version: stateVersion, Profiles: map[string]*Record{}}
	for _, p := range m.config().Profiles {
		st.Profiles[p.Name] = &Record{Connected: true, Unknown: true, LastError: storeUnavailableWhy}
	}
	return st
}

// storeUnavailableWhy is the detail of a profile whose state was lost
// while the token store could not be read (AdviceFor words what to do).
const storeUnavailableWhy = "the state file is lost and the token store could not be read"

// rebuiltRecord is what a stored token alone says of its connection: the
// network's last "no" when the token carries one (see auth.Token.Rejected),
// else unknown until checked: a lost state file must never turn a revoked
// grant into ok.
func rebuiltRecord(t *auth.Token) *Record {
	rec := RecordFromToken(t, t.ObtainedAt)
	if t.ObtainedAt.IsZero() {
		rec.ConnectedAt = nil
	}
	rec.Rebuilt = true
	if t.Rejected != "" {
		rec.NeedsReauth, rec.Reason, rec.LastError = true, t.Rejected, t.Rejected.Explain()
		if !t.RejectedAt.IsZero() && (t.Rejected == auth.ReasonExpired || t.Rejected == auth.ReasonConsentExpired) {
			e := t.RejectedAt.UTC()
			rec.EndedAt = &e
		}
		return rec
	}
	rec.Unknown, rec.LastError = true, rebuiltWhy
	return rec
}

// rebuiltWhy is the detail of a profile whose state was rebuilt.
const rebuiltWhy = "the state file was rebuilt from the token store and the connection has not been checked since; `sbctl profiles verify` checks it"
