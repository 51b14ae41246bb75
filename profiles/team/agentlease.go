package team

import (
	"context"
	"errors"
	"sync"

	"github.com/jackc/pgx/v5"
)

// AgentLease is this process's hold on the team's agent lock: while it is
// held, this `sbctl agent` is the team's active one and every other agent
// stands by. It is a session-level advisory lock on a connection of its
// own, so it lasts exactly as long as that session: a process that exits,
// crashes or loses its connection loses the lease, and PostgreSQL hands
// it to the next agent that asks. Its methods are safe for concurrent use.
type AgentLease struct {
	db  *DB
	key string

	mu   sync.Mutex
	c    *pgx.Conn // nil once released or lost
	done func()
	pid  int32 // the session's backend, for tests that end it
}

// Keepalives on the lease's session, set by the server on its side of the
// socket: a machine that vanishes without closing its connection (power
// lost, network cut) is noticed within about idle + interval × count
// seconds, and its lease freed, instead of after the kernel's default of
// two hours. They do nothing on a unix socket, whose peer cannot vanish.
const (
	leaseKeepaliveIdle     = "10"
	leaseKeepaliveInterval = "5"
	leaseKeepaliveCount    = "3"
)

// AgentLease tries to become the team's active agent. ok is false, with
// no error, when another agent holds the lease; try again later (the
// agent does, once a pass). An error means the database could not be
// asked. The caller checks the lease with Held before each pass and ends
// it with Release.
func (db *DB) AgentLease(ctx context.Context) (lease *AgentLease, ok bool, err error) {
	m, err := db.team()
	if err != nil {
		return nil, false, err
	}
	key := agentLock(m)
	var got bool
	var pid int32
	c, done, err := db.dedicatedConn(ctx, func(c *pgx.Conn) error {
		b := &pgx.Batch{}
		b.Queue("SELECT set_config('tcp_keepalives_idle', $1, false), set_config('tcp_keepalives_interval', $2, false), set_config('tcp_keepalives_count', $3, false)",
			leaseKeepaliveIdle, leaseKeepaliveInterval, leaseKeepaliveCount)
		b.Queue("SELECT pg_try_advisory_lock(hashtextextended($1, 0)), pg_backend_pid()", key).QueryRow(func(r pgx.Row) error {
			return r.Scan(&got, &pid)
		})
		return c.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, false, db.queryError("take the agent lease", err)
	}
	if !got {
		done() // no lock on this session: it may go back to the pool
		return nil, false, nil
	}
	return &AgentLease{db: db, key: key, c: c, done: done, pid: pid}, true, nil
}

func agentLock(m *teamMeta) string { return "sbctl:agent:" + m.id }

// ErrLeaseLost: the lease's session ended (the connection broke, or the
// server ended it), so another agent may hold the lease now.
var ErrLeaseLost = errors.New("the team database connection that held the agent lease was lost")

// Held checks that the lease is still this process's: its session still
// answers (a session-level lock lives as long as its session). A session
// that does not answer is given up, and the error wraps ErrLeaseLost.
func (l *AgentLease) Held(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c == nil {
		return ErrLeaseLost
	}
	ctx, cancel := context.WithTimeout(ctx, l.db.timeout)
	defer cancel()
	var mine bool
	err := l.c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted)`).Scan(&mine)
	if err == nil && mine {
		return nil
	}
	// Whatever happened (a dead connection, a lock gone), this session no
	// longer counts: close it so a lock it might still hold goes too.
	closeConn(l.c)
	l.done()
	l.c = nil
	if err != nil {
		return errors.Join(ErrLeaseLost, l.db.queryError("check the agent lease", err))
	}
	return ErrLeaseLost
}

// Release gives the lease up at once (the next agent's pass takes it).
// Safe to call more than once, and after the lease was lost.
func (l *AgentLease) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.db.timeout)
	defer cancel()
	var unlocked bool
	if err := l.c.QueryRow(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, l.key).Scan(&unlocked); err != nil || !unlocked {
		closeConn(l.c) // the lock, if any, ends with the session
	}
	l.done()
	l.c = nil
}
