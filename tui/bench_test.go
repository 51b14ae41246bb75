package tui

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"charm.land/bubbles/v2/cursor"
	tea "charm.land/bubbletea/v2"

	"github.com/sbctl/sbctl/profiles"
)

// The TUI at fleet scale (issue 11 item 10): Update + View at 100×30 with
// 10,000 profiles in the review's mix (manyViews: 3% not_connected, 77%
// ok, 10% expiring, 5% expired, 5% needs_reauth, 5 groups, some Japanese
// names). The views are built in memory, as List would return them, so
// the figures are the TUI's own. Targets: first frame < 100 ms, a move
// < 2 ms, a filter keystroke < 16 ms, and a move's allocations the same
// at 1,000 and 10,000 profiles. Run:
//
//	go test -run '^$' -bench 'k$' -benchtime=20x ./tui/
//
// Figures are in docs/benchmarks.md.

const benchConfig = `providers:
  sbx:
    type: oidc
    issuer: https://id.sbx.example
    client_id: sbctl
groups:
  marketing: {}
  support: {}
  sales: {}
  広報: {}
  emea: {}
`

func benchManager(b *testing.B) *profiles.Manager {
	b.Helper()
	return newManager(b, benchConfig, nil, func() time.Time { return testNow })
}

// loadedModel is a model at 100×30 showing views, as after the first load.
func loadedModel(b *testing.B, views []profiles.View) *Model {
	b.Helper()
	m := New(benchManager(b), Options{Title: "sbctl bench"})
	b.Cleanup(m.cancel)
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	m.Update(listMsg{views: slices.Clone(views), now: testNow})
	_ = m.View()
	return m
}

// BenchmarkFirstFrame10k: from a new model to the first frame with the
// list: the size, the list of 10,000 (sorted, indexed for the filter,
// measured for the table) and the View. It also reports the heap the
// loaded model keeps (live-MB).
func BenchmarkFirstFrame10k(b *testing.B) { benchFirstFrame(b, 10000) }

func BenchmarkFirstFrame1k(b *testing.B) { benchFirstFrame(b, 1000) }

func benchFirstFrame(b *testing.B, n int) {
	views := manyViews(n)
	mgr := benchManager(b)
	b.ReportAllocs()
	var m *Model
	for b.Loop() {
		b.StopTimer()
		// List hands over a fresh slice each time; the model may sort it.
		list := slices.Clone(views)
		b.StartTimer()
		m = New(mgr, Options{Title: "sbctl bench"})
		m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
		m.Update(listMsg{views: list, now: testNow})
		_ = m.View()
		m.cancel()
	}
	b.StopTimer()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "live-MB")
	runtime.KeepAlive(m)
}

// BenchmarkMoveKeystroke10k: one ↓ on the loaded list, Update + View.
func BenchmarkMoveKeystroke10k(b *testing.B) { benchMove(b, 10000) }

func BenchmarkMoveKeystroke1k(b *testing.B) { benchMove(b, 1000) }

func benchMove(b *testing.B, n int) {
	m := loadedModel(b, manyViews(n))
	// Start in the middle, so every ↓ scrolls the window.
	m.table.SetCursor(n / 2)
	down := keyMsg("down")
	b.ReportAllocs()
	for b.Loop() {
		if m.table.Cursor() >= m.table.Len()-1 {
			b.StopTimer()
			m.table.SetCursor(n / 2)
			b.StartTimer()
		}
		m.Update(down)
		_ = m.View()
	}
}

// BenchmarkFilterKeystroke10k: the filter is open and empty; one letter
// typed (it matches nearly every row, the most the table can be given),
// Update + View. The letter is taken back between iterations, untimed.
func BenchmarkFilterKeystroke10k(b *testing.B) { benchFilter(b, 10000) }

func BenchmarkFilterKeystroke1k(b *testing.B) { benchFilter(b, 1000) }

func benchFilter(b *testing.B, n int) {
	m := loadedModel(b, manyViews(n))
	m.Update(keyMsg("/"))
	typed, back := keyMsg("b"), keyMsg("backspace")
	b.ReportAllocs()
	for b.Loop() {
		m.Update(typed)
		_ = m.View()
		b.StopTimer()
		m.Update(back)
		b.StartTimer()
	}
	if !m.filtering {
		b.Fatal("the filter input is not open")
	}
}

// BenchmarkBlinkWhileFiltering10k: what one blink of the filter input's
// cursor costs while nothing else happens (the review measured 8% of a
// core idle at 10,000 profiles): Update + View.
func BenchmarkBlinkWhileFiltering10k(b *testing.B) {
	m := loadedModel(b, manyViews(10000))
	m.Update(keyMsg("/"))
	b.ReportAllocs()
	for b.Loop() {
		m.Update(cursor.BlinkMsg{})
		_ = m.View()
	}
}
