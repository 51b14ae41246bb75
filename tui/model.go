package tui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

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
	// NoColor draws without colour (--no-color, $NO_COLOR), keeping bold,
	// underline and the selection marker.
	NoColor bool
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

	all     []profiles.View // every profile, from the last List, sorted by sort
	hay     []string        // each of all's search text, lower-cased (filtering.go)
	inGroup []profiles.View // those in the current group (the tally counts these)
	tally   tally           // of inGroup
	now     time.Time       // when all was evaluated
	loaded  bool

	groups    []string // "" (all), then the config's groups
	group     int
	filtering bool // the filter input has the keyboard
	showing   bool // the detail pane replaces the table

	sort         profiles.SortKey
	onlyAction   bool // the x toggle: only rows that need action
	onlyExpiring bool // the e toggle: only expiring rows
	grouped      bool // rows under group headers instead of one flat list
	pendingG     bool // g was pressed: a second g goes to the top

	op     *operation
	nextID int
	note   note

	work  workState  // batch queue, results log, messages (operations.go)
	form  formState  // the add/remove forms (forms.go)
	watch watchState // the config watcher (watch.go)
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
	return tea.Batch(tea.RequestBackgroundColor, loadList(m.ctx, m.mgr), tick(), m.watchInit())
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
		// The minute's reload also rereads a changed config (and its
		// groups) where no file watcher runs.
		return tea.Batch(reloadConfig(m.ctx, m.mgr), tick())

	case tea.KeyPressMsg:
		return m.key(msg)

	case tea.MouseWheelMsg, tea.MouseClickMsg:
		return m.mouse(msg)
	}
	// Each area of the TUI handles its own messages: the operations
	// (operations.go), the add/remove forms (forms.go) and the config
	// watcher (watch.go). An open form comes first: a paste meant for it
	// must not reach a sign-in's paste field.
	for _, area := range []func(tea.Msg) (tea.Cmd, bool){m.formUpdate, m.workUpdate, m.watchUpdate} {
		if cmd, ok := area(msg); ok {
			return cmd
		}
	}
	if m.filtering {
		// Cursor blinks and pastes belong to the input.
		return m.typeInFilter(msg)
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
	m.now, m.loaded = msg.now, true
	m.setList(msg.views)
	m.applyFilters()
	return nil
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
	m.signIn.SetHeight(h - 4) // all but the title, two body rows and one footer line
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
	m.footer.SetContext(m.footerContext())
	m.footer.SetMaxLines(h - 1 - below - 2) // two body rows stay
	m.footer.SetHelpLine(true)
	body := h - 1 - below - lineCount(m.footer.View())
	if body < 3 {
		m.footer.SetHelpLine(false)
		body = h - 1 - below - lineCount(m.footer.View())
	}
	body = max(body, 2)
	m.table.SetSize(w, body)
	m.detail.SetSize(w, body)
	m.work.log.SetSize(w, body)
	m.table.SetMarks(m.markFunc())
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
	if l := m.logView(); l != "" {
		body = l
	}
	if m.formOpen() {
		body = m.formView()
	}
	parts := []string{m.titleView(w), body}
	for _, s := range []string{m.signIn.View(), m.footer.View()} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	v := tea.NewView(strings.Join(parts, "\n"))
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
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
	if t := m.toggleInfo(); t != "" {
		info += ", only " + t
	}
	info += " · by " + m.sort.String()
	if m.grouped {
		info += ", grouped"
	}
	left += m.styles.titleInfo.Render("  " + info)
	right := ""
	if n := m.table.Len(); n > 0 {
		right = fmt.Sprintf("%d/%d", m.table.Cursor()+1, n)
		if m.table.Count() != len(m.inGroup) {
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
