package profiles

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
	"github.com/sbctl/sbctl/profiles/team"
)

// RemoveOptions tune `profiles remove`.
type RemoveOptions struct {
	// KeepRemote skips revoking the grant at the provider.
	KeepRemote bool
	// Force deletes the local token even when the revocation failed.
	Force bool
}

// ErrNoRevocation: the provider has no revocation call.
var ErrNoRevocation = errors.New("the provider offers no revocation endpoint")

// RemoveResult says what remove did.
type RemoveResult struct {
	Revoked   bool
	NoRevoke  bool // the provider cannot revoke: the user should remove the app in the network's settings
	HadToken  bool
	RevokeErr error // set when Force went past a failed revocation
}

// Remove revokes the grant at the provider (unless KeepRemote), deletes the
// token and the config entry. A failed revocation keeps everything local
// unless Force: the user can still retry, or revoke by hand.
//
// The config edit is prepared first (the file re-read under the lock, the
// entry removed in memory, the file and its directory checked writable):
// a config that cannot be edited stops the command before anything is
// revoked or deleted. A failure after that is reported with what was done
// and how to finish.
func (m *Manager) Remove(ctx context.Context, name string, opts RemoveOptions) (RemoveResult, error) {
	var res RemoveResult
	if err := m.mayDo(ctx, actRemove, team.RoleAdmin); err != nil {
		return res, err
	}
	p, err := m.Profile(name)
	if err != nil {
		return res, err
	}
	name = p.Name // the config's (NFC) spelling names every item and record
	st, err := m.State.Load()
	if err != nil && !errors.Is(err, errStateMissing) && !errors.Is(err, ErrStateCorrupt) {
		return res, err
	}
	// Without a record saying the profile is connected, a store that cannot
	// be asked is no reason to refuse: there is most likely nothing in it.
	mustAsk := err != nil || (st.Profiles[name] != nil && st.Profiles[name].Connected)
	var tok *auth.Token
	ts, err := m.Store()
	if err == nil {
		tok, err = store.GetToken(ctx, ts, name)
	}
	switch {
	case err == nil:
		res.HadToken = true
	case errors.Is(err, store.ErrNotFound):
	case !mustAsk:
		fmt.Fprintf(m.warn, "warning: could not check the token store for %q: %v\n", name, err)
		ts = nil
	case opts.Force:
		fmt.Fprintf(m.warn, "warning: could not read the token of %q (%v); removing the profile anyway\n", name, err)
	default:
		return res, &RemoveRefusedError{Name: name, Err: err, Forceable: true}
	}
	edit, err := m.prepareConfigEdit(ctx, removeProfileEntry(name), config.Entry{Section: config.SectionProfiles, Name: name})
	if err != nil {
		return res, fmt.Errorf("%w\nnothing was removed: the grant is not revoked and the token is kept", err)
	}
	if tok != nil && !opts.KeepRemote {
		err := m.revokeAt(ctx, p.Provider, tok)
		switch {
		case err == nil:
			res.Revoked = true
		case errors.Is(err, ErrNoRevocation):
			res.NoRevoke = true
		case opts.Force:
			res.RevokeErr = err
		default:
			return res, &RemoveRefusedError{Name: name, Err: fmt.Errorf("revoking access of %q at %s failed: %w", name, p.Provider, err), Forceable: true, KeepRemote: true}
		}
	}
	if ts != nil {
		if err := ts.Delete(ctx, store.ProfileKey(name)); err != nil {
			return res, m.removeTokenFailed(ctx, p, res, err)
		}
	}
	if err := edit.commit(ctx); err != nil {
		return res, m.removeEntryFailed(ctx, p, res, err)
	}
	m.dropCachedAccess(ctx, name)
	return res, m.updateState(ctx, func(s *State) error {
		delete(s.Profiles, name)
		return nil
	})
}

// removeProfileEntry takes the profile's entry out of the config; an entry
// already gone (removed by hand meanwhile) is what was wanted.
func removeProfileEntry(name string) func(*config.Config) error {
	return func(c *config.Config) error {
		if _, ok := c.Profile(name); !ok {
			return nil
		}
		return c.RemoveProfile(name)
	}
}

// removeTokenFailed reports a token that could not be deleted. After a
// revocation the grant is dead: the state says so, so the profile is not
// listed ok.
func (m *Manager) removeTokenFailed(ctx context.Context, p *config.Profile, res RemoveResult, err error) error {
	if !res.Revoked {
		return fmt.Errorf("deleting the token of %q: %w\nnothing was removed", p.Name, err)
	}
	_ = m.updateState(ctx, func(s *State) error {
		rec := s.Profiles[p.Name]
		if rec == nil {
			rec = &Record{Connected: true}
			s.Profiles[p.Name] = rec
		}
		rec.NeedsReauth, rec.Reason, rec.LastError = true, auth.ReasonAccessRevoked, "revoked by `sbctl profiles remove`, which did not finish"
		return nil
	})
	return &RemoveUnfinishedError{Name: p.Name, Err: fmt.Errorf("revoked access at %s, but deleting the token of %q failed: %w\nthe profile is still in %s", p.Provider, p.Name, err, m.config().Path), FinishKeepRemote: true}
}

// removeEntryFailed reports a config edit that failed after the grant was
// revoked and the token deleted. The state forgets the profile's
// connection, so it is listed not_connected (which it is), never ok.
func (m *Manager) removeEntryFailed(ctx context.Context, p *config.Profile, res RemoveResult, err error) error {
	var done []string
	if res.Revoked {
		done = append(done, "revoked access at "+p.Provider)
	}
	if res.HadToken {
		done = append(done, fmt.Sprintf("deleted the token of %q", p.Name))
	}
	_ = m.updateState(ctx, func(s *State) error {
		delete(s.Profiles, p.Name)
		return nil
	})
	if len(done) == 0 {
		return fmt.Errorf("%w\nnothing was removed", err)
	}
	return fmt.Errorf("%s, but removing its entry from %s failed: %w\nremove the `%s:` entry under `profiles:` by hand, or run `sbctl profiles remove %s` again once the file can be written", strings.Join(done, " and "), m.config().Path, err, p.Name, p.Name)
}

// RemoveRefusedError: remove changed nothing. Forceable says a forced
// remove would go ahead; KeepRemote that removing only the local copy
// would. The front end says how to ask for either.
type RemoveRefusedError struct {
	Name                  string
	Err                   error
	Forceable, KeepRemote bool
}

func (e *RemoveRefusedError) Error() string { return e.Err.Error() }
func (e *RemoveRefusedError) Unwrap() error { return e.Err }

// RemoveUnfinishedError: remove did part of its work (Err says which);
// FinishKeepRemote says that removing the local copy only finishes it.
type RemoveUnfinishedError struct {
	Name             string
	Err              error
	FinishKeepRemote bool
}

func (e *RemoveUnfinishedError) Error() string { return e.Err.Error() }
func (e *RemoveUnfinishedError) Unwrap() error { return e.Err }
