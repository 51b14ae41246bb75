package fsx

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileKeepsMode(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o640); err != nil { // whatever the umask
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new"), KeepPerm(0o600)); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	b, _ := os.ReadFile(p)
	if string(b) != "new" || (PermsMatter && st.Mode().Perm() != 0o640) {
		t.Errorf("content %q mode %v", b, st.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
}

// A secret never inherits a mode someone widened.
func TestWriteFileForcePerm(t *testing.T) {
	t.Parallel()
	if !PermsMatter {
		t.Skip("no Unix permission bits on this platform")
	}
	p := filepath.Join(t.TempDir(), "secret.json")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new"), ForcePerm(0o600)); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
}

// A new file gets the mode asked for whatever the umask, in a directory
// created 0700.
func TestWriteFileNewFileAndDirectory(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "new")
	p := filepath.Join(dir, "f")
	if err := WriteFile(p, []byte("x"), KeepPerm(0o600)); err != nil {
		t.Fatal(err)
	}
	if !PermsMatter {
		return
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v", st.Mode().Perm())
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v", st.Mode().Perm())
	}
}

// The file is replaced by rename: a reader holding the old one still reads
// the old bytes, and the new one is another file.
func TestWriteFileReplacesByRename(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "state.json")
	if err := WriteFile(p, []byte("one"), KeepPerm(0o600)); err != nil {
		t.Fatal(err)
	}
	old, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	oldInfo, _ := old.Stat()
	if err := WriteFile(p, []byte("two"), KeepPerm(0o600)); err != nil {
		t.Fatal(err)
	}
	newInfo, _ := os.Stat(p)
	if os.SameFile(oldInfo, newInfo) {
		t.Fatal("rewritten in place, not replaced")
	}
	b := make([]byte, 8)
	n, _ := old.Read(b)
	if string(b[:n]) != "one" {
		t.Errorf("the old file reads %q", b[:n])
	}
}

// Temporary files a dead writer left (it may have held a secret) go with
// the next write; other files stay.
func TestWriteFileRemovesDeadWritersTemps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	dead := filepath.Join(dir, TempPrefix(p)+"123")
	other := filepath.Join(dir, TempPrefix(filepath.Join(dir, "other.json"))+"123")
	for _, f := range []string{dead, other} {
		if err := os.WriteFile(f, []byte("left"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteFile(p, []byte("x"), KeepPerm(0o600)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("a dead writer's temp file is still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another file's temp file was removed: %v", err)
	}
}

func TestWriteTempLeavesNothingOnError(t *testing.T) {
	t.Parallel()
	if _, _, err := WriteTemp(filepath.Join(t.TempDir(), "missing"), ".x.tmp-", []byte("x"), 0o600); err == nil {
		t.Fatal("no error for a missing directory")
	}
	dir := t.TempDir()
	name, fi, err := WriteTemp(dir, ".x.tmp-", []byte("data"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(name) != dir || fi.Size() != 4 {
		t.Errorf("WriteTemp = %s, size %d", name, fi.Size())
	}
	if st, err := os.Stat(name); err != nil || !os.SameFile(st, fi) {
		t.Errorf("the info returned is not the file's: %v", err)
	}
}

func TestSyncDir(t *testing.T) {
	t.Parallel()
	if err := SyncDir(t.TempDir()); err != nil {
		t.Errorf("SyncDir: %v", err)
	}
	if err := SyncDir(filepath.Join(t.TempDir(), "missing")); !os.IsNotExist(err) {
		t.Errorf("SyncDir of a missing directory: %v", err)
	}
}
