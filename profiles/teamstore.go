package profiles

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/profiles/team"
)

// teamSecrets is the token store of team mode: every token and client
// secret lives in the team database, sealed under the team key before it
// leaves this process, so the database, its backups and pg_dump only ever
// hold ciphertext. The associated data binds each ciphertext to its team,
// kind and name: a row copied onto another profile does not open.
type teamSecrets struct {
	db     teamSecretDB
	key    team.Key
	keyID  int
	teamID string
	where  string // the database, for messages
}

// teamSecretDB is the part of *team.DB the store needs (a fake in tests).
type teamSecretDB interface {
	Secret(ctx context.Context, kind team.SecretKind, name string) ([]byte, error)
	PutSecretLog(ctx context.Context, kind team.SecretKind, name string, ct []byte, keyID int, action, detail string) error
	DeleteSecret(ctx context.Context, kind team.SecretKind, name string) error
}

// splitKey maps a token-store key (store.ProfileKey, store.ClientKey) to
// the database's kind and name.
func splitKey(key string) (team.SecretKind, string, error) {
	switch {
	case strings.HasPrefix(key, store.ProfileKey("")):
		return team.SecretToken, strings.TrimPrefix(key, store.ProfileKey("")), nil
	case strings.HasPrefix(key, store.ClientKey("")):
		return team.SecretClientSecret, strings.TrimPrefix(key, store.ClientKey("")), nil
	}
	return "", "", fmt.Errorf("the team database keeps profile tokens and client secrets only, not %q", key)
}

func (s *teamSecrets) ad(kind team.SecretKind, name string) []byte {
	// The one definition rotation shares (team.SecretAD).
	return team.SecretAD(s.teamID, kind, name)
}

func (s *teamSecrets) Get(ctx context.Context, key string) (string, error) {
	kind, name, err := splitKey(key)
	if err != nil {
		return "", err
	}
	ct, err := s.db.Secret(ctx, kind, name)
	if errors.Is(err, team.ErrNotFound) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", err
	}
	plain, err := s.key.Open(ct, s.ad(kind, name))
	if err != nil {
		// A wrong key is the usual cause: say how to check, never what
		// the ciphertext was.
		return "", fmt.Errorf("the %s of %q in %s does not open with this machine's team key (compare fingerprints with `sbctl team status`; import the right key with `sbctl team key import`): %w", kindWord(kind), name, s.where, err)
	}
	return string(plain), nil
}

func (s *teamSecrets) Set(ctx context.Context, key, value string) error {
	kind, name, err := splitKey(key)
	if err != nil {
		return err
	}
	ct, err := s.key.Seal([]byte(value), s.ad(kind, name))
	if err != nil {
		return err
	}
	action, detail := auditOf(ctx)
	if kind == team.SecretClientSecret {
		action, detail = "client-secret", "set for provider "+name
	}
	return s.db.PutSecretLog(ctx, kind, name, ct, s.keyID, action, detail)
}

func (s *teamSecrets) Delete(ctx context.Context, key string) error {
	kind, name, err := splitKey(key)
	if err != nil {
		return err
	}
	return s.db.DeleteSecret(ctx, kind, name)
}

func (s *teamSecrets) Describe() string { return "team database " + s.where }

func kindWord(k team.SecretKind) string {
	if k == team.SecretClientSecret {
		return "client secret"
	}
	return "token"
}
