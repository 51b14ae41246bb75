package profiles

import (
	"context"
	"errors"
	"fmt"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
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
func (m *Manager) Remove(ctx context.Context, name string, opts RemoveOptions) (RemoveResult, error) {
	var res RemoveResult
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
		return res, fmt.Errorf("%w (nothing was removed; use --force to remove the profile anyway)", err)
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
			return res, fmt.Errorf("revoking access of %q at %s failed: %w\nnothing was removed; retry, use --keep-remote to remove only the local copy, or --force to remove it anyway", name, p.Provider, err)
		}
	}
	if ts != nil {
		if err := ts.Delete(ctx, store.ProfileKey(name)); err != nil {
			return res, fmt.Errorf("deleting the token of %q: %w", name, err)
		}
	}
	if err := m.editConfig(ctx, func(c *config.Config) error { return c.RemoveProfile(name) }); err != nil {
		return res, err
	}
	return res, m.updateState(ctx, func(s *State) error {
		delete(s.Profiles, name)
		return nil
	})
}
