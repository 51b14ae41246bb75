package tui

import tea "charm.land/bubbletea/v2"

// wheelStep is how many rows one notch of the wheel moves.
const wheelStep = 3

// mouse handles the wheel (scroll the selection) and a left click on a
// table row (select it; a click on the selected row opens its details).
// The mouse is for the table only: forms, the paste field and the detail
// pane keep to the keyboard.
func (m *Model) mouse(msg tea.Msg) tea.Cmd {
	if m.formOpen() {
		return nil
	}
	switch msg := msg.(type) {
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			m.table.Move(-wheelStep)
		case tea.MouseWheelDown:
			m.table.Move(wheelStep)
		}
	case tea.MouseClickMsg:
		if msg.Button != tea.MouseLeft || m.showing {
			return nil
		}
		// The title is line 0; the table starts on line 1.
		i, ok := m.table.RowAt(msg.Y - 1)
		if !ok {
			return nil
		}
		if i == m.table.Cursor() {
			m.showing = true
			return nil
		}
		m.table.SetCursor(i)
	}
	return nil
}
