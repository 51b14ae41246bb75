package team

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sbctl/sbctl/profiles/team/teamtest"
)

const urlPassword = "sekrit-pw-marker"

func openErr(t *testing.T, url string, timeout time.Duration) error {
	t.Helper()
	db, err := Open(testCtx(t), url, OpenOptions{ConnectTimeout: timeout})
	if err == nil {
		db.Close()
		t.Fatal("Open succeeded")
	}
	if strings.Contains(err.Error(), urlPassword) {
		t.Fatalf("the error shows the password: %v", err)
	}
	return err
}

// TestOpenUnreachable: no server → an error naming the host and the cause,
// never the password; no PostgreSQL needed.
func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	t.Run("no socket", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		err := openErr(t, "host="+dir+" dbname=x user=u password="+urlPassword, 0)
		want := "cannot reach the team database (host " + dir + "): no server socket there (is PostgreSQL running?)"
		if err.Error() != want {
			t.Fatalf("error = %q\nwant %q", err, want)
		}
	})
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		err = openErr(t, "postgres://u:"+urlPassword+"@127.0.0.1:"+strconv.Itoa(port)+"/x?sslmode=disable", 0)
		want := "cannot reach the team database (host 127.0.0.1:" + strconv.Itoa(port) + "): connection refused"
		if err.Error() != want {
			t.Fatalf("error = %q\nwant %q", err, want)
		}
	})
	t.Run("no answer", func(t *testing.T) {
		t.Parallel()
		// Accepts and never speaks: only the connect timeout ends the wait.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { c.Close() })
			}
		}()
		err = openErr(t, "postgres://u:"+urlPassword+"@"+l.Addr().String()+"/x?sslmode=disable", 300*time.Millisecond)
		want := "cannot reach the team database (host " + l.Addr().String() + "): no answer within 300ms"
		if err.Error() != want {
			t.Fatalf("error = %q\nwant %q", err, want)
		}
		var u *UnreachableError
		if !errors.As(err, &u) {
			t.Fatalf("error is %T, want *UnreachableError", err)
		}
	})
	t.Run("bad address", func(t *testing.T) {
		t.Parallel()
		err := openErr(t, "postgres://u:"+urlPassword+"@[::1/x", 0)
		if !strings.HasPrefix(err.Error(), "the team database address is not a PostgreSQL URL") {
			t.Fatalf("error = %q", err)
		}
	})
}

// TestOpenWrongPassword: the server's refusal, without the password.
func TestOpenWrongPassword(t *testing.T) {
	t.Parallel()
	url, owner := newTeam(t)
	login, _, _ := joined(t, owner, url, RoleMember)
	err := openErr(t, teamtest.As(url, login, urlPassword), 0)
	if !strings.Contains(err.Error(), "password authentication failed for user \""+login+"\"") ||
		!strings.HasPrefix(err.Error(), "cannot reach the team database (host ") {
		t.Fatalf("error = %q", err)
	}
}

// TestOpenNewerSchema: a database migrated by a newer sbctl is refused.
func TestOpenNewerSchema(t *testing.T) {
	t.Parallel()
	url, owner := newTeam(t)
	ctx := testCtx(t)
	if err := owner.with(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO sbctl.schema_migrations (version) VALUES (3)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, url, OpenOptions{})
	if err == nil || err.Error() != "the team database has schema 3; this sbctl knows 1: upgrade sbctl" {
		t.Fatalf("Open = %v", err)
	}
	if err := owner.Upgrade(ctx); err == nil || !strings.Contains(err.Error(), "upgrade sbctl") {
		t.Fatalf("Upgrade on a newer schema = %v", err)
	}
}

// TestNotInitialised: a database without a team opens; everything but
// Init says so.
func TestNotInitialised(t *testing.T) {
	t.Parallel()
	db := open(t, teamtest.Database(t))
	ctx := testCtx(t)
	checks := map[string]error{}
	_, checks["Info"] = db.Info(ctx)
	_, checks["Me"] = db.Me(ctx)
	_, checks["Catalog"] = db.Catalog(ctx)
	_, checks["Secret"] = db.Secret(ctx, SecretToken, "x")
	_, checks["LockProfile"] = db.LockProfile(ctx, "x")
	_, checks["Listen"] = db.Listen(ctx)
	checks["Log"] = db.Log(ctx, ActionRefresh, "x", "")
	for name, err := range checks {
		if !errors.Is(err, ErrNotInitialised) {
			t.Errorf("%s: %v, want ErrNotInitialised", name, err)
		}
	}
	if db.TeamID() != "" {
		t.Error("TeamID before Init")
	}
	if _, err := db.Init(ctx, "fp"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Catalog(ctx); err != nil {
		t.Fatalf("Catalog after Init: %v", err)
	}
}

// TestInitNeedsCreateRole: a login without CREATEROLE is told what it
// lacks, and nothing is left behind.
func TestInitNeedsCreateRole(t *testing.T) {
	t.Parallel()
	url := teamtest.Database(t)
	plain := teamtest.Login(t, url, teamtest.Name("plain"), "pw-"+teamtest.Random())
	_, err := open(t, plain).Init(testCtx(t), "fp")
	if err == nil || !strings.HasPrefix(err.Error(), "team init needs a PostgreSQL user with CREATEROLE") {
		t.Fatalf("Init without CREATEROLE: %v", err)
	}
	if _, err := open(t, url).Init(testCtx(t), "fp"); err != nil {
		t.Fatalf("Init by the owner afterwards: %v", err)
	}
}
