package profiles

import (
	"slices"
	"testing"
	"time"
)

func TestSortViewsUrgencyPutsDeadConnectionsFirst(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	views := []View{
		{Name: "a-ok", Status: StatusOK, ConnectionExpiresAt: at(30 * 24 * time.Hour)},
		{Name: "b-expiring-later", Status: StatusExpiring, ConnectionExpiresAt: at(5 * 24 * time.Hour)},
		{Name: "c-unknown", Status: StatusUnknown},
		{Name: "d-expiring-soon", Status: StatusExpiring, ConnectionExpiresAt: at(time.Hour)},
		{Name: "e-never", Status: StatusNotConnected},
		{Name: "f-revoked", Status: StatusNeedsReauth},
		{Name: "g-expired", Status: StatusExpired, ConnectionExpiresAt: at(-time.Hour)},
	}
	SortViews(views, SortUrgency)
	want := []string{"g-expired", "f-revoked", "e-never", "c-unknown", "d-expiring-soon", "b-expiring-later", "a-ok"}
	if got := viewNamesInOrder(views); !slices.Equal(got, want) {
		t.Fatalf("urgency order = %v, want %v", got, want)
	}

	SortViews(views, SortName)
	if got := viewNamesInOrder(views); !slices.IsSorted(got) {
		t.Fatalf("name order = %v", got)
	}
	SortViews(views, SortExpiry)
	if got := viewNamesInOrder(views); got[0] != "g-expired" || got[len(got)-1] != "f-revoked" {
		// f-revoked, c-unknown and e-never have no known end: last, by name.
		t.Fatalf("expiry order = %v, want soonest first and unknown ends last", got)
	}
}

func TestSortKeyCyclesAndParses(t *testing.T) {
	k := SortUrgency
	var seen []string
	for range 4 {
		seen = append(seen, k.String())
		k = k.Next()
	}
	if k != SortUrgency || !slices.Equal(seen, []string{"urgency", "name", "provider", "expiry"}) {
		t.Fatalf("cycle = %v, back to %v", seen, k)
	}
	if got, err := ParseSortKey("Expiry"); err != nil || got != SortExpiry {
		t.Fatalf("ParseSortKey(Expiry) = %v, %v", got, err)
	}
	if _, err := ParseSortKey("age"); err == nil {
		t.Fatal("ParseSortKey(age) accepted an unknown key")
	}
}

func viewNamesInOrder(vs []View) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Name
	}
	return out
}
