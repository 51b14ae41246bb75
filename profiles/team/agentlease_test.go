package team

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
)

// One agent per team: the first to ask holds the lease, a second (another
// machine, its own pool) is told to stand by; after a release the second
// gets it.
func TestAgentLeaseOneHolder(t *testing.T) {
	t.Parallel()
	url, a := newTeam(t)
	b := open(t, url)
	ctx := testCtx(t)

	la, ok, err := a.AgentLease(ctx)
	if err != nil || !ok {
		t.Fatalf("first agent: ok=%v err=%v", ok, err)
	}
	if _, ok, err := b.AgentLease(ctx); err != nil || ok {
		t.Fatalf("second agent while the first holds the lease: ok=%v err=%v, want stand by", ok, err)
	}
	// The holder asking again from its own pool is refused as well: the
	// lease belongs to one session, not to a login or a machine.
	if _, ok, _ := a.AgentLease(ctx); ok {
		t.Fatal("a second lease from the holder's own pool")
	}
	if err := la.Held(ctx); err != nil {
		t.Fatalf("Held by the holder: %v", err)
	}
	la.Release()
	la.Release() // harmless
	if err := la.Held(ctx); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("Held after Release = %v, want ErrLeaseLost", err)
	}
	lb, ok, err := b.AgentLease(ctx)
	if err != nil || !ok {
		t.Fatalf("second agent after the release: ok=%v err=%v", ok, err)
	}
	defer lb.Release()
}

// The active agent's connection dies (its machine vanished, a failover,
// pg_terminate_backend): PostgreSQL frees the lease with the session, the
// standby's next try takes it over, and the old holder learns from Held
// that it is no longer the active agent.
func TestAgentLeaseTakeoverWhenTheConnectionDies(t *testing.T) {
	t.Parallel()
	url, a := newTeam(t)
	b := open(t, url)
	ctx := testCtx(t)

	la, ok, err := a.AgentLease(ctx)
	if err != nil || !ok {
		t.Fatalf("first agent: ok=%v err=%v", ok, err)
	}
	defer la.Release()
	if _, ok, _ := b.AgentLease(ctx); ok {
		t.Fatal("second agent got the lease while the first holds it")
	}
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var ended bool
	if err := admin.QueryRow(ctx, `SELECT pg_terminate_backend($1, 5000)`, la.pid).Scan(&ended); err != nil || !ended {
		t.Fatalf("ending the holder's session: %v (ended=%v)", err, ended)
	}
	lb, ok, err := b.AgentLease(ctx)
	if err != nil || !ok {
		t.Fatalf("standby after the holder's session ended: ok=%v err=%v", ok, err)
	}
	defer lb.Release()
	if err := la.Held(ctx); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("the old holder's Held = %v, want ErrLeaseLost", err)
	}
	if err := lb.Held(ctx); err != nil {
		t.Errorf("the new holder's Held: %v", err)
	}
}

// The lease is a team's: two teams (two databases) each have their own
// active agent.
func TestAgentLeasePerTeam(t *testing.T) {
	t.Parallel()
	_, a := newTeam(t)
	_, b := newTeam(t)
	ctx := testCtx(t)
	la, ok, err := a.AgentLease(ctx)
	if err != nil || !ok {
		t.Fatalf("team A: ok=%v err=%v", ok, err)
	}
	defer la.Release()
	lb, ok, err := b.AgentLease(ctx)
	if err != nil || !ok {
		t.Fatalf("team B while team A's agent runs: ok=%v err=%v", ok, err)
	}
	defer lb.Release()
}
