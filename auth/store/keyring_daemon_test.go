//go:build linux

package store

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// secretService is a D-Bus session bus and a gnome-keyring-daemon of the
// test's own, so the test can kill or stop the daemon by its pid without
// touching anyone else's keychain (a CI run's, a developer's).
type secretService struct {
	dir, addr string
	bus       *exec.Cmd
	daemon    *exec.Cmd
}

// startSecretService skips when dbus-daemon or gnome-keyring-daemon is
// missing, unless SBCTL_REQUIRE_KEYRING=1 (CI), where that is a failure.
func startSecretService(t *testing.T) *secretService {
	t.Helper()
	for _, bin := range []string{"dbus-daemon", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("SBCTL_REQUIRE_KEYRING") == "1" {
				t.Fatalf("SBCTL_REQUIRE_KEYRING=1 but %s is not installed: %v", bin, err)
			}
			t.Skipf("skipping: %s is not installed (install dbus and gnome-keyring, or set SBCTL_REQUIRE_KEYRING=1 to make this a failure)", bin)
		}
	}
	s := &secretService{dir: t.TempDir()}
	for _, d := range []string{"home", "data", "config", "run"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// No service directories: once the daemon is gone, nothing restarts
	// it behind the test's back (D-Bus activation).
	conf := filepath.Join(s.dir, "bus.conf")
	err := os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=`+filepath.Join(s.dir, "bus")+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	s.bus = exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--print-address=1")
	out, err := s.bus.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.bus.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reap(s.bus) })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	s.addr = strings.TrimSpace(line)
	return s
}

// startDaemon starts gnome-keyring-daemon on the private bus, its login
// keyring unlocked, and waits until it answers.
func (s *secretService) startDaemon(t *testing.T) {
	t.Helper()
	d := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	d.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + filepath.Join(s.dir, "home"),
		"XDG_DATA_HOME=" + filepath.Join(s.dir, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(s.dir, "config"),
		"XDG_RUNTIME_DIR=" + filepath.Join(s.dir, "run"),
		"DBUS_SESSION_BUS_ADDRESS=" + s.addr,
	}
	d.Stdin = strings.NewReader("test-password") // the login keyring's password
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	s.daemon = d
	t.Cleanup(func() { reap(d) })
	deadline := time.Now().Add(20 * time.Second)
	for {
		// A fresh Keyring each time: a failed attempt must not leave a
		// breaker open.
		probe := NewKeyring("sbctl-test-probe")
		probe.Timeout = 2 * time.Second
		err := probe.Set(context.Background(), "probe", "x")
		if err == nil {
			_ = probe.Delete(context.Background(), "probe")
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the test's gnome-keyring-daemon did not answer: %v", err)
		}
		<-time.After(10 * time.Millisecond) // poll interval, not a wait for an event

	}
}

// reap ends a child the test started (by its pid) and waits for it.
func reap(c *exec.Cmd) {
	if c.Process == nil || c.ProcessState != nil {
		return
	}
	_ = c.Process.Signal(syscall.SIGCONT) // a stopped process does not die of SIGKILL until continued on some kernels
	_ = c.Process.Kill()
	_ = c.Wait()
}

// countingBackend counts the calls sent to the real keychain after the
// fault was injected.
type countingBackend struct {
	Backend
	mu         sync.Mutex
	faulty     bool
	afterFault int
}

func (c *countingBackend) count() {
	c.mu.Lock()
	if c.faulty {
		c.afterFault++
	}
	c.mu.Unlock()
}

func (c *countingBackend) setFaulty(v bool) {
	c.mu.Lock()
	c.faulty, c.afterFault = v, 0
	c.mu.Unlock()
}

func (c *countingBackend) sent() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.afterFault
}

func (c *countingBackend) Get(s, u string) (string, error) { c.count(); return c.Backend.Get(s, u) }
func (c *countingBackend) Set(s, u, p string) error        { c.count(); return c.Backend.Set(s, u, p) }
func (c *countingBackend) Delete(s, u string) error        { c.count(); return c.Backend.Delete(s, u) }

// Item 9 of issue 8 against the real thing: 50 profiles are written to a
// real gnome-keyring-daemon, which is killed (SIGKILL) or hung (SIGSTOP)
// by its pid after the 20th. One keychain call meets the dead or hung
// daemon; the other 29 profiles fail at once with the same error; once the
// daemon is back and the retry interval has passed, the same Keyring works
// again. Not parallel: it points the process's D-Bus at the private bus.
func TestKeyringBreakerRealDaemonMidRun(t *testing.T) {
	s := startSecretService(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", s.addr)
	forgetSessionBus(t)
	// Registered after Setenv, so it runs first: the shared connection to
	// the private bus is closed before the address is restored.
	t.Cleanup(func() { forgetSessionBus(t) })

	for _, tc := range []struct {
		name   string
		signal syscall.Signal
		want   string
	}{
		{"killed", syscall.SIGKILL, "no Secret Service"},
		{"hung", syscall.SIGSTOP, "did not answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.startDaemon(t)
			var b [6]byte
			_, _ = rand.Read(b[:])
			cb := &countingBackend{Backend: goKeyring{}}
			clock := &fakeClock{now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
			k := NewKeyring("sbctl-test-breaker-" + hex.EncodeToString(b[:]))
			k.Backend, k.Now, k.Timeout = cb, clock.Now, 2*time.Second
			ctx := context.Background()
			msgs := map[string]int{}
			for i := range 50 {
				if i == 20 {
					if err := s.daemon.Process.Signal(tc.signal); err != nil {
						t.Fatal(err)
					}
					if tc.signal == syscall.SIGKILL {
						_ = s.daemon.Wait()
					}
					cb.setFaulty(true)
				}
				err := k.Set(ctx, ProfileKey(fmt.Sprint("p", i)), fmt.Sprint("value-", i))
				switch {
				case i < 20 && err != nil:
					t.Fatalf("profile %d, before the fault: %v", i, err)
				case i >= 20:
					var ue *UnavailableError
					if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
						t.Fatalf("profile %d: %v, want an UnavailableError saying %q", i, err, tc.want)
					}
					msgs[err.Error()]++
				}
			}
			if got := cb.sent(); got != 1 {
				t.Errorf("%d keychain calls were sent to the %s daemon, want 1", got, tc.name)
			}
			if len(msgs) != 1 {
				t.Errorf("%d different messages, want one: %v", len(msgs), msgs)
			}

			// The daemon comes back (a hung one is continued, a dead one
			// restarted); after the retry interval the same Keyring
			// finds it.
			cb.setFaulty(false)
			if tc.signal == syscall.SIGSTOP {
				if err := s.daemon.Process.Signal(syscall.SIGCONT); err != nil {
					t.Fatal(err)
				}
			} else {
				s.startDaemon(t)
			}
			if _, err := k.Get(ctx, ProfileKey("p0")); err == nil {
				t.Fatal("the breaker let a call through before the retry interval")
			}
			clock.Advance(DefaultRetry)
			if v, err := k.Get(ctx, ProfileKey("p0")); err != nil || v != "value-0" {
				t.Fatalf("after the daemon came back: %q, %v", v, err)
			}
			if err := k.Set(ctx, ProfileKey("p49"), "value-49"); err != nil {
				t.Fatalf("writing after the daemon came back: %v", err)
			}
			for i := range 50 {
				_ = k.Delete(ctx, ProfileKey(fmt.Sprint("p", i)))
			}
			reap(s.daemon)
		})
	}
}
