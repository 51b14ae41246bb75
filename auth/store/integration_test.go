package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/testkit"
)

// realKeyring returns the system keychain under a throwaway service name,
// or skips when there is none — unless SBCTL_REQUIRE_KEYRING=1 (CI), where
// a missing Secret Service fails the test.
func realKeyring(t testing.TB) *Keyring {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	k := NewKeyring("sbctl-test-" + hex.EncodeToString(b[:]))
	k.Timeout = 10 * time.Second
	ctx := context.Background()
	err := k.Set(ctx, "probe", "x")
	if err == nil {
		_ = k.Delete(ctx, "probe")
		return k
	}
	if os.Getenv("SBCTL_REQUIRE_KEYRING") == "1" {
		t.Fatalf("SBCTL_REQUIRE_KEYRING=1 but the keychain is unusable: %v", err)
	}
	t.Skipf("skipping: no usable keychain here (%v); run inside `dbus-run-session` with an unlocked gnome-keyring, or set SBCTL_REQUIRE_KEYRING=1 to make this a failure", err)
	return nil
}

func TestRealKeychain(t *testing.T) {
	k := realKeyring(t)
	ctx := context.Background()
	tok := &auth.Token{AccessToken: "AT-integration-" + k.Service, RefreshToken: "RT-x", Expiry: time.Now().Add(time.Hour).UTC().Truncate(time.Second)}
	if err := PutToken(ctx, k, "p1", tok); err != nil {
		t.Fatal(err)
	}
	got, err := GetToken(ctx, k, "p1")
	if err != nil || got.AccessToken != tok.AccessToken || !got.Expiry.Equal(tok.Expiry) {
		t.Fatalf("got %+v, %v", got, err)
	}

	// Over the platform limit: split into parts, read back whole.
	k.ChunkSize = 512
	big := strings.Repeat("x", 5000) + "-end"
	if err := k.Set(ctx, "profile:big", big); err != nil {
		t.Fatal(err)
	}
	if v, err := k.Get(ctx, "profile:big"); err != nil || v != big {
		t.Fatalf("big value: %d bytes, %v", len(v), err)
	}
	// The parts really are separate items of at most the limit.
	if v, err := k.Backend.Get(k.Service, "profile:big"); err != nil || !strings.HasPrefix(v, chunkPrefix) {
		t.Fatalf("header item = %.40q, %v", v, err)
	}

	for _, key := range []string{ProfileKey("p1"), "profile:big"} {
		if err := k.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if _, err := k.Get(ctx, key); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s after delete: %v", key, err)
		}
	}
	if _, err := k.Backend.Get(k.Service, "profile:big#x.1"); err == nil {
		t.Error("unexpected leftover")
	}

	// Nothing landed in a file under the XDG directories.
	for _, env := range []string{"XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"} {
		dir := os.Getenv(env)
		if dir == "" {
			continue
		}
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.Contains(p, "keyrings") {
				return nil
			}
			if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), tok.AccessToken) {
				t.Errorf("token found in %s", p)
			}
			return nil
		})
	}
}

// SBCTL_REQUIRE_KEYRING=1 turns "no usable keychain" from a skip into a
// failure; here the keychain is made unusable by pointing the process at a
// session bus that does not exist.
func TestRequireKeyringSwitch(t *testing.T) {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		t.Skip("the keychain is made unusable through D-Bus, which only Linux and the BSDs use")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	forgetSessionBus(t)

	t.Setenv("SBCTL_REQUIRE_KEYRING", "")
	o := testkit.RunOutcome(t, func(tb testing.TB) { realKeyring(tb) })
	if o.Failed != "" || !strings.Contains(o.Skipped, "no usable keychain") {
		t.Fatalf("without the switch: skipped %q, failed %q; want a skip", o.Skipped, o.Failed)
	}
	t.Setenv("SBCTL_REQUIRE_KEYRING", "1")
	o = testkit.RunOutcome(t, func(tb testing.TB) { realKeyring(tb) })
	if !strings.Contains(o.Failed, "SBCTL_REQUIRE_KEYRING=1 but the keychain is unusable") || o.Skipped != "" {
		t.Fatalf("with SBCTL_REQUIRE_KEYRING=1: skipped %q, failed %q; want a failure", o.Skipped, o.Failed)
	}
}
