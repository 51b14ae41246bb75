package fsx

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testDir is a kind of private directory for the tests; its words are
// the state directory's.
var testDir = PrivateDir{
	What:     "state directory",
	Env:      "XDG_STATE_HOME",
	Holds:    "its lock files",
	LinkWhy:  "sbctl keeps its locks only in a real directory",
	OwnerWhy: "another user could replace its lock files",
	NotYours: "set XDG_STATE_HOME to a directory of your own",
}

func TestLockExcludesAndReleases(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "p.lock")
	ctx := context.Background()
	unlock, err := testDir.Lock(ctx, p, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		u, err := testDir.Lock(ctx, p, time.Minute)
		if err == nil {
			u()
		}
		got <- err
	}()
	unlock()
	if err := <-got; err != nil {
		t.Fatalf("the second lock after the first was released: %v", err)
	}
	if st, err := os.Stat(p); err != nil || (PermsMatter && st.Mode().Perm() != 0o600) {
		t.Errorf("the lock file: %v, %v", st, err)
	}
}

// A lock held elsewhere: the wait ends after the timeout with the message
// users see today (testscripts look for "waited").
func TestLockTimesOut(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "p.lock")
	ctx := context.Background()
	unlock, err := testDir.Lock(ctx, p, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, err = testDir.Lock(ctx, p, 30*time.Millisecond)
	if !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("a held lock: %v, want ErrLockTimeout", err)
	}
	want := "waited 30ms for the lock " + p + " held by another sbctl; if none is running, try again"
	if err.Error() != want {
		t.Errorf("message\n%s\nwant\n%s", err, want)
	}
}

// The caller's context ends the wait, and says so: not a timeout.
func TestLockCancelled(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "p.lock")
	unlock, err := testDir.Lock(context.Background(), p, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		_, err := testDir.Lock(ctx, p, time.Hour)
		got <- err
	}()
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) || errors.Is(err, ErrLockTimeout) {
		t.Errorf("a cancelled wait: %v, want context.Canceled", err)
	}
}

// SECURITY 31: a lock file swapped for a symlink is refused, and the file
// it points to is not locked.
func TestLockRefusesSymlink(t *testing.T) {
	t.Parallel()
	if NoFollow == 0 {
		t.Skip("no O_NOFOLLOW on this platform")
	}
	dir := t.TempDir()
	decoy := filepath.Join(dir, "decoy")
	if err := os.WriteFile(decoy, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "p.lock")
	if err := os.Symlink(decoy, p); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	unlock, err := testDir.Lock(context.Background(), p, time.Minute)
	if err == nil {
		unlock()
		t.Fatal("a lock file swapped for a symlink was followed")
	}
	want := "the lock file " + p + " is a symbolic link; sbctl does not follow links in its state directory: remove it (`rm " + p + "`) and retry"
	if err.Error() != want {
		t.Errorf("message\n%s\nwant\n%s", err, want)
	}
}
