package tui

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/profiles"
)

// writeConfig is another shell or an editor saving the config.
func writeConfig(t *testing.T, m *Model, text string) {
	t.Helper()
	if err := os.WriteFile(m.mgr.ConfigPath(), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// settle delivers what the watcher sends after a save: the change, then
// (its quiet period over) the reload, whose Cmd is run and its message fed
// back, as the program would.
func settle(t *testing.T, m *Model) {
	t.Helper()
	m.Update(configChangedMsg{})
	_, cmd := m.Update(configSettledMsg{gen: m.watch.gen})
	if cmd == nil {
		t.Fatal("the quiet period after a change reloads nothing")
	}
	msg := cmd()
	if _, ok := msg.(configReloadedMsg); !ok {
		t.Fatalf("the reload gave %T", msg)
	}
	m.Update(msg)
}

const addedProfile = "  zz-added-while-open:\n    provider: acme\n    groups: [support]\n"

// D3: a profile added in another shell shows up in the open TUI; one
// removed there disappears.
func TestConfigChangeShowsAddedAndRemovedProfiles(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, 100, 30)
	writeConfig(t, m, fixtureConfig+addedProfile)
	settle(t, m)
	if !slices.Contains(rowNames(m), "zz-added-while-open") {
		t.Fatalf("the added profile is not listed: %v", rowNames(m))
	}
	if !strings.Contains(screen(m), "zz-added-while-open") {
		t.Errorf("the added profile is not on screen:\n%s", screen(m))
	}
	writeConfig(t, m, strings.Replace(fixtureConfig, "  acme-fb:\n    provider: legacy\n    groups: [marketing]\n", "", 1))
	settle(t, m)
	if got := rowNames(m); slices.Contains(got, "acme-fb") || slices.Contains(got, "zz-added-while-open") {
		t.Errorf("removed profiles are still listed: %v", got)
	}
	if strings.Contains(screen(m), "acme-fb") {
		t.Errorf("a removed profile is still on screen:\n%s", screen(m))
	}
}

// An editor's save is a burst of events: only the last one's quiet period
// reloads.
func TestConfigChangesAreDebounced(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, 100, 30)
	for range 3 {
		m.Update(configChangedMsg{})
	}
	if _, cmd := m.Update(configSettledMsg{gen: m.watch.gen - 1}); cmd != nil {
		t.Errorf("an earlier event's quiet period reloads, though more events followed")
	}
	if _, cmd := m.Update(configSettledMsg{gen: m.watch.gen}); cmd == nil {
		t.Errorf("the last event's quiet period does not reload")
	}
}

// A save that breaks the file keeps the last good list and says where the
// file is wrong, in a warning that stays (the minute reload does not clear
// it) until the file reads again.
func TestConfigBadEditKeepsLastGoodList(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, 100, 30)
	before := rowNames(m)
	// Line 31, acme-li's groups: an unclosed "[".
	writeConfig(t, m, strings.Replace(fixtureConfig+addedProfile, "groups: [support]\n  acme-tt", "groups: [support\n  acme-tt", 1))
	settle(t, m)
	if got := rowNames(m); !slices.Equal(got, before) {
		t.Errorf("a broken save changed the list: %v, was %v", got, before)
	}
	want := "config.yaml has an error at line 31"
	if m.note.kind != noteWarn || !strings.Contains(m.note.text, want) || !strings.Contains(m.note.text, "still showing the last good config") {
		t.Fatalf("note %+v: want a warning with %q", m.note, want)
	}
	if !strings.Contains(screen(m), "config.yaml has an error at line") {
		t.Errorf("the warning is not on screen:\n%s", screen(m))
	}
	m.Update(loadList(m.ctx, m.mgr)()) // the minute reload
	if !strings.Contains(m.note.text, want) {
		t.Errorf("the minute reload cleared the warning: %+v", m.note)
	}
	writeConfig(t, m, fixtureConfig+addedProfile)
	settle(t, m)
	if !slices.Contains(rowNames(m), "zz-added-while-open") || m.note.kind == noteWarn {
		t.Errorf("after the fix: rows %v, note %+v", rowNames(m), m.note)
	}
}

// The group on screen stays on screen when the config's groups change
// around it, and a group that is gone falls back to all profiles.
func TestConfigReloadKeepsCurrentGroup(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, 100, 30)
	m.group = slices.Index(m.groups, "support")
	m.applyFilters()
	withCare := strings.Replace(fixtureConfig, "groups:\n", "groups:\n  care:\n    description: New\n", 1)
	writeConfig(t, m, withCare)
	settle(t, m)
	if !slices.Equal(m.groups, []string{"", "care", "marketing", "support"}) || m.groups[m.group] != "support" {
		t.Fatalf("groups %q, on screen %q: want care added and support kept", m.groups, m.groups[m.group])
	}
	if got := rowNames(m); !slices.Equal(sorted(got), []string{"acme-li", "acme-tt"}) {
		t.Errorf("rows of support after the reload: %v", got)
	}
	noSupport := strings.NewReplacer("  support:\n    description: Customer care\n", "", "groups: [support]", "groups: []").Replace(fixtureConfig)
	writeConfig(t, m, noSupport)
	settle(t, m)
	if m.group != 0 || slices.Contains(m.groups, "support") || len(rowNames(m)) != 6 {
		t.Errorf("after support was removed: groups %q, current %d, rows %v", m.groups, m.group, rowNames(m))
	}
	if !strings.Contains(m.note.text, "Group support is no longer in config.yaml") {
		t.Errorf("note %+v", m.note)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// lockedStore is a keychain that is locked.
type lockedStore struct{}

var errLocked = &store.UnavailableError{Store: "OS keychain", Cause: "the keychain is locked",
	Fix: "unlock it (log in to the desktop session, or run `gnome-keyring-daemon --unlock` and type the password) and try again"}

func (lockedStore) Get(context.Context, string) (string, error) { return "", errLocked }
func (lockedStore) Set(context.Context, string, string) error   { return errLocked }
func (lockedStore) Delete(context.Context, string) error        { return errLocked }
func (lockedStore) Describe() string                            { return "OS keychain" }

// D6: the state file is lost and the keychain is locked. The TUI says so
// while it runs, with what to do, and the detail pane advises unlocking,
// not asking the network.
func TestLockedKeychainWarningShowsInTheTUI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(fixtureConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	mgr, err := profiles.Open(profiles.Options{ConfigPath: cfg, StateDir: filepath.Join(dir, "state"), Store: lockedStore{}, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	m := New(mgr, Options{})
	t.Cleanup(func() { m.stop(5 * time.Second) })
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	m.watchInit()
	m.Update(loadList(m.ctx, mgr)())
	msg := waitWarning(m.ctx, m.watch.warnings)() // the list warned as it ran
	if _, ok := msg.(warningMsg); !ok {
		t.Fatalf("no warning reached the TUI: %T", msg)
	}
	if _, cmd := m.Update(msg); cmd == nil {
		t.Errorf("the warning stream is not read on")
	}
	for _, want := range []string{"the keychain is locked", "gnome-keyring-daemon --unlock", "press v"} {
		if !strings.Contains(m.note.text, want) {
			t.Errorf("note %q does not say %q", m.note.text, want)
		}
	}
	if m.note.kind != noteWarn {
		t.Errorf("note kind %v", m.note.kind)
	}
	v, _ := m.table.Selected()
	d := m.detail
	d.SetSize(100, 20)
	d.SetProfile(v, true, testNow)
	pane := d.View()
	if !strings.Contains(pane, "Unlock the keychain") || strings.Contains(pane, "none (a reauth") {
		t.Errorf("detail pane of an unknown profile behind a locked keychain:\n%s", pane)
	}
}

// The same warning is not shown again a moment later (the minute reload,
// the plain-file store at every write), but is after a while.
func TestRepeatedWarningIsShownOnce(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, 100, 30)
	w := profiles.Warning{Text: "secrets are stored in plain text in /x (--token-store file)"}
	m.Update(warningMsg{w: w, at: testNow})
	if !strings.HasPrefix(m.note.text, "Secrets are stored in plain text") {
		t.Fatalf("note %+v", m.note)
	}
	m.setNote(noteOK, "Renewed acme-x.")
	m.Update(warningMsg{w: w, at: testNow.Add(time.Minute)})
	if m.note.text != "Renewed acme-x." {
		t.Errorf("the same warning a minute later replaced the note: %+v", m.note)
	}
	m.Update(warningMsg{w: w, at: testNow.Add(warnRepeat)})
	if !strings.HasPrefix(m.note.text, "Secrets") {
		t.Errorf("the warning is never shown again: %+v", m.note)
	}
}

// The watcher sees an editor's save by rename, and its goroutine ends when
// the TUI quits.
func TestWatcherSeesSaveAndStopsOnQuit(t *testing.T) {
	t.Parallel()
	m := New(fixtureManager(t), Options{})
	t.Cleanup(func() { m.stop(5 * time.Second) })
	m.watchInit()
	if m.watch.done == nil {
		t.Skip("no file watcher here (inotify unavailable): the TUI relies on its minute reload")
	}
	cfg := m.mgr.ConfigPath()
	tmp := filepath.Join(filepath.Dir(cfg), ".config.yaml.swp")
	if err := os.WriteFile(tmp, []byte(fixtureConfig+addedProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, cfg); err != nil {
		t.Fatal(err)
	}
	got := make(chan tea.Msg, 1)
	go func() { got <- waitChange(m.ctx, m.watch.changes)() }()
	select {
	case msg := <-got:
		if _, ok := msg.(configChangedMsg); !ok {
			t.Fatalf("the watcher sent %T", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher did not report the save")
	}
	m.cancel() // q
	select {
	case <-m.watch.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher's goroutine outlived the TUI")
	}
	if msg := waitWarning(m.ctx, m.watch.warnings)(); msg != nil {
		t.Errorf("the warning stream gave %T after quitting", msg)
	}
}

// A rebuilt state says what the user should do about it.
func TestStateRebuiltWarningSaysWhatToDo(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, 100, 30)
	m.Update(warningMsg{w: profiles.Warning{Text: "the state file /s/state.json is corrupt (kept as /s/state.json.corrupt); rebuilding it from the token store…", StateRebuilt: true}, at: testNow})
	if !strings.HasPrefix(m.note.text, "The state file") || !strings.Contains(m.note.text, "press v") || m.note.kind != noteWarn {
		t.Errorf("note %+v", m.note)
	}
}
