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
)

// AddSpec is a new profile.
type AddSpec struct {
	Name     string
	Provider string
	Groups   []string
	Scopes   []string
}

// validateAdd checks a new profile against the config before anything is
// written, so a bad name or provider changes nothing.
func (m *Manager) validateAdd(s AddSpec) error {
	if err := config.ValidateName("profile", s.Name); err != nil {
		return &UsageError{Msg: err.Error()}
	}
	if p, ok := m.Config.Profile(s.Name); ok {
		return &UsageError{Msg: fmt.Sprintf("profile %q already exists (%s:%d); pick another name, or run `sbctl reauth %s` to reconnect it", s.Name, m.Config.Path, p.Line, s.Name)}
	}
	if s.Provider == "" {
		return &UsageError{Msg: "--provider is required: name an entry of `providers:` in " + m.Config.Path}
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
	if err := m.validateAdd(s); err != nil {
		return err
	}
	st, err := m.Store()
	if err != nil {
		return err
	}
	if err := store.PutToken(ctx, st, s.Name, t); err != nil {
		return fmt.Errorf("storing the token for %q: %w", s.Name, err)
	}
	if err := m.addToConfig(ctx, s); err != nil {
		// The config does not name the profile: take the token back out.
		_ = st.Delete(ctx, store.ProfileKey(s.Name))
		return err
	}
	rec := RecordFromToken(t, m.now())
	rec.AccountID, rec.Account = m.lookupAccount(ctx, s.Provider, t)
	return m.updateState(ctx, func(state *State) error {
		state.Profiles[s.Name] = rec
		return nil
	})
}

// lookupAccount asks the provider who an imported token belongs to (the ID
// token's claims, userinfo, or the network's "me" call), briefly and
// best effort: an import must not fail because the network is slow.
func (m *Manager) lookupAccount(ctx context.Context, providerName string, t *auth.Token) (id, name string) {
	prov, err := m.providerClient(ctx, providerName)
	if err != nil {
		return "", ""
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	acct, err := prov.Account(ctx, t)
	if err != nil {
		if !errors.Is(err, provider.ErrNoAccount) {
			fmt.Fprintf(m.warn, "note: could not read the account of the imported token: %v\n", err)
		}
		return "", ""
	}
	return cleanText(acct.ID), cleanText(acct.Name)
}

// AddUnconnected adds a profile to the config only (`--no-connect`).
func (m *Manager) AddUnconnected(ctx context.Context, s AddSpec) error {
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
