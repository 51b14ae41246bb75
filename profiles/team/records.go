package team

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/jackc/pgx/v5"
)

// Records reads every state record the caller may see (profile → JSON).
func (db *DB) Records(ctx context.Context) (map[string][]byte, error) {
	if _, err := db.team(); err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	err := db.with(ctx, func(c *pgx.Conn) error {
		return readRecords(ctx, c, out, "")
	})
	if err != nil {
		return nil, db.orDenied(ctx, err, "read status", RoleViewer)
	}
	return out, nil
}

type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func readRecords(ctx context.Context, q queryer, into map[string][]byte, suffix string) error {
	rows, err := q.Query(ctx, `SELECT profile, record::text FROM sbctl.state`+suffix)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name, rec string
		if err := rows.Scan(&name, &rec); err != nil {
			return err
		}
		into[name] = []byte(rec)
	}
	return rows.Err()
}

// Record reads one profile's state record; nil when there is none.
func (db *DB) Record(ctx context.Context, profile string) ([]byte, error) {
	if _, err := db.team(); err != nil {
		return nil, err
	}
	var rec []byte
	err := db.with(ctx, func(c *pgx.Conn) error {
		var s string
		err := c.QueryRow(ctx, `SELECT record::text FROM sbctl.state WHERE profile = $1`, profile).Scan(&s)
		if err == nil {
			rec = []byte(s)
		}
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, db.orDenied(ctx, err, "read status", RoleViewer)
	}
	return rec, nil
}

// UpdateRecords runs fn on every record the caller may see, in one
// transaction with those rows locked (FOR UPDATE) and every other
// UpdateRecords/UpdateRecord waiting; fn edits the map (a deleted key
// removes the record) and must not call db. Only records that changed
// (as JSON values) are written; running TUIs hear of each.
func (db *DB) UpdateRecords(ctx context.Context, fn func(recs map[string][]byte) error) error {
	m, err := db.team()
	if err != nil {
		return err
	}
	err = db.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, stateLockAll(m)); err != nil {
			return err
		}
		cur := map[string][]byte{}
		if err := readRecords(ctx, tx, cur, " FOR UPDATE"); err != nil {
			return err
		}
		next := make(map[string][]byte, len(cur))
		for k, v := range cur {
			next[k] = bytes.Clone(v)
		}
		if err := fn(next); err != nil {
			return errFn{err}
		}
		var gone []string
		for name := range cur {
			if _, ok := next[name]; !ok {
				gone = append(gone, name)
			}
		}
		if len(gone) > 0 {
			if err := needRole(ctx, tx, m, RoleAdmin, "remove status records"); err != nil {
				return err
			}
		}
		b := &pgx.Batch{}
		for name, rec := range next {
			if old, ok := cur[name]; ok && sameJSON(old, rec) {
				continue
			}
			if err := queueRecord(b, m, name, rec); err != nil {
				return err
			}
		}
		for _, name := range gone {
			b.Queue(`DELETE FROM sbctl.state WHERE profile = $1`, name)
			b.Queue(`SELECT pg_notify($1, 'p:' || id) FROM sbctl.profiles WHERE name = $2`, m.channel, name)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	return db.recordError(ctx, err)
}

// UpdateRecord is UpdateRecords for one profile: fn gets its record (nil
// when none) and returns the new one (nil removes it). Only that row is
// locked, so refreshes of different profiles do not wait for each other.
func (db *DB) UpdateRecord(ctx context.Context, profile string, fn func(rec []byte) ([]byte, error)) error {
	m, err := db.team()
	if err != nil {
		return err
	}
	err = db.tx(ctx, func(tx pgx.Tx) error {
		// Shared against UpdateRecords, exclusive per profile: the row may
		// not exist yet, so FOR UPDATE alone cannot order two first writes.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0)), pg_advisory_xact_lock(hashtextextended($2, 0))`,
			stateLockAll(m), stateLockAll(m)+":"+profile); err != nil {
			return err
		}
		var cur []byte
		var s string
		err := tx.QueryRow(ctx, `SELECT record::text FROM sbctl.state WHERE profile = $1 FOR UPDATE`, profile).Scan(&s)
		switch {
		case err == nil:
			cur = []byte(s)
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		next, err := fn(bytes.Clone(cur))
		if err != nil {
			return errFn{err}
		}
		b := &pgx.Batch{}
		switch {
		case next == nil && cur == nil, next != nil && cur != nil && sameJSON(cur, next):
			return nil
		case next == nil:
			if err := needRole(ctx, tx, m, RoleAdmin, "remove status records"); err != nil {
				return err
			}
			b.Queue(`DELETE FROM sbctl.state WHERE profile = $1`, profile)
			b.Queue(`SELECT pg_notify($1, 'p:' || id) FROM sbctl.profiles WHERE name = $2`, m.channel, profile)
		default:
			if err := queueRecord(b, m, profile, next); err != nil {
				return err
			}
		}
		return tx.SendBatch(ctx, b).Close()
	})
	return db.recordError(ctx, err)
}

func stateLockAll(m *teamMeta) string { return "sbctl:state:" + m.id }

func queueRecord(b *pgx.Batch, m *teamMeta, name string, rec []byte) error {
	if !json.Valid(rec) {
		return fmt.Errorf("state record of %s is not JSON", name)
	}
	b.Queue(`INSERT INTO sbctl.state (profile, record) VALUES ($1, $2::jsonb)
ON CONFLICT (profile) DO UPDATE SET record = excluded.record`, name, string(rec))
	b.Queue(`SELECT pg_notify($1, 'p:' || id) FROM sbctl.profiles WHERE name = $2`, m.channel, name)
	return nil
}

// sameJSON compares two JSON texts as values: the database hands records
// back in jsonb's own spelling, which re-marshalled Go never matches
// byte for byte.
func sameJSON(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// errFn carries the callback's own error through the transaction
// untouched.
type errFn struct{ err error }

func (e errFn) Error() string { return e.err.Error() }
func (e errFn) Unwrap() error { return e.err }

func (db *DB) recordError(ctx context.Context, err error) error {
	var fe errFn
	if errors.As(err, &fe) {
		return fe.err
	}
	if err != nil && isFKViolation(err) {
		return fmt.Errorf("a state record names a profile that is not in the team catalog: %w", ErrNotFound)
	}
	return db.orDenied(ctx, err, "change status", RoleMember)
}
