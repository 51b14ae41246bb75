package fsx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// storeWords are the token store's, for the parts of the sentences the
// state directory's leave empty.
var storeWords = PrivateDir{
	What:      "token store directory",
	Env:       "XDG_DATA_HOME",
	Holds:     "the files in it",
	LinkWhy:   "sbctl does not follow links where it keeps secrets",
	MoveFiles: true,
	OwnerWhy:  "sbctl keeps secrets only in files of its own user",
	NotYours:  "move it away and let sbctl create a new one (or set XDG_DATA_HOME)",
	ModeThen:  "and `sbctl reauth` any profile you do not trust",
	Tighten:   true,
}

func TestMakeCreatesPrivateDirectories(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := testDir.Make(dir); err != nil {
		t.Fatal(err)
	}
	if err := testDir.Make(dir); err != nil {
		t.Fatalf("again, on the directory it made: %v", err)
	}
	if !PermsMatter {
		return
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if st, err := os.Stat(d); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, %v; want 0700", d, st.Mode().Perm(), err)
		}
	}
}

func TestCheckMissingIsNotExist(t *testing.T) {
	t.Parallel()
	if err := testDir.Check(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing directory: %v, want fs.ErrNotExist", err)
	}
}

func TestRefusesSymlink(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	target := filepath.Join(root, "elsewhere")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "state")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	for _, tc := range []struct {
		d    PrivateDir
		want string
	}{
		{testDir, "the state directory %[1]s is a symbolic link; sbctl keeps its locks only in a real directory: replace it (`rm %[1]s && mkdir -m 700 %[1]s`), or set XDG_STATE_HOME to the place you wanted"},
		{storeWords, "the token store directory %[1]s is a symbolic link; sbctl does not follow links where it keeps secrets: replace it with a real directory (`rm %[1]s && mkdir -m 700 %[1]s`, then move the files over), or set XDG_DATA_HOME to the place you wanted"},
	} {
		for _, err := range []error{tc.d.Make(link), tc.d.Check(link)} {
			if want := fmt.Sprintf(tc.want, link); err == nil || err.Error() != want {
				t.Errorf("a symlink: %v\nwant %s", err, want)
			}
		}
	}
	if st, _ := os.Stat(target); PermsMatter && st.Mode().Perm() != 0o755 {
		t.Errorf("the link's target was changed: %v", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(target); len(entries) != 0 {
		t.Errorf("created through the link: %v", entries)
	}
}

func TestRefusesNonDirectory(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "state")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("the state directory %[1]s is not a directory; move it away (`mv %[1]s %[1]s.bak`) so sbctl can create it", p)
	if err := testDir.Make(p); err == nil || err.Error() != want {
		t.Errorf("a file: %v\nwant %s", err, want)
	}
}

func TestRefusesDirectoryWritableByOthers(t *testing.T) {
	t.Parallel()
	if !PermsMatter {
		t.Skip("no Unix permission bits on this platform")
	}
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		d    PrivateDir
		want string
	}{
		{testDir, "the state directory %[1]s is writable by other users (mode 0777), who could replace its lock files; run `chmod 700 %[1]s`"},
		{storeWords, "the token store directory %[1]s is writable by other users (mode 0777), who could replace the files in it; run `chmod 700 %[1]s` (and `sbctl reauth` any profile you do not trust)"},
	} {
		if err, want := tc.d.Make(dir), fmt.Sprintf(tc.want, dir); err == nil || err.Error() != want {
			t.Errorf("a 0777 directory: %v\nwant %s", err, want)
		}
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o777 {
		t.Errorf("a refused directory was changed: %v", st.Mode().Perm())
	}
}

// Tighten makes a directory others may only enter 0700; without it, and
// in Check, it is left as it is.
func TestTighten(t *testing.T) {
	t.Parallel()
	if !PermsMatter {
		t.Skip("no Unix permission bits on this platform")
	}
	dir := filepath.Join(t.TempDir(), "d")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	mode := func() fs.FileMode { st, _ := os.Stat(dir); return st.Mode().Perm() }
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := testDir.Make(dir); err != nil || mode() != 0o755 {
		t.Errorf("without Tighten: %v, mode %v", err, mode())
	}
	if err := storeWords.Check(dir); err != nil || mode() != 0o755 {
		t.Errorf("Check: %v, mode %v", err, mode())
	}
	if err := storeWords.Make(dir); err != nil || mode() != 0o700 {
		t.Errorf("with Tighten: %v, mode %v; want 0700", err, mode())
	}
}

// Another user's directory (root's included: root's must be root's).
// Needs root to chown.
func TestRefusesForeignOwner(t *testing.T) {
	t.Parallel()
	if !PermsMatter || os.Geteuid() != 0 {
		t.Skip("skipping: only root can give a directory to another user (run the tests as root, as CI's container does)")
	}
	const nobody = 65534
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		d    PrivateDir
		want string
	}{
		{testDir, "the state directory %[1]s is owned by uid 65534, not by you (uid 0); another user could replace its lock files: if it is yours, run `chown 0 %[1]s`; if not, set XDG_STATE_HOME to a directory of your own"},
		{storeWords, "the token store directory %[1]s is owned by uid 65534, not by you (uid 0); sbctl keeps secrets only in files of its own user: if it is yours, run `chown 0 %[1]s`; if not, move it away and let sbctl create a new one (or set XDG_DATA_HOME)"},
	} {
		if err, want := tc.d.Check(dir), fmt.Sprintf(tc.want, dir); err == nil || err.Error() != want {
			t.Errorf("another user's directory: %v\nwant %s", err, want)
		}
	}
}
