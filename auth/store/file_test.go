package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/fsx"
)

func TestFileStore(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sbctl")
	var warn bytes.Buffer
	f := NewFile(dir, &warn)
	ctx := context.Background()
	if _, err := f.Get(ctx, "profile:a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty store: %v", err)
	}
	tok := &auth.Token{AccessToken: "AT-file-1", RefreshToken: "RT-file-1"}
	if err := PutToken(ctx, f, "a", tok); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warn.String(), "plain text") {
		t.Error("no warning on write")
	}
	got, err := GetToken(ctx, f, "a")
	if err != nil || got.AccessToken != "AT-file-1" || got.RefreshToken != "RT-file-1" {
		t.Fatalf("got %+v, %v", got, err)
	}
	holder := fileHolding(t, dir, "RT-file-1")
	for path, want := range map[string]fs.FileMode{holder: 0o600, dir: 0o700, filepath.Dir(holder): 0o700} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fsx.PermsMatter && st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, st.Mode().Perm(), want)
		}
	}
	// Every write warns, not only the first.
	warn.Reset()
	if err := PutToken(ctx, f, "b", tok); err != nil || !strings.Contains(warn.String(), "plain text") {
		t.Errorf("second write: warning %q, %v", warn.String(), err)
	}
	if err := f.Delete(ctx, ProfileKey("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := GetToken(ctx, f, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if err := f.Delete(ctx, ProfileKey("never-there")); err != nil {
		t.Errorf("deleting a missing key: %v", err)
	}
	if !fsx.PermsMatter {
		return // permission bits are not the access control here
	}
	// A file others can read is refused, not used.
	holder = fileHolding(t, dir, "RT-file-1")
	if err := os.Chmod(holder, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get(ctx, ProfileKey("b")); err == nil || !strings.Contains(err.Error(), "chmod 600 "+holder) {
		t.Errorf("world-readable file: %v", err)
	}
	if err := f.Set(ctx, ProfileKey("b"), "x"); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("writing over a world-readable file: %v", err)
	}
}

// fileHolding returns the one file under dir whose content holds marker.
func fileHolding(t *testing.T, dir, marker string) string {
	t.Helper()
	var found []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(marker)) {
				found = append(found, p)
			}
		}
		return nil
	})
	if len(found) != 1 {
		t.Fatalf("files holding the marker: %v, want one", found)
	}
	return found[0]
}

func TestGetTokenUnreadableDoesNotLeak(t *testing.T) {
	t.Parallel()
	f := NewFile(t.TempDir(), nil)
	ctx := context.Background()
	if err := f.Set(ctx, ProfileKey("a"), `{"refresh_token":"RT-LEAK-CHECK"}`); err != nil {
		t.Fatal(err)
	}
	_, err := GetToken(ctx, f, "a")
	if err == nil || strings.Contains(err.Error(), "RT-LEAK-CHECK") || !strings.Contains(err.Error(), "sbctl reauth a") {
		t.Errorf("err = %v", err)
	}
}

// Item 12 of issue 8: every token write rewrote (and fsynced) the one file
// holding all tokens, so a write cost grew with the number of profiles.
// Now a write replaces only its own item's file: the other items' files
// are not touched (same inode, same content).
func TestFileStoreWriteTouchesOnlyItsItem(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sbctl")
	f := NewFile(dir, nil)
	ctx := context.Background()
	for i := range 20 {
		if err := f.Set(ctx, ProfileKey(fmt.Sprint("p", i)), fmt.Sprintf("VALUE-%d-END", i)); err != nil {
			t.Fatal(err)
		}
	}
	holder := fileHolding(t, dir, "VALUE-7-END")
	before, err := os.Stat(holder)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set(ctx, ProfileKey("p8"), "VALUE-8-NEW"); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(holder)
	if err != nil || !os.SameFile(before, after) {
		t.Fatalf("writing p8 replaced the file holding p7 (%s): %v", holder, err)
	}
	if b, _ := os.ReadFile(holder); bytes.Contains(b, []byte("VALUE-8")) {
		t.Errorf("p7's file also holds p8")
	}
	for i := range 20 {
		want := fmt.Sprintf("VALUE-%d-END", i)
		if i == 8 {
			want = "VALUE-8-NEW"
		}
		if v, err := f.Get(ctx, ProfileKey(fmt.Sprint("p", i))); err != nil || v != want {
			t.Errorf("p%d: %q, %v", i, v, err)
		}
	}
}

// Keys that differ only in case, in normalisation-sensitive bytes or in
// length beyond a file name's limit are different items (file systems on
// macOS and Windows ignore case).
func TestFileStoreKeysStayDistinct(t *testing.T) {
	t.Parallel()
	f := NewFile(filepath.Join(t.TempDir(), "sbctl"), nil)
	ctx := context.Background()
	long := strings.Repeat("日本語", 34) // 102 bytes, 300+ once escaped
	keyset := []string{
		ProfileKey("acme"), ProfileKey("Acme"), ProfileKey("ACME"), ClientKey("acme"),
		ProfileKey("a.b"), ProfileKey("a_b"), ProfileKey("a%2eb"), ProfileKey(".hidden"),
		ProfileKey("x/y"), ProfileKey(`x\y`), ProfileKey("é"), ProfileKey("e\u0301"),
		ProfileKey(long), ProfileKey(long + "x"), ProfileKey(long[:len(long)-3] + "x"),
		"doctor-probe:0a1b2c", "",
	}
	for i, k := range keyset {
		if err := f.Set(ctx, k, fmt.Sprint("v", i)); err != nil {
			t.Fatalf("%q: %v", k, err)
		}
	}
	for i, k := range keyset {
		if v, err := f.Get(ctx, k); err != nil || v != fmt.Sprint("v", i) {
			t.Errorf("%q: %q, %v", k, v, err)
		}
	}
	entries, err := os.ReadDir(f.itemDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if len(e.Name()) > 200 || strings.ContainsAny(e.Name(), `/\:`) {
			t.Errorf("file name %q is unsafe on some systems", e.Name())
		}
		if e.Name() != strings.ToLower(e.Name()) {
			t.Errorf("file name %q depends on case", e.Name())
		}
	}
}
