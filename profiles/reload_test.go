package profiles

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth/sandbox"
	"github.com/sbctl/sbctl/auth/sandbox/sandboxtest"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/auth/testkit"
)

// liveWS is one config, state directory and token store shared by a
// long-running Manager (the TUI) and the short ones of other shells.
type liveWS struct {
	dir, cfg, state string
	fs              *store.File
}

func newLiveWS(t *testing.T, config string) *liveWS {
	t.Helper()
	dir := t.TempDir()
	w := &liveWS{dir: dir, cfg: filepath.Join(dir, "config.yaml"), state: filepath.Join(dir, "state"), fs: store.NewFile(filepath.Join(dir, "data"), nil)}
	w.write(t, config)
	return w
}

func (w *liveWS) write(t *testing.T, config string) {
	t.Helper()
	if err := os.WriteFile(w.cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
}

// open is a process starting: it reads the config.
func (w *liveWS) open(t *testing.T, warn *testkit.Buffer) *Manager {
	t.Helper()
	o := Options{ConfigPath: w.cfg, StateDir: w.state, Store: w.fs}
	if warn != nil {
		o.Warn = warn
	}
	m, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func viewNames(views []View) []string {
	out := make([]string, len(views))
	for i, v := range views {
		out[i] = v.Name
	}
	return out
}

const twoProfiles = `providers:
  acme:
    type: oauth2
    auth_url: http://127.0.0.1:9/a
    token_url: http://127.0.0.1:9/t
    client_id: c
groups:
  brand:
    description: Brand accounts
profiles:
  p1:
    provider: acme
    groups: [brand]
  p2:
    provider: acme
`

// D3: a profile removed in another shell while the TUI showed it. The
// TUI's reauth must be refused by name (the domain's unknown-profile error,
// saying it was removed), and nothing may be stored for it: a token no
// list shows is a secret nobody will ever clean up.
func TestReauthRefusesProfileRemovedMeanwhile(t *testing.T) {
	t.Parallel()
	srv := sandboxtest.Start(t, sandbox.Options{})
	config := sandboxConfig(srv.Issuer()) + "  p2:\n    provider: sbx\n"
	ctx := context.Background()
	for name, removeDuringSignIn := range map[string]bool{"before the sign-in": false, "during the sign-in": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newLiveWS(t, config)
			tui := w.open(t, nil)
			if _, err := tui.List(ctx, Filter{}); err != nil {
				t.Fatal(err)
			}
			remove := func() {
				if _, err := w.open(t, nil).Remove(ctx, "p2", RemoveOptions{KeepRemote: true}); err != nil {
					t.Errorf("the other shell's remove: %v", err)
				}
			}
			browser := Opener(sandboxtest.ClickThrough())
			if removeDuringSignIn {
				browser = OpenerFunc(func(ctx context.Context, u string) error {
					remove()
					return sandboxtest.ClickThrough().Open(ctx, u)
				})
			} else {
				remove()
			}
			before := srv.Stats().CodeExchanges
			_, err := tui.Reauth(ctx, "p2", ReauthOptions{Browser: browser, Stderr: &testkit.Buffer{}, Timeout: 20 * time.Second})
			var nf *NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("reauth of a removed profile: %v, want the unknown-profile error", err)
			}
			for _, want := range []string{`no profile named "p2"`, "removed from " + w.cfg} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if !removeDuringSignIn && srv.Stats().CodeExchanges != before {
				t.Errorf("a sign-in ran for a profile that was already removed")
			}
			if _, err := store.GetToken(ctx, w.fs, "p2"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("an orphan token was stored for the removed profile (err %v)", err)
			}
			st, err := tui.State.Load()
			if err != nil {
				t.Fatal(err)
			}
			if rec := st.Profiles["p2"]; rec != nil {
				t.Errorf("an orphan state record was written: %+v", rec)
			}
			// The profile that is still there still works.
			if _, err := tui.Reauth(ctx, "p1", ReauthOptions{Browser: sandboxtest.ClickThrough(), Stderr: &testkit.Buffer{}, Timeout: 20 * time.Second}); err != nil {
				t.Errorf("reauth of p1: %v", err)
			}
		})
	}
}

// Every operation on a named profile checks the config as it is now.
func TestNamedOperationsRefuseProfileRemovedMeanwhile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ops := map[string]func(m *Manager) error{
		"refresh": func(m *Manager) error { _, err := m.Refresh(ctx, RefreshOptions{Names: []string{"p2"}}); return err },
		"verify":  func(m *Manager) error { _, err := m.Verify(ctx, []string{"p2"}, false, 1); return err },
		"token":   func(m *Manager) error { _, err := m.Token(ctx, "p2", 0); return err },
		"remove":  func(m *Manager) error { _, err := m.Remove(ctx, "p2", RemoveOptions{KeepRemote: true}); return err },
		"show":    func(m *Manager) error { _, err := m.Show(ctx, "p2", 0); return err },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newLiveWS(t, twoProfiles)
			tui := w.open(t, nil)
			w.write(t, strings.Replace(twoProfiles, "  p2:\n    provider: acme\n", "", 1)) // an editor's save
			err := op(tui)
			var nf *NotFoundError
			if !errors.As(err, &nf) || !strings.Contains(err.Error(), "removed from") {
				t.Fatalf("%s of a removed profile: %v, want the unknown-profile error saying it was removed", name, err)
			}
		})
	}
}

// The TUI lists every minute: what another process added or removed shows
// up, whether sbctl or an editor changed the file.
func TestListSeesProfileAddedInAnotherProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newLiveWS(t, twoProfiles)
	tui := w.open(t, nil)
	list := func() []string {
		t.Helper()
		views, err := tui.List(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		return viewNames(views)
	}
	if got := list(); !slices.Equal(got, []string{"p1", "p2"}) {
		t.Fatalf("first list %v", got)
	}
	if err := w.open(t, nil).AddUnconnected(ctx, AddSpec{Name: "p3", Provider: "acme", Groups: []string{"brand"}}); err != nil {
		t.Fatal(err)
	}
	if got := list(); !slices.Equal(got, []string{"p1", "p2", "p3"}) {
		t.Errorf("after another shell's `profiles add p3`: %v", got)
	}
	if _, err := w.open(t, nil).Remove(ctx, "p1", RemoveOptions{KeepRemote: true}); err != nil {
		t.Fatal(err)
	}
	if got := list(); !slices.Equal(got, []string{"p2", "p3"}) {
		t.Errorf("after another shell's `profiles remove p1`: %v", got)
	}
	// An editor adds a group and a profile in it.
	edited := strings.Replace(twoProfiles, "groups:\n", "groups:\n  care:\n    description: Support\n", 1) + "  p4:\n    provider: acme\n    groups: [care]\n"
	w.write(t, edited)
	if got := list(); !slices.Equal(got, []string{"p1", "p2", "p4"}) {
		t.Errorf("after an editor's save: %v", got)
	}
	if got := tui.GroupNames(); !slices.Equal(got, []string{"care", "brand"}) {
		t.Errorf("groups after the editor's save: %v", got)
	}
	if _, err := tui.List(ctx, Filter{Group: "care"}); err != nil {
		t.Errorf("the new group cannot be listed: %v", err)
	}
	// And ReloadConfig says whether anything changed.
	if changed, err := tui.ReloadConfig(); changed || err != nil {
		t.Errorf("ReloadConfig on an unchanged file = %v, %v", changed, err)
	}
}

// A save that breaks the file is never adopted: the last good config
// stays in use, the error says where the file is wrong, a list warns of it
// once (not at every list), and reading the broken file writes nothing.
func TestReloadKeepsLastGoodConfigOnParseError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newLiveWS(t, twoProfiles)
	tui := w.open(t, nil)
	// lister only lists, as the TUI's minute reload does.
	var warn testkit.Buffer
	lister := w.open(t, &warn)
	sub, stop := context.WithCancel(ctx)
	defer stop()
	warnings := lister.Warnings(sub)
	for _, m := range []*Manager{tui, lister} {
		if _, err := m.List(ctx, Filter{}); err != nil {
			t.Fatal(err)
		}
	}
	// Line 15: an unclosed "[".
	broken := strings.Replace(twoProfiles, "  p2:\n    provider: acme\n", "  p2:\n    provider: [acme\n", 1)
	w.write(t, broken)
	before := snapshot(t, w.dir)

	_, err := tui.ReloadConfig()
	var re *ConfigReloadError
	if !errors.As(err, &re) {
		t.Fatalf("ReloadConfig of a broken file: %v, want a *ConfigReloadError", err)
	}
	if re.Line != 15 || !strings.Contains(err.Error(), w.cfg+":15: ") || !strings.Contains(err.Error(), "keeps using the config it read before") {
		t.Errorf("error %q (line %d): want %s:15 and that the old config stays in use", err, re.Line, w.cfg)
	}
	if re.Problem() == "" || strings.Contains(re.Problem(), w.cfg) {
		t.Errorf("Problem() = %q: want the problem without the file", re.Problem())
	}
	if _, err2 := tui.ReloadConfig(); !errors.As(err2, &re) {
		t.Errorf("a second ReloadConfig forgot that the file is broken: %v", err2)
	}
	for range 2 {
		views, err := tui.List(ctx, Filter{})
		if err != nil || !slices.Equal(viewNames(views), []string{"p1", "p2"}) {
			t.Fatalf("list while the file is broken: %v, %v; want the last good config", viewNames(views), err)
		}
	}
	if _, err := tui.Profile("p2"); err != nil {
		t.Errorf("look-up while the file is broken: %v", err)
	}
	if after := snapshot(t, w.dir); !maps2Equal(before, after) {
		t.Errorf("reading a broken config wrote something:\nbefore %v\nafter  %v", before, after)
	}

	// A list that finds the file broken warns once, live too, and not
	// again while the problem stays the same.
	for i := range 3 {
		if i == 2 {
			w.write(t, broken+"# still broken\n")
		}
		views, err := lister.List(ctx, Filter{})
		if err != nil || len(views) != 2 {
			t.Fatalf("list: %v, %v", viewNames(views), err)
		}
	}
	if n := strings.Count(warn.String(), "keeps using the config it read before"); n != 1 {
		t.Errorf("warned %d times of the broken file, want once:\n%s", n, warn.String())
	}
	select {
	case got := <-warnings:
		if !errors.As(got.Err, &re) || got.StoreUnavailable {
			t.Errorf("live warning %+v: want the reload error", got)
		}
	default:
		t.Errorf("the subscriber got no warning")
	}

	// Fixed: adopted at once, and the warning is cleared.
	w.write(t, twoProfiles+"  p3:\n    provider: acme\n")
	if changed, err := tui.ReloadConfig(); !changed || err != nil {
		t.Fatalf("ReloadConfig after the fix = %v, %v", changed, err)
	}
	if views, _ := tui.List(ctx, Filter{}); !slices.Equal(viewNames(views), []string{"p1", "p2", "p3"}) {
		t.Errorf("after the fix: %v", viewNames(views))
	}

	// A file that disappears is not taken as "no profiles".
	if err := os.Remove(w.cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := tui.ReloadConfig(); !errors.As(err, &re) || !errors.Is(err, errConfigGone) {
		t.Errorf("ReloadConfig of a deleted file: %v", err)
	}
	if views, _ := tui.List(ctx, Filter{}); len(views) != 3 {
		t.Errorf("after the file was deleted the list has %v", viewNames(views))
	}
}

// snapshot is every file under dir with its size, time and content digest.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[p] = fmt.Sprintf("%d %s %x", fi.Size(), fi.ModTime().Format(time.RFC3339Nano), b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func maps2Equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A reload that read the file just before an edit in the same process
// wrote it must not put the older text back; lists, look-ups and edits run
// at once (go test -race).
func TestReloadRacesWithEditsInThisProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newLiveWS(t, twoProfiles)
	tui := w.open(t, nil)
	const adds = 6
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				_, _ = tui.List(ctx, Filter{})
				_, _ = tui.ReloadConfig()
				_, _ = tui.Profile("p1")
				_ = tui.GroupNames()
			}
		})
	}
	for i := range adds {
		if err := tui.AddUnconnected(ctx, AddSpec{Name: fmt.Sprintf("n%d", i), Provider: "acme"}); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if _, err := tui.ReloadConfig(); err != nil {
		t.Fatal(err)
	}
	if got := tui.ProfileNames(); len(got) != 2+adds {
		t.Errorf("profiles after %d adds during reloads: %v", adds, got)
	}
}

// The stat check: the same file, size and time is unchanged; but a file
// modified just before its stat may change again within the same tick of
// the file system's clock, so it is read again (at most every
// racyRecheck) until its time is older than racyWindow.
func TestConfigStampCatchesChangesWithinOneClockTick(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(p, []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	settled := statConfig(p)
	if again := statConfig(p); !again.sameAs(settled) {
		t.Errorf("an untouched file reads as changed")
	}
	// The same size, the same time, a new inode (an editor's rename).
	q := filepath.Join(dir, "new")
	if err := os.WriteFile(q, []byte("b: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(q, old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(q, p); err != nil {
		t.Fatal(err)
	}
	if statConfig(p).sameAs(settled) {
		t.Errorf("a file renamed over the config reads as unchanged")
	}

	racy := statConfig(p)
	racy.at = racy.info.ModTime().Add(time.Millisecond) // stat taken in the tick of the write
	racy.readAt = racy.at
	soon, later := racy, racy
	soon.at = racy.readAt.Add(racyRecheck / 2)
	later.at = racy.readAt.Add(racyRecheck)
	if !soon.sameAs(racy) {
		t.Errorf("a racy file is read again sooner than racyRecheck")
	}
	if later.sameAs(racy) {
		t.Errorf("a racy file is never read again")
	}
	if missing := statConfig(filepath.Join(dir, "none")); !missing.sameAs(statConfig(filepath.Join(dir, "none"))) || missing.sameAs(settled) {
		t.Errorf("a missing file compares wrongly")
	}
}

// failingStore is a token store that cannot be used (a locked keychain).
type failingStore struct{ err error }

func (s failingStore) Get(context.Context, string) (string, error) { return "", s.err }
func (s failingStore) Set(context.Context, string, string) error   { return s.err }
func (s failingStore) Delete(context.Context, string) error        { return s.err }
func (s failingStore) Describe() string                            { return "OS keychain" }

// D6: a locked keychain while the state file is lost. The warning reaches
// a live front end as it happens, with the store's fix, once for as long
// as the problem lasts; the advice is to unlock the store, not to ask the
// network; and a refresh token that cannot be known is not called "none".
func TestLockedStoreWarnsLiveAndAdvisesUnlocking(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(twoProfiles), 0o644); err != nil {
		t.Fatal(err)
	}
	locked := &store.UnavailableError{Store: "OS keychain", Cause: "the keychain is locked", Fix: "unlock it (log in to the desktop session, or run `gnome-keyring-daemon --unlock` and type the password) and try again"}
	var warn testkit.Buffer
	m, err := Open(Options{ConfigPath: cfg, StateDir: filepath.Join(dir, "state"), Store: failingStore{locked}, Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	sub, stop := context.WithCancel(ctx)
	warnings := m.Warnings(sub)
	var views []View
	for range 3 { // the TUI lists every minute
		if views, err = m.List(ctx, Filter{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(warn.String(), "the keychain is locked"); n != 1 {
		t.Errorf("the locked keychain was warned of %d times, want once:\n%s", n, warn.String())
	}
	select {
	case w := <-warnings:
		if !w.StoreUnavailable || !strings.Contains(w.Text, "gnome-keyring-daemon --unlock") || strings.HasPrefix(w.Text, "warning:") {
			t.Errorf("live warning %+v: want the store's fix, flagged StoreUnavailable", w)
		}
	default:
		t.Fatal("no live warning")
	}
	select {
	case w := <-warnings:
		t.Errorf("a second live warning: %+v", w)
	default:
	}
	v := views[0]
	a := AdviceFor(v)
	if v.Status != StatusUnknown || a.Action != ActionRecheck || !strings.HasPrefix(a.Say, "Unlock the keychain") {
		t.Errorf("status %s, advice %+v: want unknown, and to unlock the keychain", v.Status, a)
	}
	for _, f := range Details(v, time.Now()) {
		if f.Label == "Refresh token" && !strings.HasPrefix(f.Value, "not known") {
			t.Errorf("Refresh token: %q, but the store could not be read", f.Value)
		}
	}
	// A network that did not answer still gets the old advice.
	other := View{Status: StatusUnknown, Detail: "the last check could not be completed: timeout"}
	if a := AdviceFor(other); a.Say != "The last check could not be completed" {
		t.Errorf("advice for a network timeout: %+v", a)
	}
	// The subscription ends with its context.
	stop()
	for range warnings {
	}
}

// Lines written to warn by the layers below (the plain-file store warns
// on every write) reach subscribers too, one Warning per line.
func TestWarningsCarryEveryLineWritten(t *testing.T) {
	t.Parallel()
	w := newLiveWS(t, twoProfiles)
	var out testkit.Buffer
	m := w.open(t, &out)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ch := m.Warnings(ctx)
	fmt.Fprint(m.warn, "warning: first ")
	fmt.Fprint(m.warn, "half\nnote: second\n")
	if got := out.String(); got != "warning: first half\nnote: second\n" {
		t.Errorf("Options.Warn got %q", got)
	}
	for _, want := range []string{"first half", "note: second"} {
		select {
		case got := <-ch:
			if got.Text != want {
				t.Errorf("warning %q, want %q", got.Text, want)
			}
		default:
			t.Fatalf("no warning %q", want)
		}
	}
}

// A damaged state file is rebuilt from the token store: a live front end
// is told as it happens (the rebuilt profiles are unknown until checked).
func TestCorruptStateWarnsLive(t *testing.T) {
	t.Parallel()
	w := newLiveWS(t, twoProfiles)
	if err := os.MkdirAll(w.state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.state, "state.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out testkit.Buffer
	m := w.open(t, &out)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ch := m.Warnings(ctx)
	if _, err := m.List(ctx, Filter{}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-ch:
		if !got.StateRebuilt || !strings.Contains(got.Text, "is corrupt (kept as ") {
			t.Errorf("warning %+v", got)
		}
	default:
		t.Fatal("no live warning of the rebuilt state")
	}
	if !strings.HasPrefix(out.String(), "warning: the state file ") {
		t.Errorf("Options.Warn got %q", out.String())
	}
}
