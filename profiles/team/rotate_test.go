package team

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sbctl/sbctl/profiles/team/teamtest"
)

// keyedTeam is a fresh team whose key is key, with profiles p0…p(n-1) on
// provider "a" (which has a client secret) and provider "b" (which has
// none), every profile holding a token sealed as the store seals it.
func keyedTeam(t testing.TB, n int) (string, *DB, Key) {
	t.Helper()
	url := teamtest.Database(t)
	db := open(t, url)
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	if _, err := db.Init(ctx, key.Fingerprint()); err != nil {
		t.Fatalf("Init: %v", err)
	}
	cat := Catalog{Providers: []CatalogProvider{
		{Name: "a", YAML: "type: oidc\nissuer: https://id.example\nclient_id: c"},
		{Name: "b", YAML: "type: oidc\nissuer: https://id2.example\nclient_id: d"},
	}}
	for i := range n {
		cat.Profiles = append(cat.Profiles, CatalogProfile{Name: fmt.Sprintf("p%d", i), Provider: "a"})
	}
	if _, err := db.ApplyCatalog(ctx, 0, cat); err != nil {
		t.Fatalf("ApplyCatalog: %v", err)
	}
	for i := range n {
		put(t, db, key, SecretToken, fmt.Sprintf("p%d", i), tokenText(i), 1)
	}
	put(t, db, key, SecretClientSecret, "a", "sbx-client-secret", 1)
	return url, db, key
}

func tokenText(i int) string {
	return fmt.Sprintf(`{"access_token":"sbx-at-%d","refresh_token":"sbx-rt-%d"}`, i, i)
}

func put(t testing.TB, db *DB, key Key, kind SecretKind, name, plain string, keyID int) {
	t.Helper()
	ct, err := key.Seal([]byte(plain), SecretAD(db.TeamID(), kind, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutSecret(testCtx(t), kind, name, ct, keyID); err != nil {
		t.Fatalf("PutSecret %s %s: %v", kind, name, err)
	}
}

// opened is the plaintext of a stored secret under key ("" when it does
// not open).
func opened(t testing.TB, db *DB, key Key, kind SecretKind, name string) string {
	t.Helper()
	ct, err := db.Secret(testCtx(t), kind, name)
	if err != nil {
		t.Fatalf("Secret %s %s: %v", kind, name, err)
	}
	plain, err := key.Open(ct, SecretAD(db.TeamID(), kind, name))
	if err != nil {
		return ""
	}
	return string(plain)
}

// snapshot is every stored ciphertext with its key id, and the team's key:
// what a refused rotation must leave exactly as it was.
func snapshot(t testing.TB, db *DB) string {
	t.Helper()
	var b strings.Builder
	ctx := testCtx(t)
	err := db.with(ctx, func(c *pgx.Conn) error {
		var fp string
		var id int
		if err := c.QueryRow(ctx, `SELECT key_fingerprint, key_id FROM sbctl.team`).Scan(&fp, &id); err != nil {
			return err
		}
		fmt.Fprintf(&b, "team %s %d\n", fp, id)
		rows, err := c.Query(ctx, `SELECT 'token', profile, key_id, ciphertext FROM sbctl.tokens
UNION ALL SELECT 'client', provider, key_id, ciphertext FROM sbctl.client_secrets ORDER BY 1, 2`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var kind, name string
			var id int
			var ct []byte
			if err := rows.Scan(&kind, &name, &id, &ct); err != nil {
				return err
			}
			fmt.Fprintf(&b, "%s %s %d %x\n", kind, name, id, ct)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestRotateKeyReencryptsEverySecret(t *testing.T) {
	t.Parallel()
	_, db, old := keyedTeam(t, 3)
	next, _ := NewKey()
	ctx := testCtx(t)
	if err := db.RotateKey(ctx, old, next, 2); err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	for i := range 3 {
		name := fmt.Sprintf("p%d", i)
		if got := opened(t, db, next, SecretToken, name); got != tokenText(i) {
			t.Errorf("token of %s under the new key = %q, want %q", name, got, tokenText(i))
		}
		if got := opened(t, db, old, SecretToken, name); got != "" {
			t.Errorf("token of %s still opens under the old key", name)
		}
	}
	if got := opened(t, db, next, SecretClientSecret, "a"); got != "sbx-client-secret" {
		t.Errorf("client secret under the new key = %q", got)
	}
	info, err := db.Info(ctx)
	if err != nil || info.KeyFingerprint != next.Fingerprint() || info.KeyID != 2 {
		t.Errorf("Info after rotation = %+v, %v; want fingerprint %s, key 2", info, err, next.Fingerprint())
	}
	if snap := snapshot(t, db); strings.Count(snap, " 2 ") != 4 {
		t.Errorf("every row must carry key id 2:\n%s", snap)
	}
	events, err := db.Events(ctx, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var logged bool
	for _, e := range events {
		if e.Action == ActionKeyRotate {
			logged = strings.Contains(e.Detail, "3 tokens and 1 client secrets") && e.Host == "test-host"
		}
	}
	if !logged {
		t.Errorf("no key-rotate event with the counts and host in %+v", events)
	}
	// And again, from the new key: rotation is repeatable.
	third, _ := NewKey()
	if err := db.RotateKey(ctx, next, third, 3); err != nil {
		t.Fatalf("second RotateKey: %v", err)
	}
	if got := opened(t, db, third, SecretToken, "p0"); got != tokenText(0) {
		t.Errorf("after two rotations p0 = %q", got)
	}
}

// A rotation that cannot be done entirely changes nothing, and says why.
func TestRotateKeyRefusalsChangeNothing(t *testing.T) {
	t.Parallel()
	_, db, old := keyedTeam(t, 2)
	ctx := testCtx(t)
	next, _ := NewKey()
	stranger, _ := NewKey()
	before := snapshot(t, db)

	err := db.RotateKey(ctx, stranger, next, 2)
	var mismatch *KeyMismatchError
	if !errors.As(err, &mismatch) || !strings.Contains(err.Error(), stranger.Fingerprint()) || !strings.Contains(err.Error(), old.Fingerprint()) {
		t.Errorf("rotation from a key that is not the team's: %v", err)
	}
	if err := db.RotateKey(ctx, old, next, 1); err == nil || !strings.Contains(err.Error(), "must be above the current key's (1)") {
		t.Errorf("rotation to a key id not above the current: %v", err)
	}
	if err := db.RotateKey(ctx, old, old, 2); err == nil || !strings.Contains(err.Error(), "is the current one") {
		t.Errorf("rotation to the same key: %v", err)
	}
	if err := db.RotateKey(ctx, old, Key{}, 2); err == nil {
		t.Error("rotation to the zero key succeeded")
	}
	if after := snapshot(t, db); after != before {
		t.Fatalf("a refused rotation changed the database:\nbefore\n%s\nafter\n%s", before, after)
	}

	// One token sealed under another key (an older rotation's straggler,
	// or a damaged row): refused, naming it, nothing re-encrypted.
	put(t, db, stranger, SecretToken, "p1", tokenText(1), 1)
	before = snapshot(t, db)
	err = db.RotateKey(ctx, old, next, 2)
	if !errors.Is(err, ErrUndecryptable) || !strings.Contains(err.Error(), `token of "p1"`) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("rotation over an undecryptable token: %v", err)
	}
	if strings.Contains(err.Error(), "sbx-") {
		t.Errorf("the error shows a secret: %v", err)
	}
	if after := snapshot(t, db); after != before {
		t.Fatalf("a refused rotation changed the database:\nbefore\n%s\nafter\n%s", before, after)
	}
	if got := opened(t, db, old, SecretToken, "p0"); got != tokenText(0) {
		t.Errorf("p0 after the refused rotation = %q", got)
	}
}

func TestRotateKeyOwnersOnly(t *testing.T) {
	t.Parallel()
	url, db, old := keyedTeam(t, 1)
	before := snapshot(t, db)
	next, _ := NewKey()
	login, _, admin := joined(t, db, url, RoleAdmin)
	err := admin.RotateKey(testCtx(t), old, next, 2)
	var perm *PermissionError
	want := login + " is an admin; only owners may rotate the team key"
	if !errors.As(err, &perm) || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("admin RotateKey: %v; want %q", err, want)
	}
	if after := snapshot(t, db); after != before {
		t.Fatalf("a refused rotation changed the database")
	}
}

// A token stored by another machine while the rotation starts is not left
// behind under the old key: the rotation waits for the write and then
// re-encrypts what it wrote.
func TestRotateKeyWaitsForConcurrentWrite(t *testing.T) {
	t.Parallel()
	url, db, old := keyedTeam(t, 2)
	ctx := testCtx(t)
	next, _ := NewKey()

	// The other machine's refresh, mid-transaction, holding p0's row.
	other, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	renewed := `{"access_token":"sbx-at-renewed","refresh_token":"sbx-rt-renewed"}`
	ct, _ := old.Seal([]byte(renewed), SecretAD(db.TeamID(), SecretToken, "p0"))
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE sbctl.tokens SET ciphertext = $1 WHERE profile = 'p0'`, ct); err != nil {
		t.Fatal(err)
	}
	var otherPID int
	if err := other.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&otherPID); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() { done <- db.RotateKey(ctx, old, next, 2) }()
	// Poll until the rotation waits behind the writer.
	for {
		var waiting bool
		if err := other.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
WHERE $1 = ANY (pg_blocking_pids(pid)))`, otherPID).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("RotateKey finished (%v) while a write was in flight", err)
		case <-ctx.Done():
			t.Fatal("the rotation never waited for the writer")
		default:
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	if got := opened(t, db, next, SecretToken, "p0"); got != renewed {
		t.Errorf("p0 after the rotation = %q, want the token written meanwhile", got)
	}
}

func TestSecretADBindsKindAndName(t *testing.T) {
	t.Parallel()
	if !bytes.Equal(SecretAD("t", SecretToken, "p"), AD("t", "tokens", "p", "ciphertext")) {
		t.Error("SecretAD of a token is not AD(team, tokens, name, ciphertext)")
	}
	if bytes.Equal(SecretAD("t", SecretToken, "a"), SecretAD("t", SecretClientSecret, "a")) {
		t.Error("a profile's token and a provider's client secret of one name share their AD")
	}
}

// BenchmarkRotateKey1000 re-encrypts 1,000 tokens per rotation.
func BenchmarkRotateKey1000(b *testing.B) {
	_, db, key := keyedTeam(b, 1000)
	ctx := context.Background()
	id := 1
	for b.Loop() {
		next, _ := NewKey()
		id++
		if err := db.RotateKey(ctx, key, next, id); err != nil {
			b.Fatal(err)
		}
		key = next
	}
}

// A commit that fails leaves the outcome unknown to the caller, which must
// then keep both keys: RotateKey says so (ErrRotateUnknown) instead of a
// plain failure after which the new key would be thrown away.
func TestRotateKeyCommitFailureIsUnknown(t *testing.T) {
	t.Parallel()
	_, db, old := keyedTeam(t, 1)
	ctx := testCtx(t)
	// A deferred check on the team row fails at COMMIT: the one step after
	// which the rotation's outcome cannot be told from a lost connection.
	err := db.with(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `
CREATE FUNCTION sbctl.fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'commit refused for the test'; END $$;
CREATE CONSTRAINT TRIGGER fail_commit AFTER UPDATE ON sbctl.team
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sbctl.fail_commit();`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	next, _ := NewKey()
	err = db.RotateKey(ctx, old, next, 2)
	if !errors.Is(err, ErrRotateUnknown) || !strings.Contains(err.Error(), "keep both") {
		t.Fatalf("RotateKey with a failing commit: %v; want ErrRotateUnknown", err)
	}
	if got := opened(t, db, old, SecretToken, "p0"); got != tokenText(0) {
		t.Errorf("p0 after the failed commit = %q", got)
	}
}
