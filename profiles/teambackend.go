package profiles

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
	"github.com/sbctl/sbctl/profiles/team"
)

// teamCallTimeout bounds the Manager's database calls that take no context
// (StateStore.Load and Record): a database that stops answering makes
// them fail, never hang.
const teamCallTimeout = 15 * time.Second

// OpenTeamBackend is Options.TeamBackend for the real team database: the
// catalog, state records, locks, renewal markers and sealed secrets all in
// PostgreSQL (docs/team.md). The team key is req.Key ($SBCTL_TEAM_KEY) or
// this machine's token-store item TeamKeyItem(team id).
func OpenTeamBackend(ctx context.Context, req TeamRequest) (*Backend, error) {
	host, _ := os.Hostname()
	db, err := team.Open(ctx, req.Database, team.OpenOptions{Host: host})
	if err != nil {
		return nil, err
	}
	b, err := newTeamBackend(ctx, db, req)
	if err != nil {
		db.Close()
		return nil, err
	}
	return b, nil
}

func newTeamBackend(ctx context.Context, db *team.DB, req TeamRequest) (*Backend, error) {
	local := req.Options.Store
	if local == nil && req.Key == "" {
		var err error
		if local, err = OpenStore(req.Options.Tokens, req.Options.Warn); err != nil {
			return nil, fmt.Errorf("the team key is kept in this machine's token store, which cannot be opened: %w (or set $SBCTL_TEAM_KEY)", err)
		}
	}
	admin := &TeamAdmin{db: db, local: local, envKey: req.Key}
	key, info, err := admin.Key(ctx)
	if err != nil {
		return nil, err
	}
	where := "the team database " + config.RedactDatabaseURL(req.Database)
	cat := &teamCatalog{db: db, local: req.Local, opts: loadOptions(req.Options), where: where}
	return &Backend{
		where:    where,
		state:    &teamState{db: db},
		locks:    &teamLocks{db: db, host: host(), local: fileLocks{dir: req.Options.StateDir}},
		catalog:  cat,
		tokens:   &teamSecrets{db: db, key: key, keyID: info.KeyID, teamID: info.ID, where: where},
		close:    db.Close,
		audit:    db.Log,
		me:       &teamMe{ask: db.Me},
		listen:   db.Listen,
		db:       db,
		database: req.Database,
		local:    lazyStore(local, req.Options),
		stateDir: req.Options.StateDir,
	}, nil
}

func host() string {
	h, _ := os.Hostname()
	return h
}

// teamState keeps each profile's record as a row: an update locks only
// the rows it reads (UpdateRecords), so two machines renewing different
// profiles never wait for each other.
type teamState struct{ db *team.DB }

func (s *teamState) Load() (*State, error) {
	ctx, cancel := context.WithTimeout(context.Background(), teamCallTimeout)
	defer cancel()
	raw, err := s.db.Records(ctx)
	if err != nil {
		return &State{Version: stateVersion, Profiles: map[string]*Record{}}, err
	}
	return decodeRecords(raw), nil
}

func (s *teamState) Record(name string) *Record {
	ctx, cancel := context.WithTimeout(context.Background(), teamCallTimeout)
	defer cancel()
	b, err := s.db.Record(ctx, name)
	if err != nil || b == nil {
		return nil
	}
	var rec Record
	if json.Unmarshal(b, &rec) != nil {
		return nil
	}
	return &rec
}

func (s *teamState) Update(ctx context.Context, change func(*State) error) error {
	return s.db.UpdateRecords(ctx, func(raw map[string][]byte) error {
		st := decodeRecords(raw)
		decoded := make([]string, 0, len(st.Profiles))
		for name := range st.Profiles {
			decoded = append(decoded, name)
		}
		if err := change(st); err != nil {
			return err
		}
		// Only what the change took out goes: a row this sbctl could not
		// decode (a newer one wrote it) is left alone.
		for _, name := range decoded {
			if _, ok := st.Profiles[name]; !ok {
				delete(raw, name)
			}
		}
		for name, rec := range st.Profiles {
			if rec == nil {
				delete(raw, name)
				continue
			}
			b, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			raw[name] = b
		}
		return nil
	})
}

// decodeRecords reads the rows; a row that does not decode is left out
// (the profile then reads as never checked, which is unknown, not ok).
func decodeRecords(raw map[string][]byte) *State {
	st := &State{Version: stateVersion, Profiles: make(map[string]*Record, len(raw))}
	for name, b := range raw {
		var rec Record
		if json.Unmarshal(b, &rec) == nil {
			st.Profiles[name] = &rec
		}
	}
	return st
}

// teamLocks is one refresher per grant across machines: the database's
// per-profile lock (held by a transaction, so a killed process's lock goes
// with its connection), and the renewal markers in the database, where
// every machine sees a renewal that died inside its window.
type teamLocks struct {
	db   *team.DB
	host string
	// local is this machine's lock file of the profile, taken first: the
	// processes of one machine queue there, each not holding a database
	// connection while it waits.
	local fileLocks
}

func (l *teamLocks) Lock(ctx context.Context, name string) (func(), error) {
	ctx, cancel := context.WithTimeout(ctx, LockTimeout)
	defer cancel()
	unlockLocal := func() {}
	if l.local.dir != "" {
		u, err := l.local.Lock(ctx, name)
		if err != nil {
			return nil, err
		}
		unlockLocal = u
	}
	unlockDB, err := l.db.LockProfile(ctx, name)
	if err != nil {
		unlockLocal()
		return nil, err
	}
	return func() {
		unlockDB()
		unlockLocal()
	}, nil
}

func (l *teamLocks) WriteMarker(ctx context.Context, name string, mk renewalMarker) error {
	return l.db.PutMarker(ctx, team.Marker{Profile: name, Host: l.host, PID: mk.PID, StartedAt: mk.StartedAt, RefreshSHA256: mk.RefreshSHA256, Note: mk.Note})
}

func (l *teamLocks) ReadMarker(ctx context.Context, name string) *renewalMarker {
	mk, err := l.db.Marker(ctx, name)
	switch {
	case errors.Is(err, team.ErrNotFound) || (err == nil && mk == nil):
		return nil
	case err != nil:
		// Unknown is not "none": a marker that cannot be read counts as
		// one, so a rotated grant is never spent twice blindly.
		return &renewalMarker{Note: "its renewal marker could not be read (" + err.Error() + ")"}
	}
	return &renewalMarker{PID: mk.PID, StartedAt: mk.StartedAt, RefreshSHA256: mk.RefreshSHA256, Note: mk.Note, Host: mk.Host, Login: mk.Login}
}

func (l *teamLocks) RemoveMarker(ctx context.Context, name string) { _ = l.db.DeleteMarker(ctx, name) }

// teamCatalog is the team's providers, groups and profiles as the config
// the Manager works on (teamcatalog.go renders and reads it back).
type teamCatalog struct {
	db    *team.DB
	local *config.Config
	opts  config.Options
	where string

	mu       sync.Mutex
	versions map[*config.Config]int64 // the catalog version each config was rendered from
}

func (c *teamCatalog) Load(ctx context.Context) (*config.Config, error) {
	cat, err := c.db.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	return c.parse(cat)
}

func (c *teamCatalog) parse(cat team.Catalog) (*config.Config, error) {
	cfg, err := config.Parse(c.where, renderCatalog(cat, c.local), c.opts)
	if err != nil {
		return nil, fmt.Errorf("the team catalog does not read as a config (%w); fix it with a newer sbctl or ask an owner", err)
	}
	c.remember(cfg, cat.Version)
	return cfg, nil
}

// remember notes the version cfg was rendered from. Only the latest few
// configs are asked about (the Manager keeps one), so older ones go.
func (c *teamCatalog) remember(cfg *config.Config, version int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.versions == nil || len(c.versions) >= 8 {
		c.versions = map[*config.Config]int64{}
	}
	c.versions[cfg] = version
}

func (c *teamCatalog) versionOf(cfg *config.Config) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.versions[cfg]
	return v, ok
}

func (c *teamCatalog) Reload(ctx context.Context, cur *config.Config) (*config.Config, error) {
	// Asked before every look-up: the version alone first.
	if v, ok := c.versionOf(cur); ok {
		now, err := c.db.CatalogVersion(ctx)
		if err != nil {
			return nil, err
		}
		if now == v {
			return nil, nil
		}
	}
	cat, err := c.db.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	if v, ok := c.versionOf(cur); ok && v == cat.Version {
		return nil, nil
	}
	return c.parse(cat)
}

// Edit applies edit to the catalog as it is now and writes it in one
// transaction that fails if anyone changed the catalog meanwhile; then it
// starts again from the newer catalog (a few times), as two `profiles add`
// on two machines must both land.
func (c *teamCatalog) Edit(ctx context.Context, _ func() *config.Config, removes []config.Entry, edit func(*config.Config) error, written func(*config.Config)) error {
	p, err := c.Prepare(ctx, nil, removes, edit)
	if err != nil {
		return err
	}
	return p.Commit(ctx, written)
}

func (c *teamCatalog) Prepare(ctx context.Context, _ func() *config.Config, removes []config.Entry, edit func(*config.Config) error) (pendingCatalogEdit, error) {
	p := &teamPending{c: c, removes: removes, edit: edit}
	if _, _, err := p.compute(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

type teamPending struct {
	c       *teamCatalog
	removes []config.Entry
	edit    func(*config.Config) error
}

// compute applies the edit to the catalog as it is now: the catalog's
// version and the edited config.
func (p *teamPending) compute(ctx context.Context) (int64, *config.Config, error) {
	cat, err := p.c.db.Catalog(ctx)
	if err != nil {
		return 0, nil, err
	}
	cfg, err := p.c.parse(cat)
	if err != nil {
		return 0, nil, err
	}
	before := cfg.Entries()
	if err := p.edit(cfg); err != nil {
		return 0, nil, err
	}
	// An edit never drops what it did not mean to remove (SPEC: nothing
	// is lost), in the team's catalog as in a file.
	after := cfg.Entries()
	for _, e := range before {
		if !slices.Contains(after, e) && !slices.Contains(p.removes, e) {
			return 0, nil, fmt.Errorf("the edit would drop %s from %s, which it was not asked to remove; nothing written", e, p.c.where)
		}
	}
	return cat.Version, cfg, nil
}

const catalogRetries = 5

func (p *teamPending) Commit(ctx context.Context, written func(*config.Config)) error {
	for range catalogRetries {
		version, cfg, err := p.compute(ctx)
		if err != nil {
			return err
		}
		next, err := p.c.db.ApplyCatalog(ctx, version, catalogOf(cfg, version))
		if errors.Is(err, team.ErrCatalogChanged) {
			continue // another member edited it meanwhile: again, on theirs
		}
		if err != nil {
			return err
		}
		p.c.remember(cfg, next)
		written(cfg)
		return nil
	}
	return fmt.Errorf("%s kept changing while sbctl was editing it (%d tries); nothing written: try again", p.c.where, catalogRetries)
}

var _ store.Store = (*teamSecrets)(nil)

// lazyStore is this machine's token store for the access-token cache:
// the one already open, else opened on first use ($SBCTL_TEAM_KEY gave
// the key, so nothing needed it yet — and a `sbctl token` whose cached
// token is current never opens it).
func lazyStore(open store.Store, o Options) func() store.Store {
	if open != nil {
		return func() store.Store { return open }
	}
	var (
		once sync.Once
		s    store.Store
	)
	return func() store.Store {
		once.Do(func() { s, _ = OpenStore(o.Tokens, o.Warn) })
		return s
	}
}
