package team

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// DefaultConnectTimeout bounds every connection attempt when neither
// OpenOptions nor the URL's connect_timeout says otherwise.
const DefaultConnectTimeout = 5 * time.Second

// Pool sizes. Ordinary calls share maxConns connections; LockProfile and
// Listen hold their own connections, counted apart (maxDedicated), so a
// caller holding locks can always still read and write through the pool:
// had they shared one limit, N goroutines holding N locks would wait
// forever for a connection to store their tokens.
const (
	maxConns     = 10
	maxIdle      = 16
	maxDedicated = 64
)

// OpenOptions tunes Open.
type OpenOptions struct {
	// ConnectTimeout bounds each connection attempt (default: the URL's
	// connect_timeout, else DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// Host names this machine in the audit log.
	Host string
}

// DB is a connection pool to one team database. All methods are safe for
// concurrent use.
//
// pgxpool is not used: it needs github.com/jackc/puddle/v2, which go.sum
// does not hold; the few needs here (a bounded set of reusable
// connections, dedicated ones for locks and LISTEN) fit in pool.go.
type DB struct {
	cfg      *pgx.ConnConfig
	where    string // "/tmp/x" (a socket directory) or "db.example.com:5432", for messages
	database string
	host     string // this machine, for the audit log
	timeout  time.Duration

	slots     chan struct{} // one token per pooled connection in use
	dedicated chan struct{} // one token per LockProfile/Listen connection
	idleMu    sync.Mutex
	idle      []idleConn
	closed    atomic.Bool

	// meta is nil until the database holds a team (Open found one, or Init
	// made one).
	meta   atomic.Pointer[teamMeta]
	schema atomic.Int64 // the database's schema version, 0 when none
}

// idleConn is a pooled connection not in use, and since when.
type idleConn struct {
	c     *pgx.Conn
	since time.Time
}

// pingAfter: a connection idle longer than this is pinged before reuse,
// so a server restart or an idle-session timeout costs a reconnect rather
// than a failed call (a dead connection is only found out once a query
// was sent, too late to retry it safely).
const pingAfter = time.Second

// teamMeta is what every call needs to know about the team: fixed at Init.
type teamMeta struct {
	id      string // uuid
	prefix  string // "sbctl_ab12cd34_": the team's role names start so
	channel string // LISTEN/NOTIFY channel, "sbctl_ab12cd34"
}

func (m *teamMeta) role(r Role) string { return m.prefix + string(r) }

// Open connects to the team database at url (a postgres:// URL or a
// keyword/value string; PG* variables, passfile and sslmode work as with
// psql). It fails within the connect timeout when the server cannot be
// reached, naming the host and the cause and never the password. It
// refuses a database whose schema is newer than this binary knows. A
// database without a team opens fine (Init makes one); other calls then
// return ErrNotInitialised.
func Open(ctx context.Context, url string, o OpenOptions) (*DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, parseError(err)
	}
	timeout := o.ConnectTimeout
	if timeout <= 0 {
		timeout = cfg.ConnectTimeout
	}
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	cfg.ConnectTimeout = timeout
	// A cancelled context cancels the statement on the server too, so a
	// LockProfile given up leaves no backend queued for the lock.
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: time.Second}
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	for k, v := range map[string]string{
		"application_name": "sbctl",
		// sbctl's queries are small; the row-level security sub-selects make
		// the planner's estimates large enough to start JIT compilation,
		// which costs more (10+ ms) than the query it speeds up.
		"jit": "off",
	} {
		if _, ok := cfg.RuntimeParams[k]; !ok {
			cfg.RuntimeParams[k] = v
		}
	}
	host := o.Host
	if host == "" {
		host, _ = os.Hostname()
	}
	db := &DB{
		cfg:       cfg,
		where:     describeHost(cfg),
		database:  cfg.Database,
		host:      host,
		timeout:   timeout,
		slots:     make(chan struct{}, maxConns),
		dedicated: make(chan struct{}, maxDedicated),
	}
	if err := db.load(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// load reads the schema version and the team's identity.
func (db *DB) load(ctx context.Context) error {
	return db.with(ctx, func(c *pgx.Conn) error {
		var version int64
		err := c.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM sbctl.schema_migrations`).Scan(&version)
		if isUndefined(err) {
			return nil // no team yet
		}
		if err != nil {
			return db.queryError("read the team schema version", err)
		}
		if version > SchemaVersion {
			return &SchemaError{Database: int(version), Known: SchemaVersion}
		}
		db.schema.Store(version)
		var id, prefix string
		err = c.QueryRow(ctx, `SELECT id::text, role_prefix FROM sbctl.team`).Scan(&id, &prefix)
		if errors.Is(err, pgx.ErrNoRows) || isUndefined(err) {
			return nil
		}
		if err != nil {
			return db.queryError("read the team", err)
		}
		db.meta.Store(newMeta(id, prefix))
		return nil
	})
}

func newMeta(id, prefix string) *teamMeta {
	return &teamMeta{id: id, prefix: prefix, channel: strings.TrimSuffix(prefix, "_")}
}

// team returns the team's identity, or ErrNotInitialised; and refuses to
// work on a schema older than this binary's (an owner runs Upgrade).
func (db *DB) team() (*teamMeta, error) {
	m := db.meta.Load()
	if m == nil {
		return nil, ErrNotInitialised
	}
	if v := db.schema.Load(); v < SchemaVersion {
		return nil, fmt.Errorf("the team database has schema %d; this sbctl needs %d: an owner runs sbctl team upgrade", v, SchemaVersion)
	}
	return m, nil
}

// TeamID is the team's id (a UUID), "" before Init. Ciphertexts are bound
// to it (AD).
func (db *DB) TeamID() string {
	if m := db.meta.Load(); m != nil {
		return m.id
	}
	return ""
}

// Close releases every idle connection; connections in use close when
// released. Locks and Listen channels end with their contexts.
func (db *DB) Close() {
	db.closed.Store(true)
	db.idleMu.Lock()
	idle := db.idle
	db.idle = nil
	db.idleMu.Unlock()
	for _, ic := range idle {
		closeConn(ic.c)
	}
}

// connect opens one new connection within the connect timeout.
func (db *DB) connect(ctx context.Context) (*pgx.Conn, error) {
	if db.closed.Load() {
		return nil, errors.New("the team database connection is closed")
	}
	ctx, cancel := context.WithTimeout(ctx, db.timeout)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, db.cfg.Copy())
	if err != nil {
		return nil, db.connectError(ctx, err)
	}
	return c, nil
}

// acquire takes a connection, waiting for a free token in sem (db.slots
// for ordinary calls, db.dedicated for locks and LISTEN): an idle one when
// there is one (reused reports it), else a new one.
func (db *DB) acquire(ctx context.Context, sem chan struct{}) (c *pgx.Conn, reused bool, err error) {
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, false, fmt.Errorf("waiting for a connection to the team database: %w", ctx.Err())
	}
	for {
		db.idleMu.Lock()
		n := len(db.idle)
		if n == 0 {
			db.idleMu.Unlock()
			break
		}
		ic := db.idle[n-1]
		db.idle = db.idle[:n-1]
		db.idleMu.Unlock()
		if time.Since(ic.since) < pingAfter || ic.c.Ping(ctx) == nil {
			return ic.c, true, nil
		}
		closeConn(ic.c)
	}
	c, err = db.connect(ctx)
	if err != nil {
		<-sem
		return nil, false, err
	}
	return c, false, nil
}

// release gives back sem's token and keeps c for reuse when it is healthy
// and outside any transaction; else closes it.
func (db *DB) release(c *pgx.Conn, sem chan struct{}) {
	defer func() { <-sem }()
	if c.IsClosed() || c.PgConn().TxStatus() != 'I' || db.closed.Load() {
		closeConn(c)
		return
	}
	db.idleMu.Lock()
	if len(db.idle) < maxIdle {
		db.idle = append(db.idle, idleConn{c, time.Now()})
		c = nil
	}
	db.idleMu.Unlock()
	if c != nil {
		closeConn(c)
	}
}

// on runs fn on a connection from sem. A connection that sat idle may have
// died (server restart, idle timeout): when fn fails before anything
// reached the server, it runs once more on a fresh connection.
func (db *DB) on(ctx context.Context, sem chan struct{}, fn func(*pgx.Conn) error) (*pgx.Conn, error) {
	c, reused, err := db.acquire(ctx, sem)
	if err != nil {
		return nil, err
	}
	err = fn(c)
	if err != nil && reused && pgconn.SafeToRetry(err) && ctx.Err() == nil {
		closeConn(c)
		<-sem
		if c, _, err = db.acquire(ctx, sem); err != nil {
			return nil, err
		}
		err = fn(c)
	}
	return c, err
}

// with runs fn on a pooled connection.
func (db *DB) with(ctx context.Context, fn func(*pgx.Conn) error) error {
	c, err := db.on(ctx, db.slots, fn)
	if c != nil {
		db.release(c, db.slots)
	}
	return err
}

// tx runs fn in one transaction on a pooled connection: committed when fn
// returns nil, rolled back otherwise.
func (db *DB) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return db.with(ctx, func(c *pgx.Conn) error {
		return pgx.BeginFunc(ctx, c, fn)
	})
}

// dedicated runs start on a connection of its own (LockProfile, Listen),
// outside the pool's limit; done gives it back.
func (db *DB) dedicatedConn(ctx context.Context, start func(*pgx.Conn) error) (*pgx.Conn, func(), error) {
	c, err := db.on(ctx, db.dedicated, start)
	if err != nil {
		if c != nil {
			closeConn(c) // perhaps mid-transaction: never back to the pool
			<-db.dedicated
		}
		return nil, nil, err
	}
	var once sync.Once
	done := func() { once.Do(func() { db.release(c, db.dedicated) }) }
	return c, done, nil
}

func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = c.Close(ctx)
}

// describeHost names the server as messages show it: the socket directory
// for a unix socket, host:port otherwise.
func describeHost(cfg *pgx.ConnConfig) string {
	h := cfg.Host
	if strings.HasPrefix(h, "/") || h == "" {
		return h
	}
	return net.JoinHostPort(h, strconv.Itoa(int(cfg.Port)))
}

// connectError turns a failed connection into "cannot reach the team
// database (host /tmp/x): connection refused": the host and the innermost
// cause, never the URL (which may hold a password).
func (db *DB) connectError(ctx context.Context, err error) error {
	cause := rootCause(err)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr):
		// The server answered and refused (authentication, no such
		// database, too many connections): its message names no secret.
		cause = pgErr.Message
	case pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded):
		if ctx.Err() != nil {
			cause = "no answer within " + db.timeout.String()
		}
	case errors.Is(err, syscall.ENOENT):
		cause = "no server socket there (is PostgreSQL running?)"
	}
	cause = db.scrub(cause)
	return &UnreachableError{Where: db.where, Cause: cause, err: err}
}

// UnreachableError is a failed connection to the team database.
type UnreachableError struct {
	Where string // "/tmp/x" or "db.example.com:5432"
	Cause string
	err   error
}

func (e *UnreachableError) Error() string {
	return "cannot reach the team database (host " + e.Where + "): " + e.Cause
}

// Unwrap exposes the driver's error for errors.Is (timeouts, contexts);
// its text is not shown.
func (e *UnreachableError) Unwrap() error { return e.err }

// rootCause is the innermost error's text: "connection refused" rather
// than pgx's "failed to connect to `user=… database=…`: … dial error: …".
func rootCause(err error) string {
	for {
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			if errs := u.Unwrap(); len(errs) > 0 {
				err = errs[0]
				continue
			}
		case interface{ Unwrap() error }:
			if next := u.Unwrap(); next != nil {
				err = next
				continue
			}
		}
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return errno.Error()
		}
		return err.Error()
	}
}

// scrub removes the configured password from s, in case a driver message
// ever quotes it.
func (db *DB) scrub(s string) string {
	if pw := db.cfg.Password; pw != "" {
		s = strings.ReplaceAll(s, pw, "xxxxx")
	}
	return s
}

// parseError reports a malformed address without echoing it.
func parseError(err error) error {
	msg := err.Error()
	if i := strings.LastIndex(msg, "`: "); i >= 0 {
		msg = msg[i+3:]
	}
	if u := errors.Unwrap(err); u != nil {
		msg = strings.TrimSuffix(msg, " ("+u.Error()+")")
	}
	return fmt.Errorf("the team database address is not a PostgreSQL URL or keyword/value string: %s", msg)
}
