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
)

// faultBackend is an in-memory keychain that breaks mid-run: from its
// after-th call on (1-based) every call blocks until released, reports a
// locked collection, or finds no Secret Service, as set by mode. It counts
// the calls that met the fault, which is what the breaker tests assert on:
// the number of calls that waited out a timeout, not the wall time.
type faultBackend struct {
	mem *memBackend

	mu      sync.Mutex
	calls   int
	after   int    // 0: never break
	mode    string // "block", "locked", "gone"
	faulted int
	release chan struct{}
}

const (
	lockedMsg = "failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"
	goneMsg   = "org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files"
)

func newFault(t *testing.T, after int, mode string) *faultBackend {
	f := &faultBackend{mem: newMem(), after: after, mode: mode, release: make(chan struct{})}
	// Blocked calls' goroutines (left behind by the keychain timeout) end
	// with the test.
	t.Cleanup(func() { close(f.release) })
	return f
}

// heal makes later calls work again.
func (f *faultBackend) heal() {
	f.mu.Lock()
	f.after = 0
	f.mu.Unlock()
}

func (f *faultBackend) faults() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.faulted
}

func (f *faultBackend) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *faultBackend) fault() error {
	f.mu.Lock()
	f.calls++
	broken := f.after != 0 && f.calls >= f.after
	if broken {
		f.faulted++
	}
	mode := f.mode
	f.mu.Unlock()
	if !broken {
		return nil
	}
	switch mode {
	case "block":
		<-f.release
		return errors.New("released at the end of the test")
	case "locked":
		return errors.New(lockedMsg)
	}
	return errors.New(goneMsg)
}

func (f *faultBackend) Get(s, u string) (string, error) {
	if err := f.fault(); err != nil {
		return "", err
	}
	return f.mem.Get(s, u)
}

func (f *faultBackend) Set(s, u, p string) error {
	if err := f.fault(); err != nil {
		return err
	}
	return f.mem.Set(s, u, p)
}

func (f *faultBackend) Delete(s, u string) error {
	if err := f.fault(); err != nil {
		return err
	}
	return f.mem.Delete(s, u)
}

// readAll reads profiles p00…p49 with the given concurrency, as a
// `refresh --all` or a state rebuild does, and returns each one's error.
func readAll(k *Keyring, n, concurrency int) []error {
	errs := make([]error, n)
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, errs[i] = k.Get(context.Background(), ProfileKey(fmt.Sprintf("p%02d", i)))
		}()
	}
	wg.Wait()
	return errs
}

func seed(t *testing.T, mem *memBackend, service string, n int) {
	t.Helper()
	for i := range n {
		mem.items[service+"/"+ProfileKey(fmt.Sprintf("p%02d", i))] = "value"
	}
}

// Item 9 of issue 8: a keychain that stops answering mid-run made each of
// 50 profiles wait out its own timeout. After the first timeout the rest
// fail at once with the same error: at most one wave of calls (those
// already in flight, the concurrency) meets the hung keychain.
func TestKeyringBreakerHungKeychainMidRun(t *testing.T) {
	t.Parallel()
	for _, concurrency := range []int{1, 8} {
		t.Run(fmt.Sprint("concurrency=", concurrency), func(t *testing.T) {
			t.Parallel()
			fb := newFault(t, 11, "block")
			seed(t, fb.mem, "t", 50)
			k := &Keyring{Service: "t", Backend: fb, Timeout: 20 * time.Millisecond}
			errs := readAll(k, 50, concurrency)
			if got := fb.faults(); got > concurrency {
				t.Errorf("%d keychain calls waited for the hung keychain, want at most %d (the calls in flight when it hung)", got, concurrency)
			}
			checkAllUnavailable(t, errs, 10, "did not answer")
		})
	}
}

// The same for a collection locked, or a Secret Service gone, mid-run:
// one call learns it, the rest are not sent.
func TestKeyringBreakerLockedOrGoneMidRun(t *testing.T) {
	t.Parallel()
	for mode, want := range map[string]string{"locked": "the keychain is locked", "gone": "Secret Service"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			fb := newFault(t, 11, mode)
			seed(t, fb.mem, "t", 50)
			k := &Keyring{Service: "t", Backend: fb, Timeout: time.Second}
			errs := readAll(k, 50, 1)
			if got := fb.faults(); got != 1 {
				t.Errorf("%d keychain calls were sent after the first %s answer, want 1", got, mode)
			}
			checkAllUnavailable(t, errs, 10, want)
		})
	}
}

// checkAllUnavailable: ok profiles (those read before the fault) read
// fine, every other one failed with an UnavailableError saying want, and
// all with the same message (one error, not fifty different ones).
func checkAllUnavailable(t *testing.T, errs []error, ok int, want string) {
	t.Helper()
	msgs := map[string]int{}
	good := 0
	for i, err := range errs {
		if err == nil {
			good++
			continue
		}
		var ue *UnavailableError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), want) {
			t.Errorf("profile %d: %v, want an UnavailableError saying %q", i, err, want)
			continue
		}
		msgs[err.Error()]++
	}
	if good != ok {
		t.Errorf("%d profiles read fine, want %d (those read before the fault)", good, ok)
	}
	if len(msgs) > 1 {
		t.Errorf("%d different messages for one broken keychain: %v", len(msgs), msgs)
	}
}

// fakeClock is the breaker's injected clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// A long-running process (the TUI, the agent) is not stuck with a keychain
// that was broken once: after the retry interval one call goes through as
// a probe; if it works the keychain is used again, if not the breaker stays
// open for another interval.
func TestKeyringBreakerRecovers(t *testing.T) {
	t.Parallel()
	fb := newFault(t, 2, "locked")
	seed(t, fb.mem, "t", 3)
	clock := &fakeClock{now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	k := &Keyring{Service: "t", Backend: fb, Timeout: time.Second, Now: clock.Now}
	ctx := context.Background()
	get := func() error { _, err := k.Get(ctx, ProfileKey("p00")); return err }
	if err := get(); err != nil {
		t.Fatal(err)
	}
	if err := get(); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("after the lock: %v", err)
	}
	calls := fb.callCount()
	clock.Advance(DefaultRetry - time.Second)
	if err := get(); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("within the retry interval: %v", err)
	}
	if got := fb.callCount(); got != calls {
		t.Fatalf("%d keychain calls within the retry interval, want 0", got-calls)
	}

	// Still locked at the probe: one call, and the breaker stays open.
	clock.Advance(2 * time.Second)
	if err := get(); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("probe of a still locked keychain: %v", err)
	}
	if err := get(); err == nil {
		t.Fatal("no error right after a failed probe")
	}
	if got := fb.callCount(); got != calls+1 {
		t.Fatalf("%d keychain calls for one probe, want 1", got-calls)
	}

	// Unlocked: the next probe works and so does everything after it.
	fb.heal()
	clock.Advance(DefaultRetry)
	for i := range 3 {
		if _, err := k.Get(ctx, ProfileKey(fmt.Sprintf("p%02d", i))); err != nil {
			t.Fatalf("after the keychain was unlocked: %v", err)
		}
	}

	// Reset lets a caller that knows better (the user pressed "retry")
	// skip the wait.
	fb.mu.Lock()
	fb.after, fb.calls = 1, 0
	fb.mu.Unlock()
	if err := get(); err == nil {
		t.Fatal("no error from a locked keychain")
	}
	fb.heal()
	k.Reset()
	if err := get(); err != nil {
		t.Fatalf("after Reset: %v", err)
	}
}

// While a probe is out (it may hang for the whole timeout), the other calls
// do not pile up behind it: they fail at once.
func TestKeyringBreakerOneProbeAtATime(t *testing.T) {
	t.Parallel()
	fb := newFault(t, 1, "block")
	clock := &fakeClock{now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	k := &Keyring{Service: "t", Backend: fb, Timeout: 20 * time.Millisecond, Now: clock.Now}
	ctx := context.Background()
	if _, err := k.Get(ctx, "profile:a"); err == nil {
		t.Fatal("no error from a hung keychain")
	}
	clock.Advance(DefaultRetry)
	// A long timeout for the probe, so it is surely still out while the
	// second call is made.
	k.Timeout = time.Hour
	probe := make(chan error, 1)
	go func() { _, err := k.Get(ctx, "profile:a"); probe <- err }()
	for fb.faults() < 2 {
		runtime.Gosched()
	}
	if _, err := k.Get(ctx, "profile:b"); err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("a call during the probe: %v", err)
	}
	if got := fb.faults(); got != 2 {
		t.Errorf("%d calls reached the hung keychain, want 2 (the first and the probe)", got)
	}
	k.Reset()
}
