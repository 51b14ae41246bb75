package tui

import "charm.land/bubbles/v2/key"

// keyMap is every key the TUI answers to. The model turns bindings on and
// off as the screen changes (esc means "cancel the sign-in", "back" or
// "clear the filter"), so the help line only offers what works now.
type keyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding

	Filter, Group, Details, Cancel key.Binding
	Reauth, Refresh, Verify        key.Binding
	Help, Quit, Interrupt          key.Binding

	// While the filter input has focus, letters are text: only these and
	// the arrow keys (not j/k) act.
	Apply, Clear, ArrowUp, ArrowDown key.Binding

	filtering bool
}

func newKeyMap() keyMap {
	return keyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home"), key.WithHelp("home", "first")),
		Bottom:   key.NewBinding(key.WithKeys("end"), key.WithHelp("end", "last")),

		Filter:  key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Group:   key.NewBinding(key.WithKeys("g"), key.WithHelp("g", "group")),
		Details: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Cancel:  key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back"), key.WithDisabled()),

		Reauth:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reauth")),
		Refresh: key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "refresh")),
		Verify:  key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "verify")),

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
	return []key.Binding{k.Cancel, k.Reauth, k.Refresh, k.Verify, k.Details, k.Filter, k.Group, k.Help, k.Quit}
}

// FullHelp is the `?` help, in columns.
func (k keyMap) FullHelp() [][]key.Binding {
	if k.filtering {
		return [][]key.Binding{{k.Apply, k.Clear, k.Interrupt}}
	}
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Reauth, k.Refresh, k.Verify, k.Details},
		{k.Filter, k.Group, k.Cancel},
		{k.Help, k.Quit, k.Interrupt},
	}
}
