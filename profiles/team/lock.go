package team

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// LockProfile takes the team-wide lock of one profile: one refresher per
// grant across every machine. It holds a connection of its own inside a
// transaction that owns pg_advisory_xact_lock(team, profile); unlock
// commits, which releases it. A process that dies loses its connection
// and PostgreSQL releases the lock with it. While another holder has the
// lock it waits; a cancelled ctx stops the wait (an error, no lock).
// Anyone in the team may take it (viewers too: it guards nothing secret).
// Re-read the token after taking it.
func (db *DB) LockProfile(ctx context.Context, profile string) (unlock func(), err error) {
	m, err := db.team()
	if err != nil {
		return nil, err
	}
	// One round trip: BEGIN, a bound on idling (a refresh may take a while,
	// but a hung holder must not keep the lock for ever: the server ends
	// the transaction after 15 idle minutes), and the lock, which may wait.
	c, done, err := db.dedicatedConn(ctx, func(c *pgx.Conn) error {
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		b.Queue("SET LOCAL idle_in_transaction_session_timeout = '15min'")
		b.Queue(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, profileLock(m, profile))
		return c.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, db.lockError(ctx, profile, err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), db.timeout)
		defer cancel()
		if _, err := c.Exec(ctx, "COMMIT"); err != nil {
			closeConn(c) // the lock went with the connection
		}
		done()
	}, nil
}

func profileLock(m *teamMeta, profile string) string { return "sbctl:lock:" + m.id + ":" + profile }

func (db *DB) lockError(ctx context.Context, profile string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("waiting for the team lock of %s: %w", profile, ctx.Err())
	}
	return db.queryError("lock "+profile, err)
}

// Marker is the crash marker of a rotating renewal, in the database so
// every machine sees who was renewing, from where, since when.
type Marker struct {
	Profile, Login, Host string // Login is set by the database (the writer's login)
	PID                  int
	StartedAt            time.Time
	RefreshSHA256, Note  string // RefreshSHA256 is not shown to viewers
}

// PutMarker records (or replaces) a profile's marker. Login is the
// writer's; Host defaults to OpenOptions.Host, StartedAt to now.
func (db *DB) PutMarker(ctx context.Context, mk Marker) error {
	m, err := db.team()
	if err != nil {
		return err
	}
	if mk.Host == "" {
		mk.Host = db.host
	}
	var at *time.Time
	if !mk.StartedAt.IsZero() {
		at = &mk.StartedAt
	}
	err = db.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
INSERT INTO sbctl.renewals (profile, host, pid, started_at, refresh_sha256, note)
VALUES ($1, $2, $3, coalesce($4, now()), $5, $6)
ON CONFLICT (profile) DO UPDATE SET host = excluded.host, pid = excluded.pid, started_at = excluded.started_at,
  refresh_sha256 = excluded.refresh_sha256, note = excluded.note`,
			mk.Profile, mk.Host, mk.PID, at, mk.RefreshSHA256, mk.Note)
		if err != nil {
			return err
		}
		return notifyProfile(ctx, tx, m, mk.Profile)
	})
	if isFKViolation(err) {
		return fmt.Errorf("no profile %q in the team catalog: %w", mk.Profile, ErrNotFound)
	}
	return db.orDenied(ctx, err, "renew tokens", RoleMember)
}

// Marker reads a profile's marker; nil when there is none.
func (db *DB) Marker(ctx context.Context, profile string) (*Marker, error) {
	if _, err := db.team(); err != nil {
		return nil, err
	}
	mk := &Marker{Profile: profile}
	err := db.with(ctx, func(c *pgx.Conn) error {
		err := c.QueryRow(ctx, `SELECT started_by, host, pid, started_at, refresh_sha256, note FROM sbctl.renewals WHERE profile = $1`, profile).
			Scan(&mk.Login, &mk.Host, &mk.PID, &mk.StartedAt, &mk.RefreshSHA256, &mk.Note)
		if isDenied(err) { // a viewer: everything but the hash
			err = c.QueryRow(ctx, `SELECT started_by, host, pid, started_at, note FROM sbctl.renewals WHERE profile = $1`, profile).
				Scan(&mk.Login, &mk.Host, &mk.PID, &mk.StartedAt, &mk.Note)
		}
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, db.orDenied(ctx, err, "read status", RoleViewer)
	}
	return mk, nil
}

// DeleteMarker removes a profile's marker; none is no error.
func (db *DB) DeleteMarker(ctx context.Context, profile string) error {
	m, err := db.team()
	if err != nil {
		return err
	}
	err = db.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM sbctl.renewals WHERE profile = $1`, profile)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return notifyProfile(ctx, tx, m, profile)
	})
	return db.orDenied(ctx, err, "renew tokens", RoleMember)
}
