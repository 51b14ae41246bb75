package cmd

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth/sandbox"
	"github.com/sbctl/sbctl/profiles"
)

// mapStore is a token store in memory; get and set, when set, replace its
// answers.
type mapStore struct {
	mu  sync.Mutex
	m   map[string]string
	get func(key string) (string, error)
	set func(key, value string) error
}

func (s *mapStore) Get(_ context.Context, key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.get != nil {
		return s.get(key)
	}
	return s.m[key], nil
}

func (s *mapStore) Set(_ context.Context, key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set != nil {
		return s.set(key, value)
	}
	s.m[key] = value
	return nil
}

func (s *mapStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

func (s *mapStore) Describe() string { return "test store" }

// The demo keeps its tokens in the keychain only when a probe item goes
// in and comes back out; whatever the probe finds, it leaves nothing.
func TestProbeStore(t *testing.T) {
	t.Parallel()
	locked := errors.New("the collection is locked")
	for _, tc := range []struct {
		name    string
		store   *mapStore
		wantErr string
	}{
		{"usable", &mapStore{m: map[string]string{}}, ""},
		{"refuses writes", &mapStore{m: map[string]string{}, set: func(string, string) error { return locked }}, locked.Error()},
		{"loses what it stored", &mapStore{m: map[string]string{}, get: func(string) (string, error) { return "", errors.New("not found") }}, "test store: wrote a probe item but could not read it back"},
		{"returns something else", &mapStore{m: map[string]string{}, get: func(string) (string, error) { return "other", nil }}, "read back something else"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var s profiles.TokenStore = tc.store
			err := profiles.ProbeStore(t.Context(), s)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
			if len(tc.store.m) != 0 {
				t.Errorf("the probe left %v behind", tc.store.m)
			}
		})
	}
}

// trackingStore remembers every key the demo wrote, so its cleanup can
// delete them from the keychain it borrowed.
func TestTrackingStoreRemembersWrites(t *testing.T) {
	t.Parallel()
	var keys []string
	s := &trackingStore{TokenStore: &mapStore{m: map[string]string{}}, keys: &keys}
	for _, k := range []string{"profile:a", "client:b"} {
		if err := s.Set(t.Context(), k, "v"); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(keys, " ") != "profile:a client:b" {
		t.Errorf("keys = %v", keys)
	}
}

// TestDemoWorkspaceShowsEverything: the demo has every status of SPEC §4
// (unknown included), a manual-mode profile, and enough profiles in three
// groups that sorting, filtering, batch actions and scrolling show.
func TestDemoWorkspaceShowsEverything(t *testing.T) {
	t.Parallel()
	srv, err := sandbox.New(sandbox.Options{AutoApprove: true, AccessTTL: time.Hour, RefreshTTL: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	dir := t.TempDir()
	st, err := profiles.OpenStore(profiles.StoreOptions{Kind: profiles.StoreFile, FileDir: filepath.Join(dir, "data")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := buildDemoWorkspace(t.Context(), dir, srv, st, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	views, err := m.List(t.Context(), profiles.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(views) < 30 {
		t.Errorf("%d profiles, want at least 30", len(views))
	}
	statuses := map[profiles.Status]int{}
	groups := map[string]int{}
	for _, v := range views {
		statuses[v.Status]++
		for _, g := range v.Groups {
			groups[g]++
		}
	}
	for _, s := range profiles.Statuses {
		if statuses[s] == 0 {
			t.Errorf("no profile is %s: %v", s, statuses)
		}
	}
	if len(groups) < 3 {
		t.Errorf("groups %v, want three", groups)
	}
	mode, err := m.SignInModeOf("acme-threads", profiles.SignInDefault)
	if err != nil || mode != profiles.SignInManual {
		t.Errorf("acme-threads signs in with %q (%v), want manual", mode, err)
	}
}
