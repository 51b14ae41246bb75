package tui

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sbctl/sbctl/profiles"
)

// Options configure the TUI.
type Options struct {
	// Browser opens sign-in URLs (ReauthOptions.Browser); nil: the default
	// ($SBCTL_BROWSER, $BROWSER, then the system browser).
	Browser profiles.Opener
	// NoBrowser only shows the URL (an SSH session): the user opens it on
	// this machine's browser some other way.
	NoBrowser bool
	// ReauthTimeout bounds a sign-in; 0 is the flow's default (5 minutes).
	ReauthTimeout time.Duration
	// Output is where the TUI draws; default os.Stderr, so stdout stays
	// clean for data.
	Output io.Writer
	// Input is where keys come from; nil is the terminal.
	Input io.Reader
	// Title heads the screen, e.g. "sbctl demo"; default "sbctl".
	Title string
}

// Model is the root of the TUI. Only it returns a tea.View; the table, the
// detail pane, the sign-in box and the footer are children that render
// strings into the box they were given with SetSize. The filter input and
// the spinner are the root's, since the keys and the ticks reach it first;
// the children draw what they show.
type Model struct {
	mgr  *profiles.Manager
	opts Options

	// ctx is the parent of every operation; cancel ends them all when the
	// TUI quits. tracker lets Run wait for them to unwind.
	ctx     context.Context
	cancel  context.CancelFunc
	tracker *tracker

	keys    keyMap
	styles  styles
	table   profileTable
	detail  detailPane
	signIn  signInBox
	footer  footer
	filter  textinput.Model
	spinner spinner.Model

	width, height int

	all     []profiles.View // every profile, from the last List
	inGroup []profiles.View // those in the current group (the tally counts these)
	tally   tally           // of inGroup
	now     time.Time       // when all was evaluated
	loaded  bool

	groups    []string // "" (all), then the config's groups
	group     int
	filtering bool // the filter input has the keyboard
	showing   bool // the detail pane replaces the table

	op     *operation
	nextID int
	note   note
}

// New builds the model for a program (Run does this; tests call it).
func New(mgr *profiles.Manager, opts Options) *Model {
	return newModel(context.Background(), mgr, opts)
}

func newModel(ctx context.Context, mgr *profiles.Manager, opts Options) *Model {
	if opts.Title == "" {
		opts.Title = "sbctl"
	}
	m := &Model{
		mgr:     mgr,
		opts:    opts,
		tracker: &tracker{},
		keys:    newKeyMap(),
		signIn:  signInBox{noBrowser: opts.NoBrowser},
		footer:  newFooter(),
		filter:  textinput.New(),
		spinner: spinner.New(spinner.WithSpinner(spinner.MiniDot)),
		groups:  append([]string{""}, mgr.GroupNames()...),
	}
	m.ctx, m.cancel = context.WithCancel(ctx)
	m.filter.Prompt = "/ "
	m.filter.Placeholder = "name, account or provider"
	// Dark until the terminal says otherwise: most terminals are, and the
	// basic status colours read on both.
	m.setStyles(newStyles(true))
	m.applyFilters()
	m.relayout()
	return m
}

// Init asks the terminal for its background (for the styles), loads the
// list and starts the periodic reload.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(tea.RequestBackgroundColor, loadList(m.ctx, m.mgr), tick())
}

// stop cancels every operation and waits a little for them to end.
func (m *Model) stop(limit time.Duration) {
	m.cancel()
	m.tracker.wait(limit)
}

func (m *Model) setStyles(s styles) {
	m.styles = s
	m.table.SetStyles(s)
	m.detail.SetStyles(s)
	m.signIn.SetStyles(s)
	m.footer.SetStyles(s)
	m.filter.SetStyles(s.input)
	m.spinner.Style = s.spinner
}

// Update handles one message. Anything slow is returned as a Cmd.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	m.relayout()
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return nil

	case tea.BackgroundColorMsg:
		m.setStyles(newStyles(msg.IsDark()))
		return nil

	case listMsg:
		return m.listed(msg)

	case tickMsg:
		return tea.Batch(loadList(m.ctx, m.mgr), tick())

	case opEventMsg:
		if m.op == nil || msg.id != m.op.id {
			return nil // a finished operation's late news
		}
		m.op.add(msg.opEvent)
		return waitEvent(m.op)

	case opDoneMsg:
		return m.finish(msg)

	case spinner.TickMsg:
		// The spinner turns only while something runs: dropping the tick
		// stops it.
		if m.op == nil {
			return nil
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return cmd

	case tea.KeyPressMsg:
		return m.key(msg)
	}
	if m.filtering {
		// Cursor blinks and pastes belong to the input.
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		m.applyFilters()
		return cmd
	}
	return nil
}

func (m *Model) listed(msg listMsg) tea.Cmd {
	if msg.err != nil {
		m.setNote(noteErr, "Could not list the profiles: "+msg.err.Error())
		if !m.loaded {
			m.table.SetEmpty("Could not list the profiles (see below).")
		}
		return nil
	}
	m.all, m.now, m.loaded = msg.views, msg.now, true
	m.applyFilters()
	return nil
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, m.keys.Interrupt) {
		// Ctrl-C ends the TUI the way it ends any command (exit 130), and
		// cancels a sign-in in progress on the way out.
		m.cancel()
		return tea.Interrupt
	}
	if m.filtering {
		return m.filterKey(msg)
	}
	if m.moveKey(msg) {
		return nil
	}
	switch {
	case key.Matches(msg, m.keys.Quit):
		m.cancel()
		return tea.Quit
	case key.Matches(msg, m.keys.Cancel):
		m.escape()
	case key.Matches(msg, m.keys.Help):
		m.footer.ToggleHelp()
	case key.Matches(msg, m.keys.Filter):
		m.filtering, m.showing = true, false
		m.filter.CursorEnd()
		return m.filter.Focus()
	case key.Matches(msg, m.keys.Group):
		m.group = (m.group + 1) % len(m.groups)
		m.applyFilters()
	case key.Matches(msg, m.keys.Details):
		if _, ok := m.table.Selected(); ok {
			m.showing = !m.showing
		}
	case key.Matches(msg, m.keys.Reauth):
		return m.start(opReauth)
	case key.Matches(msg, m.keys.Refresh):
		return m.start(opRefresh)
	case key.Matches(msg, m.keys.Verify):
		return m.start(opVerify)
	}
	return nil
}

// moveKey moves the selection (in the table and the detail pane alike);
// false when msg is not a movement key.
func (m *Model) moveKey(msg tea.KeyPressMsg) bool {
	switch {
	case key.Matches(msg, m.keys.Up):
		m.table.Move(-1)
	case key.Matches(msg, m.keys.Down):
		m.table.Move(1)
	case key.Matches(msg, m.keys.PageUp):
		m.table.Move(-m.table.PageSize())
	case key.Matches(msg, m.keys.PageDown):
		m.table.Move(m.table.PageSize())
	case key.Matches(msg, m.keys.Top):
		m.table.Move(-m.table.Len())
	case key.Matches(msg, m.keys.Bottom):
		m.table.Move(m.table.Len())
	default:
		return false
	}
	return true
}

// filterKey: the input has the keyboard; the list narrows as you type.
func (m *Model) filterKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Clear):
		m.filter.Reset()
		m.filter.Blur()
		m.filtering = false
	case key.Matches(msg, m.keys.Apply):
		m.filter.Blur()
		m.filtering = false
	case key.Matches(msg, m.keys.ArrowUp):
		m.table.Move(-1)
	case key.Matches(msg, m.keys.ArrowDown):
		m.table.Move(1)
	default:
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		m.applyFilters()
		return cmd
	}
	m.applyFilters()
	return nil
}

// escAction says what esc does now ("" for nothing), for the key and its
// help alike: cancel the running operation first, then back out of the
// detail pane, the filter and the full help.
func (m *Model) escAction() string {
	switch {
	case m.op != nil && !m.op.cancelling:
		if m.op.kind == opReauth {
			return "cancel sign-in"
		}
		return "cancel"
	case m.showing:
		return "back"
	case m.filter.Value() != "":
		return "clear filter"
	case m.footer.FullHelp():
		return "close help"
	}
	return ""
}

func (m *Model) escape() {
	switch {
	case m.op != nil && !m.op.cancelling:
		m.op.cancelling = true
		m.op.cancel()
	case m.showing:
		m.showing = false
	case m.filter.Value() != "":
		m.filter.Reset()
		m.applyFilters()
	case m.footer.FullHelp():
		m.footer.CloseHelp()
	}
}

// applyFilters shows the profiles of the current group that match the text
// filter: every word of it must occur in the name, account or provider.
func (m *Model) applyFilters() {
	group := m.groups[m.group]
	terms := strings.Fields(strings.ToLower(m.filter.Value()))
	m.inGroup = m.inGroup[:0]
	var shown []profiles.View
	for _, v := range m.all {
		if group != "" && !slices.Contains(v.Groups, group) {
			continue
		}
		m.inGroup = append(m.inGroup, v)
		hay := strings.ToLower(v.Name + " " + deref(v.Account) + " " + v.Provider)
		if !slices.ContainsFunc(terms, func(t string) bool { return !strings.Contains(hay, t) }) {
			shown = append(shown, v)
		}
	}
	m.tally = tallyOf(m.inGroup)
	m.table.SetRows(shown, m.now)
	switch {
	case !m.loaded:
		m.table.SetEmpty("Loading profiles…")
	case len(m.all) == 0:
		m.table.SetEmpty("No profiles yet. Add one with `sbctl profiles add <name> --provider <provider>`.")
	case len(m.inGroup) == 0:
		m.table.SetEmpty(fmt.Sprintf("No profiles in group %q. Press g for the next group.", group))
	default:
		m.table.SetEmpty("No profiles match. Press esc to clear the filter.")
	}
}

// start runs an operation on the selected profile.
func (m *Model) start(kind opKind) tea.Cmd {
	v, ok := m.table.Selected()
	if !ok {
		m.setNote(noteWarn, "No profile selected.")
		return nil
	}
	if m.op != nil {
		m.setNote(noteWarn, fmt.Sprintf("Still busy with %s: wait for it, or press esc to cancel it.", m.op.describe()))
		return nil
	}
	m.nextID++
	op := &operation{id: m.nextID, kind: kind, name: v.Name}
	op.ctx, op.cancel = context.WithCancel(m.ctx)
	m.op, m.note = op, note{}
	var work tea.Cmd
	switch kind {
	case opReauth:
		ev := newOpEvents()
		op.events = ev.ch
		ro := profiles.ReauthOptions{
			Browser: m.browser(),
			Timeout: m.opts.ReauthTimeout,
			// The flow's messages would land on the screen the TUI draws:
			// they become lines in the sign-in box instead.
			Stderr: ev,
			OnURL:  ev.OnURL,
		}
		if m.opts.NoBrowser {
			ro.Mode = profiles.SignInNoBrowser
		}
		work = tea.Batch(op.run(m.tracker, ev, reauthWork(m.mgr, v.Name, ro)), waitEvent(op))
	case opRefresh:
		work = op.run(m.tracker, nil, refreshWork(m.mgr, v.Name))
	case opVerify:
		work = op.run(m.tracker, nil, verifyWork(m.mgr, v.Name))
	}
	return tea.Batch(m.spinner.Tick, work)
}

// finish reports an operation's outcome and reloads the list, which now
// holds what the operation recorded in the state file.
func (m *Model) finish(msg opDoneMsg) tea.Cmd {
	if m.op == nil || msg.id != m.op.id {
		return nil
	}
	cancelled := m.op.cancelling
	m.op = nil
	m.note = outcome(msg, cancelled, m.mgr.Now())
	if msg.kind == opReauth && msg.err == nil && msg.reauth.View.Name != "" {
		// Show the new status at once; the reload confirms it.
		if i := slices.IndexFunc(m.all, func(v profiles.View) bool { return v.Name == msg.name }); i >= 0 {
			m.all[i] = msg.reauth.View
			m.applyFilters()
		}
	}
	return loadList(m.ctx, m.mgr)
}

func (m *Model) setNote(k noteKind, text string) { m.note = note{k, clean(text)} }

// browser is the opener for sign-ins: the configured one, else the default
// with the browser's own output discarded, since it would land on the
// screen the TUI draws.
func (m *Model) browser() profiles.Opener {
	if m.opts.Browser != nil {
		return m.opts.Browser
	}
	return profiles.QuietOpener()
}

// size is the terminal's size, or a classic 80×24 before it is known.
func (m *Model) size() (int, int) {
	w, h := m.width, m.height
	if w <= 0 {
		w = 80
	}
	if h <= 0 {
		h = 24
	}
	return w, h
}

// relayout gives every child its box after each message: the sign-in box
// and the footer take the lines they need and the table or detail pane
// gets the rest. The help line goes first when the terminal is too short.
func (m *Model) relayout() {
	w, h := m.size()
	m.filter.SetWidth(max(w-ansi.StringWidth(m.filter.Prompt)-1, 1))
	m.keys.filtering = m.filtering
	m.keys.setCancel(m.escAction())

	m.signIn.SetSize(w)
	m.signIn.SetOperation(m.op, m.spinner.View())
	input := ""
	if m.filtering {
		input = m.filter.View()
	}
	m.footer.SetSize(w)
	m.footer.SetKeys(m.keys)
	m.footer.SetFilter(m.filtering, input, m.filter.Value())
	m.footer.SetNote(m.note)
	m.footer.SetTally(m.tally)

	below := lineCount(m.signIn.View())
	m.footer.SetHelpLine(true)
	body := h - 1 - below - lineCount(m.footer.View())
	if body < 3 {
		m.footer.SetHelpLine(false)
		body = h - 1 - below - lineCount(m.footer.View())
	}
	body = max(body, 2)
	m.table.SetSize(w, body)
	m.detail.SetSize(w, body)
	v, ok := m.table.Selected()
	m.detail.SetProfile(v, ok, m.now)
}

func lineCount(s string) int {
	if s == "" {
		return 0
	}
	return lipgloss.Height(s)
}

// View draws the whole screen: the title, the table or the detail pane,
// the sign-in box and the footer.
func (m *Model) View() tea.View {
	w, _ := m.size()
	body := m.table.View()
	if m.showing {
		body = m.detail.View()
	}
	parts := []string{m.titleView(w), body}
	for _, s := range []string{m.signIn.View(), m.footer.View()} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	v := tea.NewView(strings.Join(parts, "\n"))
	v.AltScreen = true
	v.WindowTitle = m.opts.Title
	if s := m.tally.text(); s != "" {
		v.WindowTitle += ": " + s
	}
	return v
}

func (m *Model) titleView(w int) string {
	left := m.styles.title.Render(clean(m.opts.Title))
	info := "all profiles"
	if g := m.groups[m.group]; g != "" {
		info = "group " + clean(g)
	}
	left += m.styles.titleInfo.Render("  " + info)
	right := ""
	if n := m.table.Len(); n > 0 {
		right = fmt.Sprintf("%d/%d", m.table.Cursor()+1, n)
		if n != len(m.inGroup) {
			right += fmt.Sprintf(" (of %d)", len(m.inGroup))
		}
		right = m.styles.titleInfo.Render(right)
	}
	gap := w - ansi.StringWidth(left) - ansi.StringWidth(right)
	if gap < 1 {
		return truncate(left, w)
	}
	return left + strings.Repeat(" ", gap) + right
}
