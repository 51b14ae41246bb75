package profiles

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
	"github.com/sbctl/sbctl/profiles/team"
)

// AddSpec is a new profile.
type AddSpec struct {
	Name     string
	Provider string
	Groups   []string
	Scopes   []string
}

// normalized spells the names in NFC, as the config does (café typed in
// either form is one profile, one keychain item).
func (s AddSpec) normalized() AddSpec {
	s.Name, s.Provider = config.NormalizeName(s.Name), config.NormalizeName(s.Provider)
	gs := make([]string, len(s.Groups))
	for i, g := range s.Groups {
		gs[i] = config.NormalizeName(g)
	}
	s.Groups = gs
	return s
}

// validateAdd checks a new profile against the config before anything is
// written, so a bad name or provider changes nothing.
func (m *Manager) validateAdd(s AddSpec) error {
	if err := m.CheckProfileName(s.Name); err != nil {
		return err
	}
	if s.Provider == "" {
		return &UsageError{Msg: "a provider is required: name an entry of `providers:` in " + m.config().Path}
	}
	if _, err := m.Provider(s.Provider); err != nil {
		return err
	}
	for _, g := range s.Groups {
		if _, err := m.Group(g); err != nil {
			return err
		}
	}
	return nil
}

// AddWithToken adds a profile connected with a token the user already has
// (`profiles add --with-token`). The token is stored (and read back) before
// the config names the profile, so a failure leaves no half-added profile.
func (m *Manager) AddWithToken(ctx context.Context, s AddSpec, t *auth.Token) error {
	if err := m.mayDo(ctx, actAdd, team.RoleAdmin); err != nil {
		return err
	}
	s = s.normalized()
	if err := m.validateAdd(s); err != nil {
		return err
	}
	st, err := m.Store()
	if err != nil {
		return err
	}
	if m.TeamMode() {
		// The team database keeps a token only for a profile it knows:
		// the profile first, and out again if its token cannot be stored.
		if err := m.addToConfig(ctx, s); err != nil {
			return err
		}
		if err := store.PutToken(withAudit(ctx, auditConnect, "a token given with --with-token"), st, s.Name, t); err != nil {
			_ = m.editConfig(ctx, removeProfileEntry(s.Name), config.Entry{Section: config.SectionProfiles, Name: s.Name})
			return fmt.Errorf("storing the token for %q: %w (the profile was not added)", s.Name, err)
		}
		return m.recordImport(ctx, s.Name, s.Provider, t)
	}
	if err := store.PutToken(ctx, st, s.Name, t); err != nil {
		return fmt.Errorf("storing the token for %q: %w", s.Name, err)
	}
	if err := m.addToConfig(ctx, s); err != nil {
		// The config does not name the profile: take the token back out.
		_ = st.Delete(ctx, store.ProfileKey(s.Name))
		return err
	}
	return m.recordImport(ctx, s.Name, s.Provider, t)
}

// ImportToken replaces an existing profile's token with one the user
// already has (`sbctl reauth <name> --with-token`). It is stored under the
// profile's lock, like a reauth's, so a concurrent `sbctl token` never
// spends the old refresh token meanwhile.
func (m *Manager) ImportToken(ctx context.Context, name string, t *auth.Token) error {
	if err := m.mayDo(ctx, actReauth, team.RoleAdmin); err != nil {
		return err
	}
	p, err := m.Profile(name)
	if err != nil {
		return err
	}
	st, err := m.Store()
	if err != nil {
		return err
	}
	unlock, err := m.lockProfile(ctx, p.Name)
	if err != nil {
		return err
	}
	err = store.PutToken(withAudit(ctx, auditReauth, "a token given with --with-token"), st, p.Name, t)
	if err == nil {
		m.clearMarker(p.Name)
	}
	unlock()
	if err != nil {
		return fmt.Errorf("storing the token for %q (the old token, if any, is unchanged): %w", p.Name, err)
	}
	return m.recordImport(ctx, p.Name, p.Provider, t)
}

// recordImport writes the state of a profile just connected with an
// imported token: its account, and what the network said of the token.
func (m *Manager) recordImport(ctx context.Context, name, providerName string, t *auth.Token) error {
	rec := RecordFromToken(t, m.now())
	acct, rejected := m.lookupAccount(ctx, providerName, t)
	rec.AccountID, rec.Account = acct.ID, accountLabel(acct)
	if rejected != nil {
		// The network refused the token while naming its account: record
		// what it said, not a status guessed from the token's dates.
		rec = deadRecord(rejected.Reason, rejected.Error(), m.endedAt(t))(rec)
		m.noteVerdict(ctx, name, t, orInvalid(rejected.Reason))
	}
	if err := m.updateState(ctx, func(state *State) error {
		state.Profiles[name] = rec
		return nil
	}); err != nil {
		return err
	}
	if rejected != nil {
		return &ImportRejectedError{Name: name, Reason: rejected.Reason, Err: rejected}
	}
	return nil
}

// ImportRejectedError: the profile was added with the given token, but the
// network rejected that token; only a reauth can give it a working one
// (exit code 4).
type ImportRejectedError struct {
	Name   string
	Reason auth.Reason
	Err    error
}

func (e *ImportRejectedError) Error() string {
	r := e.Reason
	if r == "" {
		r = auth.ReasonInvalid
	}
	return fmt.Sprintf("added profile %q, but the network rejected the token: %s [%s]", e.Name, r.Explain(), r)
}

// Profile names the profile that needs a reauth.
func (e *ImportRejectedError) Profile() string { return e.Name }

func (e *ImportRejectedError) Unwrap() error { return e.Err }

// lookupAccount asks the provider who an imported token belongs to (the ID
// token's claims, userinfo, or the network's "me" call), briefly and
// best effort: an import must not fail because the network is slow. A
// definite rejection of the token is returned: it is news about the
// token, not about the lookup.
func (m *Manager) lookupAccount(ctx context.Context, providerName string, t *auth.Token) (provider.Account, *provider.Error) {
	prov, err := m.providerClient(ctx, providerName)
	if err != nil {
		return provider.Account{}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	acct, err := prov.Account(ctx, t)
	var pe *provider.Error
	switch {
	case err == nil:
		return cleanAccount(acct), nil
	case errors.As(err, &pe) && pe.Kind == provider.KindDefinite:
		return provider.Account{}, pe
	case !errors.Is(err, provider.ErrNoAccount):
		fmt.Fprintf(m.warn, "note: could not read the account of the imported token: %v\n", err)
	}
	return provider.Account{}, nil
}

// AddUnconnected adds a profile to the config only (`--no-connect`).
func (m *Manager) AddUnconnected(ctx context.Context, s AddSpec) error {
	if err := m.mayDo(ctx, actAdd, team.RoleAdmin); err != nil {
		return err
	}
	s = s.normalized()
	if err := m.validateAdd(s); err != nil {
		return err
	}
	if err := m.addToConfig(ctx, s); err != nil {
		return err
	}
	// Touch the state so it exists (and never needs a rebuild) and forget
	// anything left from an earlier profile of the same name.
	return m.updateState(ctx, func(state *State) error {
		delete(state.Profiles, s.Name)
		return nil
	})
}

func (m *Manager) addToConfig(ctx context.Context, s AddSpec) error {
	return m.editConfig(ctx, func(c *config.Config) error {
		if _, ok := c.Profile(s.Name); ok {
			return &UsageError{Msg: fmt.Sprintf("profile %q was added by another sbctl meanwhile", s.Name)}
		}
		return c.AddProfile(config.NewProfile{Name: s.Name, Provider: s.Provider, Groups: slices.Compact(s.Groups), Scopes: s.Scopes})
	})
}

func orInvalid(r auth.Reason) auth.Reason {
	if r == "" {
		return auth.ReasonInvalid
	}
	return r
}
