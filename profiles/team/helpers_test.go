package team

import (
	"context"
	"testing"
	"time"

	"github.com/sbctl/sbctl/profiles/team/teamtest"
)

// testCtx bounds a test's database calls, so a bug that blocks fails the
// test instead of hanging the run.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func open(t testing.TB, url string) *DB {
	t.Helper()
	db, err := Open(testCtx(t), url, OpenOptions{Host: "test-host"})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// newTeam is a fresh database made a team by its owner role.
func newTeam(t testing.TB) (string, *DB) {
	t.Helper()
	url := teamtest.Database(t)
	db := open(t, url)
	if _, err := db.Init(testCtx(t), "ab12 cd34 ef56 7890"); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return url, db
}

// joined adds a new login to the team (created by AddMember, with a
// password) and returns its URL and an open DB as that login.
func joined(t testing.TB, owner *DB, url string, role Role, groups ...string) (string, string, *DB) {
	t.Helper()
	login := teamtest.Name(string(role))
	pw := "pw-" + teamtest.Random()
	if err := owner.AddMember(testCtx(t), Member{Login: login, Role: role, Groups: groups}, &pw); err != nil {
		t.Fatalf("AddMember %s: %v", role, err)
	}
	u := teamtest.As(url, login, pw)
	return login, u, open(t, u)
}

var noTime time.Time
