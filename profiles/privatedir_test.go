package profiles

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// SECURITY 31, state and locks: whoever can write to the state directory
// can swap a lock file and renew alongside another sbctl (SECURITY 19).

func TestSecurity31StateDirWritableByOthersRefused(t *testing.T) {
	if !permsMatter {
		t.Skip("no Unix permission bits on this platform")
	}
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	sf := NewStateFile(dir)
	err := sf.Update(context.Background(), func(*State) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "writable by other users") || !strings.Contains(err.Error(), "chmod 700 "+dir) {
		t.Fatalf("a 0777 state directory: %v; want a refusal with the fix", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "state.json.lock")); !os.IsNotExist(err) {
		t.Errorf("a lock file was created in the untrusted directory: %v", err)
	}
}

func TestSecurity31SymlinkedStateDirRefused(t *testing.T) {
	root := t.TempDir()
	target := filepath.Join(root, "elsewhere")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "state")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	err := NewStateFile(link).Update(context.Background(), func(*State) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("a symlinked state directory: %v; want a refusal", err)
	}
	if entries, _ := os.ReadDir(target); len(entries) != 0 {
		t.Errorf("files were written through the link: %v", entries)
	}
}

func TestSecurity31SwappedLockFileRefused(t *testing.T) {
	if noFollow == 0 {
		t.Skip("no O_NOFOLLOW on this platform")
	}
	dir := t.TempDir()
	decoy := filepath.Join(dir, "decoy")
	if err := os.WriteFile(decoy, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, "p.lock")
	if err := os.Symlink(decoy, lock); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	unlock, err := lockFile(ctx, lock)
	if err == nil {
		unlock()
		t.Fatal("a lock file swapped for a symlink was followed")
	}
	if !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("error %q does not say why", err)
	}
}
