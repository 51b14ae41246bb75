package tui

import "charm.land/bubbles/v2/key"

// keyMap is every key the TUI answers to. The model turns bindings on and
// off as the screen changes (esc means "cancel the sign-in", "back" or
// "clear the filter"), so the help line only offers what works now.
type keyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	// NextAction and PrevAction jump to the next row that needs a person.
	NextAction, PrevAction key.Binding

	Filter, OnlyAction, OnlyExpiring, Sort key.Binding
	Group, GroupPrev, Grouped              key.Binding
	Details, Log, Reload, Cancel           key.Binding

	Reauth, Refresh, Verify key.Binding
	Mark, MarkAll           key.Binding
	Add, Remove             key.Binding
	Help, Quit, Interrupt   key.Binding

	// While the filter input has focus, letters are text: only these and
	// the arrow keys (not j/k) act.
	Apply, Clear, ArrowUp, ArrowDown key.Binding

	filtering bool
	showing   bool // the detail pane is open: "enter details" is not offered
}

func newKeyMap() keyMap {
	return keyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		// gg is a two-key sequence the model reads itself (keyhandling.go).
		Top:        key.NewBinding(key.WithKeys("home"), key.WithHelp("home/gg", "first")),
		Bottom:     key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "last")),
		NextAction: key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next needing action")),
		PrevAction: key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "previous needing action")),

		Filter:       key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		OnlyAction:   key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "only needing action")),
		OnlyExpiring: key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "only expiring")),
		Sort:         key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		Group:        key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next group")),
		GroupPrev:    key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous group")),
		Grouped:      key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "grouped/flat")),
		Details:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Log:          key.NewBinding(key.WithKeys("L"), key.WithHelp("L", "log")),
		Reload:       key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "reload")),
		Cancel:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back"), key.WithDisabled()),

		Reauth:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reauth")),
		Refresh: key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "refresh")),
		Verify:  key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "verify")),
		Mark:    key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "mark")),
		MarkAll: key.NewBinding(key.WithKeys("A"), key.WithHelp("A", "mark all shown")),
		Add:     key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "add profile")),
		Remove:  key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "remove profile")),

		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more keys")),
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Interrupt: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),

		Apply: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter")),
		Clear: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),

		ArrowUp:   key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "up")),
		ArrowDown: key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "down")),
	}
}

// setCancel enables esc with what it will do now, or disables it.
func (k *keyMap) setCancel(what string) {
	k.Cancel.SetEnabled(what != "")
	k.Cancel.SetHelp("esc", what)
}

// ShortHelp is the one-line help: the actions first, since they are what a
// person at this screen came for.
func (k keyMap) ShortHelp() []key.Binding {
	if k.filtering {
		return []key.Binding{k.Apply, k.Clear, k.Interrupt}
	}
	details := k.Details
	if k.showing {
		details.SetEnabled(false)
	}
	return []key.Binding{k.Cancel, k.Reauth, k.Refresh, k.Verify, k.Mark, details, k.Filter, k.Sort, k.Group, k.Help, k.Quit}
}

// FullHelp is the `?` help, in columns: moving, acting, choosing what is
// shown, and the program.
func (k keyMap) FullHelp() [][]key.Binding {
	if k.filtering {
		return [][]key.Binding{{k.Apply, k.Clear, k.Interrupt}}
	}
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.NextAction, k.PrevAction},
		{k.Reauth, k.Refresh, k.Verify, k.Mark, k.MarkAll, k.Add, k.Remove, k.Details},
		{k.Filter, k.OnlyAction, k.OnlyExpiring, k.Sort, k.Group, k.GroupPrev, k.Grouped, k.Log},
		{k.Reload, k.Cancel, k.Help, k.Quit, k.Interrupt},
	}
}
