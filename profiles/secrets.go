package profiles

import (
	"context"
	"errors"
	"fmt"

	"github.com/sbctl/sbctl/auth/store"
)

// SetClientSecret stores a provider's client secret (`providers set-secret`)
// in the token store, never in the config.
func (m *Manager) SetClientSecret(ctx context.Context, provider, secret string) error {
	if _, err := m.Provider(provider); err != nil {
		return err
	}
	secret, err := CheckClientSecret(secret)
	if err != nil {
		return err
	}
	s, err := m.Store()
	if err != nil {
		return err
	}
	if err := s.Set(ctx, store.ClientKey(provider), secret); err != nil {
		return fmt.Errorf("storing the client secret of %q: %w", provider, err)
	}
	return nil
}

// HasClientSecret reports whether a client secret is stored for provider.
func (m *Manager) HasClientSecret(ctx context.Context, provider string) (bool, error) {
	s, err := m.Store()
	if err != nil {
		return false, err
	}
	_, err = s.Get(ctx, store.ClientKey(provider))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
