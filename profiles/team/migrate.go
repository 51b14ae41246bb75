package team

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SchemaVersion is the newest schema this binary knows: the number of the
// last file in schema/.
const SchemaVersion = 1

//go:embed schema/*.sql
var schemaFS embed.FS

type migration struct {
	version int
	sql     string
}

// migrations lists schema/NNNN_name.sql in order.
func migrations() ([]migration, error) {
	names, err := fs.Glob(schemaFS, "schema/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "schema/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("schema file %s: name must start with its version number", n)
		}
		b, err := schemaFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, sql: string(b)})
	}
	if len(out) == 0 || out[len(out)-1].version != SchemaVersion {
		return nil, fmt.Errorf("embedded schema ends at version %d, SchemaVersion is %d", len(out), SchemaVersion)
	}
	return out, nil
}

// render puts the team's quoted role names into a migration.
func render(sql string, m *teamMeta) string {
	q := func(r Role) string { return pgx.Identifier{m.role(r)}.Sanitize() }
	return strings.NewReplacer(
		"{{owner}}", q(RoleOwner),
		"{{admin}}", q(RoleAdmin),
		"{{member}}", q(RoleMember),
		"{{viewer}}", q(RoleViewer),
	).Replace(sql)
}

// migrate applies the migrations newer than from, inside tx, as the owner
// group (so the new objects belong to it).
func migrate(ctx context.Context, tx pgx.Tx, m *teamMeta, from int) error {
	all, err := migrations()
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+pgx.Identifier{m.role(RoleOwner)}.Sanitize()); err != nil {
		return err
	}
	for _, mg := range all {
		if mg.version <= from {
			continue
		}
		// The simple protocol runs a multi-statement script in one call.
		if _, err := tx.Exec(ctx, render(mg.sql, m), pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("schema %d: %w", mg.version, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sbctl.schema_migrations (version) VALUES ($1)`, mg.version); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, "RESET ROLE")
	return err
}

// Init makes this database a team: the four group roles, the schema, and
// the caller as its first owner (WITH ADMIN OPTION, so it can add members).
// keyFingerprint is the team key's (the key itself never reaches the
// database). The caller needs CREATEROLE and the right to create schemas
// in the database — on a managed PostgreSQL, the database's owner; not a
// superuser. A database that already holds a team is refused
// (ErrInitialised) and left unchanged.
func (db *DB) Init(ctx context.Context, keyFingerprint string) (Info, error) {
	if db.meta.Load() != nil {
		return Info{}, ErrInitialised
	}
	var m *teamMeta
	for range 3 { // a fresh id whose role names are free in the cluster
		id, err := newUUID()
		if err != nil {
			return Info{}, err
		}
		m = newMeta(id, "sbctl_"+strings.ReplaceAll(id, "-", "")[:8]+"_")
		err = db.tx(ctx, func(tx pgx.Tx) error { return db.initTx(ctx, tx, m, keyFingerprint) })
		if errors.Is(err, errRolesTaken) {
			continue
		}
		if err != nil {
			return Info{}, db.initError(err)
		}
		db.schema.Store(SchemaVersion)
		db.meta.Store(m)
		return db.Info(ctx)
	}
	return Info{}, errors.New("team init: could not find free role names in this cluster (three tries)")
}

var errRolesTaken = errors.New("role names taken")

func (db *DB) initTx(ctx context.Context, tx pgx.Tx, m *teamMeta, keyFingerprint string) error {
	// Two team inits at once: the second waits, then finds the schema.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('sbctl:init', 0))`); err != nil {
		return err
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'sbctl')`).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return ErrInitialised
	}
	var taken bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE starts_with(rolname, $1))`, m.prefix).Scan(&taken); err != nil {
		return err
	}
	if taken {
		return errRolesTaken
	}
	owner := pgx.Identifier{m.role(RoleOwner)}.Sanitize()
	for _, r := range []Role{RoleOwner, RoleAdmin, RoleMember, RoleViewer} {
		name := m.role(r)
		if _, err := tx.Exec(ctx, "CREATE ROLE "+pgx.Identifier{name}.Sanitize()+" NOLOGIN"); err != nil {
			return err
		}
		// Roles are cluster-wide: say whose they are, for whoever lists them.
		note := fmt.Sprintf("sbctl team %s, %s group (database %q)", m.id, r, db.database)
		if err := execFormat(ctx, tx, "COMMENT ON ROLE %I IS %L", name, note); err != nil {
			return err
		}
	}
	stmts := []string{
		"GRANT " + owner + " TO CURRENT_USER WITH ADMIN OPTION",
		// Owners grant the other roles (members add/remove).
		"GRANT " + pgx.Identifier{m.role(RoleAdmin)}.Sanitize() + ", " + pgx.Identifier{m.role(RoleMember)}.Sanitize() + ", " +
			pgx.Identifier{m.role(RoleViewer)}.Sanitize() + " TO " + owner + " WITH ADMIN OPTION",
		"CREATE SCHEMA sbctl AUTHORIZATION " + owner,
		"REVOKE ALL ON SCHEMA sbctl FROM PUBLIC",
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return err
		}
	}
	if err := grantConnect(ctx, tx, m); err != nil {
		return err
	}
	if err := migrate(ctx, tx, m, 0); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO sbctl.team (id, role_prefix, key_fingerprint) VALUES ($1, $2, $3)`,
		m.id, m.prefix, keyFingerprint); err != nil {
		return err
	}
	return db.logTx(ctx, tx, ActionInit, "", "team "+m.id)
}

// grantConnect lets the team's roles connect where CONNECT was revoked from
// PUBLIC (some managed services do). A caller that cannot grant it (not the
// database's owner) leaves it as it is: the members then need CONNECT from
// the database's administrator.
func grantConnect(ctx context.Context, tx pgx.Tx, m *teamMeta) error {
	sp, err := tx.Begin(ctx) // a savepoint: a refusal must not abort init
	if err != nil {
		return err
	}
	var stmt string
	err = sp.QueryRow(ctx, `SELECT format('GRANT CONNECT ON DATABASE %I TO %I, %I, %I, %I', current_database(), $1::text, $2::text, $3::text, $4::text)`,
		m.role(RoleOwner), m.role(RoleAdmin), m.role(RoleMember), m.role(RoleViewer)).Scan(&stmt)
	if err == nil {
		_, err = sp.Exec(ctx, stmt)
	}
	if err != nil {
		if isDenied(err) {
			return sp.Rollback(ctx)
		}
		return err
	}
	return sp.Commit(ctx)
}

// initError explains the usual reason init fails on a managed PostgreSQL.
func (db *DB) initError(err error) error {
	if errors.Is(err, ErrInitialised) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42501" {
		return fmt.Errorf("team init needs a PostgreSQL user with CREATEROLE that may create schemas in database %q (on a managed PostgreSQL: the database's owner); nothing was changed: %s",
			db.database, pgErr.Message)
	}
	if errors.As(err, &pgErr) && pgErr.Code == "42P06" { // schema exists: lost a race
		return ErrInitialised
	}
	return db.queryError("team init", err)
}

// Upgrade applies the embedded migrations the database lacks, in one
// transaction. Owners only.
func (db *DB) Upgrade(ctx context.Context) error {
	m := db.meta.Load()
	if m == nil {
		return ErrNotInitialised
	}
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var v int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM sbctl.schema_migrations`).Scan(&v); err != nil {
			return err
		}
		if v > SchemaVersion {
			return &SchemaError{Database: v, Known: SchemaVersion}
		}
		if v == SchemaVersion {
			return nil
		}
		if err := migrate(ctx, tx, m, v); err != nil {
			return err
		}
		return db.logTx(ctx, tx, ActionUpgrade, "", fmt.Sprintf("schema %d to %d", v, SchemaVersion))
	})
	if err != nil {
		var se *SchemaError
		if errors.As(err, &se) {
			return err
		}
		return db.orDenied(ctx, err, "upgrade the team schema", RoleOwner)
	}
	db.schema.Store(SchemaVersion)
	return nil
}

// execFormat runs a utility statement built by the server's format(), so
// identifiers (%I) and literals (%L) are quoted by PostgreSQL itself:
// utility statements take no parameters.
func execFormat(ctx context.Context, tx pgx.Tx, format string, args ...any) error {
	var stmt string
	if err := tx.QueryRow(ctx, `SELECT format($1, VARIADIC $2::text[])`, format, toStrings(args)).Scan(&stmt); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, stmt)
	return err
}

func toStrings(args []any) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = fmt.Sprint(a)
	}
	return out
}

// newUUID is a random (version 4) UUID.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
