package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sbctl/sbctl/auth/fsx"
)

// writeLegacy writes dir/tokens.json as sbctl before per-item files did.
func writeLegacy(t *testing.T, dir string, items map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(items)
	if err := os.WriteFile(filepath.Join(dir, "tokens.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func legacyItems(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[ProfileKey(fmt.Sprint("p", i))] = fmt.Sprintf(`{"access_token":"AT-%d","refresh_token":"RT-%d"}`, i, i)
	}
	m[ClientKey("acme")] = "CLIENT-SECRET"
	return m
}

func checkItems(t *testing.T, f *File, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got, err := f.Get(context.Background(), k); err != nil || got != v {
			t.Errorf("%s: %q, %v; want %q", k, got, err, v)
		}
	}
}

// An existing tokens.json is read as is, and its items move to their own
// files on the next write; then it is gone.
func TestFileStoreMigratesTokensJSON(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sbctl")
	items := legacyItems(5)
	writeLegacy(t, dir, items)
	f := NewFile(dir, nil)
	checkItems(t, f, items)
	if err := f.Set(context.Background(), ProfileKey("new"), "NEW"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "tokens.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("tokens.json is still there after a write (%v)", err)
	}
	items[ProfileKey("new")] = "NEW"
	checkItems(t, f, items)
	// A fresh store (the next process) sees the same.
	checkItems(t, NewFile(dir, nil), items)
	if holder := fileHolding(t, dir, "RT-3"); filepath.Base(holder) == "tokens.json" {
		t.Errorf("p3 is still in %s", holder)
	}
}

// A migration killed half-way loses nothing: every item reads as before
// (from tokens.json, which stays until all items are safely in their own
// files), and the next write finishes the move.
func TestFileStoreMigrationInterrupted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, stopAt := range []int{0, 1, 3, 6} {
		t.Run(fmt.Sprint("after ", stopAt, " items"), func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "sbctl")
			items := legacyItems(5)
			writeLegacy(t, dir, items)
			f := NewFile(dir, nil)
			f.migrateHook = func(done int) error {
				if done == stopAt {
					return errors.New("killed")
				}
				return nil
			}
			if err := f.Set(ctx, ProfileKey("p1"), "P1-NEW"); err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("interrupted migration: %v", err)
			}
			// Nothing was lost, and the write that failed changed
			// nothing.
			checkItems(t, f, items)
			checkItems(t, NewFile(dir, nil), items)
			if _, err := os.Lstat(filepath.Join(dir, "tokens.json")); err != nil {
				t.Fatalf("tokens.json went before the migration was complete: %v", err)
			}
			// The next process's write finishes it.
			g := NewFile(dir, nil)
			if err := g.Set(ctx, ProfileKey("p1"), "P1-NEW"); err != nil {
				t.Fatal(err)
			}
			items[ProfileKey("p1")] = "P1-NEW"
			checkItems(t, g, items)
			checkItems(t, f, items)
			if _, err := os.Lstat(filepath.Join(dir, "tokens.json")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("tokens.json is still there (%v)", err)
			}
		})
	}
}

// A delete moves the rest first: a deleted item never comes back from an
// old tokens.json.
func TestFileStoreDeleteAfterLegacy(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sbctl")
	items := legacyItems(3)
	writeLegacy(t, dir, items)
	f := NewFile(dir, nil)
	ctx := context.Background()
	if err := f.Delete(ctx, ProfileKey("p0")); err != nil {
		t.Fatal(err)
	}
	delete(items, ProfileKey("p0"))
	for _, g := range []*File{f, NewFile(dir, nil)} {
		if _, err := g.Get(ctx, ProfileKey("p0")); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted item: %v", err)
		}
		checkItems(t, g, items)
	}
}

// The old file's checks still hold while it is read: world-readable or
// not JSON is refused, with the fix.
func TestFileStoreLegacyChecks(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sbctl")
	writeLegacy(t, dir, legacyItems(1))
	legacy := filepath.Join(dir, "tokens.json")
	if !fsx.PermsMatter {
		t.Skip("permission bits are not the access control here")
	}
	if err := os.Chmod(legacy, 0o644); err != nil {
		t.Fatal(err)
	}
	f := NewFile(dir, nil)
	if _, err := f.Get(context.Background(), ProfileKey("p0")); err == nil || !strings.Contains(err.Error(), "chmod 600 "+legacy) {
		t.Errorf("world-readable tokens.json: %v", err)
	}
	if err := f.Set(context.Background(), ProfileKey("x"), "x"); err == nil || !strings.Contains(err.Error(), "chmod 600 "+legacy) {
		t.Errorf("write with a world-readable tokens.json: %v", err)
	}
	if err := os.Chmod(legacy, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(legacy, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get(context.Background(), ProfileKey("p0")); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("corrupt tokens.json: %v", err)
	}
	// A write must not migrate (and so delete) a file it cannot read.
	if err := f.Set(context.Background(), ProfileKey("x"), "x"); err == nil {
		t.Error("a write went ahead over an unreadable tokens.json")
	}
	if _, err := os.Stat(legacy); err != nil {
		t.Errorf("the unreadable tokens.json was removed: %v", err)
	}
}

// A writer killed between creating its temporary file and renaming it
// leaves the file behind, possibly with a token in it: the next write
// removes it. A temporary file still being written (its writer alive) is
// left alone.
func TestFileStoreRemovesDeadWritersTempFiles(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sbctl")
	f := NewFile(dir, nil)
	ctx := context.Background()
	if err := f.Set(ctx, ProfileKey("a"), "A"); err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(f.tempDir(), "profile+a.dead")
	if err := os.WriteFile(dead, []byte(`{"key":"profile:a","value":"RT-DEAD-WRITER"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	live, err := f.createTemp("profile+b")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if err := f.Set(ctx, ProfileKey("c"), "C"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dead); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a dead writer's temporary file survived the next write (%v)", err)
	}
	if _, err := os.Lstat(live.Name()); err != nil {
		t.Errorf("a live writer's temporary file was removed: %v", err)
	}
}
