package profiles

import (
	"context"
	"fmt"
	"slices"

	"github.com/sbctl/sbctl/auth"
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
	return m.State.Update(ctx, func(state *State) error {
		state.Profiles[s.Name] = RecordFromToken(t, m.now())
		return nil
	})
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
	return m.State.Update(ctx, func(state *State) error {
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
