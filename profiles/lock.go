package profiles

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/fsx"
)

// lockProfile takes the profile's cross-process lock (SPEC §6): a permanent
// lock file under the state directory, so one process at a time refreshes
// or stores a profile's token.
func (m *Manager) lockProfile(ctx context.Context, name string) (func(), error) {
	dir := filepath.Join(m.opts.StateDir, "locks")
	if err := stateDir.Make(dir); err != nil {
		return nil, err
	}
	return stateDir.Lock(ctx, filepath.Join(dir, fileName(name)+".lock"), LockTimeout)
}

// fileName is a profile's name for its lock and marker files: the name
// plus a digest of it, so "Acme" and "acme" stay apart on case-insensitive
// filesystems (macOS, Windows).
func fileName(profile string) string {
	sum := sha256.Sum256([]byte(profile))
	return profile + "." + hex.EncodeToString(sum[:4])
}

// A renewal marker is written (and synced) before a refresh request is
// sent to a provider that rotates refresh tokens, and removed once the new
// token is stored. Finding one means a process died inside that window: the
// provider may have replaced the refresh token that we still hold.
type renewalMarker struct {
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"started_at"`
	// RefreshSHA256 identifies the refresh token being spent, without
	// storing it: the marker is stale if the store already holds another.
	RefreshSHA256 string `json:"refresh_sha256"`
	// Note is set when the renewal got its answer but could not store it
	// (the store refused it): the process was not killed.
	Note string `json:"note,omitempty"`
}

// lossMessage explains a grant the network no longer accepts after a
// renewal that did not finish: a process killed inside the window, or one
// that could not store what the network answered.
func (mk *renewalMarker) lossMessage(providerName string) string {
	if mk.Note != "" {
		return fmt.Sprintf("an earlier sbctl (pid %d) renewed this profile at %s, but %s; %s has replaced the refresh token sbctl still holds, so the grant is lost",
			mk.PID, mk.StartedAt.Format(time.RFC3339), mk.Note, providerName)
	}
	return fmt.Sprintf("an earlier sbctl (pid %d) was stopped at %s while renewing this profile, after %s may already have replaced its refresh token; the old one is now refused, so the grant is lost",
		mk.PID, mk.StartedAt.Format(time.RFC3339), providerName)
}

func (m *Manager) markerPath(name string) string {
	return filepath.Join(m.opts.StateDir, "renewing", fileName(name)+".json")
}

func refreshDigest(t *auth.Token) string {
	sum := sha256.Sum256([]byte(t.RefreshToken))
	return hex.EncodeToString(sum[:8])
}

func (m *Manager) writeMarker(name string, t *auth.Token, note string) error {
	b, _ := json.Marshal(renewalMarker{PID: os.Getpid(), StartedAt: m.now().UTC(), RefreshSHA256: refreshDigest(t), Note: note})
	if err := stateDir.Make(filepath.Dir(m.markerPath(name))); err != nil {
		return err
	}
	return fsx.WriteFile(m.markerPath(name), b, fsx.KeepPerm(0o600))
}

// noteMarker adds why a rotating renewal did not finish to its marker (a
// renewal of a provider that does not rotate has none: its old refresh
// token still works).
func (m *Manager) noteMarker(name string, spent *auth.Token, note string) {
	if m.readMarker(name) != nil {
		_ = m.writeMarker(name, spent, note)
	}
}

// readMarker returns the marker left by a process that died while renewing
// (nil when there is none; a damaged marker still counts as one).
func (m *Manager) readMarker(name string) *renewalMarker {
	b, err := os.ReadFile(m.markerPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var mk renewalMarker
	if err != nil || json.Unmarshal(b, &mk) != nil {
		return &renewalMarker{}
	}
	return &mk
}

// clearMarker needs no directory fsync: a removal lost to a power cut
// leaves a marker naming a refresh token the store no longer holds, which
// the next run recognises as stale.
func (m *Manager) clearMarker(name string) {
	_ = os.Remove(m.markerPath(name))
}
