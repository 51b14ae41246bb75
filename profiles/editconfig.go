package profiles

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/sbctl/sbctl/auth/fsx"
	"github.com/sbctl/sbctl/config"
)

// editConfig changes the config file: under the config lock (two `profiles
// add` at once must both land), it applies edit to the file as it is now
// and writes the result over that very file (config.Edit: an editor's
// save, half done or just finished, is never built on blindly nor
// overwritten). removes declares the entries the edit means to remove;
// without it, the entries edit takes out with the Config's Remove methods.
// Any other entry the file or the command's config had that the result
// lacks refuses the edit, and nothing is written. edit may run more than
// once (the file changed meanwhile): each time on a fresh copy.
func (m *Manager) editConfig(ctx context.Context, edit func(c *config.Config) error, removes ...config.Entry) error {
	unlock, err := m.lockConfig(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	cfg, err := config.Edit(ctx, m.config(), m.configEditOptions(removes), edit)
	if err != nil {
		return err
	}
	m.configWritten(cfg)
	return nil
}

// pendingConfigEdit is a config edit computed and checked writable, to be
// written once something irreversible is done (`profiles remove` revokes
// the grant in between).
type pendingConfigEdit struct {
	m *Manager
	p *config.Pending
}

// prepareConfigEdit is the first half of editConfig: the file is re-read
// under the lock, the edit applied in memory and the file and its
// directory checked writable. The lock is not held until commit: the file
// is checked again then, and the edit applied again to a newer file.
func (m *Manager) prepareConfigEdit(ctx context.Context, edit func(c *config.Config) error, removes ...config.Entry) (*pendingConfigEdit, error) {
	unlock, err := m.lockConfig(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, err := config.PrepareEdit(ctx, m.config(), m.configEditOptions(removes), edit)
	if err != nil {
		return nil, err
	}
	return &pendingConfigEdit{m: m, p: p}, nil
}

// commit writes the prepared edit.
func (e *pendingConfigEdit) commit(ctx context.Context) error {
	unlock, err := e.m.lockConfig(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	cfg, err := e.p.Commit(ctx)
	if err != nil {
		return err
	}
	e.m.configWritten(cfg)
	return nil
}

func (m *Manager) lockConfig(ctx context.Context) (func(), error) {
	if err := stateDir.Make(m.opts.StateDir); err != nil {
		return nil, err
	}
	return stateDir.Lock(ctx, filepath.Join(m.opts.StateDir, "config.lock"), LockTimeout)
}

func (m *Manager) configEditOptions(removes []config.Entry) config.EditOptions {
	return config.EditOptions{Removes: removes, Trusted: m.wroteConfig, Sleep: m.sleep}
}

// configWritten adopts the config just written and notes what was written
// (see wroteConfig). Called under the config lock.
func (m *Manager) configWritten(cfg *config.Config) {
	m.setConfig(cfg)
	m.provMu.Lock()
	m.provs = nil // built from the old config
	m.provMu.Unlock()
	src := cfg.Source()
	if !src.Exists {
		return
	}
	b, _ := json.Marshal(lastConfigWrite{Path: realConfigPath(cfg.Path), SHA256: hex.EncodeToString(src.SHA256[:])})
	// Best effort: without the note the next edit only compares more
	// strictly.
	_ = fsx.WriteFile(m.lastWritePath(), b, fsx.KeepPerm(0o600))
}

// lastConfigWrite is the digest of the config text an sbctl command last
// wrote (whole, by rename). A command that finds the file holding exactly
// that knows it is no editor's half-saved file, and that what it lacks of
// what the command read at its start was removed by another sbctl.
type lastConfigWrite struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

func (m *Manager) lastWritePath() string { return filepath.Join(m.opts.StateDir, "config.written") }

// wroteConfig reports whether sum is the last config text sbctl wrote to
// this config file.
func (m *Manager) wroteConfig(sum [sha256.Size]byte) bool {
	b, err := os.ReadFile(m.lastWritePath())
	if err != nil {
		return false
	}
	var w lastConfigWrite
	if json.Unmarshal(b, &w) != nil {
		return false
	}
	return w.Path == realConfigPath(m.config().Path) && w.SHA256 == hex.EncodeToString(sum[:])
}

func realConfigPath(p string) string {
	if real, err := filepath.EvalSymlinks(p); err == nil {
		return real
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
