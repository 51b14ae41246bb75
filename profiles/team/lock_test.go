package team

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
)

// waiters counts sessions queued for an advisory lock in this database.
func waiters(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	ctx := testCtx(t)
	if err := db.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// pollWaiters waits (polling the database, no sleep) until n sessions
// queue for an advisory lock.
func pollWaiters(t *testing.T, db *DB, n int) {
	t.Helper()
	for ctx := testCtx(t); waiters(t, db) != n; {
		if ctx.Err() != nil {
			t.Fatalf("never saw %d lock waiters", n)
		}
	}
}

type lockResult struct {
	unlock func()
	err    error
}

func lockAsync(ctx context.Context, db *DB, profile string) <-chan lockResult {
	ch := make(chan lockResult, 1)
	go func() {
		u, err := db.LockProfile(ctx, profile)
		ch <- lockResult{u, err}
	}()
	return ch
}

// TestLockProfileWaits: two connections (two machines) on one profile —
// the second gets the lock only when the first unlocks; another profile
// is not held up.
func TestLockProfileWaits(t *testing.T) {
	t.Parallel()
	url, a := newTeam(t)
	b := open(t, url)
	ctx := testCtx(t)
	unlockA, err := a.LockProfile(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	second := lockAsync(ctx, b, "x")
	pollWaiters(t, a, 1)
	select {
	case r := <-second:
		t.Fatalf("second LockProfile returned (%v) while the first held the lock", r.err)
	default:
	}
	// Another profile's lock is free meanwhile.
	unlockY, err := b.LockProfile(ctx, "y")
	if err != nil {
		t.Fatal(err)
	}
	unlockY()
	unlockA()
	r := <-second
	if r.err != nil {
		t.Fatalf("second LockProfile after unlock: %v", r.err)
	}
	r.unlock()
	r.unlock() // idempotent
}

// TestLockProfileHolderDies: a killed holder (its backend terminated, as
// when its machine dies) releases the lock.
func TestLockProfileHolderDies(t *testing.T) {
	t.Parallel()
	url, a := newTeam(t)
	b := open(t, url)
	ctx := testCtx(t)
	unlockA, err := a.LockProfile(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	second := lockAsync(ctx, b, "x")
	pollWaiters(t, a, 1)
	var killed bool
	if err := a.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&killed)
	}); err != nil || !killed {
		t.Fatalf("terminate the holder: %v, %v", killed, err)
	}
	r := <-second
	if r.err != nil {
		t.Fatalf("LockProfile after the holder died: %v", r.err)
	}
	r.unlock()
	unlockA() // the dead holder's unlock: no panic, no hang
}

// TestLockProfileCancelled: a waiter whose context ends gets an error and
// leaves no session queued.
func TestLockProfileCancelled(t *testing.T) {
	t.Parallel()
	url, a := newTeam(t)
	b := open(t, url)
	unlock, err := a.LockProfile(testCtx(t), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithCancel(testCtx(t))
	second := lockAsync(ctx, b, "x")
	pollWaiters(t, a, 1)
	cancel()
	r := <-second
	if !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled LockProfile: %v, want context.Canceled", r.err)
	}
	pollWaiters(t, a, 0)
}
