package profiles

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth/provider/providertest"
	"github.com/sbctl/sbctl/auth/store"
)

// Issue 8 item 3: once a rotating provider has answered with a new refresh
// token, that token reaches durable storage whatever the token store does:
// the store is tried again, and a store that stays unusable (a locked or
// dead keychain, a full disk) sends it to a recovery file that the next
// run moves into the store.

// faultyStore refuses every write of profile tokens while broken is set.
type faultyStore struct {
	store.Store
	broken atomic.Bool
	err    error
	mu     sync.Mutex
	writes int
}

func (s *faultyStore) Set(ctx context.Context, key, value string) error {
	if strings.HasPrefix(key, "profile:") && s.broken.Load() {
		s.mu.Lock()
		s.writes++
		s.mu.Unlock()
		return s.err
	}
	return s.Store.Set(ctx, key, value)
}

func (s *faultyStore) failedWrites() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// rotatingServer answers the first refresh with a new, rotated pair; the
// old refresh token is spent after that.
func rotatingServer(t *testing.T) *providertest.Server {
	return newFaultServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path != "/token" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		if r.Form.Get("refresh_token") != "RT-old" || n > 1 { // RT-old is spent by the first refresh
			providertest.WriteJSON(w, http.StatusBadRequest, `{"error":"invalid_grant","error_description":"refresh token already used"}`)
			return
		}
		providertest.TokenAnswer(w, "AT-new", "RT-new")
	})
}

func TestRotatedTokenSurvivesAStoreThatFails(t *testing.T) {
	for name, cause := range map[string]error{
		"keychain locked": &store.UnavailableError{Store: "keychain", Cause: "the keychain is locked", Fix: "unlock it"},
		"disk full":       errors.New("write /data/tokens.json: no space left on device"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := rotatingServer(t)
			fs := &faultyStore{err: cause}
			w := openFaultWS(t, t.TempDir(), faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a"}), func(s store.Store) store.Store {
				fs.Store = s
				return fs
			})
			w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
			fs.broken.Store(true)

			tok, err := w.m.Token(context.Background(), "p", DefaultMinTTL)
			if err != nil || tok != "AT-new" {
				t.Fatalf("Token = %q, %v; want the renewed token (it works; only storing it failed)", tok, err)
			}
			if _, ok := cause.(*store.UnavailableError); ok {
				if n := fs.failedWrites(); n != 1 {
					t.Errorf("%d writes to a locked keychain, want 1 (it will not unlock in a second)", n)
				}
			} else if n := fs.failedWrites(); n != storeAttempts {
				t.Errorf("%d writes, want %d (retried)", n, storeAttempts)
			}
			if !strings.Contains(w.warn.String(), "recovery") {
				t.Errorf("the user is not told where the token is: %q", w.warn.String())
			}
			if strings.Contains(w.warn.String(), "RT-new") || strings.Contains(w.warn.String(), "AT-new") {
				t.Errorf("a token reached the warning: %q", w.warn.String())
			}
			if _, err := os.Stat(w.m.recoveryPath("p")); err != nil {
				t.Fatalf("no recovery file: %v", err)
			}
			if b, _ := os.ReadFile(w.m.recoveryPath("p")); strings.Contains(string(b), "RT-new") {
				if _, _, kerr := osRecoveryKey(w.m.recoveryKeyName(), false); kerr == nil {
					t.Error("the recovery file holds the token in plain text although an OS key is available")
				}
			}
			if fi, err := os.Stat(w.m.recoveryPath("p")); err == nil && fi.Mode().Perm() != 0o600 {
				t.Errorf("recovery file mode %o", fi.Mode().Perm())
			}
			if v := w.status(t, "p"); v.Status == StatusOK {
				t.Errorf("status ok while the renewed token waits outside the store")
			}
			if got := w.stored(t, "p"); got.RefreshToken != "RT-old" {
				t.Fatalf("stored %q", got.RefreshToken)
			}

			// The store works again: the next command moves the token in.
			fs.broken.Store(false)
			if _, err := w.m.Token(context.Background(), "p", DefaultMinTTL); err != nil {
				t.Fatalf("Token after the store came back: %v", err)
			}
			if got := w.stored(t, "p"); got.RefreshToken != "RT-new" {
				t.Errorf("stored refresh token %q after recovery, want RT-new", got.RefreshToken)
			}
			if _, err := os.Stat(w.m.recoveryPath("p")); !os.IsNotExist(err) {
				t.Errorf("the recovery file is still there: %v", err)
			}
			if w.markerExists("p") {
				t.Error("the renewal marker is still there after the recovery")
			}
			if n := len(f.Calls("/token")); n != 1 {
				t.Errorf("%d refresh requests, want 1 (the recovered token is fresh)", n)
			}
		})
	}
}

// Both the store and the recovery file fail: the loss is reported as
// such, and the next run's message says the token could not be stored
// (not that a process was killed).
func TestStoreAndRecoveryBothFailSaysSo(t *testing.T) {
	t.Parallel()
	f := rotatingServer(t)
	fs := &faultyStore{err: errors.New("no space left on device")}
	w := openFaultWS(t, t.TempDir(), faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a"}), func(s store.Store) store.Store {
		fs.Store = s
		return fs
	})
	w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
	// The recovery directory cannot be made: a file is in its way.
	if err := os.WriteFile(w.m.recoveryDir(), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	fs.broken.Store(true)
	_, err := w.m.Token(context.Background(), "p", DefaultMinTTL)
	if err == nil || !strings.Contains(err.Error(), "recovery file") {
		t.Fatalf("Token: %v; want a failure that says the token could not be kept", err)
	}
	fs.broken.Store(false)
	_, err = w.m.Token(context.Background(), "p", DefaultMinTTL)
	if err == nil || !strings.Contains(err.Error(), "could not store the renewed token") || strings.Contains(err.Error(), "was stopped") {
		t.Errorf("next run: %v; want the loss explained as a store failure, not a killed process", err)
	}
}

// sbctl doctor moves a waiting recovered token into the store and says so.
func TestDoctorRestoresRecoveredTokens(t *testing.T) {
	t.Parallel()
	f := rotatingServer(t)
	fs := &faultyStore{err: errors.New("no space left on device")}
	w := openFaultWS(t, t.TempDir(), faultConfig(oauth2ProviderYAML("a", f.URL), map[string]string{"p": "a"}), func(s store.Store) store.Store {
		fs.Store = s
		return fs
	})
	w.seed(t, "p", oldToken(time.Now().Add(-time.Minute)))
	fs.broken.Store(true)
	if _, err := w.m.Token(context.Background(), "p", DefaultMinTTL); err != nil {
		t.Fatal(err)
	}
	check := func() DoctorCheck {
		for _, c := range w.m.Doctor(context.Background()) {
			if c.Name == "recovery" {
				return c
			}
		}
		t.Fatal("doctor has no recovery line while a token waits")
		return DoctorCheck{}
	}
	if c := check(); c.OK || !strings.Contains(c.Detail, "still waits") {
		t.Errorf("with the store still broken: %+v", c)
	}
	fs.broken.Store(false)
	if c := check(); !c.OK || !strings.Contains(c.Detail, "moved the renewed tokens of p") {
		t.Errorf("with the store back: %+v", c)
	}
	if got := w.stored(t, "p"); got.RefreshToken != "RT-new" {
		t.Errorf("stored %q after doctor", got.RefreshToken)
	}
}

// A recovery file holds a token: written again over one someone made
// readable by others, it is 0600 again (before, it kept the wider mode).
func TestRecoveryFileStaysPrivate(t *testing.T) {
	t.Parallel()
	w := openFaultWS(t, t.TempDir(), faultConfig(oauth2ProviderYAML("a", "http://127.0.0.1:1"), map[string]string{"p": "a"}), nil)
	cause := errors.New("no space left on device")
	path, err := w.m.saveRecovery("p", oldToken(time.Now()), cause)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if path, err = w.m.saveRecovery("p", oldToken(time.Now()), cause); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("the rewritten recovery file has mode %v, want 0600", fi.Mode().Perm())
	}
}
