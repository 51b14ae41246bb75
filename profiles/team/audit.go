package team

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Audit actions. The catalog, members, init and upgrade log themselves;
// callers log connect, reauth, refresh and refresh-failed (Log, or
// PutSecretLog in the same transaction as the token).
const (
	ActionInit          = "init"
	ActionUpgrade       = "upgrade"
	ActionAdd           = "add"     // a profile entered the catalog
	ActionEdit          = "edit"    // a profile's provider, groups, scopes or place changed
	ActionRemove        = "remove"  // a profile left the catalog (its token with it)
	ActionCatalog       = "catalog" // providers or groups changed (detail says which)
	ActionMemberAdd     = "member-add"
	ActionMemberRemove  = "member-remove"
	ActionConnect       = "connect"
	ActionReauth        = "reauth"
	ActionRefresh       = "refresh"
	ActionRefreshFailed = "refresh-failed"
	ActionKeyRotate     = "key-rotate"
)

// Event is one audit log entry. Login (the PostgreSQL session user) and
// At are the database's, never the writer's claim.
type Event struct {
	At                                   time.Time
	Login, Host, Action, Profile, Detail string
}

// Log appends an event; profile may be empty. Host is OpenOptions.Host.
func (db *DB) Log(ctx context.Context, action, profile, detail string) error {
	if _, err := db.team(); err != nil {
		return err
	}
	err := db.with(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO sbctl.audit (host, action, profile, detail) VALUES ($1, $2, $3, $4)`, db.host, action, profile, detail)
		return err
	})
	return db.orDenied(ctx, err, "write the audit log", RoleMember)
}

// logTx appends an event inside tx.
func (db *DB) logTx(ctx context.Context, tx pgx.Tx, action, profile, detail string) error {
	_, err := tx.Exec(ctx, `INSERT INTO sbctl.audit (host, action, profile, detail) VALUES ($1, $2, $3, $4)`, db.host, action, profile, detail)
	return err
}

// Events reads the audit log, oldest first: one profile's events (all
// when profile is ""), since a time (all when zero). Members and viewers
// see the events of the profiles they see, and the team-wide ones.
func (db *DB) Events(ctx context.Context, profile string, since time.Time) ([]Event, error) {
	if _, err := db.team(); err != nil {
		return nil, err
	}
	var out []Event
	err := db.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `
SELECT at, db_user, host, action, profile, detail FROM sbctl.audit
 WHERE ($1 = '' OR profile = $1) AND at >= $2
 ORDER BY at, id`, profile, since)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
			var e Event
			return e, r.Scan(&e.At, &e.Login, &e.Host, &e.Action, &e.Profile, &e.Detail)
		})
		return err
	})
	if err != nil {
		return nil, db.orDenied(ctx, err, "read the audit log", RoleViewer)
	}
	return out, nil
}

// Notifications carry no names: "c" (the catalog changed: anything may
// have) or "p:<id>" (profiles.id), so a LISTEN under any login in the
// cluster learns nothing of profiles it may not see. Listen turns ids
// back into names through the listener's own grants.
func notifyAll(ctx context.Context, tx pgx.Tx, m *teamMeta) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, 'c')`, m.channel)
	return err
}

func notifyProfile(ctx context.Context, tx pgx.Tx, m *teamMeta, profile string) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, 'p:' || id) FROM sbctl.profiles WHERE name = $2`, m.channel, profile)
	return err
}

// Listen reports changes made by anyone (this process included): the name
// of a profile whose token, status or marker changed, or "" when anything
// may have changed (the catalog moved, or the connection was lost and
// re-established: reload everything). Only profiles the caller may see
// are reported. The channel closes when ctx ends (or, after Close, when
// the connection is lost). Read it promptly: while it is not read the
// server queues this listener's notifications.
func (db *DB) Listen(ctx context.Context) (<-chan string, error) {
	m, err := db.team()
	if err != nil {
		return nil, err
	}
	l := &listener{db: db, m: m}
	if err := l.connect(ctx); err != nil {
		return nil, err
	}
	ch := make(chan string, 64)
	go l.run(ctx, ch)
	return ch, nil
}

type listener struct {
	db    *DB
	m     *teamMeta
	c     *pgx.Conn
	done  func()
	names map[int64]string // profiles.id → name, of the profiles the listener sees
}

func (l *listener) connect(ctx context.Context) error {
	c, done, err := l.db.dedicatedConn(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, "LISTEN "+pgx.Identifier{l.m.channel}.Sanitize())
		return err
	})
	if err != nil {
		return l.db.orDenied(ctx, err, "listen for changes", RoleViewer)
	}
	l.c, l.done = c, done
	if err := l.reload(ctx); err != nil {
		closeConn(c)
		done()
		l.done = nil
		return l.db.orDenied(ctx, err, "listen for changes", RoleViewer)
	}
	return nil
}

// reload refreshes the id → name map (after a catalog change).
func (l *listener) reload(ctx context.Context) error {
	rows, err := l.c.Query(ctx, `SELECT id, name FROM sbctl.profiles`)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	var id int64
	var name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		names[id] = name
		return nil
	})
	if err == nil {
		l.names = names
	}
	return err
}

func (l *listener) run(ctx context.Context, ch chan<- string) {
	defer close(ch)
	defer func() {
		if l.done != nil {
			closeConn(l.c) // LISTEN state: not for the pool
			l.done()
		}
	}()
	send := func(s string) bool {
		select {
		case ch <- s:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		n, err := l.c.WaitForNotification(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if !l.reconnect(ctx) || !send("") {
				return
			}
			continue
		}
		name, ok := l.resolve(ctx, n.Payload)
		if ok && !send(name) {
			return
		}
	}
}

// resolve maps a payload to what Listen reports; ok is false for a profile
// the listener may not see.
func (l *listener) resolve(ctx context.Context, payload string) (string, bool) {
	idText, isProfile := strings.CutPrefix(payload, "p:")
	if !isProfile {
		_ = l.reload(ctx) // on failure, the old map still names most profiles
		return "", true
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return "", false
	}
	if name, ok := l.names[id]; ok {
		return name, true
	}
	var name string
	if err := l.c.QueryRow(ctx, `SELECT name FROM sbctl.profiles WHERE id = $1`, id).Scan(&name); err != nil {
		return "", false
	}
	l.names[id] = name
	return name, true
}

// reconnect re-establishes the LISTEN after a lost connection, retrying
// with a growing pause until ctx ends or db is closed.
func (l *listener) reconnect(ctx context.Context) bool {
	if l.done != nil {
		closeConn(l.c)
		l.done()
		l.done = nil
	}
	pause := 100 * time.Millisecond
	for {
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		if l.db.closed.Load() {
			return false
		}
		if err := l.connect(ctx); err == nil {
			return true
		}
		pause = min(2*pause, 5*time.Second)
	}
}
