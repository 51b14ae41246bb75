package profiles

import (
	"context"
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

// Record is what sbctl knows about one profile's connection, without any
// secret: enough to list and evaluate profiles without the keychain.
type Record struct {
	Connected        bool       `json:"connected"`
	AccountID        string     `json:"account_id,omitempty"`
	Account          string     `json:"account,omitempty"`
	HasRefresh       bool       `json:"has_refresh,omitempty"`
	ExpiresAt        *time.Time `json:"expires_at,omitempty"`
	RefreshExpiresAt *time.Time `json:"refresh_expires_at,omitempty"`
	ConsentExpiresAt *time.Time `json:"consent_expires_at,omitempty"`
	ConnectedAt      *time.Time `json:"connected_at,omitempty"`
	LastRefreshedAt  *time.Time `json:"last_refreshed_at,omitempty"`
	LastVerifiedAt   *time.Time `json:"last_verified_at,omitempty"`
	Scopes           []string   `json:"scopes,omitempty"`
	// NeedsReauth: the network definitely refused the grant; Reason says
	// why (expired and consent_expired make the status expired).
	NeedsReauth bool        `json:"needs_reauth,omitempty"`
	Reason      auth.Reason `json:"reason,omitempty"`
	// EndedAt is when the connection ended, as far as sbctl knows: set
	// when the network said so before sbctl's own expiry estimate.
	EndedAt *time.Time `json:"ended_at,omitempty"`
	Unknown bool       `json:"unknown,omitempty"`
	// Rebuilt: the record was rebuilt from the token store (the state file
	// was lost) and nothing has checked the connection since.
	Rebuilt   bool   `json:"rebuilt,omitempty"`
	LastError string `json:"last_error,omitempty"`
	// Notified is what the notification sinks were last told about the
	// profile (notify.go): kept with the record, so restarts and, in team
	// mode, other machines do not tell them again.
	Notified *NotifyMark `json:"notified,omitempty"`
}

// RecordFromToken describes a freshly stored token.
func RecordFromToken(t *auth.Token, now time.Time) *Record {
	r := &Record{Connected: true, HasRefresh: t.HasRefresh(), Scopes: t.Scopes}
	if !t.Expiry.IsZero() {
		e := t.Expiry.UTC()
		r.ExpiresAt = &e
	}
	if !t.RefreshExpiry.IsZero() {
		e := t.RefreshExpiry.UTC()
		r.RefreshExpiresAt = &e
	}
	n := now.UTC()
	r.ConnectedAt = &n
	return r
}

// State is the state file's content.
type State struct {
	Version  int                `json:"version"`
	Profiles map[string]*Record `json:"profiles"`
}

const stateVersion = 1

// StateFile is $XDG_STATE_HOME/sbctl/state.json, written atomically under
// a lock. Readers need no lock: a rename is atomic.
//
// It is also the Manager's handle on the state whichever backend keeps it
// (backend.go): in team mode the records live in the team database, Path
// is "" and every method goes to that StateStore. The Manager's callers
// (and tests) keep calling m.State.Load, Record and Update either way.
type StateFile struct {
	Path string

	backend StateStore // nil: the file at Path
}

// stateIn is the Manager's state handle over another store (team mode).
func stateIn(s StateStore) *StateFile { return &StateFile{backend: s} }

// NewStateFile returns the state file in dir.
func NewStateFile(dir string) *StateFile { return &StateFile{Path: filepath.Join(dir, "state.json")} }

// ErrStateCorrupt: the file exists but cannot be read as state (damaged,
// or not a regular file at all). Callers rebuild it; it is never fatal.
var ErrStateCorrupt = errors.New("state file is corrupt")

// errNotRegular: the state path names something other than a regular
// file (rebuildState says so).
var errNotRegular = fsx.ErrNotRegular

// errStateMissing: no state file yet.
var errStateMissing = errors.New("no state file")

// Load reads the state. A missing file gives an empty state and
// errStateMissing; a damaged one an empty state and ErrStateCorrupt.
func (f *StateFile) Load() (*State, error) {
	if f.backend != nil {
		return f.backend.Load()
	}
	st := &State{Version: stateVersion, Profiles: map[string]*Record{}}
	b, err := fsx.ReadRegular(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, errStateMissing
	}
	if errors.Is(err, errNotRegular) {
		return st, fmt.Errorf("%w: %s is not a regular file", ErrStateCorrupt, f.Path)
	}
	if err != nil {
		return st, fmt.Errorf("reading %s: %w", f.Path, err)
	}
	var read State
	if err := json.Unmarshal(b, &read); err != nil || read.Version != stateVersion {
		return st, ErrStateCorrupt
	}
	if read.Profiles != nil {
		st.Profiles = read.Profiles
	}
	return st, nil
}

// Record reads one profile's record (nil when there is none, or the file
// cannot be read): `sbctl token` needs only its own, and decoding only it
// keeps a script's call cheap in a fleet of thousands.
func (f *StateFile) Record(name string) *Record {
	if f.backend != nil {
		return f.backend.Record(name)
	}
	b, err := fsx.ReadRegular(f.Path)
	if err != nil {
		return nil
	}
	var read struct {
		Version  int                        `json:"version"`
		Profiles map[string]json.RawMessage `json:"profiles"`
	}
	if json.Unmarshal(b, &read) != nil || read.Version != stateVersion {
		return nil
	}
	raw, ok := read.Profiles[name]
	if !ok {
		return nil
	}
	var rec Record
	if json.Unmarshal(raw, &rec) != nil {
		return nil
	}
	return &rec
}

// LockTimeout bounds the wait for another sbctl's state update, config
// edit or renewal of the same profile.
const LockTimeout = 30 * time.Second

// The state directory holds the lock files that keep two processes from
// spending one refresh token (SECURITY 19), the renewal markers and the
// recovery files: whoever can write there can swap a lock file and walk in
// while another sbctl holds the original. So it, and the directories in
// it, are created 0700 and refused (with the fix) when they are a
// symlink, belong to another user or are writable by others (SECURITY
// 31); its lock files are never followed through a symlink either.
var stateDir = fsx.PrivateDir{
	What:     "state directory",
	Env:      "XDG_STATE_HOME",
	Holds:    "its lock files",
	LinkWhy:  "sbctl keeps its locks only in a real directory",
	OwnerWhy: "another user could replace its lock files",
	NotYours: "set XDG_STATE_HOME to a directory of your own",
}

// Update applies change under the lock and writes the result atomically.
// A corrupt file is moved aside (state.json.corrupt) and replaced.
func (f *StateFile) Update(ctx context.Context, change func(*State) error) error {
	if f.backend != nil {
		return f.backend.Update(ctx, change)
	}
	if err := stateDir.Make(filepath.Dir(f.Path)); err != nil {
		return err
	}
	unlock, err := stateDir.Lock(ctx, f.Path+".lock", LockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := f.Load()
	if errors.Is(err, ErrStateCorrupt) {
		// Keep it for a look, in place of an earlier one.
		_ = os.RemoveAll(f.Path + ".corrupt")
		_ = os.Rename(f.Path, f.Path+".corrupt")
	} else if err != nil && !errors.Is(err, errStateMissing) {
		return err
	}
	if err := change(st); err != nil {
		return err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return fsx.WriteFile(f.Path, b, fsx.KeepPerm(0o600))
}
