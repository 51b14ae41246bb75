package profiles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider/providertest"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
)

// A fake backend whose every part records what the Manager asks of it: the
// proof that the operations go through the seam (backend.go), and that team
// mode touches none of this machine's state files or config.

type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(format string, args ...any) {
	l.mu.Lock()
	l.calls = append(l.calls, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

// take returns the calls since the last take.
func (l *callLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.calls
	l.calls = nil
	return out
}

// inOrder reports whether want appear in calls in this order (other calls
// may come between).
func inOrder(calls, want []string) bool {
	i := 0
	for _, c := range calls {
		if i < len(want) && c == want[i] {
			i++
		}
	}
	return i == len(want)
}

type fakeState struct {
	log *callLog
	mu  sync.Mutex
	st  State
}

func (s *fakeState) Load() (*State, error) {
	s.log.add("state load")
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.copyLocked(), nil
}

func (s *fakeState) copyLocked() *State {
	out := &State{Version: stateVersion, Profiles: map[string]*Record{}}
	for k, v := range s.st.Profiles {
		r := *v
		out.Profiles[k] = &r
	}
	return out
}

func (s *fakeState) Record(name string) *Record {
	s.log.add("state record %s", name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.st.Profiles[name]; ok {
		c := *r
		return &c
	}
	return nil
}

func (s *fakeState) Update(_ context.Context, change func(*State) error) error {
	s.log.add("state update")
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.copyLocked()
	if err := change(next); err != nil {
		return err
	}
	s.st = *next
	return nil
}

type fakeLocks struct {
	log     *callLog
	mu      sync.Mutex
	held    map[string]chan struct{}
	markers map[string]renewalMarker
}

func (l *fakeLocks) Lock(ctx context.Context, name string) (func(), error) {
	for {
		l.mu.Lock()
		ch, busy := l.held[name]
		if !busy {
			l.held[name] = make(chan struct{})
			l.mu.Unlock()
			l.log.add("lock %s", name)
			return func() {
				l.log.add("unlock %s", name)
				l.mu.Lock()
				close(l.held[name])
				delete(l.held, name)
				l.mu.Unlock()
			}, nil
		}
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (l *fakeLocks) WriteMarker(_ context.Context, name string, mk renewalMarker) error {
	l.log.add("marker write %s", name)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.markers[name] = mk
	return nil
}

func (l *fakeLocks) ReadMarker(_ context.Context, name string) *renewalMarker {
	l.log.add("marker read %s", name)
	l.mu.Lock()
	defer l.mu.Unlock()
	if mk, ok := l.markers[name]; ok {
		return &mk
	}
	return nil
}

func (l *fakeLocks) RemoveMarker(_ context.Context, name string) {
	l.log.add("marker remove %s", name)
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.markers, name)
}

// fakeCatalog keeps the catalog as config text, edited with the config's
// own edits.
type fakeCatalog struct {
	log  *callLog
	mu   sync.Mutex
	text []byte
}

const fakeCatalogName = "team catalog"

func (c *fakeCatalog) parse(text []byte) (*config.Config, error) {
	return config.Parse(fakeCatalogName, text, config.Options{Presets: PresetNames()})
}

func (c *fakeCatalog) Load(context.Context) (*config.Config, error) {
	c.log.add("catalog load")
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.parse(c.text)
}

func (c *fakeCatalog) Reload(_ context.Context, cur *config.Config) (*config.Config, error) {
	c.log.add("catalog reload")
	c.mu.Lock()
	defer c.mu.Unlock()
	if bytes.Equal(cur.Bytes(), c.text) {
		return nil, nil
	}
	return c.parse(c.text)
}

func (c *fakeCatalog) apply(current func() *config.Config, edit func(*config.Config) error) (*config.Config, error) {
	next, err := c.parse(current().Bytes())
	if err != nil {
		return nil, err
	}
	if err := edit(next); err != nil {
		return nil, err
	}
	return next, nil
}

func (c *fakeCatalog) Edit(_ context.Context, current func() *config.Config, _ []config.Entry, edit func(*config.Config) error, written func(*config.Config)) error {
	c.log.add("catalog edit")
	c.mu.Lock()
	defer c.mu.Unlock()
	next, err := c.apply(current, edit)
	if err != nil {
		return err
	}
	c.text = next.Bytes()
	written(next)
	return nil
}

func (c *fakeCatalog) Prepare(_ context.Context, current func() *config.Config, _ []config.Entry, edit func(*config.Config) error) (pendingCatalogEdit, error) {
	c.log.add("catalog prepare")
	if _, err := c.apply(current, edit); err != nil {
		return nil, err
	}
	return fakePending{c: c, current: current, edit: edit}, nil
}

type fakePending struct {
	c       *fakeCatalog
	current func() *config.Config
	edit    func(*config.Config) error
}

func (p fakePending) Commit(ctx context.Context, written func(*config.Config)) error {
	p.c.log.add("catalog commit")
	return p.c.Edit(ctx, p.current, nil, p.edit, written)
}

// teamWS is a Manager in team mode on the fake backend, with a local
// config that holds only `team:` and a local state directory that team
// mode must leave alone.
type teamWS struct {
	m        *Manager
	log      *callLog
	state    *fakeState
	locks    *fakeLocks
	catalog  *fakeCatalog
	tokens   *store.File
	net      *providertest.Server
	localCfg string
	stateDir string
	req      TeamRequest
	closed   int
}

const localTeamConfig = "# this machine\ndefaults:\n  expiring_within: 3d\nteam:\n  database: \"host=/nonexistent dbname=sbctl\"\n"

func newTeamWS(t *testing.T, opts Options) *teamWS {
	t.Helper()
	dir := t.TempDir()
	w := &teamWS{log: &callLog{}, localCfg: filepath.Join(dir, "config.yaml"), stateDir: filepath.Join(dir, "state")}
	w.net = providertest.New(t)
	n := 0
	w.net.On("POST /token", func(rw http.ResponseWriter, _ *http.Request, _ providertest.Request) {
		n++
		providertest.TokenAnswer(rw, fmt.Sprintf("AT-%d", n), fmt.Sprintf("RT-%d", n))
	})
	w.state = &fakeState{log: w.log, st: State{Version: stateVersion, Profiles: map[string]*Record{}}}
	w.locks = &fakeLocks{log: w.log, held: map[string]chan struct{}{}, markers: map[string]renewalMarker{}}
	w.catalog = &fakeCatalog{log: w.log, text: []byte(faultConfig(oauth2ProviderYAML("a", w.net.URL), map[string]string{"p": "a"}))}
	w.tokens = store.NewFile(filepath.Join(dir, "team-tokens"), nil)
	if err := os.WriteFile(w.localCfg, []byte(localTeamConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	opts.ConfigPath, opts.StateDir = w.localCfg, w.stateDir
	opts.TeamBackend = func(_ context.Context, r TeamRequest) (*Backend, error) {
		w.req = r
		return &Backend{where: "the fake team database", state: w.state, locks: w.locks, catalog: w.catalog, tokens: w.tokens, close: func() { w.closed++ }}, nil
	}
	m, err := OpenContext(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	w.m = m
	return w
}

// untouched checks that team mode wrote nothing of this machine's: no
// state directory (state, locks, markers, config lock, last-write note)
// and the local config as it was.
func (w *teamWS) untouched(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(w.stateDir); !errors.Is(err, fs.ErrNotExist) {
		var files []string
		_ = filepath.WalkDir(w.stateDir, func(p string, _ fs.DirEntry, _ error) error { files = append(files, p); return nil })
		t.Errorf("team mode wrote this machine's state directory: %v", files)
	}
	if b, err := os.ReadFile(w.localCfg); err != nil || string(b) != localTeamConfig {
		t.Errorf("team mode changed the local config (%v):\n%s", err, b)
	}
}

func TestTeamModeOpensThroughBackend(t *testing.T) {
	t.Parallel()
	w := newTeamWS(t, Options{TeamKey: "k"})
	if !w.m.TeamMode() || w.m.StatePath() != "" {
		t.Errorf("TeamMode %v, StatePath %q", w.m.TeamMode(), w.m.StatePath())
	}
	if w.req.Database != "host=/nonexistent dbname=sbctl" || w.req.Key != "k" || w.req.Local == nil || w.req.Local.Team == nil || w.req.Options.Now == nil {
		t.Errorf("TeamRequest = %+v", w.req)
	}
	if got := w.log.take(); !slices.Equal(got, []string{"catalog load"}) {
		t.Errorf("Open asked %v, want only the catalog", got)
	}
	// The catalog is the config in use: its profiles, the local
	// preferences aside.
	if got := w.m.ProfileNames(); !slices.Equal(got, []string{"p"}) {
		t.Errorf("profiles %v", got)
	}
	w.m.Close()
	w.m.Close()
	if w.closed != 1 {
		t.Errorf("backend closed %d times, want 1", w.closed)
	}
}

func TestTeamModeOperationsGoThroughBackend(t *testing.T) {
	t.Parallel()
	w := newTeamWS(t, Options{})
	ctx := context.Background()
	w.log.take()

	// profiles add --with-token: the token into the team's store, the
	// profile into the catalog, the record into the team's state.
	tok := &auth.Token{AccessToken: "AT-0", RefreshToken: "RT-0", TokenType: "Bearer", Expiry: time.Now().Add(-time.Minute)}
	if err := w.m.AddWithToken(ctx, AddSpec{Name: "q", Provider: "a"}, tok); err != nil {
		t.Fatal(err)
	}
	if got := w.log.take(); !inOrder(got, []string{"catalog edit", "state update"}) {
		t.Errorf("add asked %v", got)
	}
	if !strings.Contains(string(w.catalog.text), "  q:\n    provider: a\n") {
		t.Errorf("the catalog lacks q:\n%s", w.catalog.text)
	}
	if _, err := store.GetToken(ctx, w.tokens, "q"); err != nil {
		t.Errorf("the team store lacks q's token: %v", err)
	}

	// list: the catalog asked whether it changed, the state read.
	views, err := w.m.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(views) != 2 || views[1].Name != "q" || views[1].Status != StatusOK {
		t.Errorf("list %+v", views)
	}
	if got := w.log.take(); !inOrder(got, []string{"catalog reload", "state load"}) {
		t.Errorf("list asked %v", got)
	}

	// refresh (a rotating provider): under the backend's lock, with its
	// marker written before the request and removed after the store.
	res, err := w.m.Refresh(ctx, RefreshOptions{Names: []string{"q"}})
	if err != nil || len(res) != 1 || res[0].Outcome != OutcomeRenewed {
		t.Fatalf("refresh %+v, %v", res, err)
	}
	if got := w.log.take(); !inOrder(got, []string{"lock q", "marker read q", "marker write q", "marker remove q", "unlock q", "state update"}) {
		t.Errorf("refresh asked %v", got)
	}
	if got, _ := store.GetToken(ctx, w.tokens, "q"); got == nil || got.RefreshToken != "RT-1" {
		t.Errorf("the renewed token is not in the team store: %+v", got)
	}
	if w.net.Count("POST /token") != 1 {
		t.Errorf("%d refresh requests", w.net.Count("POST /token"))
	}

	// token: the record of one profile only.
	if _, err := w.m.Token(ctx, "q", DefaultMinTTL); err != nil {
		t.Fatal(err)
	}
	if got := w.log.take(); !slices.Contains(got, "state record q") || slices.Contains(got, "state load") {
		t.Errorf("token asked %v", got)
	}

	// remove: prepared, then committed once the token is gone.
	if _, err := w.m.Remove(ctx, "q", RemoveOptions{KeepRemote: true}); err != nil {
		t.Fatal(err)
	}
	if got := w.log.take(); !inOrder(got, []string{"state load", "catalog prepare", "catalog commit", "state update"}) {
		t.Errorf("remove asked %v", got)
	}
	if strings.Contains(string(w.catalog.text), "  q:") {
		t.Errorf("q is still in the catalog:\n%s", w.catalog.text)
	}
	if _, err := store.GetToken(ctx, w.tokens, "q"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("q's token: %v, want removed", err)
	}
	if w.state.Record("q") != nil {
		t.Error("q's record is still in the team state")
	}

	// groups: a catalog edit like any other.
	if err := w.m.CreateGroup(ctx, "marketing", "Brand accounts"); err != nil {
		t.Fatal(err)
	}
	if got := w.log.take(); !slices.Contains(got, "catalog edit") {
		t.Errorf("create group asked %v", got)
	}
	w.untouched(t)
}

// Another machine's change to the catalog shows at the next list.
func TestTeamModeReloadsChangedCatalog(t *testing.T) {
	t.Parallel()
	w := newTeamWS(t, Options{})
	w.catalog.mu.Lock()
	w.catalog.text = append(w.catalog.text, []byte("  r:\n    provider: a\n")...)
	w.catalog.mu.Unlock()
	views, err := w.m.List(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(views) != 2 || views[1].Name != "r" {
		t.Errorf("list after another machine added r: %+v", views)
	}
	changed, err := w.m.ReloadConfig()
	if changed || err != nil {
		t.Errorf("ReloadConfig with nothing new = %v, %v", changed, err)
	}
}

// Options.DatabaseURL (SBCTL_DATABASE_URL) is team mode without `team:`
// in the file, and wins over the file's.
func TestTeamModeFromDatabaseURL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	for _, tc := range []struct{ file, env, want string }{
		{"", "postgres://db.example/sbctl", "postgres://db.example/sbctl"},
		{"team:\n  database: host=/a\n", "host=/b", "host=/b"},
		{"team:\n  database: host=/a\n", "", "host=/a"},
	} {
		if err := os.WriteFile(cfg, []byte(tc.file), 0o644); err != nil {
			t.Fatal(err)
		}
		var got string
		_, err := Open(Options{ConfigPath: cfg, StateDir: filepath.Join(dir, "state"), DatabaseURL: tc.env,
			TeamBackend: func(_ context.Context, r TeamRequest) (*Backend, error) {
				got = r.Database
				return nil, errors.New("cannot reach the team database")
			}})
		if err == nil || err.Error() != "cannot reach the team database" {
			t.Errorf("%q/%q: Open error %v, want the backend's", tc.file, tc.env, err)
		}
		if got != tc.want {
			t.Errorf("%q/%q: database %q, want %q", tc.file, tc.env, got, tc.want)
		}
	}
}

// A team configuration is never run on this machine's files: without a
// way to open the team database, Open refuses, and writes nothing.
func TestTeamModeWithoutBackendIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(localTeamConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	_, err := Open(Options{ConfigPath: cfg, StateDir: state})
	if err == nil || !strings.Contains(err.Error(), "team database") || !strings.Contains(err.Error(), "nothing was done") {
		t.Fatalf("Open = %v, want a refusal", err)
	}
	_, err = Open(Options{ConfigPath: cfg, StateDir: state, DatabaseURL: "host=/x password=s3cret oops",
		TeamBackend: func(context.Context, TeamRequest) (*Backend, error) {
			t.Fatal("opened a malformed database URL")
			return nil, nil
		}})
	if err == nil || !strings.Contains(err.Error(), "not a PostgreSQL connection string") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Open with a malformed URL = %v", err)
	}
	_, err = Open(Options{ConfigPath: cfg, StateDir: state,
		TeamBackend: func(context.Context, TeamRequest) (*Backend, error) { return &Backend{}, nil }})
	if err == nil || !strings.Contains(err.Error(), "incomplete team backend") {
		t.Fatalf("Open with an incomplete backend = %v", err)
	}
	if _, err := os.Stat(state); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the refused Open created %s", state)
	}
}

// File mode never asks for a team backend and keeps its files.
func TestFileModeIgnoresTeamBackend(t *testing.T) {
	t.Parallel()
	w := newEditWS(t, "profiles: {}\n")
	m, err := Open(Options{ConfigPath: w.cfg, StateDir: w.state, Store: w.fs,
		TeamBackend: func(context.Context, TeamRequest) (*Backend, error) {
			t.Fatal("file mode opened a team backend")
			return nil, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if m.TeamMode() || m.StatePath() != filepath.Join(w.state, "state.json") {
		t.Errorf("TeamMode %v, StatePath %q", m.TeamMode(), m.StatePath())
	}
	m.Close()
}

// A marker left by another machine says which one, and as whom.
func TestLossMessageNamesMachine(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	local := (&renewalMarker{PID: 42, StartedAt: at}).lossMessage("x")
	if !strings.HasPrefix(local, "an earlier sbctl (pid 42) was stopped at 2026-12-01T10:00:00Z") {
		t.Errorf("local marker: %s", local)
	}
	team := (&renewalMarker{PID: 42, StartedAt: at, Host: "ci-runner", Login: "alice"}).lossMessage("x")
	if !strings.HasPrefix(team, "an earlier sbctl (pid 42 on ci-runner, as alice) was stopped at 2026-12-01T10:00:00Z") {
		t.Errorf("team marker: %s", team)
	}
}
