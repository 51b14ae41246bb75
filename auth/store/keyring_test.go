package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// memBackend is an in-memory keychain that can fail or hang on demand.
type memBackend struct {
	mu      sync.Mutex
	items   map[string]string
	failSet int // fail the n-th Set (1-based); 0 never
	sets    int
	err     error         // returned by every call when set
	block   chan struct{} // every call waits on it when set
}

func newMem() *memBackend { return &memBackend{items: map[string]string{}} }

func (m *memBackend) wait() error {
	if m.block != nil {
		<-m.block
	}
	return m.err
}

func (m *memBackend) Get(s, u string) (string, error) {
	if err := m.wait(); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.items[s+"/"+u]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (m *memBackend) Set(s, u, p string) error {
	if err := m.wait(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sets++
	if m.failSet != 0 && m.sets == m.failSet {
		return errors.New("simulated crash")
	}
	m.items[s+"/"+u] = p
	return nil
}

func (m *memBackend) Delete(s, u string) error {
	if err := m.wait(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[s+"/"+u]; !ok {
		return keyring.ErrNotFound
	}
	delete(m.items, s+"/"+u)
	return nil
}

func TestKeyringSplitsLargeValues(t *testing.T) {
	mem := newMem()
	k := &Keyring{Service: "t", ChunkSize: 100, Backend: mem, Timeout: time.Second}
	ctx := context.Background()
	big := strings.Repeat("日本語のトークン", 50) // multi-byte: no split inside a rune
	if err := k.Set(ctx, "profile:a", big); err != nil {
		t.Fatal(err)
	}
	if len(mem.items) < 5 {
		t.Fatalf("value not split: %d items", len(mem.items))
	}
	for key, v := range mem.items {
		if len(v) > 100 {
			t.Errorf("item %s is %d bytes, over the limit", key, len(v))
		}
	}
	got, err := k.Get(ctx, "profile:a")
	if err != nil || got != big {
		t.Fatalf("read back %d bytes, err %v", len(got), err)
	}
	// Replacing with a small value removes the old parts.
	if err := k.Set(ctx, "profile:a", "small"); err != nil {
		t.Fatal(err)
	}
	if len(mem.items) != 1 {
		t.Errorf("old parts left: %v", keys(mem.items))
	}
	if err := k.Set(ctx, "profile:a", big); err != nil {
		t.Fatal(err)
	}
	if err := k.Delete(ctx, "profile:a"); err != nil {
		t.Fatal(err)
	}
	if len(mem.items) != 0 {
		t.Errorf("parts left after delete: %v", keys(mem.items))
	}
	if _, err := k.Get(ctx, "profile:a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get after delete: %v", err)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestKeyringCrashMidWriteKeepsOldValue(t *testing.T) {
	ctx := context.Background()
	old := strings.Repeat("o", 250)
	for failAt := 1; failAt <= 4; failAt++ {
		mem := newMem()
		k := &Keyring{Service: "t", ChunkSize: 100, Backend: mem, Timeout: time.Second}
		if err := k.Set(ctx, "profile:a", old); err != nil {
			t.Fatal(err)
		}
		mem.sets, mem.failSet = 0, failAt
		if err := k.Set(ctx, "profile:a", strings.Repeat("n", 250)); err == nil {
			t.Fatalf("failAt %d: no error", failAt)
		}
		got, err := k.Get(ctx, "profile:a")
		if err != nil || got != old {
			t.Errorf("failAt %d: after a failed write got %q…, %v; want the old value", failAt, got[:min(len(got), 5)], err)
		}
	}
}

func TestKeyringDetectsDamagedParts(t *testing.T) {
	mem := newMem()
	k := &Keyring{Service: "t", ChunkSize: 10, Backend: mem, Timeout: time.Second}
	ctx := context.Background()
	if err := k.Set(ctx, "profile:a", "SECRET-TOKEN-VALUE-1234567890"); err != nil {
		t.Fatal(err)
	}
	for key := range mem.items {
		if strings.Contains(key, "#") {
			mem.items[key] = "tampered!!"
			break
		}
	}
	_, err := k.Get(ctx, "profile:a")
	if err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Error("error leaks the value")
	}
}

func TestKeyringTimeout(t *testing.T) {
	mem := newMem()
	mem.block = make(chan struct{})
	defer close(mem.block)
	k := &Keyring{Service: "t", Backend: mem, Timeout: 50 * time.Millisecond}
	start := time.Now()
	_, err := k.Get(context.Background(), "profile:a")
	var ue *UnavailableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "did not answer") || !strings.Contains(err.Error(), "--token-store file") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("timeout not honoured")
	}
}

func TestKeyringErrorsAreActionable(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
	cases := map[string]string{
		"org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files": "no Secret Service",
		"dbus: couldn't determine address of session bus":                                                                    "no Secret Service",
		"failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'":                                     "locked",
		"prompt dismissed": "locked",
	}
	for msg, want := range cases {
		mem := newMem()
		mem.err = errors.New(msg)
		k := &Keyring{Service: "t", Backend: mem, Timeout: time.Second}
		_, err := k.Get(context.Background(), "profile:a")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q → %v, want %q", msg, err, want)
		}
	}
	// go-keyring's own mock reports the same way.
	keyring.MockInitWithError(fmt.Errorf("dbus: connection refused"))
	defer keyring.MockInit()
	_, err := NewKeyring("t").Get(context.Background(), "profile:a")
	if err == nil || !strings.Contains(err.Error(), "no Secret Service") {
		t.Errorf("mock error → %v", err)
	}
}

func TestKeyringSaysWhenThereIsNoSessionBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	mem := newMem()
	mem.err = errors.New("dbus: couldn't determine address of session bus")
	k := &Keyring{Service: "t", Backend: mem, Timeout: time.Second}
	_, err := k.Get(context.Background(), "profile:a")
	if err == nil || (runtime.GOOS == "linux" && !strings.Contains(err.Error(), "DBUS_SESSION_BUS_ADDRESS is unset")) {
		t.Errorf("err = %v", err)
	}
}
