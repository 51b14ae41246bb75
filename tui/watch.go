package tui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/fsnotify/fsnotify"

	"github.com/sbctl/sbctl/profiles"
)

// The TUI stays open for hours while the world changes around it: another
// shell adds or removes a profile, an editor saves the config, a cron job
// refreshes tokens (the state file), the keychain gets locked. The config
// file's directory is watched (editors save by renaming a new file over
// the old one, which a watch on the file itself would lose), and so is the
// state file's; a burst of events (an editor's save is several) is
// reloaded once the directory has been quiet for settleDelay. Without a
// watcher (no inotify) the minute reload, whose List re-reads a changed
// config, still brings changes in. The Manager's warnings are shown as
// they come, with what to do, instead of after the screen closes.

// settleDelay is the quiet time after a change before the reload.
const settleDelay = 200 * time.Millisecond

// warnRepeat: the same warning is not shown again within this time (the
// plain-file store warns at every write; the minute reload meets a locked
// keychain every minute).
const warnRepeat = 10 * time.Minute

// watchState is the config watcher's state.
type watchState struct {
	changes  <-chan struct{}         // a watched file changed (coalesced); nil without a watcher
	done     <-chan struct{}         // closed once the watcher's goroutine has ended
	warnings <-chan profiles.Warning // the Manager's warnings

	gen       int                  // counts changes: only the latest one's quiet period reloads
	badConfig string               // the note about a config that cannot be used, while it cannot
	shown     map[string]time.Time // warnings shown, and when
}

// Messages of the watcher.
type (
	// configChangedMsg: a watched file changed.
	configChangedMsg struct{}
	// configSettledMsg: gen's quiet period is over.
	configSettledMsg struct{ gen int }
	// configReloadedMsg: the config was re-read (err: it cannot be used)
	// and the list taken again.
	configReloadedMsg struct {
		err    error
		groups []string
		list   listMsg
	}
	// warningMsg is a warning the Manager gave, at a time.
	warningMsg struct {
		w  profiles.Warning
		at time.Time
	}
	// watchUnavailableMsg: no watcher could be started.
	watchUnavailableMsg struct{ err error }
)

// watchInit starts watching the config and the Manager's warnings; the
// watcher ends with m.ctx (the TUI quitting).
func (m *Model) watchInit() tea.Cmd {
	m.watch.warnings = m.mgr.Warnings(m.ctx)
	cmds := []tea.Cmd{waitWarning(m.ctx, m.watch.warnings)}
	var (
		changes, done <-chan struct{}
		err           error
	)
	if !m.mgr.TeamMode() {
		// In team mode the catalog and the state are rows, not files: the
		// database's notifications (below) stand for the file watcher.
		changes, done, err = startWatcher(m.ctx, watchedFiles(m.mgr))
	}
	// In team mode the database tells every running TUI what changed
	// (another member re-authenticated a profile, a refresh failed): its
	// news joins the file watcher's, so every screen updates without
	// polling.
	if team := m.mgr.TeamChanges(m.ctx); team != nil {
		changes = mergeChanges(m.ctx, changes, team)
		if err != nil {
			err, done = nil, nil
		}
	}
	switch {
	case err == nil:
		m.watch.changes, m.watch.done = changes, done
		cmds = append(cmds, waitChange(m.ctx, changes))
	case errors.Is(err, fs.ErrNotExist):
		// No config directory yet (the first run): nothing another program
		// can have edited; the minute reload finds the file once it exists.
	default:
		cmds = append(cmds, func() tea.Msg { return watchUnavailableMsg{err: err} })
	}
	return tea.Batch(cmds...)
}

// watchUpdate handles the watcher's messages; false for any other.
func (m *Model) watchUpdate(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case configChangedMsg:
		m.watch.gen++
		gen := m.watch.gen
		settle := tea.Tick(settleDelay, func(time.Time) tea.Msg { return configSettledMsg{gen: gen} })
		return tea.Batch(waitChange(m.ctx, m.watch.changes), settle), true

	case configSettledMsg:
		if msg.gen != m.watch.gen {
			return nil, true // more changes came: wait for their quiet
		}
		return reloadConfig(m.ctx, m.mgr), true

	case configReloadedMsg:
		return m.configReloaded(msg), true

	case warningMsg:
		m.showWarning(msg)
		return waitWarning(m.ctx, m.watch.warnings), true

	case watchUnavailableMsg:
		return m.setNote(noteInfo, fmt.Sprintf("Not watching %s for changes (%v); the list reloads every minute.", filepath.Base(m.mgr.ConfigPath()), msg.err)), true
	}
	return nil, false
}

// reloadConfig re-reads the config if it changed, then lists again.
func reloadConfig(ctx context.Context, mgr *profiles.Manager) tea.Cmd {
	return func() tea.Msg {
		_, err := mgr.ReloadConfig()
		list, _ := loadList(ctx, mgr)().(listMsg)
		return configReloadedMsg{err: err, groups: mgr.GroupNames(), list: list}
	}
}

// configReloaded shows the reloaded list: with a warning that stays while
// the file cannot be used, and word when it can again.
func (m *Model) configReloaded(msg configReloadedMsg) tea.Cmd {
	var re *profiles.ConfigReloadError
	var fade tea.Cmd
	switch {
	case errors.As(msg.err, &re):
		m.showConfigProblem(re, time.Now())
	case msg.err != nil:
		m.setNote(noteWarn, "Could not reload the config: "+msg.err.Error())
	case m.watch.badConfig != "":
		delete(m.watch.shown, m.watch.badConfig) // the same mistake again is news
		m.watch.badConfig = ""
		fade = m.setNote(noteOK, fmt.Sprintf("%s reads again; showing what it says now.", filepath.Base(m.mgr.ConfigPath())))
	}
	if c := m.syncGroups(msg.groups); c != nil {
		fade = c
	}
	return tea.Batch(fade, m.listed(msg.list))
}

// syncGroups takes the config's groups after a reload. The group on screen
// stays on screen if it still exists (found by name: its place may have
// changed); if it is gone, all profiles are shown.
func (m *Model) syncGroups(names []string) tea.Cmd {
	groups := append([]string{""}, names...)
	if slices.Equal(groups, m.groups) {
		return nil
	}
	cur := m.groups[m.group]
	m.groups, m.group = groups, 0
	var fade tea.Cmd
	if i := slices.Index(groups, cur); i >= 0 {
		m.group = i
	} else if cur != "" && m.watch.badConfig == "" {
		fade = m.setNote(noteInfo, fmt.Sprintf("Group %s is no longer in %s; showing all profiles.", clean(cur), filepath.Base(m.mgr.ConfigPath())))
	}
	m.applyFilters()
	return fade
}

// showConfigProblem is the warning for a config file that changed but
// cannot be used: where it is wrong, and that the list is the last good
// one. It stays until the file reads again.
func (m *Model) showConfigProblem(re *profiles.ConfigReloadError, at time.Time) {
	text := configProblemText(re)
	m.watch.badConfig = text
	m.remember(text, at)
	m.setNote(noteWarn, text)
}

func configProblemText(re *profiles.ConfigReloadError) string {
	base := filepath.Base(re.Path)
	if re.Line > 0 {
		return fmt.Sprintf("%s has an error at line %d (%s); still showing the last good config. Fix the file and save it.", base, re.Line, re.Problem())
	}
	return fmt.Sprintf("%s cannot be read (%s); still showing the last good config.", base, re.Problem())
}

// showWarning shows a warning from the Manager, unless the same one was
// shown a moment ago.
func (m *Model) showWarning(msg warningMsg) {
	var re *profiles.ConfigReloadError
	if errors.As(msg.w.Err, &re) {
		if text := configProblemText(re); !m.seenRecently(text, msg.at) {
			m.showConfigProblem(re, msg.at)
		}
		return
	}
	text := warningText(msg.w)
	if m.seenRecently(text, msg.at) {
		return
	}
	m.remember(text, msg.at)
	m.setNote(noteWarn, text)
}

// warningText words a warning for this screen: the domain's text (which
// carries the fix), and, when the token store could not be read or the
// state was rebuilt, the key that checks the profiles again.
func warningText(w profiles.Warning) string {
	switch {
	case w.StateRebuilt:
		return capitalize(w.Text) + " Rebuilt profiles show as unknown until checked: press v on one to check it."
	case !w.StoreUnavailable:
		return capitalize(w.Text)
	}
	why := w.Text
	if w.Err != nil {
		why = w.Err.Error()
	}
	return fmt.Sprintf("Statuses are unknown: %s. Once it works, press v on a profile to check it; the list also reloads every minute.", strings.TrimSuffix(why, "."))
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func (m *Model) seenRecently(text string, at time.Time) bool {
	last, ok := m.watch.shown[text]
	return ok && at.Sub(last) < warnRepeat
}

func (m *Model) remember(text string, at time.Time) {
	if m.watch.shown == nil {
		m.watch.shown = map[string]time.Time{}
	}
	m.watch.shown[text] = at
}

// waitWarning delivers the Manager's next warning; Update asks for the one
// after each time, until the TUI quits.
func waitWarning(ctx context.Context, ch <-chan profiles.Warning) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		select {
		case w, ok := <-ch:
			if ok {
				return warningMsg{w: w, at: time.Now()}
			}
		case <-ctx.Done():
		}
		return nil
	}
}

// waitChange delivers the watcher's next news.
func waitChange(ctx context.Context, ch <-chan struct{}) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		select {
		case _, ok := <-ch:
			if ok {
				return configChangedMsg{}
			}
		case <-ctx.Done():
		}
		return nil
	}
}

// watchedFile is a file whose changes reload the list: events in dir for
// the name base. required: without a watch on it the watcher is of no use.
type watchedFile struct {
	dir, base string
	required  bool
}

// watchedFiles are the config (as named, and the file a symlink to it
// names: a dotfile manager's link is edited through) and the state file.
func watchedFiles(mgr *profiles.Manager) []watchedFile {
	cfg := filepath.Clean(mgr.ConfigPath())
	out := []watchedFile{{dir: filepath.Dir(cfg), base: filepath.Base(cfg), required: true}}
	if real, err := filepath.EvalSymlinks(cfg); err == nil && real != cfg {
		out = append(out, watchedFile{dir: filepath.Dir(real), base: filepath.Base(real)})
	}
	if p := mgr.StatePath(); p != "" {
		st := filepath.Clean(p)
		out = append(out, watchedFile{dir: filepath.Dir(st), base: filepath.Base(st)})
	}
	return out
}

// startWatcher watches the directories of files and sends on changes (a
// buffer of one: news of a change waiting to be read covers the next ones)
// when one of the files is created, written, renamed or removed. It ends
// when ctx does, and then closes done.
func startWatcher(ctx context.Context, files []watchedFile) (<-chan struct{}, <-chan struct{}, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, nil, err
	}
	names := map[string]map[string]bool{}
	for _, f := range files {
		if names[f.dir] == nil {
			if err := w.Add(f.dir); err != nil {
				if f.required {
					w.Close()
					return nil, nil, err
				}
				continue // the state directory may not exist yet
			}
			names[f.dir] = map[string]bool{}
		}
		names[f.dir][f.base] = true
	}
	changes, done := make(chan struct{}, 1), make(chan struct{})
	notify := func() {
		select {
		case changes <- struct{}{}:
		default:
		}
	}
	go func() {
		defer close(done)
		defer w.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if ev.Op != fsnotify.Chmod && names[filepath.Dir(ev.Name)][filepath.Base(ev.Name)] {
					notify()
				}
			case _, ok := <-w.Errors:
				if !ok {
					return
				}
				notify() // an overflow may have hidden a change: look
			}
		}
	}()
	return changes, done, nil
}

// mergeChanges is one coalesced stream of the file watcher's news (nil
// when there is none) and the team database's.
func mergeChanges(ctx context.Context, files <-chan struct{}, team <-chan struct{}) <-chan struct{} {
	out := make(chan struct{}, 1)
	forward := func(in <-chan struct{}) {
		for {
			select {
			case _, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- struct{}{}:
				default: // one pending change stands for many
				}
			case <-ctx.Done():
				return
			}
		}
	}
	if files != nil {
		go forward(files)
	}
	go forward(team)
	return out
}
