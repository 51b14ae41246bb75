package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// dyingBackend is an in-memory keychain whose process "dies" at a chosen
// call: that call and every later one fail, as if sbctl had been killed
// there (nothing after it reaches the keychain). revive starts the next
// "process".
type dyingBackend struct {
	mem *memBackend

	mu    sync.Mutex
	calls int
	dieAt int // 1-based; 0: never
}

var errKilled = errors.New("killed")

func (d *dyingBackend) step() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	if d.dieAt != 0 && d.calls >= d.dieAt {
		return errKilled
	}
	return nil
}

func (d *dyingBackend) revive(dieAt int) {
	d.mu.Lock()
	d.calls, d.dieAt = 0, dieAt
	d.mu.Unlock()
}

func (d *dyingBackend) Get(s, u string) (string, error) {
	if err := d.step(); err != nil {
		return "", err
	}
	return d.mem.Get(s, u)
}

func (d *dyingBackend) Set(s, u, p string) error {
	if err := d.step(); err != nil {
		return err
	}
	return d.mem.Set(s, u, p)
}

func (d *dyingBackend) Delete(s, u string) error {
	if err := d.step(); err != nil {
		return err
	}
	return d.mem.Delete(s, u)
}

// Item 11 of issue 8 (store part): 20 chunked writes killed at every point
// left 666 orphan parts that nothing ever removed. Now the next write of
// the key (made under the profile's lock, as every token write is) removes
// the parts of any generation the header does not name, and a delete
// removes them all.
func TestKeyringKilledChunkedWritesLeaveNoOrphans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := &dyingBackend{mem: newMem()}
	k := &Keyring{Service: "t", ChunkSize: 10, Backend: d, Timeout: time.Second}
	value := func(i int) string { return fmt.Sprintf("%03d-", i) + strings.Repeat("v", 60) } // 7 parts
	if err := k.Set(ctx, "profile:a", value(0)); err != nil {
		t.Fatal(err)
	}
	want := value(0)
	for i := 1; i <= 20; i++ {
		// Kill the write at each of its first calls in turn (reads,
		// parts, header, cleanup of the old parts).
		d.revive(1 + i%14)
		if err := k.Set(ctx, "profile:a", value(i)); err == nil {
			want = value(i) // the kill came after the write was complete
		} else if !errors.Is(err, errKilled) && !strings.Contains(err.Error(), "killed") {
			t.Fatalf("round %d: %v", i, err)
		}
		d.revive(0)
		got, err := k.Get(ctx, "profile:a")
		if err != nil {
			t.Fatalf("round %d: after a killed write: %v", i, err)
		}
		if got != want && got != value(i) {
			t.Fatalf("round %d: read %.4q…, want the old or the new value", i, got)
		}
		want = got
	}
	// The next (unkilled) write cleans up after all the killed ones.
	if err := k.Set(ctx, "profile:a", value(99)); err != nil {
		t.Fatal(err)
	}
	if orphans := orphanParts(t, d.mem, k, "profile:a"); len(orphans) > 0 {
		t.Errorf("%d orphan items after 20 killed writes and one clean one: %v", len(orphans), orphans)
	}
	if got, err := k.Get(ctx, "profile:a"); err != nil || got != value(99) {
		t.Fatalf("read %.4q…, %v", got, err)
	}

	// A killed write of a new key, then a delete: nothing is left.
	d.revive(5)
	_ = k.Set(ctx, "profile:b", value(1))
	d.revive(0)
	if err := k.Delete(ctx, "profile:b"); err != nil {
		t.Fatal(err)
	}
	if err := k.Delete(ctx, "profile:a"); err != nil {
		t.Fatal(err)
	}
	if left := keys(d.mem.items); len(left) > 0 {
		sort.Strings(left)
		t.Errorf("items left after deleting both keys: %v", left)
	}
}

// orphanParts lists the items of key that are neither its header nor the
// parts the header names.
func orphanParts(t *testing.T, mem *memBackend, k *Keyring, key string) []string {
	t.Helper()
	live := map[string]bool{k.Service + "/" + key: true}
	if h, ok := parseHeader(mem.items[k.Service+"/"+key]); ok {
		for i := 1; i <= h.n; i++ {
			live[k.Service+"/"+h.partKey(key, i)] = true
		}
	}
	var out []string
	for name := range mem.items {
		if strings.HasPrefix(name, k.Service+"/"+key) && !live[name] {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Writes that never chunk pay one extra read (the pending record) and
// leave nothing behind.
func TestKeyringSmallValuesNeedNoRecord(t *testing.T) {
	t.Parallel()
	mem := newMem()
	k := &Keyring{Service: "t", Backend: mem, Timeout: time.Second}
	ctx := context.Background()
	for i := range 3 {
		if err := k.Set(ctx, "profile:a", fmt.Sprint("small-", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := keys(mem.items); len(got) != 1 {
		t.Errorf("items: %v, want only the value", got)
	}
}
