package profiles

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/sbctl/sbctl/config"
)

// A Manager may live for hours (the TUI). Meanwhile another shell runs
// `sbctl profiles remove`, or an editor saves the file: the Manager must
// not go on listing, or acting on, what the file no longer says. So the
// config is re-read when it changed: a stat before each list and each
// look-up of a profile by name tells (cheaply) whether it did, and only
// then is the file read, parsed and its text compared with the one in use
// (the digest config.Source keeps). A file that no longer parses is never
// adopted: the last good config stays in use, and the error says where
// the file is wrong. A reload reads; it never writes anything.
//
// Edits are not preceded by a reload: an edit starts from the config the
// Manager last read, so that a file that shrank since (an editor's save
// caught half done) is refused rather than built on (config.Edit).

// Stat stamps newer than racyWindow (seen from the stat) may hide a second
// change within the same tick of the file system's clock, with the same
// size: such a file is read again at most every racyRecheck until a stat
// finds its time older.
const (
	racyWindow  = 2 * time.Second
	racyRecheck = 100 * time.Millisecond
)

// configStamp is the config file as a stat saw it just before it was read.
// Taken before the read, it is conservative: a change after the stat, even
// one the read caught, shows as a different file on the next check.
type configStamp struct {
	known  bool // false: never taken, or forgotten after an edit: the next check reads the file
	exists bool
	info   os.FileInfo // when exists: for os.SameFile (device and inode)
	at     time.Time   // when the stat was taken
	readAt time.Time   // when the file was last read under this stamp
	err    error       // the file under this stamp could not be used (a *ConfigReloadError)
}

func statConfig(path string) configStamp {
	now := time.Now()
	fi, err := os.Stat(path)
	switch {
	case err == nil:
		return configStamp{known: true, exists: true, info: fi, at: now, readAt: now}
	case errors.Is(err, fs.ErrNotExist):
		return configStamp{known: true, at: now, readAt: now}
	}
	return configStamp{} // cannot tell: read it
}

// sameAs reports whether s finds the file that old was taken of, unchanged
// as far as a stat can tell: the same file (an editor's save by rename is
// a new one), size and modification time.
func (s configStamp) sameAs(old configStamp) bool {
	if !s.known || !old.known || s.exists != old.exists {
		return false
	}
	if !s.exists {
		return true
	}
	a, b := s.info, old.info
	if !os.SameFile(a, b) || a.Size() != b.Size() || !a.ModTime().Equal(b.ModTime()) {
		return false
	}
	racy := old.at.Sub(b.ModTime()) < racyWindow
	return !racy || s.at.Sub(old.readAt) < racyRecheck
}

// ConfigReloadError is a config file that changed but cannot be used (it
// no longer parses, or it is gone): the Manager keeps the config it read
// before. Nothing was written.
type ConfigReloadError struct {
	Path string
	// Line is the line of the first problem in the file; 0 when the problem
	// is not at a line (the file is gone or cannot be read).
	Line int
	Err  error
}

// errConfigGone is a config file that existed and is no longer there: an
// editor replacing it, or a deletion. Neither is taken as "no profiles".
var errConfigGone = errors.New("the file is gone (deleted, or an editor is replacing it)")

func (e *ConfigReloadError) Error() string {
	where := e.Path
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.Path, e.Line)
	}
	return fmt.Sprintf("%s: %s; sbctl keeps using the config it read before until the file is fixed", where, e.Problem())
}

func (e *ConfigReloadError) Unwrap() error { return e.Err }

// Problem says what is wrong in one line, without the file's name and line
// (a front end places those itself).
func (e *ConfigReloadError) Problem() string {
	var es config.Errors
	var one *config.Error
	switch {
	case errors.As(e.Err, &es) && len(es) > 0:
		msg := es[0].Msg
		if len(es) > 1 {
			msg += fmt.Sprintf(" (and %d more problems)", len(es)-1)
		}
		return msg
	case errors.As(e.Err, &one):
		return one.Msg
	}
	msg, _, _ := strings.Cut(e.Err.Error(), "\n")
	return msg
}

func reloadError(path string, err error) *ConfigReloadError {
	e := &ConfigReloadError{Path: path, Err: err}
	var es config.Errors
	var one *config.Error
	switch {
	case errors.As(err, &es) && len(es) > 0:
		e.Line = es[0].Line
	case errors.As(err, &one):
		e.Line = one.Line
	}
	return e
}

// ReloadConfig re-reads the config file if it changed since the Manager
// last read or wrote it, and reports whether the config in use changed. A
// file that cannot be used (it no longer parses, or it is gone) leaves the
// last good config in use and returns a *ConfigReloadError, again on each
// call while the file stays as it is. It never writes anything.
func (m *Manager) ReloadConfig() (changed bool, err error) {
	changed, _, err = m.reloadConfig(false)
	return changed, err
}

// refreshConfig is the reload before a list or a look-up by name. A file
// that cannot be used is reported on warn once (per problem): the caller
// goes on with the last good config.
func (m *Manager) refreshConfig() {
	_, _, _ = m.reloadConfig(true)
}

// current is the config as the file says now (see refreshConfig).
func (m *Manager) current() *config.Config {
	m.refreshConfig()
	return m.config()
}

// reloadConfig does ReloadConfig's work; read says whether the file was
// read. With warn, a new problem is also written to warn; either way it is
// remembered, so that the next caller does not report it again.
func (m *Manager) reloadConfig(warn bool) (changed, read bool, err error) {
	if m.backend != nil { // team mode: the catalog is the team database's (backend.go)
		return m.reloadCatalog(m.backend.catalog, warn)
	}
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	m.cfgMu.RLock()
	cur, gen, old := m.cfg, m.cfgGen, m.stamp
	m.cfgMu.RUnlock()
	path := m.opts.ConfigPath
	now := statConfig(path)
	if now.sameAs(old) {
		if old.err != nil {
			return false, false, old.err
		}
		return false, false, nil
	}
	c, loadErr := config.Load(path, loadOptions(m.opts))
	if (loadErr == nil && cur.Exists && !c.Exists) || errors.Is(loadErr, fs.ErrNotExist) {
		loadErr = errConfigGone
	}
	if loadErr != nil {
		rerr := reloadError(path, loadErr)
		now.err = rerr
		err = rerr
	}
	changed = m.adoptConfig(gen, now, c, err)
	m.noteReloadProblem(err, warn)
	return changed, true, err
}

// adoptConfig puts a reloaded config in place of cur, unless an edit in
// this process replaced the config since the read (its text is newer than
// the one read here), or the text is the same. It reports whether the
// config changed.
func (m *Manager) adoptConfig(gen uint64, stamp configStamp, c *config.Config, loadErr error) bool {
	m.cfgMu.Lock()
	if gen != m.cfgGen {
		m.cfgMu.Unlock()
		return false
	}
	m.stamp = stamp
	cur := m.cfg
	if loadErr != nil || (c.Exists == cur.Exists && c.Source().SHA256 == cur.Source().SHA256) {
		m.cfgMu.Unlock()
		return false
	}
	m.replaceConfigLocked(c)
	m.cfgMu.Unlock()
	// Outside cfgMu: providerFor holds provMu while it reads the config.
	m.provMu.Lock()
	m.provs = nil // built from the old config
	m.provMu.Unlock()
	return true
}

// noteReloadProblem remembers the reload's problem (nil: none) and, with
// warn, writes a new one to warn. The caller holds reloadMu.
func (m *Manager) noteReloadProblem(err error, warn bool) {
	text := ""
	if err != nil {
		text = err.Error()
	}
	fresh := text != "" && text != m.warnedReload
	m.warnedReload = text
	if fresh && warn {
		m.warnOut(Warning{Text: text, Err: err})
	}
}

// lookupProfile finds a profile by name in the config as the file says now
// (reloaded first if it changed): an action on a profile removed in
// another shell is refused, and nothing is written for it.
func (m *Manager) lookupProfile(name string) (*config.Profile, error) {
	c := m.current()
	if p, ok := c.Profile(name); ok {
		return p, nil
	}
	return nil, m.unknownProfile(c, name)
}

// unknownProfile is the error for a name the config c lacks: the close
// names that exist, or, for a profile the config had while this Manager
// ran, that it was removed meanwhile.
func (m *Manager) unknownProfile(c *config.Config, name string) error {
	nf := &NotFoundError{Kind: "profile", Name: name, Similar: config.Closest(name, c.ProfileNames())}
	m.cfgMu.RLock()
	removed := m.gone[config.NormalizeName(name)]
	m.cfgMu.RUnlock()
	if removed {
		nf.Hint = fmt.Sprintf("it was removed from %s (in another shell, or by hand) after sbctl read it", c.Path)
	}
	return nf
}
