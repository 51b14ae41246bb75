package profiles

import (
	"context"
	"errors"
	"fmt"

	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
	"github.com/sbctl/sbctl/profiles/team"
)

// The Manager keeps four things outside the config file's text: the state
// records, the per-profile locks with their renewal markers, the catalog
// (providers, groups and profiles: the config it works on) and the tokens.
// In file mode they are this machine's files and token store. In team mode
// they are a team database's (issue 12), behind the same small interfaces,
// so every operation runs unchanged in both modes: a Backend, built by
// Options.TeamBackend, supplies them.

// StateStore keeps the state records. Its semantics are the state file's
// (StateFile): Load returns every record, with errStateMissing when there
// has never been any state (the Manager then rebuilds it from the token
// store) or ErrStateCorrupt when it cannot be read as state; Record reads
// one profile's record (nil when none or unreadable), cheaply; Update
// applies change to the whole state atomically, with concurrent Updates
// serialised, and writes nothing when change fails. Load and Record take
// no context (their callers have none to give): an implementation that
// talks to a server bounds its own calls.
type StateStore interface {
	Load() (*State, error)
	Record(name string) *Record
	Update(ctx context.Context, change func(*State) error) error
}

// profileLocker gives one process at a time a profile's grant (SPEC §6),
// and keeps the renewal markers (lock.go) where every process that could
// spend the grant will find them.
type profileLocker interface {
	// Lock waits (bounded by ctx and LockTimeout) for the profile's lock;
	// unlock releases it. A process that dies holding it must not keep it.
	Lock(ctx context.Context, name string) (unlock func(), err error)
	// WriteMarker stores mk durably before it returns (the refresh request
	// follows at once).
	WriteMarker(ctx context.Context, name string, mk renewalMarker) error
	// ReadMarker returns the profile's marker, nil when there is none; a
	// marker that cannot be read still counts as one (an empty one).
	ReadMarker(ctx context.Context, name string) *renewalMarker
	// RemoveMarker is best effort: a marker left behind names a refresh
	// token the store no longer holds, which the next renewal recognises.
	RemoveMarker(ctx context.Context, name string)
}

// catalogEditor changes the catalog. current gives the config the Manager
// works on, read once the editor holds whatever serialises edits; removes
// declares the entries edit means to remove (beyond them, an edit whose
// result lacks an entry is refused and nothing is written); edit may run
// more than once, each time on a fresh copy. written receives the config
// as stored, while the edit still holds its serialisation, so that two
// edits in one process are adopted in the order they were made.
type catalogEditor interface {
	Edit(ctx context.Context, current func() *config.Config, removes []config.Entry, edit func(*config.Config) error, written func(*config.Config)) error
	// Prepare computes the edit and checks it can be written, without
	// writing it (`profiles remove` revokes the grant in between).
	Prepare(ctx context.Context, current func() *config.Config, removes []config.Entry, edit func(*config.Config) error) (pendingCatalogEdit, error)
}

// pendingCatalogEdit is a prepared edit; Commit checks again and writes
// it (applying it again to a catalog that changed meanwhile).
type pendingCatalogEdit interface {
	Commit(ctx context.Context, written func(*config.Config)) error
}

// catalogReader reads a backend's catalog, as the config the Manager works
// on. (The config file is read by reload.go's own code.)
type catalogReader interface {
	// Load reads the catalog as it is now.
	Load(ctx context.Context) (*config.Config, error)
	// Reload returns the catalog when it changed since cur was read, nil
	// when it did not; it is asked before every list and every look-up
	// of a profile by name, so it must be cheap when nothing changed.
	Reload(ctx context.Context, cur *config.Config) (*config.Config, error)
}

// backendCatalog is both halves of a backend's catalog.
type backendCatalog interface {
	catalogReader
	catalogEditor
}

// Backend is where a team-mode Manager keeps state, locks, catalog and
// tokens. It is built inside this package (the team implementation) and
// handed to the Manager by Options.TeamBackend; every part is required.
type Backend struct {
	// where names the backend in messages ("the team database at
	// db.example").
	where   string
	state   StateStore
	locks   profileLocker
	catalog backendCatalog
	tokens  store.Store
	// close releases the backend (the database pool); nil: nothing to do.
	close func()
	// db is the team database itself, for what only it can do (the
	// agent's lease); nil for a stand-in backend.
	db *team.DB
	// listen streams the names of changed profiles ("" for "reload all").
	listen func(ctx context.Context) (<-chan string, error)
	// database is the team database's connection string, local this
	// machine's own token store (the team key, the access-token cache).
	database string
	local    func() store.Store // nil when none can be opened
	stateDir string             // this machine's state directory (the cache's notes)
	// me is the caller's role in the team (nil: no roles).
	me *teamMe
	// audit writes an event to the team's log (nil: no log).
	audit func(ctx context.Context, action, profile, detail string) error
}

func (b *Backend) check() error {
	if b == nil || b.state == nil || b.locks == nil || b.catalog == nil || b.tokens == nil {
		return errors.New("profiles: incomplete team backend (state, locks, catalog and tokens are all required)")
	}
	return nil
}

// TeamRequest is what Options.TeamBackend is given to open team mode.
type TeamRequest struct {
	// Database is the connection string: Options.DatabaseURL when set,
	// else the config file's team.database. Show it only through
	// config.RedactDatabaseURL.
	Database string
	// Key is Options.TeamKey (base64; "" = find the key in the token
	// store).
	Key string
	// Local is the local config file: `team:` and local preferences
	// (defaults).
	Local *config.Config
	// Options are the Manager's, defaults filled in (Now, Warn, Sleep);
	// Store, when set, is the local token store to use (tests).
	Options Options
}

// teamDatabase is the team database the Manager must use, "" for file
// mode: Options.DatabaseURL (the environment) wins over the file.
func teamDatabase(opts Options, local *config.Config) string {
	if opts.FileOnly {
		return ""
	}
	if opts.DatabaseURL != "" {
		return opts.DatabaseURL
	}
	if local.Team != nil {
		return local.Team.Database
	}
	return ""
}

// openBackend switches m to the team backend named by opts or the local
// config. Team mode never falls back to this machine's files: they would
// show another fleet than the team's, as if it were the team's.
func (m *Manager) openBackend(ctx context.Context, database string, local *config.Config) error {
	if err := config.ValidateDatabaseURL(database); err != nil {
		return fmt.Errorf("the team database connection string: %w", err)
	}
	if m.opts.TeamBackend == nil {
		return errors.New("this configuration uses a team database (`team:` in the config, or SBCTL_DATABASE_URL), which this program cannot open; nothing was done")
	}
	b, err := m.opts.TeamBackend(ctx, TeamRequest{Database: database, Key: m.opts.TeamKey, Local: local, Options: m.opts})
	if err != nil {
		return err
	}
	if err := b.check(); err != nil {
		b.Close()
		return err
	}
	cfg, err := b.catalog.Load(ctx)
	if err != nil {
		b.Close()
		return err
	}
	m.backend, m.local, m.cfg = b, local, cfg
	m.State, m.locks, m.catalog = stateIn(b.state), b.locks, b.catalog
	// Store() serves Options.Store first: the team's tokens.
	m.opts.Store = b.tokens
	return nil
}

// Close releases the backend's resources (in team mode, the database
// connections). A file-mode Manager holds none; Close is safe to call
// more than once.
func (m *Manager) Close() {
	if m.backend != nil {
		m.backend.Close()
	}
}

// Close releases the backend; safe more than once.
func (b *Backend) Close() {
	if b != nil && b.close != nil {
		f := b.close
		b.close = nil
		f()
	}
}

// TeamMode reports whether the Manager works on a team database.
func (m *Manager) TeamMode() bool { return m.backend != nil }

// StatePath is the state file, "" in team mode (the state is in the team
// database): what a front end watches for changes.
func (m *Manager) StatePath() string {
	if m.State == nil {
		return ""
	}
	return m.State.Path
}

// reloadCatalog is reloadConfig for a backend's catalog: the backend says
// whether it changed. A failure (the database unreachable) keeps the
// catalog in use and is reported like a config file that cannot be used:
// returned, and with warn written once per problem.
func (m *Manager) reloadCatalog(r catalogReader, warn bool) (changed, read bool, err error) {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	m.cfgMu.RLock()
	cur, gen := m.cfg, m.cfgGen
	m.cfgMu.RUnlock()
	c, err := r.Reload(context.Background(), cur)
	defer func() { m.noteReloadProblem(err, warn) }()
	if err != nil || c == nil {
		return false, err == nil, err
	}
	m.cfgMu.Lock()
	if gen != m.cfgGen { // an edit in this process adopted a newer catalog meanwhile
		m.cfgMu.Unlock()
		return false, true, nil
	}
	m.replaceConfigLocked(c)
	m.cfgMu.Unlock()
	m.provMu.Lock()
	m.provs = nil // built from the old catalog
	m.provMu.Unlock()
	return true, true, nil
}
