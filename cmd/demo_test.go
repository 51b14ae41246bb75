package cmd

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

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
