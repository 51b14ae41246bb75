package store

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
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
	// go-keyring's keyring.MockInitWithError is not used here: it replaces
	// the library's provider for the rest of the process, so later tests
	// (TestRealKeychain under -count=2, the real-library tests below) would
	// quietly run against the mock. A mock-style message goes through the
	// fake backend instead.
	mem := newMem()
	mem.err = errors.New("dbus: connection refused")
	_, err := (&Keyring{Service: "t", Backend: mem, Timeout: time.Second}).Get(context.Background(), "profile:a")
	if err == nil || !strings.Contains(err.Error(), "no Secret Service") {
		t.Errorf("mock error → %v", err)
	}
}

// The errors a dead D-Bus session bus gives, as godbus returns them: the
// socket in DBUS_SESSION_BUS_ADDRESS is gone (the user logged out, the
// README's crontab line on a machine where nobody is logged in), or it is
// still there with nothing listening.
var deadBusErrors = map[string]error{
	"missing socket": &net.OpError{Op: "dial", Net: "unix", Addr: &net.UnixAddr{Name: "/nonexistent", Net: "unix"},
		Err: &os.SyscallError{Syscall: "connect", Err: syscall.ENOENT}},
	"refused": &net.OpError{Op: "dial", Net: "unix", Addr: &net.UnixAddr{Name: "/run/user/1000/bus", Net: "unix"},
		Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}},
	// The same text after a wrapper that keeps only the message.
	"missing socket, text only": errors.New("dial unix /nonexistent: connect: no such file or directory"),
	"refused, text only":        errors.New("dial unix /tmp/dbus-AbCdEf: connect: connection refused"),
	"tcp refused, text only":    errors.New("dial tcp 127.0.0.1:1: connect: connection refused"),
}

func TestKeyringDeadSessionBus(t *testing.T) {
	const addr = "unix:path=/nonexistent"
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	const secret = "SECRET-VALUE-must-not-appear"
	for name, busErr := range deadBusErrors {
		if got := busErr.Error(); !strings.HasPrefix(got, "dial ") {
			t.Fatalf("%s: %q is not what godbus says", name, got)
		}
		mem := newMem()
		mem.err = busErr
		k := &Keyring{Service: "t", Backend: mem, Timeout: time.Second}
		for op, call := range map[string]func() error{
			"read":   func() error { _, err := k.Get(context.Background(), "profile:a"); return err },
			"write":  func() error { return k.Set(context.Background(), "profile:a", secret) },
			"delete": func() error { return k.Delete(context.Background(), "profile:a") },
		} {
			err := call()
			assertDeadBus(t, name+" "+op, err, addr)
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("%s %s: the message holds the value: %v", name, op, err)
			}
		}
	}
}

// assertDeadBus checks the actionable form of a dead session bus.
func assertDeadBus(t *testing.T, what string, err error, addr string) {
	t.Helper()
	var ue *UnavailableError
	if !errors.As(err, &ue) {
		t.Errorf("%s: %v (%T), want an UnavailableError", what, err, err)
		return
	}
	for _, want := range []string{
		"the D-Bus session bus at " + addr + " cannot be reached (is the user logged in?)",
		"--token-store file",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %q lacks %q", what, err, want)
		}
	}
	if strings.Contains(err.Error(), "keychain read failed") {
		t.Errorf("%s: still the raw message: %v", what, err)
	}
}

// The real go-keyring and godbus, in process, against a bus address whose
// socket is missing or refuses connections. Not parallel: it sets the
// process's DBUS_SESSION_BUS_ADDRESS.
func TestKeyringDeadSessionBusRealLibrary(t *testing.T) {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		t.Skip("go-keyring uses D-Bus only on Linux and the BSDs")
	}
	dir := t.TempDir()
	refusing := filepath.Join(dir, "refusing-bus")
	l, err := net.Listen("unix", refusing)
	if err != nil {
		t.Fatal(err)
	}
	// Leave the socket file behind with nobody listening: connect() then
	// fails with ECONNREFUSED rather than ENOENT.
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	for _, addr := range []string{
		"unix:path=" + filepath.Join(dir, "nonexistent", "bus"),
		"unix:path=" + refusing,
	} {
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
		forgetSessionBus(t)
		k := NewKeyring("sbctl-test-dead-bus")
		k.Timeout = 10 * time.Second
		_, err := k.Get(context.Background(), "profile:a")
		assertDeadBus(t, addr+" read", err, addr)
		err = k.Set(context.Background(), "profile:a", "SECRET-VALUE-must-not-appear")
		assertDeadBus(t, addr+" write", err, addr)
	}
}

// An address godbus cannot parse is named as such, not blamed on a missing
// Secret Service.
func TestKeyringBadSessionBusAddress(t *testing.T) {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		t.Skip("go-keyring uses D-Bus only on Linux and the BSDs")
	}
	for _, addr := range []string{"bogus:x=1", "unix:path"} {
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
		forgetSessionBus(t)
		_, err := NewKeyring("sbctl-test-bad-bus").Get(context.Background(), "profile:a")
		var ue *UnavailableError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "DBUS_SESSION_BUS_ADDRESS ("+addr+") is not a D-Bus address") ||
			!strings.Contains(err.Error(), "--token-store file") || strings.Contains(err.Error(), "no Secret Service") {
			t.Errorf("%s: %v", addr, err)
		}
	}
}

// forgetSessionBus closes godbus's shared session-bus connection, which it
// keeps for the whole process while it is connected: after TestRealKeychain
// (CI has a live bus), go-keyring would otherwise keep using the live bus
// whatever DBUS_SESSION_BUS_ADDRESS now says. Later tests reconnect.
func forgetSessionBus(t *testing.T) {
	t.Helper()
	if conn, err := dbus.SessionBus(); err == nil {
		_ = conn.Close()
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
