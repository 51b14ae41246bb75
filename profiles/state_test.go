package profiles

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
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
