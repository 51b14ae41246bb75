package tui

import (
	"slices"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// TestSuccessNotesFade: a success note returns its fade tick and goes when
// the tick arrives; a tick for an older note leaves a newer one alone; a
// warning returns no tick and stays until esc dismisses it.
func TestSuccessNotesFade(t *testing.T) {
	m := newTestModel(t, 100, 30)
	cmd := m.setNote(noteOK, "Connected acme-tt as Acme TT.")
	if cmd == nil {
		t.Fatal("a success note has no fade tick")
	}
	fade := noteFadeMsg{seq: m.work.noteSeq, text: m.note.text}
	m.Update(fade)
	if m.note.text != "" || strings.Contains(screen(m), "Connected acme-tt") {
		t.Fatalf("the note did not fade:\n%s", screen(m))
	}

	m.setNote(noteInfo, "first")
	old := noteFadeMsg{seq: m.work.noteSeq, text: "first"}
	m.setNote(noteInfo, "second")
	m.Update(old)
	if m.note.text != "second" {
		t.Errorf("an older note's fade cleared %q", m.note.text)
	}

	if cmd := m.setNote(noteErr, "Refreshing acme-x failed: token endpoint: 503"); cmd != nil {
		t.Error("an error note fades")
	}
	m.Update(noteFadeMsg{seq: m.work.noteSeq, text: m.note.text})
	if m.note.text == "" {
		t.Fatal("an error faded")
	}
	if got := m.noteEscAction(); got != "dismiss message" {
		t.Errorf("noteEscAction = %q", got)
	}
	if !m.dismissNote() || m.note.text != "" || m.dismissNote() || m.noteEscAction() != "" {
		t.Error("dismissNote")
	}
	// A success is not dismissed by esc (it fades): esc keeps its other
	// meanings.
	m.setNote(noteOK, "ok")
	if m.noteEscAction() != "" || m.dismissNote() {
		t.Error("esc would dismiss a fading note")
	}
}

// TestNotesInTUIsWords: no command-line advice, one wording for a
// profile never connected, "cannot be renewed yet" told from "never",
// a repeated provider prefix said once.
func TestNotesInTUIsWords(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"legacy issued no refresh token: run sbctl reauth", "legacy issued no refresh token"},
		{"the grant is no longer valid; re-authenticate with `sbctl reauth`", "the grant is no longer valid"},
		{"the token stored for profile \"p\" is unreadable; run `sbctl reauth p` to replace it", "the token stored for profile \"p\" is unreadable; press r to replace it"},
		{"the request was not sent again: check with `sbctl profiles verify` and re-authenticate if the grant is gone", "the request was not sent again: check with v and re-authenticate if the grant is gone"},
		{`provider "blackhole": provider "blackhole": auth_url must use https`, `provider "blackhole": auth_url must use https`},
		{"sbx: sbx: sbx: connection refused", "sbx: connection refused"},
	} {
		if got := tuiText(c.in); got != c.want {
			t.Errorf("tuiText(%q)\n = %q\nwant %q", c.in, got, c.want)
		}
	}
}

// TestLogViewScrollsAndCloses: once open, the log takes the move keys and
// esc (through workKey); a long error is there whole.
func TestLogViewScrollsAndCloses(t *testing.T) {
	m := newTestModel(t, 60, 20)
	long := "Refreshing acme-x failed: " + strings.Repeat("a very long chain of wrapped errors, ", 12) + "and the end."
	m.setNote(noteErr, long)
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 20}) // the root lays the footer out on each message
	if !strings.Contains(screen(m), "(L: all of it)") {
		t.Errorf("a cut note does not say where it is whole:\n%s", screen(m))
	}
	for i := range 30 {
		m.setNote(noteInfo, "message "+string(rune('A'+i%26))+strings.Repeat("!", i/26))
	}
	m.toggleLog()
	m.work.log.SetSize(60, 10)
	first := m.logView()
	if lines := strings.Split(first, "\n"); len(lines) != 10 {
		t.Fatalf("the log is %d lines, want its box's 10", len(lines))
	}
	press(m, "down", "down")
	if m.work.log.offset != 2 || m.logView() == first {
		t.Errorf("down did not scroll: offset %d", m.work.log.offset)
	}
	if m.work.log.open != true {
		t.Fatal("a move key closed the log")
	}
	press(m, "end")
	all := strings.Join(collectLog(m), " ")
	if !strings.Contains(strings.Join(strings.Fields(all), " "), "and the end.") {
		t.Errorf("the long error is not whole in the log")
	}
	press(m, "esc")
	if m.work.log.open || m.logView() != "" {
		t.Error("esc did not close the log")
	}
	if m.logEscAction() != "" {
		t.Error("logEscAction while closed")
	}
}

// collectLog reads every line of the log by scrolling it.
func collectLog(m *Model) []string {
	var out []string
	for _, l := range m.work.log.lines() {
		out = append(out, l.text)
	}
	return out
}

// TestRepeatedMessagesAreCounted: the same note again is one log line with
// a count.
func TestRepeatedMessagesAreCounted(t *testing.T) {
	m := newTestModel(t, 100, 30)
	for range 3 {
		m.setNote(noteErr, "Could not list the profiles: state file: permission denied")
	}
	if n := len(m.work.log.messages); n != 1 || m.work.log.messages[0].count != 3 {
		t.Fatalf("messages %+v", m.work.log.messages)
	}
	m.toggleLog()
	m.work.log.SetSize(100, 10)
	if !strings.Contains(m.logView(), "permission denied (×3)") {
		t.Errorf("log:\n%s", m.logView())
	}
}

// helpFooter is a footer as the root lays it out, with the full help open.
func helpFooter(w, maxLines int, ctx footerContext) footer {
	f := newFooter()
	f.SetStyles(newStyles(true))
	f.SetSize(w)
	f.SetMaxLines(maxLines)
	k := newKeyMap()
	k.setCancel("back")
	k.showing = ctx.Showing
	f.SetKeys(k)
	f.SetContext(ctx)
	return f
}

// TestFullHelpReflows: at 40 columns and the lines a 40×15 screen leaves,
// the `?` help is laid out in columns that fit and, a page at a time,
// reaches every binding; each page but the last says `?` shows more, the
// last that it closes, and none says "more keys".
func TestFullHelpReflows(t *testing.T) {
	f := helpFooter(40, 12, footerContext{})
	var want []string
	for _, g := range f.keys.FullHelp() {
		for _, b := range g {
			if b.Enabled() && !sameKeys(b, f.keys.Help) {
				want = append(want, b.Help().Desc)
			}
		}
	}
	f.ToggleHelp()
	seen := map[string]bool{}
	pages := 0
	for f.FullHelp() {
		pages++
		v := ansi.Strip(f.View())
		lines := strings.Split(v, "\n")
		if len(lines) > 12 {
			t.Errorf("page %d is %d lines, more than 12:\n%s", pages, len(lines), v)
		}
		for _, l := range lines {
			if ansi.StringWidth(l) > 40 {
				t.Errorf("page %d: line wider than 40: %q", pages, l)
			}
		}
		if strings.Contains(v, "more keys") {
			t.Errorf("page %d offers ? more keys while the help is open:\n%s", pages, v)
		}
		for _, d := range want {
			if strings.Contains(v, d) {
				seen[d] = true
			}
		}
		if pages < len(f.helpPages()) && !strings.Contains(v, "? for more") {
			t.Errorf("page %d of %d: ? does not say it shows more:\n%s", pages, len(f.helpPages()), v)
		}
		if pages == len(f.helpPages()) && !strings.Contains(v, "close help") {
			t.Errorf("last page: ? does not say it closes:\n%s", v)
		}
		f.ToggleHelp()
		if pages > 10 {
			t.Fatal("? never closes the help")
		}
	}
	for _, d := range want {
		if !seen[d] {
			t.Errorf("binding %q is on no page", d)
		}
	}
	if pages < 2 {
		t.Errorf("%d page(s) at 40×12: the keys do not fit one", pages)
	}

	// With room, one page in several columns.
	f = helpFooter(100, 30, footerContext{})
	f.ToggleHelp()
	if len(f.helpPages()) != 1 || len(strings.Split(f.View(), "\n")) > 10 {
		t.Errorf("at 100×30 the help should be one page of a few rows:\n%s", ansi.Strip(f.View()))
	}
}

// TestHelpLineIsContextual: no "enter details" inside the details; the
// paste field's keys alone while it has the keyboard; the copy key while a
// sign-in shows its address; the log's keys while it is open; how many
// rows are marked.
func TestHelpLineIsContextual(t *testing.T) {
	line := func(ctx footerContext) string {
		f := helpFooter(200, 0, ctx)
		return ansi.Strip(f.View())
	}
	if l := line(footerContext{Showing: true}); strings.Contains(l, "enter details") || !strings.Contains(l, "esc back") {
		t.Errorf("inside the details: %q", l)
	}
	if l := line(footerContext{Pasting: true}); l != "enter send • ctrl+y copy address • esc cancel sign-in • ctrl+c quit" {
		t.Errorf("pasting: %q", l)
	}
	if l := line(footerContext{CanCopy: true}); !strings.Contains(l, "esc back • c copy address • r reauth") {
		t.Errorf("a sign-in's address: %q", l)
	}
	if l := line(footerContext{LogOpen: true}); !strings.Contains(l, "L/esc close log") || strings.Contains(l, "reauth") {
		t.Errorf("log open: %q", l)
	}
	f := helpFooter(100, 0, footerContext{Marked: 3})
	f.SetTally(tally{total: 6, action: 3, expiring: 1})
	if l := ansi.Strip(f.View()); !strings.Contains(l, "3 need re-authentication, 1 expiring soon · 3 marked (r, f and v act on them)") {
		t.Errorf("marked: %q", l)
	}
}

// TestFooterKeepsWithinItsLines: over its lines, the footer drops the
// tally, the filter line and the note's second line before the help line.
func TestFooterKeepsWithinItsLines(t *testing.T) {
	f := helpFooter(40, 2, footerContext{})
	f.SetFilter(false, "", "legacy")
	f.SetNote(note{noteErr, strings.Repeat("the network said no; ", 8)})
	f.SetTally(tally{total: 6, action: 3, expiring: 1})
	lines := strings.Split(ansi.Strip(f.View()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "the network said no") || !strings.Contains(lines[0], "(L: all of it)") || !strings.Contains(lines[1], "esc back") {
		t.Errorf("footer in 2 lines:\n%s", strings.Join(lines, "\n"))
	}
}

func TestKeysUsedByTheBoxExist(t *testing.T) {
	// The copy key answers to c, y and ctrl+y; the paste field's to ctrl+y.
	for _, k := range []tea.KeyPressMsg{keyMsg("c"), keyMsg("y"), ctrlKey('y')} {
		if !key.Matches(k, copyKey) {
			t.Errorf("%s does not copy", k)
		}
	}
	if !slices.Equal(pasteKeys.Copy.Keys(), []string{"ctrl+y"}) {
		t.Error("paste field copy key")
	}
}
