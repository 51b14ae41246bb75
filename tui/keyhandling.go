package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, m.keys.Interrupt) {
		// Ctrl-C ends the TUI the way it ends any command (exit 130), and
		// cancels a sign-in in progress on the way out.
		m.cancel()
		return tea.Interrupt
	}
	// A form or a sign-in's paste field has the keyboard first: letters
	// typed there are text, not commands.
	for _, area := range []func(tea.KeyPressMsg) (tea.Cmd, bool){m.formKey, m.workKey} {
		if cmd, ok := area(msg); ok {
			return cmd
		}
	}
	if m.filtering {
		return m.filterKey(msg)
	}
	if m.gotoKey(msg) || m.moveKey(msg) || m.viewKey(msg) {
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
	case key.Matches(msg, m.keys.Reload):
		return reloadConfig(m.ctx, m.mgr)
	case key.Matches(msg, m.keys.Add):
		return m.openAdd()
	case key.Matches(msg, m.keys.Remove):
		return m.openRemove()
	case key.Matches(msg, m.keys.Filter):
		m.filtering, m.showing = true, false
		m.filter.CursorEnd()
		return m.filter.Focus()
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
	case key.Matches(msg, m.keys.Mark):
		if v, ok := m.table.Selected(); ok {
			m.toggleMark(v.Name)
			m.table.Move(1)
		}
	case key.Matches(msg, m.keys.MarkAll):
		names := make([]string, 0, m.table.Count())
		for i := range m.table.Count() {
			names = append(names, m.table.rows[i].Name)
		}
		m.markAll(names)
	case key.Matches(msg, m.keys.Log):
		m.toggleLog()
	}
	return nil
}

// gotoKey reads vim's gg (first row): a g waits for a second one; any
// other key after it is handled as if the g had not been pressed.
func (m *Model) gotoKey(msg tea.KeyPressMsg) bool {
	pending := m.pendingG
	m.pendingG = false
	if msg.String() != "g" {
		return false
	}
	if pending {
		m.table.Move(-m.table.Len())
	} else {
		m.pendingG = true
	}
	return true
}

// viewKey changes what the table shows: the group, the sort, the quick
// toggles and the grouped view; false when msg is none of those.
func (m *Model) viewKey(msg tea.KeyPressMsg) bool {
	switch {
	case key.Matches(msg, m.keys.Group):
		m.group = (m.group + 1) % len(m.groups)
	case key.Matches(msg, m.keys.GroupPrev):
		m.group = (m.group + len(m.groups) - 1) % len(m.groups)
	case key.Matches(msg, m.keys.Sort):
		m.sort = m.sort.Next()
		m.resort()
		return true
	case key.Matches(msg, m.keys.OnlyAction):
		m.onlyAction = !m.onlyAction
	case key.Matches(msg, m.keys.OnlyExpiring):
		m.onlyExpiring = !m.onlyExpiring
	case key.Matches(msg, m.keys.Grouped):
		m.grouped = !m.grouped
	default:
		return false
	}
	m.applyFilters()
	return true
}

// jumpToAction moves the cursor to the next (dir 1) or previous (-1) row
// that needs a person, wrapping around; it stays put when none does.
func (m *Model) jumpToAction(dir int) {
	n := m.table.Len()
	for step := 1; step <= n; step++ {
		i := ((m.table.Cursor()+dir*step)%n + n) % n
		if m.table.Row(i).Status.NeedsAction() {
			m.table.SetCursor(i)
			return
		}
	}
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
	case key.Matches(msg, m.keys.NextAction):
		m.jumpToAction(1)
	case key.Matches(msg, m.keys.PrevAction):
		m.jumpToAction(-1)
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
		return nil
	case key.Matches(msg, m.keys.ArrowDown):
		m.table.Move(1)
		return nil
	default:
		return m.typeInFilter(msg)
	}
	m.applyFilters()
	return nil
}

// escAction says what esc does now ("" for nothing), for the key and its
// help alike: cancel the running operation first, then back out of the
// detail pane, the filter and the full help.
func (m *Model) escAction() string {
	switch {
	case m.logEscAction() != "":
		return m.logEscAction()
	case m.op != nil && !m.op.cancelling:
		if m.op.kind == opReauth {
			return "cancel sign-in"
		}
		return "cancel"
	case m.noteEscAction() != "":
		return m.noteEscAction()
	case m.showing:
		return "back"
	case m.filter.Value() != "":
		return "clear filter"
	case m.footer.FullHelp():
		return "close help"
	case m.onlyAction || m.onlyExpiring:
		return "show all"
	}
	return ""
}

func (m *Model) escape() {
	switch {
	case m.op != nil && !m.op.cancelling:
		m.op.cancelling = true
		m.op.cancel()
	case m.dismissNote():
	case m.showing:
		m.showing = false
	case m.filter.Value() != "":
		m.filter.Reset()
		m.applyFilters()
	case m.footer.FullHelp():
		m.footer.CloseHelp()
	case m.onlyAction || m.onlyExpiring:
		m.onlyAction, m.onlyExpiring = false, false
		m.applyFilters()
	}
}

// typeInFilter gives a message to the filter input and filters again only
// when the text changed: a cursor movement costs no pass over the list.
func (m *Model) typeInFilter(msg tea.Msg) tea.Cmd {
	before := m.filter.Value()
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	if m.filter.Value() != before {
		m.applyFilters()
	}
	return cmd
}
