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

// editConfig changes the config: in file mode the config file (see
// fileCatalog.Edit), in team mode the team's catalog. removes declares the
// entries the edit means to remove; without it, the entries edit takes out
// with the Config's Remove methods. Any other entry that the result lacks
// refuses the edit, and nothing is written. edit may run more than once
// (the config changed meanwhile): each time on a fresh copy.
func (m *Manager) editConfig(ctx context.Context, edit func(c *config.Config) error, removes ...config.Entry) error {
	return m.catalogEdits().Edit(ctx, m.config, removes, edit, m.adoptWritten)
}

// pendingConfigEdit is a config edit computed and checked writable, to be
// written once something irreversible is done (`profiles remove` revokes
// the grant in between).
type pendingConfigEdit struct {
	m *Manager
	p pendingCatalogEdit
}

// prepareConfigEdit is the first half of editConfig: the edit is computed
// on the config as it is now and checked writable, but written only by
// commit, which checks again (and applies the edit again to a newer
// config).
func (m *Manager) prepareConfigEdit(ctx context.Context, edit func(c *config.Config) error, removes ...config.Entry) (*pendingConfigEdit, error) {
	p, err := m.catalogEdits().Prepare(ctx, m.config, removes, edit)
	if err != nil {
		return nil, err
	}
	return &pendingConfigEdit{m: m, p: p}, nil
}

// commit writes the prepared edit.
func (e *pendingConfigEdit) commit(ctx context.Context) error {
	return e.p.Commit(ctx, e.m.adoptWritten)
}

// catalogEdits is the Manager's catalogEditor: the backend's, else the
// config file's (also for a Manager not made by Open).
func (m *Manager) catalogEdits() catalogEditor {
	if m.catalog != nil {
		return m.catalog
	}
	return fileCatalog{m: m}
}

// adoptWritten makes the config an edit just wrote the one in use.
func (m *Manager) adoptWritten(cfg *config.Config) {
	m.setConfig(cfg)
	m.provMu.Lock()
	m.provs = nil // built from the old config
	m.provMu.Unlock()
}

// fileCatalog is the config file as the catalogEditor of file mode.
type fileCatalog struct{ m *Manager }

// Edit applies edit under the config lock (two `profiles add` at once
// must both land) to the file as it is now, and writes the result over
// that very file (config.Edit: an editor's save, half done or just
// finished, is never built on blindly nor overwritten). written runs under
// the lock.
func (f fileCatalog) Edit(ctx context.Context, current func() *config.Config, removes []config.Entry, edit func(*config.Config) error, written func(*config.Config)) error {
	unlock, err := f.lockConfig(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	cfg, err := config.Edit(ctx, current(), f.m.configEditOptions(removes), edit)
	if err != nil {
		return err
	}
	f.configWritten(cfg, written)
	return nil
}

// Prepare re-reads the file under the lock, applies the edit in memory
// and checks the file and its directory writable. The lock is not held
// until Commit: the file is checked again then, and the edit applied again
// to a newer file.
func (f fileCatalog) Prepare(ctx context.Context, current func() *config.Config, removes []config.Entry, edit func(*config.Config) error) (pendingCatalogEdit, error) {
	unlock, err := f.lockConfig(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, err := config.PrepareEdit(ctx, current(), f.m.configEditOptions(removes), edit)
	if err != nil {
		return nil, err
	}
	return filePending{f: f, p: p}, nil
}

type filePending struct {
	f fileCatalog
	p *config.Pending
}

func (e filePending) Commit(ctx context.Context, written func(*config.Config)) error {
	unlock, err := e.f.lockConfig(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	cfg, err := e.p.Commit(ctx)
	if err != nil {
		return err
	}
	e.f.configWritten(cfg, written)
	return nil
}

func (f fileCatalog) lockConfig(ctx context.Context) (func(), error) {
	dir := f.m.opts.StateDir
	if err := stateDir.Make(dir); err != nil {
		return nil, err
	}
	return stateDir.Lock(ctx, filepath.Join(dir, "config.lock"), LockTimeout)
}

func (m *Manager) configEditOptions(removes []config.Entry) config.EditOptions {
	return config.EditOptions{Removes: removes, Trusted: m.wroteConfig, Sleep: m.sleep}
}

// configWritten hands the config just written to written (the Manager
// adopts it) and notes what was written (see wroteConfig). Called under
// the config lock.
func (f fileCatalog) configWritten(cfg *config.Config, written func(*config.Config)) {
	m := f.m
	written(cfg)
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
