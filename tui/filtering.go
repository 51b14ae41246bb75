package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sbctl/sbctl/profiles"
)

// setList takes a fresh list: sorted once by the current key, and each
// row's search text built once, so a keystroke in the filter costs one
// pass of substring tests and nothing else.
func (m *Model) setList(views []profiles.View) {
	profiles.SortViews(views, m.sort)
	m.all = views
	m.hay = m.hay[:0]
	for i := range views {
		m.hay = append(m.hay, searchText(&views[i]))
	}
}

// searchText is what the filter searches in a row: everything the table
// can show of it (name, account, provider, groups, status and reason), so
// `/needs`, `/revoked` or `/expir` find rows by what is wrong with them.
func searchText(v *profiles.View) string {
	parts := []string{v.Name, deref(v.Account), v.Provider, string(v.Status), deref(v.Reason)}
	parts = append(parts, v.Groups...)
	return strings.ToLower(strings.Join(parts, " "))
}

// resort orders the list by the current key after `s`.
func (m *Model) resort() {
	m.setList(m.all)
	m.applyFilters()
}

// applyFilters shows the profiles of the current group that pass the
// quick toggles (only needing action, only expiring) and match the text
// filter: every word of it must occur in the row's search text.
func (m *Model) applyFilters() {
	group := m.groups[m.group]
	terms := m.filterTerms()
	m.inGroup = m.inGroup[:0]
	shown := make([]profiles.View, 0, len(m.all))
	for i, v := range m.all {
		if group != "" && !slices.Contains(v.Groups, group) {
			continue
		}
		m.inGroup = append(m.inGroup, v)
		if !m.passesToggles(v.Status) {
			continue
		}
		if !slices.ContainsFunc(terms, func(t string) bool { return !strings.Contains(m.hay[i], t) }) {
			shown = append(shown, v)
		}
	}
	m.tally = tallyOf(m.inGroup)
	m.table.SetGrouped(m.groupedBy())
	m.table.SetRows(shown, m.now)
	m.table.SetHighlight(terms)
	m.table.SetEmpty(m.emptyText(group))
}

// groupedBy is the groups the table puts headers for: none in the flat
// view, the current one inside a group, else every group of the config.
func (m *Model) groupedBy() []string {
	switch {
	case !m.grouped:
		return nil
	case m.groups[m.group] != "":
		return []string{m.groups[m.group]}
	}
	return m.groups[1:]
}

func (m *Model) filterTerms() []string {
	return strings.Fields(strings.ToLower(m.filter.Value()))
}

// passesToggles applies the quick toggles; with both on, a row passes
// either.
func (m *Model) passesToggles(s profiles.Status) bool {
	if !m.onlyAction && !m.onlyExpiring {
		return true
	}
	return (m.onlyAction && s.NeedsAction()) || (m.onlyExpiring && s == profiles.StatusExpiring)
}

// emptyText is what an empty table says: why it is empty and the key
// that changes it.
func (m *Model) emptyText(group string) string {
	switch {
	case !m.loaded:
		return "Loading profiles…"
	case len(m.all) == 0:
		return "No profiles yet. Press a to add one."
	case len(m.inGroup) == 0:
		return fmt.Sprintf("No profiles in group %q. Press tab for the next group.", group)
	case m.filter.Value() == "" && m.onlyAction:
		return "Nothing needs action here. Press x to show every profile."
	case m.filter.Value() == "" && m.onlyExpiring:
		return "Nothing is expiring here. Press e to show every profile."
	}
	return "No profiles match. Press esc to clear the filter."
}

// toggleInfo names the active quick toggles for the title ("" for none).
func (m *Model) toggleInfo() string {
	switch {
	case m.onlyAction && m.onlyExpiring:
		return "needing action or expiring"
	case m.onlyAction:
		return "needing action"
	case m.onlyExpiring:
		return "expiring"
	}
	return ""
}

// replaceView puts a fresher view of one profile in the list (after a
// sign-in, before the reload confirms it), keeping order and search text
// true.
func (m *Model) replaceView(v profiles.View) {
	i := slices.IndexFunc(m.all, func(x profiles.View) bool { return x.Name == v.Name })
	if i < 0 {
		return
	}
	m.all[i] = v
	m.setList(m.all)
	m.applyFilters()
}
