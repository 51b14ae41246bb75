package profiles

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
)

// Environment variables that choose the token store (contract: SPEC §3).
const (
	EnvTokenStore     = "SBCTL_TOKEN_STORE"
	EnvKeyringService = "SBCTL_KEYRING_SERVICE"
	EnvKeyringTimeout = "SBCTL_KEYRING_TIMEOUT"
	EnvKeyringChunk   = "SBCTL_KEYRING_CHUNK"
	StoreKeychain     = "keychain"
	StoreFile         = "file"
)

// Options open a Manager. Zero values mean the real environment.
type Options struct {
	ConfigPath string
	// ConfigNamedBy says what named ConfigPath explicitly ("--config",
	// "$SBCTL_CONFIG"); then the file must exist. "" is the default path,
	// which may be absent (the first run).
	ConfigNamedBy string
	StateDir      string
	// TokenStore is "keychain" (default) or "file" (explicit opt-in).
	TokenStore string
	Now        func() time.Time
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
	Config *config.Config
	State  *StateFile
	now    func() time.Time
	warn   io.Writer
	opts   Options

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
	if opts.ConfigPath == "" {
		opts.ConfigPath = config.Path()
	}
	if opts.StateDir == "" {
		opts.StateDir = config.StateDir()
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
	return &Manager{Config: cfg, State: NewStateFile(opts.StateDir), now: opts.Now, warn: opts.Warn, opts: opts}, nil
}

func (m *Manager) sleep(ctx context.Context, d time.Duration) error { return m.opts.Sleep(ctx, d) }

// Now is the manager's clock.
func (m *Manager) Now() time.Time { return m.now() }

// Store opens the token store on first use.
func (m *Manager) Store() (store.Store, error) {
	m.storeOnce.Do(func() {
		if m.opts.Store != nil {
			m.store = m.opts.Store
			return
		}
		m.store, m.storeErr = OpenStore(m.opts.TokenStore, m.warn)
	})
	return m.store, m.storeErr
}

// OpenStore returns the store named by kind, or by $SBCTL_TOKEN_STORE when
// kind is empty; the keychain by default.
func OpenStore(kind string, warn io.Writer) (store.Store, error) {
	if kind == "" {
		kind = os.Getenv(EnvTokenStore)
	}
	switch kind {
	case "", StoreKeychain:
		k := store.NewKeyring(os.Getenv(EnvKeyringService))
		if s := os.Getenv(EnvKeyringTimeout); s != "" {
			d, err := config.ParseDuration(s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", EnvKeyringTimeout, err)
			}
			k.Timeout = d
		}
		if s := os.Getenv(EnvKeyringChunk); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 16 {
				return nil, fmt.Errorf("%s=%q: want a number of bytes of at least 16", EnvKeyringChunk, s)
			}
			k.ChunkSize = n
		}
		return k, nil
	case StoreFile:
		return store.NewFile(config.DataDir(), warn), nil
	}
	return nil, &UsageError{Msg: fmt.Sprintf("unknown token store %q: use %q (the OS keychain) or %q (a plain 0600 file, explicit opt-in)", kind, StoreKeychain, StoreFile)}
}

// UsageError is a bad argument from the user (exit code 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// NotFoundError names an unknown profile, group or provider and the close
// names that exist.
type NotFoundError struct {
	Kind, Name string
	Similar    []string
	// Hint replaces the suggestions when there is a better next step (a
	// preset that is not configured yet).
	Hint string
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("no %s named %q", e.Kind, e.Name)
	if e.Hint != "" {
		return msg + "; " + e.Hint
	}
	if len(e.Similar) > 0 {
		q := make([]string, len(e.Similar))
		for i, s := range e.Similar {
			q[i] = strconv.Quote(s)
		}
		msg += "; did you mean " + strings.Join(q, " or ") + "?"
	} else {
		switch e.Kind {
		case "profile":
			msg += "; see `sbctl profiles list`"
		case "group":
			msg += "; see `sbctl groups list`"
		case "provider":
			msg += "; see `sbctl providers list`"
		}
	}
	return msg
}

// Profile looks a profile up, or returns a NotFoundError with suggestions.
func (m *Manager) Profile(name string) (*config.Profile, error) {
	if p, ok := m.Config.Profile(name); ok {
		return p, nil
	}
	return nil, &NotFoundError{Kind: "profile", Name: name, Similar: config.Closest(name, m.Config.ProfileNames())}
}

// Group looks a group up, or returns a NotFoundError with suggestions.
func (m *Manager) Group(name string) (*config.Group, error) {
	if g, ok := m.Config.Group(name); ok {
		return g, nil
	}
	return nil, &NotFoundError{Kind: "group", Name: name, Similar: config.Closest(name, m.Config.GroupNames())}
}

// Provider looks a configured provider up, or returns a NotFoundError. A
// preset's name that is not configured yet says how to configure it.
func (m *Manager) Provider(name string) (*config.Provider, error) {
	if p, ok := m.Config.Provider(name); ok {
		return p, nil
	}
	nf := &NotFoundError{Kind: "provider", Name: name, Similar: config.Closest(name, m.Config.ProviderNames())}
	if pr, ok := provider.Lookup(name); ok && pr.Name != provider.TypeOIDC && pr.Name != provider.TypeOAuth2 {
		nf.Hint = fmt.Sprintf("%s is a built-in preset that is not configured yet: add it with `sbctl providers add %s --client-id <your %s app's client id>`", pr.Name, pr.Name, pr.Title)
	}
	return nil, nf
}

// View is one profile as `profiles list` and `show` present it. The JSON
// names are a contract (SPEC §4).
type View struct {
	Name                string      `json:"name" yaml:"name"`
	Provider            string      `json:"provider" yaml:"provider"`
	Groups              []string    `json:"groups" yaml:"groups"`
	Account             *string     `json:"account" yaml:"account"`
	AccountID           *string     `json:"account_id" yaml:"account_id"`
	Status              Status      `json:"status" yaml:"status"`
	Reason              *string     `json:"reason" yaml:"reason"`
	Detail              string      `json:"detail" yaml:"detail"`
	ExpiresAt           *time.Time  `json:"expires_at" yaml:"expires_at"`
	RefreshExpiresAt    *time.Time  `json:"refresh_expires_at" yaml:"refresh_expires_at"`
	ConnectionExpiresAt *time.Time  `json:"connection_expires_at" yaml:"connection_expires_at"`
	LastRefreshedAt     *time.Time  `json:"last_refreshed_at" yaml:"last_refreshed_at"`
	ConnectedAt         *time.Time  `json:"connected_at" yaml:"connected_at"`
	Renewable           bool        `json:"renewable" yaml:"renewable"`
	Scopes              []string    `json:"scopes" yaml:"scopes"`
	reason              auth.Reason `json:"-"`
}

// ReasonCode is the reason as a value ("" when none).
func (v *View) ReasonCode() auth.Reason { return v.reason }

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func utc(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC().Truncate(time.Second)
	return &u
}

func (m *Manager) view(p *config.Profile, rec *Record, now time.Time, window time.Duration) View {
	h := Evaluate(rec, now, window)
	v := View{
		Name: p.Name, Provider: p.Provider, Groups: p.Groups, Status: h.Status,
		Reason: strPtr(string(h.Reason)), Detail: h.Detail, reason: h.Reason, Scopes: p.Scopes,
	}
	if v.Groups == nil {
		v.Groups = []string{}
	}
	if rec != nil {
		v.Account, v.AccountID = strPtr(rec.Account), strPtr(rec.AccountID)
		v.ExpiresAt, v.RefreshExpiresAt = utc(rec.ExpiresAt), utc(rec.RefreshExpiresAt)
		v.LastRefreshedAt, v.ConnectedAt = utc(rec.LastRefreshedAt), utc(rec.ConnectedAt)
		v.Renewable = rec.HasRefresh
		if len(rec.Scopes) > 0 {
			v.Scopes = cleanScopes(rec.Scopes)
		}
	}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	if !h.ConnectionExpiry.IsZero() {
		v.ConnectionExpiresAt = utc(&h.ConnectionExpiry)
	}
	return v
}

// Filter narrows a list. Empty fields match everything; ExpiringWithin 0
// means the config's window.
type Filter struct {
	Group          string
	Provider       string
	Statuses       []Status
	ExpiringWithin time.Duration
}

// Window is the `expiring` window for a filter.
func (m *Manager) Window(f Filter) time.Duration {
	if f.ExpiringWithin > 0 {
		return f.ExpiringWithin
	}
	return m.Config.Defaults.ExpiringWithin
}

// ParseStatus checks a status name given on the command line.
func ParseStatus(s string) (Status, error) {
	for _, st := range Statuses {
		if string(st) == s {
			return st, nil
		}
	}
	names := make([]string, len(Statuses))
	for i, st := range Statuses {
		names[i] = string(st)
	}
	return "", &UsageError{Msg: fmt.Sprintf("unknown status %q: use one of %s%s", s, strings.Join(names, ", "), config.DidYouMean(s, names))}
}

// List evaluates every profile that matches the filter, in config order.
func (m *Manager) List(ctx context.Context, f Filter) ([]View, error) {
	if f.Group != "" {
		if _, err := m.Group(f.Group); err != nil {
			return nil, err
		}
	}
	if f.Provider != "" {
		if _, err := m.Provider(f.Provider); err != nil {
			return nil, err
		}
	}
	st, err := m.loadState(ctx)
	if err != nil {
		return nil, err
	}
	now, window := m.now(), m.Window(f)
	out := make([]View, 0, len(m.Config.Profiles))
	for _, p := range m.Config.Profiles {
		if f.Provider != "" && p.Provider != f.Provider {
			continue
		}
		if f.Group != "" && !slices.Contains(p.Groups, f.Group) {
			continue
		}
		v := m.view(p, st.Profiles[p.Name], now, window)
		if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, v.Status) {
			continue
		}
		out = append(out, v)
	}
	return out, nil
}

// Show evaluates one profile.
func (m *Manager) Show(ctx context.Context, name string, window time.Duration) (View, error) {
	p, err := m.Profile(name)
	if err != nil {
		return View{}, err
	}
	st, err := m.loadState(ctx)
	if err != nil {
		return View{}, err
	}
	if window <= 0 {
		window = m.Config.Defaults.ExpiringWithin
	}
	return m.view(p, st.Profiles[p.Name], m.now(), window), nil
}

// CheckResult sums a list up for `profiles check` and `verify`.
type CheckResult struct {
	NeedAction []View
	Expiring   []View
	Unknown    []View
	Total      int
}

// Summarize sorts views by what they need, in one place for every front
// end.
func Summarize(views []View) CheckResult {
	r := CheckResult{Total: len(views)}
	for _, v := range views {
		switch {
		case v.Status.NeedsAction():
			r.NeedAction = append(r.NeedAction, v)
		case v.Status == StatusExpiring:
			r.Expiring = append(r.Expiring, v)
		case v.Status == StatusUnknown:
			r.Unknown = append(r.Unknown, v)
		}
	}
	return r
}

// Healthy reports whether every profile is known to be fine: nothing
// needs action, nothing expires within the window, nothing is unknown.
func (r CheckResult) Healthy() bool {
	return len(r.NeedAction) == 0 && len(r.Expiring) == 0 && len(r.Unknown) == 0
}

// ExitCode is the process exit code of `profiles check` and `verify`
// (contract: SPEC §4): 3 when a profile needs action now, else 4 when some
// expire within the window, else 1 when some could not be checked
// (unknown), else 0. unchecked counts profiles a verify could not ask.
func (r CheckResult) ExitCode(unchecked int) int {
	switch {
	case len(r.NeedAction) > 0:
		return 3
	case len(r.Expiring) > 0:
		return 4
	case len(r.Unknown) > 0 || unchecked > 0:
		return 1
	}
	return 0
}

// Check evaluates every profile.
func (m *Manager) Check(ctx context.Context, f Filter) (CheckResult, error) {
	views, err := m.List(ctx, f)
	if err != nil {
		return CheckResult{}, err
	}
	return Summarize(views), nil
}

// ConfigPath is the config file the Manager reads and edits.
func (m *Manager) ConfigPath() string { return m.Config.Path }

// cleanScopes keeps the granted scopes a network named fit to print
// (SECURITY 30): a scope is one plain word, so one that changes under the
// terminal-safe policy is dropped, not shown half-cleaned.
func cleanScopes(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if c := auth.CleanText(s, 200); c == s && c != "" {
			out = append(out, s)
		}
	}
	return out
}
