package profiles

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth/fsx"
)

func TestStateFileRoundTripAndCorruption(t *testing.T) {
	dir := t.TempDir()
	f := NewStateFile(dir)
	ctx := context.Background()
	if _, err := f.Load(); !errors.Is(err, errStateMissing) {
		t.Fatalf("missing file: %v", err)
	}
	if err := f.Update(ctx, func(s *State) error {
		s.Profiles["a"] = &Record{Connected: true, Account: "@a", ExpiresAt: at(0)}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	st, err := f.Load()
	if err != nil || st.Profiles["a"].Account != "@a" || !st.Profiles["a"].ExpiresAt.Equal(now) {
		t.Fatalf("load: %+v %v", st, err)
	}
	if fi, _ := os.Stat(f.Path); fi.Mode().Perm() != 0o600 {
		t.Errorf("state mode %v", fi.Mode().Perm())
	}
	if err := os.WriteFile(f.Path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Load(); !errors.Is(err, ErrStateCorrupt) {
		t.Fatalf("corrupt file: %v", err)
	}
	// An update over a corrupt file keeps a copy aside and writes a good one.
	if err := f.Update(ctx, func(s *State) error {
		s.Profiles["b"] = &Record{Connected: true}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if st, err := f.Load(); err != nil || st.Profiles["b"] == nil || st.Profiles["a"] != nil {
		t.Fatalf("after rebuild: %+v %v", st, err)
	}
	if _, err := os.Stat(f.Path + ".corrupt"); err != nil {
		t.Errorf("corrupt copy not kept: %v", err)
	}
}

func TestStateUpdatesDoNotLoseWrites(t *testing.T) {
	f := NewStateFile(t.TempDir())
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := string(rune('a' + i))
			if err := f.Update(context.Background(), func(s *State) error {
				s.Profiles[name] = &Record{Connected: true}
				return nil
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	st, err := f.Load()
	if err != nil || len(st.Profiles) != 20 {
		t.Fatalf("%d records, err %v", len(st.Profiles), err)
	}
	entries, _ := os.ReadDir(filepath.Dir(f.Path))
	for _, e := range entries {
		if e.Name() != "state.json" && e.Name() != "state.json.lock" {
			t.Errorf("stray file %s", e.Name())
		}
	}
}

// SECURITY 31, state and locks: whoever can write to the state directory
// can swap a lock file and renew alongside another sbctl (SECURITY 19).

func TestSecurity31StateDirWritableByOthersRefused(t *testing.T) {
	if !fsx.PermsMatter {
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
	if !strings.Contains(err.Error(), "mkdir -m 700 "+link) || !strings.Contains(err.Error(), "XDG_STATE_HOME") {
		t.Errorf("error %q does not give the fix", err)
	}
	if entries, _ := os.ReadDir(target); len(entries) != 0 {
		t.Errorf("files were written through the link: %v", entries)
	}
}

// A state update's lock file swapped for a symlink is refused, not
// followed: following it would lock the decoy while the holder of the
// real lock writes on.
func TestSecurity31SwappedLockFileRefused(t *testing.T) {
	if fsx.NoFollow == 0 {
		t.Skip("no O_NOFOLLOW on this platform")
	}
	dir := t.TempDir()
	decoy := filepath.Join(dir, "decoy")
	if err := os.WriteFile(decoy, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	sf := NewStateFile(dir)
	lock := sf.Path + ".lock"
	if err := os.Symlink(decoy, lock); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := sf.Update(ctx, func(*State) error { return nil })
	if err == nil {
		t.Fatal("a lock file swapped for a symlink was followed")
	}
	if !strings.Contains(err.Error(), "symbolic link") || !strings.Contains(err.Error(), "rm "+lock) {
		t.Errorf("error %q does not say why", err)
	}
	if _, err := os.Stat(sf.Path); !os.IsNotExist(err) {
		t.Errorf("the state was written without its lock: %v", err)
	}
}
