package team

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func next(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case s, ok := <-ch:
		if !ok {
			t.Fatal("Listen channel closed")
		}
		return s
	case <-testCtx(t).Done():
		t.Fatal("no notification")
	}
	return ""
}

// TestListen: a change made through another connection (another machine)
// reaches a listener; a member hears only of the profiles it sees.
func TestListen(t *testing.T) {
	t.Parallel()
	url, owner := fleet(t)
	_, _, member := joined(t, owner, url, RoleMember, "marketing")
	other := open(t, url)
	ctx, cancel := context.WithCancel(testCtx(t))
	ownerCh, err := owner.Listen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	memberCh, err := member.Listen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// sp1 (support) first: the member must skip it and report mk1 next.
	for _, p := range []string{"sp1", "mk1"} {
		if err := other.PutSecret(ctx, SecretToken, p, []byte("ct-new-"+p), 1); err != nil {
			t.Fatal(err)
		}
	}
	if got := next(t, ownerCh); got != "sp1" {
		t.Errorf("owner heard %q, want sp1", got)
	}
	if got := next(t, ownerCh); got != "mk1" {
		t.Errorf("owner heard %q, want mk1", got)
	}
	if got := next(t, memberCh); got != "mk1" {
		t.Errorf("marketing member heard %q, want mk1 (never sp1)", got)
	}
	// A catalog change: "" (reload everything).
	cat, err := other.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cat.Groups = append(cat.Groups, CatalogGroup{Name: "sales"})
	if _, err := other.ApplyCatalog(ctx, cat.Version, cat); err != nil {
		t.Fatal(err)
	}
	if got := next(t, ownerCh); got != "" {
		t.Errorf("after a catalog change heard %q, want \"\"", got)
	}
	// A status change of a profile added after Listen started.
	cat.Version++
	cat.Profiles = append(cat.Profiles, CatalogProfile{Name: "mk3", Provider: "p1", Groups: []string{"marketing"}})
	if _, err := other.ApplyCatalog(ctx, cat.Version, cat); err != nil {
		t.Fatal(err)
	}
	if err := other.UpdateRecord(ctx, "mk3", func([]byte) ([]byte, error) { return []byte(`{"s":1}`), nil }); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"", "mk3"} {
		if got := next(t, ownerCh); got != want {
			t.Errorf("heard %q, want %q", got, want)
		}
	}
	cancel()
	for range ownerCh { // closes once ctx ends
	}
}

// terminate ends the backends of the database (other than the caller's)
// whose last statement matched query, as a server restart or a network
// cut would; it returns how many.
func terminate(t *testing.T, db *DB, query string) int {
	t.Helper()
	ctx := testCtx(t)
	var n int
	if err := db.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE $1`, query).Scan(&n)
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestListenReconnects: a listener whose connection dies reports "" (reload
// everything: changes may have been missed) and keeps listening.
func TestListenReconnects(t *testing.T) {
	t.Parallel()
	url, owner := fleet(t)
	other := open(t, url)
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	ch, err := owner.Listen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The listener's last statement is its id → name load.
	if n := terminate(t, other, "SELECT id, name FROM sbctl.profiles"); n != 1 {
		t.Fatalf("terminated %d listeners", n)
	}
	if got := next(t, ch); got != "" {
		t.Fatalf("after the lost connection heard %q, want \"\"", got)
	}
	if err := other.PutSecret(ctx, SecretToken, "mk1", []byte("ct-after"), 1); err != nil {
		t.Fatal(err)
	}
	if got := next(t, ch); got != "mk1" {
		t.Fatalf("after reconnecting heard %q, want mk1", got)
	}
}

// TestPoolSurvivesRestart: pooled connections killed while idle (a server
// restart) cost a reconnect, not a failed call.
func TestPoolSurvivesRestart(t *testing.T) {
	t.Parallel()
	url, owner := fleet(t)
	ctx := testCtx(t)
	if _, err := owner.Catalog(ctx); err != nil {
		t.Fatal(err)
	}
	killer := open(t, url)
	if n := terminate(t, killer, "%"); n == 0 {
		t.Fatal("no idle connection to terminate")
	}
	// Reused only after pingAfter: make the idle connections look old.
	owner.idleMu.Lock()
	for i := range owner.idle {
		owner.idle[i].since = owner.idle[i].since.Add(-2 * pingAfter)
	}
	owner.idleMu.Unlock()
	if _, err := owner.Catalog(ctx); err != nil {
		t.Fatalf("Catalog after the server dropped the pool's connections: %v", err)
	}
}
