//go:build unix

package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// SECURITY 31: the store's directory is never followed through a symlink.
// Before, MkdirAll + Chmod followed it: tokens went wherever the link
// pointed and the target was chmodded 0700.
func TestSecurity31SymlinkedStoreDirRefused(t *testing.T) {
	t.Parallel()
	for _, which := range []string{"sbctl", "sbctl/tokens"} {
		t.Run(which, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			target := filepath.Join(root, "elsewhere")
			if err := os.Mkdir(target, 0o755); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(root, "sbctl")
			link := filepath.Join(root, which)
			if which != "sbctl" {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			f := NewFile(dir, nil)
			ctx := context.Background()
			err := f.Set(ctx, ProfileKey("a"), "RT-SYMLINK")
			checkRefused(t, err, link, "symbolic link", "mkdir -m 700")
			_, err = f.Get(ctx, ProfileKey("a"))
			checkRefused(t, err, link, "symbolic link", "mkdir -m 700")
			if st, err := os.Stat(target); err != nil || st.Mode().Perm() != 0o755 {
				t.Errorf("the link's target was changed: %v, %v", st.Mode().Perm(), err)
			}
			if entries, _ := os.ReadDir(target); len(entries) > 0 {
				t.Errorf("files were written through the link: %v", entries)
			}
		})
	}
}

// An item file, the old tokens.json, or a temporary file replaced by a
// symlink is not followed either.
func TestSecurity31SymlinkedStoreFileRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := t.TempDir()
	outside := filepath.Join(root, "outside.json")
	if err := os.WriteFile(outside, []byte(`{"profile:a":"RT-OUTSIDE"}`), 0o600); err != nil {
		t.Fatal(err)
	}

	// The old single file.
	dir := filepath.Join(root, "legacy", "sbctl")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	legacy := filepath.Join(dir, "tokens.json")
	if err := os.Symlink(outside, legacy); err != nil {
		t.Fatal(err)
	}
	_, err := NewFile(dir, nil).Get(ctx, ProfileKey("a"))
	checkRefused(t, err, legacy, "symbolic link", "rm "+legacy)

	// An item's own file.
	dir = filepath.Join(root, "items", "sbctl")
	f := NewFile(dir, nil)
	if err := f.Set(ctx, ProfileKey("a"), "RT-MINE"); err != nil {
		t.Fatal(err)
	}
	item := f.itemPath(ProfileKey("a"))
	if err := os.Remove(item); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, item); err != nil {
		t.Fatal(err)
	}
	_, err = f.Get(ctx, ProfileKey("a"))
	checkRefused(t, err, item, "symbolic link", "rm "+item)
	// A write is refused too (it would hide that something replaced the
	// file), and the file the link points to is untouched.
	err = f.Set(ctx, ProfileKey("a"), "RT-NEW")
	checkRefused(t, err, item, "symbolic link", "rm "+item)
	if b, _ := os.ReadFile(outside); !strings.Contains(string(b), "RT-OUTSIDE") {
		t.Errorf("the link's target was written: %q", b)
	}
	// Once the link is removed, as the message says, writes work again.
	if err := os.Remove(item); err != nil {
		t.Fatal(err)
	}
	if err := f.Set(ctx, ProfileKey("a"), "RT-NEW"); err != nil {
		t.Fatal(err)
	}
}

// A directory others can write to (they could swap files in it) is
// refused; one that is merely readable by others is tightened to 0700.
func TestSecurity31StoreDirWritableByOthersRefused(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sbctl")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	f := NewFile(dir, nil)
	err := f.Set(context.Background(), ProfileKey("a"), "x")
	checkRefused(t, err, dir, "writable by other users", "chmod 700 "+dir)

	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := f.Set(context.Background(), ProfileKey("a"), "x"); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", st.Mode().Perm())
	}
}

// SECURITY 31: a store file or directory owned by another user is refused
// (root included: root's store must be root's). Needs root to chown.
func TestSecurity31ForeignOwnedStoreRefused(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("skipping: only root can give a file to another user (run the tests as root, as CI's container does)")
	}
	const nobody = 65534
	ctx := context.Background()

	t.Run("item file", func(t *testing.T) {
		t.Parallel()
		f := NewFile(filepath.Join(t.TempDir(), "sbctl"), nil)
		if err := f.Set(ctx, ProfileKey("a"), "RT-FOREIGN"); err != nil {
			t.Fatal(err)
		}
		item := f.itemPath(ProfileKey("a"))
		if err := os.Chown(item, nobody, nobody); err != nil {
			t.Fatal(err)
		}
		_, err := f.Get(ctx, ProfileKey("a"))
		checkRefused(t, err, item, "owned by uid 65534", "chown")
	})
	t.Run("old tokens.json", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "sbctl")
		writeLegacy(t, dir, legacyItems(1))
		legacy := filepath.Join(dir, "tokens.json")
		if err := os.Chown(legacy, nobody, nobody); err != nil {
			t.Fatal(err)
		}
		_, err := NewFile(dir, nil).Get(ctx, ProfileKey("p0"))
		checkRefused(t, err, legacy, "owned by uid 65534", "chown")
	})
	t.Run("directory", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "sbctl")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, nobody, nobody); err != nil {
			t.Fatal(err)
		}
		f := NewFile(dir, nil)
		err := f.Set(ctx, ProfileKey("a"), "x")
		checkRefused(t, err, dir, "owned by uid 65534", "chown")
		_, err = f.Get(ctx, ProfileKey("a"))
		checkRefused(t, err, dir, "owned by uid 65534", "chown")
	})
}

// The old store's lock file swapped for a symlink is refused with the
// fix. Before, every failure to take it read "another sbctl holds the
// lock", which no retry ends; and tokens.json stays, still the truth.
func TestSecurity31SymlinkedLegacyLockRefused(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sbctl")
	writeLegacy(t, dir, legacyItems(1))
	decoy := filepath.Join(t.TempDir(), "decoy")
	if err := os.WriteFile(decoy, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, "tokens.json.lock")
	if err := os.Symlink(decoy, lock); err != nil {
		t.Fatal(err)
	}
	f := NewFile(dir, nil)
	err := f.Set(context.Background(), ProfileKey("a"), "x")
	checkRefused(t, err, lock, "symbolic link", "rm "+lock)
	if strings.Contains(err.Error(), "another sbctl holds") {
		t.Errorf("a symlink reported as a held lock: %v", err)
	}
	checkItems(t, f, legacyItems(1))
}

// checkRefused: err is a refusal that names path and says how to fix it
// (and is not "not found", which would make the profile look
// disconnected).
func checkRefused(t *testing.T, err error, path string, wants ...string) {
	t.Helper()
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s: %v, want a refusal", path, err)
		return
	}
	for _, w := range append([]string{path}, wants...) {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q lacks %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "RT-") {
		t.Errorf("the message holds a stored value: %v", err)
	}
}
