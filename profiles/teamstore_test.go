package profiles

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/profiles/team"
)

// mapSecretDB is the database side of teamSecrets in memory: it sees what
// a real database would hold.
type mapSecretDB map[string][]byte

func (d mapSecretDB) Secret(_ context.Context, k team.SecretKind, n string) ([]byte, error) {
	ct, ok := d[string(k)+"/"+n]
	if !ok {
		return nil, team.ErrNotFound
	}
	return ct, nil
}

func (d mapSecretDB) PutSecretLog(_ context.Context, k team.SecretKind, n string, ct []byte, _ int, _, _ string) error {
	d[string(k)+"/"+n] = ct
	return nil
}

func (d mapSecretDB) DeleteSecret(_ context.Context, k team.SecretKind, n string) error {
	delete(d, string(k)+"/"+n)
	return nil
}

func TestTeamSecretsSealEverything(t *testing.T) {
	t.Parallel()
	key, err := team.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	db := mapSecretDB{}
	s := &teamSecrets{db: db, key: key, teamID: "t1", where: "test"}
	ctx := context.Background()
	const tok = `{"access_token":"sbx-at-SECRET","refresh_token":"sbx-rt-SECRET"}`
	if err := s.Set(ctx, store.ProfileKey("acme-x"), tok); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, store.ClientKey("acme"), "client-SECRET"); err != nil {
		t.Fatal(err)
	}
	for k, ct := range db {
		if bytes.Contains(ct, []byte("SECRET")) || bytes.Contains(ct, []byte("sbx-")) {
			t.Errorf("%s holds plaintext", k)
		}
	}
	if got, err := s.Get(ctx, store.ProfileKey("acme-x")); err != nil || got != tok {
		t.Fatalf("Get = %q, %v", got, err)
	}

	// A ciphertext copied onto another profile does not open there.
	db["token/acme-fb"] = db["token/acme-x"]
	_, err = s.Get(ctx, store.ProfileKey("acme-fb"))
	if err == nil || !strings.Contains(err.Error(), "team key") || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("swapped ciphertext: %v", err)
	}
	// Another team's key does not open it either.
	other, _ := team.NewKey()
	if _, err := (&teamSecrets{db: db, key: other, teamID: "t1"}).Get(ctx, store.ProfileKey("acme-x")); err == nil {
		t.Error("another key opened the token")
	}

	if err := s.Delete(ctx, store.ProfileKey("acme-x")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, store.ProfileKey("acme-x")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after Delete: %v, want store.ErrNotFound", err)
	}
	if err := s.Set(ctx, "probe:x", "v"); err == nil {
		t.Error("an unknown kind of key was accepted")
	}
}
