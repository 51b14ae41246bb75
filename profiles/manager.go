package profiles

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/sbctl/sbctl/auth/provider"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
)

// Options open a Manager. The domain reads no environment variables: the
// front end (cmd) resolves paths, the store and client secrets and passes
// them here.
type Options struct {
	ConfigPath string
	// ConfigNamedBy says what named ConfigPath explicitly ("--config",
	// "$SBCTL_CONFIG"); then the file must exist. "" is the default path,
	// which may be absent (the first run).
	ConfigNamedBy string
	StateDir      string
	// Tokens choose the token store.
	Tokens StoreOptions
	// ClientSecret gives a provider's client secret from outside the
	// token store (the CLI: $SBCTL_CLIENT_SECRET_<PROVIDER>); nil or ""
	// means ask the store.
	ClientSecret func(provider string) string
	Now          func() time.Time
	// Warn receives warnings (plain-file store, rebuilt state).
	Warn io.Writer
	// Store replaces the token store (tests).
	Store store.Store
	// Sleep waits between retries (backoff, Retry-After); nil is a real
	// timer that ends early with ctx. Tests record the waits instead.
	Sleep func(ctx context.Context, d time.Duration) error
	// Grace replaces GracePeriod (tests).
	Grace time.Duration
}

// sleepContext waits for d or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Manager runs the operations on profiles that the CLI and the TUI share.
type Manager struct {
	// cfg is the config as last read or written; an edit replaces it
	// (under cfgMu), so it is read through config().
	cfgMu sync.RWMutex
	cfg   *config.Config
	State *StateFile
	now   func() time.Time
	warn  io.Writer
	opts  Options

	storeOnce sync.Once
	store     store.Store
	storeErr  error

	provMu sync.Mutex
	provs  map[string]*provider.Provider // see providerFor

	skewWarned sync.Map // hosts whose clock skew was reported (warnSkew)
}

// Open loads the config. It does not touch the token store: listing needs
// only the config and the state file.
func Open(opts Options) (*Manager, error) {
	if opts.ConfigPath == "" || opts.StateDir == "" {
		return nil, errors.New("profiles.Open needs the config path and the state directory")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Warn == nil {
		opts.Warn = io.Discard
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepContext
	}
	cfg, err := config.Load(opts.ConfigPath, config.Options{Presets: PresetNames(), MustExist: opts.ConfigNamedBy != "", NamedBy: opts.ConfigNamedBy})
	if err != nil {
		return nil, err
	}
	return &Manager{cfg: cfg, State: NewStateFile(opts.StateDir), now: opts.Now, warn: opts.Warn, opts: opts}, nil
}

func (m *Manager) sleep(ctx context.Context, d time.Duration) error { return m.opts.Sleep(ctx, d) }

// Now is the manager's clock.
func (m *Manager) Now() time.Time { return m.now() }

// ConfigPath is the config file the Manager reads and edits.
func (m *Manager) ConfigPath() string { return m.config().Path }

// ProfileNames, GroupNames and ProviderNames list what the config names,
// in file order, for completion and pickers. A front end never holds the
// config itself: the Manager may replace it (an edit, a reload).
func (m *Manager) ProfileNames() []string  { return m.config().ProfileNames() }
func (m *Manager) GroupNames() []string    { return m.config().GroupNames() }
func (m *Manager) ProviderNames() []string { return m.config().ProviderNames() }

func (m *Manager) config() *config.Config {
	m.cfgMu.RLock()
	defer m.cfgMu.RUnlock()
	return m.cfg
}

func (m *Manager) setConfig(c *config.Config) {
	m.cfgMu.Lock()
	m.cfg = c
	m.cfgMu.Unlock()
}
