package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/sbctl/sbctl/auth"
)

// Store is a small key/value vault.
type Store interface {
	// Get returns ErrNotFound when nothing is stored under key.
	Get(ctx context.Context, key string) (string, error)
	Set(ctx context.Context, key, value string) error
	// Delete of a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Describe names the store for messages ("keychain service \"sbctl\"").
	Describe() string
}

// ErrNotFound: no item under the key.
var ErrNotFound = errors.New("not found in the token store")

// ProfileKey and ClientKey name the items of SPEC §3.
func ProfileKey(profile string) string { return "profile:" + profile }
func ClientKey(provider string) string { return "client:" + provider }

// GetToken reads a profile's token. ErrNotFound when the profile was never
// connected (or its token was deleted).
func GetToken(ctx context.Context, s Store, profile string) (*auth.Token, error) {
	raw, err := s.Get(ctx, ProfileKey(profile))
	if err != nil {
		return nil, err
	}
	var t auth.Token
	if err := json.Unmarshal([]byte(raw), &t); err != nil || t.AccessToken == "" {
		// Say where, never what: the value is a secret.
		return nil, fmt.Errorf("the token stored for profile %q in the %s is unreadable; run `sbctl reauth %s` to replace it", profile, s.Describe(), profile)
	}
	return &t, nil
}

// PutToken stores a profile's token and reads it back: a keychain that
// accepted a write but kept something else must not pass silently.
func PutToken(ctx context.Context, s Store, profile string, t *auth.Token) error {
	// SECURITY 29: every token, from whatever grant (code, device,
	// refresh, exchange, --with-token), passes this one check before it is
	// stored: `sbctl token` prints it for `Authorization: Bearer $(…)`, so
	// a space, newline or escape code in it would break the header or the
	// terminal.
	if t == nil || t.AccessToken == "" {
		return fmt.Errorf("refusing to store an empty token for profile %q", profile)
	}
	if err := auth.CheckTokenText("the access token for profile "+strconv.Quote(profile), t.AccessToken); err != nil {
		return err
	}
	if err := auth.CheckTokenText("the refresh token for profile "+strconv.Quote(profile), t.RefreshToken); err != nil {
		return err
	}
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	if err := s.Set(ctx, ProfileKey(profile), string(b)); err != nil {
		return err
	}
	back, err := s.Get(ctx, ProfileKey(profile))
	if err != nil {
		return fmt.Errorf("reading back the token just stored for %q: %w", profile, err)
	}
	if back != string(b) {
		return fmt.Errorf("the %s returned something else than the token just stored for %q; check the keychain", s.Describe(), profile)
	}
	return nil
}
