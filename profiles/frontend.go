package profiles

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
)

// The rest of what a front end needs from the layers below, re-exported so
// that cmd and tui import only the domain. Each is a name for the one
// implementation, never a copy of it.

// ParseDuration reads a duration the way the config writes them (90s, 15m,
// 12h, 7d, 2w); flags such as --expiring-within use it so a window reads
// the same on the command line as in the file.
func ParseDuration(s string) (time.Duration, error) { return config.ParseDuration(s) }

// FormatDuration writes a duration as ParseDuration reads it ("7d").
func FormatDuration(d time.Duration) string { return config.FormatDuration(d) }

// TokenStore is where tokens and client secrets live (Options.Store, for a
// composition root such as `sbctl demo` that picks its own).
type TokenStore = store.Store

// ProbeStore writes a probe item to s, reads it back and deletes it: whether
// the store (a keychain behind a locked or absent Secret Service, most of
// all) is usable, asked once instead of failing on the first real token.
// The error names the store, never a value.
func ProbeStore(ctx context.Context, s TokenStore) error {
	var b [6]byte
	_, _ = rand.Read(b[:])
	key := "probe:" + hex.EncodeToString(b[:])
	if err := s.Set(ctx, key, "probe"); err != nil {
		return err
	}
	v, err := s.Get(ctx, key)
	_ = s.Delete(ctx, key)
	if err != nil {
		return fmt.Errorf("%s: wrote a probe item but could not read it back (%w)", s.Describe(), err)
	}
	if v != "probe" {
		return fmt.Errorf("%s: wrote a probe item but read back something else", s.Describe())
	}
	return nil
}
