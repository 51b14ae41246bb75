package profiles

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/fsx"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/profiles/team"
)

// When the team database cannot be reached, `sbctl token` may still hand
// a script the access token it handed out last, from this machine's own
// token store, while that token is valid — never a refresh token (a
// renewal without the database's lock could spend a rotated grant twice).
// The cache holds only the access token and its expiry.

type cachedAccess struct {
	AccessToken string    `json:"access_token"`
	Expiry      time.Time `json:"expiry"`
}

// teamCacheKey names a profile's cached access token by team database
// (its connection string's digest: the team's id is unknown when the
// database cannot be reached) and profile.
func teamCacheKey(database, profile string) string {
	sum := sha256.Sum256([]byte(database))
	return "team-cache:" + hex.EncodeToString(sum[:6]) + ":" + profile
}

// cacheAccess keeps tok's access token for the outage case; best effort,
// and only a write when it changed.
func (m *Manager) cacheAccess(ctx context.Context, name string, tok *auth.Token) {
	b := m.backend
	if b == nil || b.local == nil || tok == nil || tok.Expiry.IsZero() {
		return
	}
	key := teamCacheKey(b.database, name)
	// A note in the state directory (no secret: the expiry of what was
	// cached) saves a keychain call on every `sbctl token`: the cache is
	// written only when the token changed.
	note := ""
	if b.stateDir != "" {
		note = filepath.Join(b.stateDir, "team-cache", fileName(strings.TrimPrefix(key, "team-cache:")))
		if old, err := os.ReadFile(note); err == nil && string(old) == tok.Expiry.UTC().Format(time.RFC3339Nano) {
			return
		}
	}
	local := b.local()
	if local == nil {
		return
	}
	v, _ := json.Marshal(cachedAccess{AccessToken: tok.AccessToken, Expiry: tok.Expiry.UTC()})
	if err := local.Set(ctx, key, string(v)); err != nil || note == "" {
		return
	}
	if stateDir.Make(filepath.Dir(note)) == nil {
		_ = fsx.WriteFile(note, []byte(tok.Expiry.UTC().Format(time.RFC3339Nano)), fsx.KeepPerm(0o600))
	}
}

// IsTeamUnreachable reports whether err is a failure to reach the team
// database (the case CachedTeamToken is for).
func IsTeamUnreachable(err error) bool {
	var u *team.UnreachableError
	return errors.As(err, &u)
}

// CachedTeamToken is the access token this machine last handed out for
// name from the team database opts names, if it stays valid for minTTL;
// with a warning on warn that it comes from the cache.
func CachedTeamToken(ctx context.Context, opts Options, database, name string, minTTL time.Duration) (string, error) {
	local := opts.Store
	if local == nil {
		var err error
		if local, err = OpenStore(opts.Tokens, opts.Warn); err != nil {
			return "", err
		}
	}
	v, err := local.Get(ctx, teamCacheKey(database, name))
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("no cached access token of %q on this machine", name)
	}
	if err != nil {
		return "", err
	}
	var c cachedAccess
	if json.Unmarshal([]byte(v), &c) != nil || c.AccessToken == "" {
		return "", fmt.Errorf("the cached access token of %q cannot be read", name)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	if left := c.Expiry.Sub(now()); left < minTTL {
		return "", fmt.Errorf("the cached access token of %q is valid for %s only, less than --min-ttl %s", name, left.Round(time.Second), minTTL)
	}
	return c.AccessToken, nil
}

// dropCachedAccess forgets the cached access token of a profile that is
// dead or gone: while the database is down, `sbctl token` must not hand
// out the token of a grant the team knows is revoked.
func (m *Manager) dropCachedAccess(ctx context.Context, name string) {
	b := m.backend
	if b == nil || b.local == nil {
		return
	}
	key := teamCacheKey(b.database, name)
	if b.stateDir != "" {
		_ = os.Remove(filepath.Join(b.stateDir, "team-cache", fileName(strings.TrimPrefix(key, "team-cache:"))))
	}
	if local := b.local(); local != nil {
		_ = local.Delete(ctx, key)
	}
}
