package tui

import (
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// TestUrgentRowsFirst: by default the rows that need a person come first
// and the cursor starts on the first one; the title says the order.
func TestUrgentRowsFirst(t *testing.T) {
	m := newTestModel(t, 100, 30)
	if got := rowNames(m); !slices.Equal(got, fixtureNames) {
		t.Fatalf("rows %v, want %v", got, fixtureNames)
	}
	if got := selectedName(m); got != "acme-ig" {
		t.Errorf("cursor starts on %q, want the first (expired) row", got)
	}
	if title := lineWith(t, screen(m), "sbctl"); !strings.Contains(title, "by urgency") {
		t.Errorf("title does not name the order: %q", title)
	}
}

func TestSortKeyCycles(t *testing.T) {
	m := newTestModel(t, 100, 30)
	for _, c := range []struct {
		title string
		first string
	}{
		{"by name", "acme-fb"},
		{"by provider", "acme-li"}, // acme < legacy, then by name
		{"by expiry", "acme-ig"},   // ended a day ago
		{"by urgency", "acme-ig"},
	} {
		press(m, "s")
		if title := lineWith(t, screen(m), "sbctl"); !strings.Contains(title, c.title) {
			t.Errorf("after s: title %q, want %q", title, c.title)
		}
		if got := rowNames(m); got[0] != c.first {
			t.Errorf("%s: rows %v, want %s first", c.title, got, c.first)
		}
	}
}

// TestJumpToNextNeedingAction: n and N go to the next and previous row
// that needs action, wrapping around, skipping healthy and expiring ones.
func TestJumpToNextNeedingAction(t *testing.T) {
	m := newTestModel(t, 100, 30)
	press(m, "s", "home") // by name: acme-fb acme-ig acme-li acme-tt acme-x 広報アカウント
	for _, c := range []struct{ key, want string }{
		{"n", "acme-ig"}, {"n", "acme-li"}, {"n", "acme-tt"}, {"n", "acme-ig"}, // wraps
		{"N", "acme-tt"}, {"N", "acme-li"},
	} {
		press(m, c.key)
		if got := selectedName(m); got != c.want {
			t.Fatalf("after %s: %q, want %q", c.key, got, c.want)
		}
	}
}

// TestFilterFindsStatusAndReason: /needs, /revoked and /expir find rows by
// what is wrong with them, not only by name.
func TestFilterFindsStatusAndReason(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"needs", []string{"acme-li"}},
		{"revoked", []string{"acme-li"}},
		{"expir", []string{"acme-ig", "acme-fb"}},
		{"not_connected", []string{"acme-tt"}},
		{"support", []string{"acme-li", "acme-tt"}}, // a group
	} {
		m := newTestModel(t, 100, 30)
		press(m, "/")
		typeText(m, c.text)
		if got := rowNames(m); !slices.Equal(got, c.want) {
			t.Errorf("/%s: rows %v, want %v", c.text, got, c.want)
		}
	}
}

// TestQuickToggles: x shows only rows needing action, e only expiring
// ones; esc (or the key again) shows everything.
func TestQuickToggles(t *testing.T) {
	m := newTestModel(t, 100, 30)
	press(m, "x")
	if got := rowNames(m); !slices.Equal(got, []string{"acme-ig", "acme-li", "acme-tt"}) {
		t.Errorf("x: %v", got)
	}
	if title := lineWith(t, screen(m), "sbctl"); !strings.Contains(title, "only needing action") {
		t.Errorf("x: title %q", title)
	}
	press(m, "x", "e")
	if got := rowNames(m); !slices.Equal(got, []string{"acme-fb"}) {
		t.Errorf("e: %v", got)
	}
	if !strings.Contains(screen(m), "esc show all") {
		t.Errorf("esc does not offer to show all:\n%s", screen(m))
	}
	press(m, "esc")
	if m.table.Len() != len(fixtureNames) {
		t.Errorf("esc: %v", rowNames(m))
	}
	// The tally still counts the whole group, not the toggled rows.
	press(m, "x")
	if !strings.Contains(screen(m), "3 need re-authentication, 1 expiring soon") {
		t.Errorf("the tally follows the toggle:\n%s", screen(m))
	}
}

func TestTopBottomAndGroupsBothWays(t *testing.T) {
	m := newTestModel(t, 100, 30)
	press(m, "G")
	if got := selectedName(m); got != "acme-x" {
		t.Errorf("G: %q", got)
	}
	press(m, "g")
	if got := selectedName(m); got != "acme-x" {
		t.Errorf("one g must wait for the second: %q", got)
	}
	press(m, "g")
	if got := selectedName(m); got != "acme-ig" {
		t.Errorf("gg: %q", got)
	}
	press(m, "g", "j") // a g followed by another key is just that key
	if got := selectedName(m); got != "acme-li" {
		t.Errorf("g j: %q", got)
	}
	press(m, "shift+tab") // backwards from all profiles: the last group
	if title := lineWith(t, screen(m), "sbctl"); !strings.Contains(title, "group support") {
		t.Errorf("shift+tab: %q", title)
	}
	press(m, "shift+tab")
	if title := lineWith(t, screen(m), "sbctl"); !strings.Contains(title, "group marketing") {
		t.Errorf("shift+tab twice: %q", title)
	}
}

func TestMouseWheelAndClick(t *testing.T) {
	m := newTestModel(t, 100, 30)
	m.Update(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if got := selectedName(m); got != fixtureNames[wheelStep] {
		t.Errorf("wheel down: %q, want %q", got, fixtureNames[wheelStep])
	}
	m.Update(tea.MouseWheelMsg{Button: tea.MouseWheelUp})
	if got := selectedName(m); got != fixtureNames[0] {
		t.Errorf("wheel up: %q", got)
	}
	// Line 0 is the title, line 1 the header: line 3 is the second row.
	m.Update(tea.MouseClickMsg{Button: tea.MouseLeft, Y: 3})
	if got := selectedName(m); got != fixtureNames[1] {
		t.Errorf("click on line 3: %q, want %q", got, fixtureNames[1])
	}
	m.Update(tea.MouseClickMsg{Button: tea.MouseLeft, Y: 3})
	if !m.showing {
		t.Error("a click on the selected row should open its details")
	}
	m.Update(tea.MouseClickMsg{Button: tea.MouseLeft, Y: 1}) // the header: nothing
	if v := m.View(); v.MouseMode != tea.MouseModeCellMotion {
		t.Errorf("mouse mode %v", v.MouseMode)
	}
}

// TestFilterInputDoesNotBlink: a blinking cursor would wake the program
// twice a second while the filter is open and idle.
func TestFilterInputDoesNotBlink(t *testing.T) {
	m := newTestModel(t, 100, 30)
	press(m, "/")
	if m.filter.Styles().Cursor.Blink {
		t.Error("the filter cursor blinks")
	}
}

// TestGroupedViewHasHeaders: t puts the rows under their groups' headers
// (SPEC §7 "grouped or flat") and back; inside a group, only its header.
func TestGroupedViewHasHeaders(t *testing.T) {
	m := newTestModel(t, 100, 30)
	press(m, "t")
	scr := screen(m)
	if !strings.Contains(scr, "marketing (4)") || !strings.Contains(scr, "support (2)") {
		t.Fatalf("no group headers:\n%s", scr)
	}
	if title := lineWith(t, scr, "sbctl"); !strings.Contains(title, "grouped") {
		t.Errorf("title %q", title)
	}
	if strings.Index(scr, "marketing (4)") > strings.Index(scr, "acme-ig") {
		t.Errorf("the header comes after its first row:\n%s", scr)
	}
	press(m, "tab")
	if scr := screen(m); strings.Contains(scr, "support (2)") || !strings.Contains(scr, "marketing (4)") {
		t.Errorf("inside a group only its header shows:\n%s", scr)
	}
	press(m, "shift+tab", "t")
	if strings.Contains(screen(m), "marketing (4)") {
		t.Errorf("t again should be flat:\n%s", screen(m))
	}
}

// TestFilterHighlightsMatches: the matched text is drawn in reverse video,
// which survives NO_COLOR.
func TestFilterHighlightsMatches(t *testing.T) {
	m := newTestModel(t, 100, 30)
	press(m, "/")
	typeText(m, "revoked")
	// The reason cell reads access_ + "revoked" in reverse video (SGR 7,
	// here combined with the row's other attributes).
	raw := lineWith(t, m.View().Content, "acme-li")
	if !strings.Contains(raw, ";7;") || !strings.Contains(raw, "mrevoked") {
		t.Errorf("the match is not highlighted:\n%q", raw)
	}
}
