// Package teamtest gives tests a real PostgreSQL database of their own.
//
// The server comes from SBCTL_TEST_DATABASE_URL: a role that owns a
// database and has CREATEDB and CREATEROLE, not superuser (what
// `bash .ci/postgres.sh start` sets up, and what a managed PostgreSQL
// gives a team). Without it the tests skip, saying so; with
// SBCTL_REQUIRE_POSTGRES=1 (CI) they fail instead.
package teamtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// SkipMessage is what a team test says when no server is configured.
const SkipMessage = "team tests need PostgreSQL: set SBCTL_TEST_DATABASE_URL (eval \"$(bash .ci/postgres.sh start)\")"

// dbPrefix starts the name of every database Database makes.
const dbPrefix = "sbctl_t_"

// setupTimeout bounds each administrative step (create, drop).
const setupTimeout = 60 * time.Second

// BaseURL is SBCTL_TEST_DATABASE_URL, or skips (fails under
// SBCTL_REQUIRE_POSTGRES=1) when it is unset.
func BaseURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("SBCTL_TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("SBCTL_REQUIRE_POSTGRES") == "1" {
			t.Fatal(SkipMessage + " (SBCTL_REQUIRE_POSTGRES=1: not skipping)")
		}
		t.Skip(SkipMessage)
	}
	return base
}

// Database creates a fresh, empty database for the calling test and
// returns its URL (as the base URL's role, which owns it). Cleanup drops
// it — ending any session still in it — and then the roles made for it:
// the team's group roles (team.Init comments them with the database's
// name) and the logins made by Login or team.AddMember.
func Database(t testing.TB) string {
	t.Helper()
	base := BaseURL(t)
	name := dbPrefix + Random()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	c, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("teamtest: connect to SBCTL_TEST_DATABASE_URL: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("teamtest: create database %s (the role needs CREATEDB): %v", name, err)
	}
	t.Cleanup(func() { drop(t, base, name) })
	return WithSetting(base, "dbname", name)
}

func drop(t testing.TB, base, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	c, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Errorf("teamtest: drop database %s: %v", name, err)
		return
	}
	defer c.Close(ctx)
	var roles []string
	err = c.QueryRow(ctx, `
SELECT ARRAY(SELECT r.rolname FROM pg_roles r
  JOIN pg_shdescription d ON d.objoid = r.oid AND d.classoid = 'pg_authid'::regclass
 WHERE right(d.description, length($1)) = $1)`, databaseNote(name)).Scan(&roles)
	if err != nil {
		t.Errorf("teamtest: list the roles of %s: %v", name, err)
	}
	// FORCE ends sessions a test left open (needs pg_signal_backend for
	// other roles' sessions: .ci/postgres.sh grants it).
	if _, err := c.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("teamtest: drop database %s: %v", name, err)
		return
	}
	for _, r := range roles {
		if _, err := c.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{r}.Sanitize()); err != nil {
			t.Errorf("teamtest: drop role %s: %v", r, err)
		}
	}
}

// databaseNote ends the comment of every role made for a database, as
// team.Init writes it: `… (database "sbctl_t_…")`.
func databaseNote(name string) string { return fmt.Sprintf("(database %q)", name) }

// Login creates a PostgreSQL login role (LOGIN PASSWORD password, no other
// attribute) and returns dbURL with that user and password. Roles are
// cluster-wide: pass a unique name (Name). It is dropped after the test
// (after the database, when dbURL is one of Database's).
func Login(t testing.TB, dbURL, login, password string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatalf("teamtest: %v", err)
	}
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("teamtest: connect: %v", err)
	}
	defer c.Close(ctx)
	var stmt, note string
	err = c.QueryRow(ctx, `SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', $1::text, $2::text),
  format('COMMENT ON ROLE %I IS %L', $1::text, 'sbctl test login ' || $3::text)`,
		login, password, databaseNote(cfg.Database)).Scan(&stmt, &note)
	if err == nil {
		_, err = c.Exec(ctx, stmt)
	}
	if err == nil {
		_, err = c.Exec(ctx, note)
	}
	if err != nil {
		t.Fatalf("teamtest: create login %s: %v", login, err)
	}
	if !strings.HasPrefix(cfg.Database, dbPrefix) {
		base := BaseURL(t)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
			defer cancel()
			if c, err := pgx.Connect(ctx, base); err == nil {
				_, _ = c.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{login}.Sanitize())
				_ = c.Close(ctx)
			}
		})
	}
	return As(dbURL, login, password)
}

// As returns dbURL logging in as login with password (no role is made).
func As(dbURL, login, password string) string {
	return WithSetting(WithSetting(dbURL, "user", login), "password", password)
}

// Name is base with a random suffix: a login or role name no other test
// in the cluster uses.
func Name(base string) string { return base + "_" + Random() }

// Random is 8 random hex digits.
func Random() string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b[:])
}

// WithSetting returns the connection string with one setting (dbname,
// user, password, connect_timeout…) replaced: in a postgres:// URL the path,
// user info or query; in a keyword/value string by appending (the last
// occurrence wins, in libpq and pgx alike).
func WithSetting(conn, key, value string) string {
	if strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://") {
		u, err := url.Parse(conn)
		if err == nil {
			switch key {
			case "dbname":
				u.Path = "/" + value
			case "user":
				pw, ok := u.User.Password()
				u.User = url.User(value)
				if ok {
					u.User = url.UserPassword(value, pw)
				}
			case "password":
				u.User = url.UserPassword(u.User.Username(), value)
			default:
				q := u.Query()
				q.Set(key, value)
				u.RawQuery = q.Encode()
			}
			return u.String()
		}
	}
	quoted := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(value)
	return strings.TrimSpace(conn) + " " + key + "='" + quoted + "'"
}
