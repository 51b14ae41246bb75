package profiles

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/fsx"
	"github.com/sbctl/sbctl/auth/store"
)

// A recovery file holds a renewed token that the token store would not
// take (a locked or dead keychain, a full disk) after the network had
// already rotated the refresh token: it is then the only copy of the
// grant, so it must reach durable storage somewhere. The next sbctl that
// can use the store moves it there and deletes the file.
//
// The token is sealed with AES-256-GCM under a key the OS keeps outside
// the file (osRecoveryKey: the Linux kernel's user keyring) where one is
// available; elsewhere it is written in plain text, 0600, like the
// explicit file store, and the user is told.
type recoveryFile struct {
	Profile string    `json:"profile"`
	SavedAt time.Time `json:"saved_at"`
	// Cause is why the store refused the token (no secret in it).
	Cause string `json:"cause"`
	// Sealed is the token JSON sealed with the OS key; Token is the plain
	// token where no OS key is available.
	Sealed []byte      `json:"sealed,omitempty"`
	KeyRef string      `json:"key_ref,omitempty"`
	Token  *auth.Token `json:"token,omitempty"`
}

func (m *Manager) recoveryDir() string { return filepath.Join(m.opts.StateDir, "recovery") }

func (m *Manager) recoveryPath(name string) string {
	return filepath.Join(m.recoveryDir(), fileName(name)+".json")
}

// saveRecovery writes t to the profile's recovery file, durably.
func (m *Manager) saveRecovery(name string, t *auth.Token, cause error) (string, error) {
	rf := recoveryFile{Profile: name, SavedAt: m.now().UTC(), Cause: cause.Error()}
	plain, err := json.Marshal(t)
	if err != nil {
		return "", err
	}
	if key, ref, kerr := osRecoveryKey(m.recoveryKeyName(), true); kerr == nil {
		if rf.Sealed, err = seal(key, plain, []byte(name)); err != nil {
			return "", err
		}
		rf.KeyRef = ref
	} else {
		rf.Token = t
	}
	b, err := json.Marshal(rf)
	if err != nil {
		return "", err
	}
	path := m.recoveryPath(name)
	if err := stateDir.Make(m.recoveryDir()); err != nil {
		return "", err
	}
	// It holds a token: 0600 even over a file someone made readable.
	if err := fsx.WriteFile(path, b, fsx.ForcePerm(0o600)); err != nil {
		return "", err
	}
	return path, nil
}

// recoveryKeyName names the OS key of this user's recovery files; the
// keychain service keeps the demo's and tests' keys apart from the real
// ones.
func (m *Manager) recoveryKeyName() string {
	svc := m.opts.Tokens.KeyringService
	if svc == "" {
		svc = store.DefaultService
	}
	return "sbctl-recovery:" + svc
}

// readRecovery returns the token waiting in the profile's recovery file
// (nil when there is none).
func (m *Manager) readRecovery(name string) (*auth.Token, error) {
	b, err := os.ReadFile(m.recoveryPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rf recoveryFile
	if err := json.Unmarshal(b, &rf); err != nil {
		return nil, fmt.Errorf("the recovery file %s is damaged", m.recoveryPath(name))
	}
	if rf.Token != nil {
		return rf.Token, nil
	}
	key, _, err := osRecoveryKey(m.recoveryKeyName(), false)
	if err != nil {
		return nil, fmt.Errorf("the recovery file %s is sealed with a key the OS no longer holds (it does not survive a reboot): %w", m.recoveryPath(name), err)
	}
	plain, err := open(key, rf.Sealed, []byte(name))
	if err != nil {
		return nil, fmt.Errorf("the recovery file %s cannot be opened with this user's key", m.recoveryPath(name))
	}
	var t auth.Token
	if err := json.Unmarshal(plain, &t); err != nil || t.AccessToken == "" {
		return nil, fmt.Errorf("the recovery file %s holds no token", m.recoveryPath(name))
	}
	return &t, nil
}

// restoreRecovered moves the profile's recovered token into the store,
// under the profile's lock (the caller holds it). It keeps whichever of
// the stored and the recovered token is newer. ok says a token was
// restored.
func (m *Manager) restoreRecovered(ctx context.Context, st store.Store, name string) (restored bool, err error) {
	rec, err := m.readRecovery(name)
	if rec == nil || err != nil {
		return false, err
	}
	cur, gerr := store.GetToken(ctx, st, name)
	if gerr == nil && cur.ObtainedAt.After(rec.ObtainedAt) {
		// A reauth stored a newer grant meanwhile: the recovered one is
		// obsolete.
		_ = os.Remove(m.recoveryPath(name))
		return false, nil
	}
	if err := store.PutToken(withAudit(ctx, auditRecover, "restored a renewed token from the recovery file"), st, name, rec); err != nil {
		return false, err
	}
	m.clearMarker(name)
	_ = os.Remove(m.recoveryPath(name))
	fmt.Fprintf(m.warn, "Restored the renewed token of %q from its recovery file into the %s.\n", name, st.Describe())
	return true, nil
}

// RestoreRecovered moves every waiting recovery file into the token store
// (`sbctl doctor`, `refresh --all`, `verify --all`). It returns the
// profiles restored and those that are still waiting, with why.
func (m *Manager) RestoreRecovered(ctx context.Context) (restored []string, waiting map[string]error) {
	entries, err := os.ReadDir(m.recoveryDir())
	if err != nil || len(entries) == 0 {
		return nil, nil
	}
	st, err := m.Store()
	waiting = map[string]error{}
	for _, p := range m.config().Profiles {
		if _, e := os.Stat(m.recoveryPath(p.Name)); e != nil {
			continue
		}
		if err != nil {
			waiting[p.Name] = err
			continue
		}
		unlock, lerr := m.lockProfile(ctx, p.Name)
		if lerr != nil {
			waiting[p.Name] = lerr
			continue
		}
		ok, rerr := m.restoreRecovered(ctx, st, p.Name)
		unlock()
		switch {
		case rerr != nil:
			waiting[p.Name] = rerr
		case ok:
			restored = append(restored, p.Name)
		}
	}
	return restored, waiting
}

func seal(key, plain, ad []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, plain, ad), nil
}

func open(key, sealed, ad []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("sealed data too short")
	}
	return aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], ad)
}

// recoveryNote says where a renewed token waits and how it comes back.
func recoveryNote(path string, storeErr error) string {
	return fmt.Sprintf("renewed, but the token store refused the new token (%s); it is kept in %s and the next sbctl command that can use the store moves it there (or run `sbctl doctor`)",
		strings.TrimSuffix(storeErr.Error(), "."), path)
}
