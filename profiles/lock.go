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

// lockProfile takes the profile's cross-process lock (SPEC §6), so one
// process at a time refreshes or stores a profile's token: in file mode a
// permanent lock file under the state directory (fileLocks), in team mode
// whatever the backend holds across machines.
func (m *Manager) lockProfile(ctx context.Context, name string) (func(), error) {
	return m.profileLocks().Lock(ctx, name)
}

// profileLocks is the Manager's profileLocker: the backend's, else the
// state directory's (also for a Manager not made by Open).
func (m *Manager) profileLocks() profileLocker {
	if m.locks != nil {
		return m.locks
	}
	return fileLocks{dir: m.opts.StateDir}
}

// fileLocks are the lock and marker files under the state directory: the
// profileLocker of file mode.
type fileLocks struct{ dir string }

func (l fileLocks) Lock(ctx context.Context, name string) (func(), error) {
	dir := filepath.Join(l.dir, "locks")
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
	// Host and Login say where the renewal ran and as whom, when that may
	// be another machine (team mode: the backend fills them in). A marker
	// file of this machine has neither.
	Host  string `json:"host,omitempty"`
	Login string `json:"login,omitempty"`
}

// who names the sbctl that left the marker: its pid, and in team mode its
// machine and database user.
func (mk *renewalMarker) who() string {
	w := fmt.Sprintf("pid %d", mk.PID)
	if mk.Host != "" {
		w += " on " + mk.Host
	}
	if mk.Login != "" {
		w += ", as " + mk.Login
	}
	return w
}

// lossMessage explains a grant the network no longer accepts after a
// renewal that did not finish: a process killed inside the window, or one
// that could not store what the network answered.
func (mk *renewalMarker) lossMessage(providerName string) string {
	if mk.Note != "" {
		return fmt.Sprintf("an earlier sbctl (%s) renewed this profile at %s, but %s; %s has replaced the refresh token sbctl still holds, so the grant is lost",
			mk.who(), mk.StartedAt.Format(time.RFC3339), mk.Note, providerName)
	}
	return fmt.Sprintf("an earlier sbctl (%s) was stopped at %s while renewing this profile, after %s may already have replaced its refresh token; the old one is now refused, so the grant is lost",
		mk.who(), mk.StartedAt.Format(time.RFC3339), providerName)
}

// markerPath is the profile's marker file in file mode.
func (m *Manager) markerPath(name string) string {
	return fileLocks{dir: m.opts.StateDir}.markerPath(name)
}

func (l fileLocks) markerPath(name string) string {
	return filepath.Join(l.dir, "renewing", fileName(name)+".json")
}

func refreshDigest(t *auth.Token) string {
	sum := sha256.Sum256([]byte(t.RefreshToken))
	return hex.EncodeToString(sum[:8])
}

// markerTimeout bounds a marker's read or write where the backend is a
// database: the callers have no context of their own to give (a marker is
// written and cleared whether or not the command is being interrupted).
const markerTimeout = LockTimeout

func markerContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), markerTimeout)
}

func (m *Manager) writeMarker(name string, t *auth.Token, note string) error {
	ctx, cancel := markerContext()
	defer cancel()
	return m.profileLocks().WriteMarker(ctx, name, renewalMarker{PID: os.Getpid(), StartedAt: m.now().UTC(), RefreshSHA256: refreshDigest(t), Note: note})
}

func (l fileLocks) WriteMarker(_ context.Context, name string, mk renewalMarker) error {
	b, _ := json.Marshal(mk)
	if err := stateDir.Make(filepath.Dir(l.markerPath(name))); err != nil {
		return err
	}
	return fsx.WriteFile(l.markerPath(name), b, fsx.KeepPerm(0o600))
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
	ctx, cancel := markerContext()
	defer cancel()
	return m.profileLocks().ReadMarker(ctx, name)
}

func (l fileLocks) ReadMarker(_ context.Context, name string) *renewalMarker {
	b, err := os.ReadFile(l.markerPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var mk renewalMarker
	if err != nil || json.Unmarshal(b, &mk) != nil {
		return &renewalMarker{}
	}
	return &mk
}

func (m *Manager) clearMarker(name string) {
	ctx, cancel := markerContext()
	defer cancel()
	m.profileLocks().RemoveMarker(ctx, name)
}

// RemoveMarker needs no directory fsync: a removal lost to a power cut
// leaves a marker naming a refresh token the store no longer holds, which
// the next run recognises as stale.
func (l fileLocks) RemoveMarker(_ context.Context, name string) {
	_ = os.Remove(l.markerPath(name))
}
