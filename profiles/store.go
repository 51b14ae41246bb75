package profiles

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sbctl/sbctl/auth/store"
)

// The token stores (contract: SPEC §3's --token-store / SBCTL_TOKEN_STORE).
const (
	StoreKeychain = "keychain"
	StoreFile     = "file"
)

// StoreOptions choose and tune the token store. The CLI fills them from
// --token-store and SPEC §3's variables; the domain reads no environment.
type StoreOptions struct {
	Kind           string        // StoreKeychain ("" too) or StoreFile
	KeyringService string        // "" = store.DefaultService
	KeyringTimeout time.Duration // 0 = store.DefaultTimeout
	KeyringChunk   int           // 0 = the platform's limit
	FileDir        string        // the file store's directory
}

// Store opens the token store on first use.
func (m *Manager) Store() (store.Store, error) {
	m.storeOnce.Do(func() {
		if m.opts.Store != nil {
			m.store = m.opts.Store
			return
		}
		m.store, m.storeErr = OpenStore(m.opts.Tokens, m.warn)
	})
	return m.store, m.storeErr
}

// OpenStore opens the store o names: the keychain by default, the plain
// file store only when asked for.
func OpenStore(o StoreOptions, warn io.Writer) (store.Store, error) {
	switch o.Kind {
	case "", StoreKeychain:
		k := store.NewKeyring(o.KeyringService)
		if o.KeyringTimeout > 0 {
			k.Timeout = o.KeyringTimeout
		}
		if o.KeyringChunk != 0 {
			if o.KeyringChunk < 16 {
				return nil, &UsageError{Msg: fmt.Sprintf("keychain part size %d: want at least 16 bytes", o.KeyringChunk)}
			}
			k.ChunkSize = o.KeyringChunk
		}
		return k, nil
	case StoreFile:
		if o.FileDir == "" {
			return nil, errors.New("the file token store needs its directory")
		}
		return store.NewFile(o.FileDir, warn), nil
	}
	return nil, &UsageError{Msg: fmt.Sprintf("unknown token store %q: use %q (the OS keychain) or %q (a plain 0600 file, explicit opt-in)", o.Kind, StoreKeychain, StoreFile)}
}
