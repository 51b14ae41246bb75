package profiles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
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

	// DatabaseURL names a team database (the CLI: $SBCTL_DATABASE_URL),
	// in place of the config file's `team: {database: …}`: either one
	// puts the Manager in team mode. TeamKey is the team key in base64
	// (the CLI: $SBCTL_TEAM_KEY); "" = from the token store. Both are
	// unused in file mode.
	DatabaseURL string
	TeamKey     string
	// TeamBackend opens team mode (see Backend). Without it a config that
	// names a team database is refused, never run on this machine's files.
	TeamBackend func(ctx context.Context, r TeamRequest) (*Backend, error)
	// FileOnly opens this machine's own files even when the config names
	// a team database (`sbctl team import` reads them to push them).
	FileOnly bool
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
	// cfg is the config as last read or written; an edit or a reload
	// replaces it (under cfgMu), so it is read through config(). cfgGen
	// counts the replacements, so a reload that read the file before an
	// edit wrote it does not put the older text back; stamp is what the
	// file looked like when cfg (or a reload that failed) was read, and
	// gone the profiles a replacement took out (see reload.go).
	cfgMu  sync.RWMutex
	cfg    *config.Config
	cfgGen uint64
	stamp  configStamp
	gone   map[string]bool

	// reloadMu lets one reload read the file at a time; warnedReload is
	// the failed reload last reported on warn (under reloadMu).
	reloadMu     sync.Mutex
	warnedReload string

	// State is the state records, in this machine's state file or (team
	// mode) behind the backend's StateStore.
	State *StateFile
	// locks and catalog are the backend's (nil: this machine's lock files
	// and config file; see profileLocks, catalogEdits); backend is nil in
	// file mode, and local is then the config file itself (in team mode
	// cfg is the team's catalog and local the file with `team:`).
	locks   profileLocker
	catalog catalogEditor
	backend *Backend
	local   *config.Config

	now func() time.Time
	// warn is Options.Warn with every line also handed to the warnings'
	// subscribers (Warnings).
	warn     *warnTee
	warnings *warnHub
	opts     Options

	// warnedStore is the store problem last warned about while rebuilding
	// the state (rebuild.go): said once, not at every list.
	storeWarnMu sync.Mutex
	warnedStore string

	storeOnce sync.Once
	store     store.Store
	storeErr  error

	provMu sync.Mutex
	provs  map[string]*provider.Provider // see providerFor

	skewWarned sync.Map // hosts whose clock skew was reported (warnSkew)
}

// Open loads the config. It does not touch the token store: listing needs
// only the config and the state file. With a team database configured it
// opens team mode (OpenContext).
func Open(opts Options) (*Manager, error) { return OpenContext(context.Background(), opts) }

// OpenContext is Open with a context for opening a team backend (file
// mode uses none).
func OpenContext(ctx context.Context, opts Options) (*Manager, error) {
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
	// The stat before the read: a change after it, even one the read
	// caught, shows as a different file on the next check (reload.go).
	stamp := statConfig(opts.ConfigPath)
	cfg, err := config.Load(opts.ConfigPath, loadOptions(opts))
	if err != nil {
		return nil, err
	}
	hub := &warnHub{}
	m := &Manager{
		cfg: cfg, stamp: stamp, State: NewStateFile(opts.StateDir), now: opts.Now,
		warn: &warnTee{out: opts.Warn, hub: hub}, warnings: hub, opts: opts,
		local: cfg,
	}
	if db := teamDatabase(opts, cfg); db != "" {
		if err := m.openBackend(ctx, db, cfg); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// loadOptions are how the config file is read, at Open and at each reload.
func loadOptions(opts Options) config.Options {
	return config.Options{Presets: PresetNames(), MustExist: opts.ConfigNamedBy != "", NamedBy: opts.ConfigNamedBy}
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

// setConfig adopts the config an edit just wrote. The file's stamp is
// forgotten: the next check reads the file once (finding this very text,
// or what another program saved since).
func (m *Manager) setConfig(c *config.Config) {
	m.cfgMu.Lock()
	m.replaceConfigLocked(c)
	m.stamp = configStamp{}
	m.cfgMu.Unlock()
}

// replaceConfigLocked puts c in place of the config and remembers which
// profiles it no longer has, so an action on one of them can say it was
// removed. The caller holds cfgMu.
func (m *Manager) replaceConfigLocked(c *config.Config) {
	if m.cfg != nil {
		for _, name := range m.cfg.ProfileNames() {
			if _, ok := c.Profile(name); !ok {
				if m.gone == nil {
					m.gone = map[string]bool{}
				}
				m.gone[name] = true
			}
		}
	}
	for _, name := range c.ProfileNames() {
		delete(m.gone, name)
	}
	m.cfg = c
	m.cfgGen++
}

// Warning is one warning the Manager gave while it worked: the line it
// wrote to Options.Warn, without a leading "warning: ". A front end that
// cannot print while it runs (the TUI owns the screen) shows these as they
// come (Warnings), instead of after it closes.
type Warning struct {
	Text string
	// StoreUnavailable: the token store could not be used (a locked
	// keychain), so the profiles' statuses are unknown until it can be;
	// Text says how to fix it.
	StoreUnavailable bool
	// StateRebuilt: the state file was damaged and is rebuilt from the
	// token store; the rebuilt profiles are unknown until checked.
	StateRebuilt bool
	// Err is the error the warning is about, when there is one: a
	// *ConfigReloadError for a config file that changed and cannot be used.
	Err error
}

// Warnings delivers the Manager's warnings from now until ctx ends, when
// the channel is closed. They are still written to Options.Warn. A reader
// that falls behind loses warnings rather than holding up an operation:
// the channel buffers warnBuffer of them.
func (m *Manager) Warnings(ctx context.Context) <-chan Warning {
	return m.warnings.subscribe(ctx)
}

// warnOut writes a warning the Manager words itself: the line to
// Options.Warn, the structured Warning to the subscribers.
func (m *Manager) warnOut(w Warning) { m.warn.emit(w) }

const warnBuffer = 32

// warnHub hands warnings to the subscribers of Warnings.
type warnHub struct {
	mu   sync.Mutex
	subs map[chan Warning]struct{}
}

func (h *warnHub) subscribe(ctx context.Context) <-chan Warning {
	ch := make(chan Warning, warnBuffer)
	if h == nil { // a Manager not made by Open (a test's stand-in) warns of nothing
		context.AfterFunc(ctx, func() { close(ch) })
		return ch
	}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[chan Warning]struct{}{}
	}
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(ctx, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs, ch)
		close(ch)
	})
	return ch
}

// publish never blocks (see Warnings).
func (h *warnHub) publish(w Warning) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- w:
		default:
		}
	}
}

// warnTee is the Manager's warn writer: what the operations (and the
// plain-file token store) write goes to Options.Warn and, line by line, to
// the subscribers. Writes may come from several goroutines.
type warnTee struct {
	out io.Writer
	hub *warnHub

	mu      sync.Mutex
	partial []byte
}

func (t *warnTee) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.partial = append(t.partial, p...)
	var lines []string
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, string(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
	n, err := t.out.Write(p)
	for _, l := range lines {
		if l = strings.TrimSpace(strings.TrimPrefix(l, "warning: ")); l != "" {
			t.hub.publish(Warning{Text: l})
		}
	}
	t.mu.Unlock()
	return n, err
}

// emit writes a whole warning line and hands w on as it is.
func (t *warnTee) emit(w Warning) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.out, "warning: %s\n", w.Text)
	t.hub.publish(w)
}
