package team

import (
	"errors"
	"testing"
	"time"
)

func TestRecords(t *testing.T) {
	t.Parallel()
	_, db := fleet(t)
	ctx := testCtx(t)
	recs, err := db.Records(ctx)
	if err != nil || len(recs) != 2 {
		t.Fatalf("Records = %v, %v", recs, err)
	}
	if r, err := db.Record(ctx, "mk2"); r != nil || err != nil {
		t.Fatalf("Record(mk2) = %q, %v; want nil", r, err)
	}
	// fn sees every record; an unchanged one (re-marshalled differently) is
	// not written; a deleted key removes the record.
	before, _ := db.Events(ctx, "", time.Time{})
	err = db.UpdateRecords(ctx, func(m map[string][]byte) error {
		m["mk1"] = []byte(`{ "status" : "ok" }`)
		m["mk2"] = []byte(`{"status":"new"}`)
		delete(m, "sp1")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ = db.Records(ctx)
	if len(recs) != 2 || string(recs["mk2"]) != `{"status": "new"}` || recs["sp1"] != nil {
		t.Fatalf("after UpdateRecords: %q", recs)
	}
	after, _ := db.Events(ctx, "", time.Time{})
	if len(after) != len(before) {
		t.Errorf("UpdateRecords logged %d events", len(after)-len(before))
	}
	// The callback's error comes back as is, and nothing is written.
	boom := errors.New("boom")
	if err := db.UpdateRecords(ctx, func(m map[string][]byte) error { m["mk1"] = []byte(`{}`); return boom }); err != boom {
		t.Fatalf("UpdateRecords returned %v, want the callback's error", err)
	}
	if r, _ := db.Record(ctx, "mk1"); string(r) != `{"status": "ok"}` {
		t.Fatalf("mk1 after the failed update: %s", r)
	}
	if err := db.UpdateRecord(ctx, "mk1", func([]byte) ([]byte, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	if r, _ := db.Record(ctx, "mk1"); r != nil {
		t.Fatalf("mk1 after removal: %s", r)
	}
	if err := db.UpdateRecord(ctx, "nope", func([]byte) ([]byte, error) { return []byte(`{}`), nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("record of a profile not in the catalog: %v", err)
	}
	if err := db.UpdateRecord(ctx, "mk1", func([]byte) ([]byte, error) { return []byte(`{`), nil }); err == nil {
		t.Fatal("stored a record that is not JSON")
	}
}

// TestUpdateRecordsLocks: a second UpdateRecords waits for the first (its
// rows are locked), so read-modify-write loses nothing.
func TestUpdateRecordsLocks(t *testing.T) {
	t.Parallel()
	url, a := fleet(t)
	b := open(t, url)
	ctx := testCtx(t)
	entered, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- a.UpdateRecords(ctx, func(m map[string][]byte) error {
			close(entered)
			<-release
			m["mk1"] = []byte(`{"n": 1}`)
			return nil
		})
	}()
	<-entered
	second := make(chan error, 1)
	go func() {
		second <- b.UpdateRecord(ctx, "mk1", func(r []byte) ([]byte, error) {
			if string(r) != `{"n": 1}` {
				return nil, errors.New("second writer saw " + string(r) + ", not the first writer's record")
			}
			return []byte(`{"n": 2}`), nil
		})
	}()
	pollWaiters(t, a, 1)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if r, _ := a.Record(ctx, "mk1"); string(r) != `{"n": 2}` {
		t.Fatalf("mk1 = %s", r)
	}
}

func TestMarkers(t *testing.T) {
	t.Parallel()
	url, owner := fleet(t)
	memberLogin, _, member := joined(t, owner, url, RoleMember, "marketing")
	_, _, viewer := joined(t, owner, url, RoleViewer)
	ctx := testCtx(t)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if err := member.PutMarker(ctx, Marker{Profile: "mk1", Login: "forged", PID: 42, StartedAt: at, RefreshSHA256: "abc", Note: "rotating"}); err != nil {
		t.Fatal(err)
	}
	mk, err := owner.Marker(ctx, "mk1")
	if err != nil || mk == nil {
		t.Fatalf("Marker = %v, %v", mk, err)
	}
	want := Marker{Profile: "mk1", Login: memberLogin, Host: "test-host", PID: 42, StartedAt: at, RefreshSHA256: "abc", Note: "rotating"}
	mk.StartedAt = mk.StartedAt.UTC()
	if *mk != want {
		t.Fatalf("Marker = %+v\nwant %+v", *mk, want)
	}
	vm, err := viewer.Marker(ctx, "mk1")
	if err != nil || vm == nil || vm.RefreshSHA256 != "" || vm.PID != 42 {
		t.Fatalf("viewer's Marker = %+v, %v; want it without the hash", vm, err)
	}
	if err := viewer.PutMarker(ctx, Marker{Profile: "mk1"}); err == nil {
		t.Fatal("a viewer wrote a marker")
	}
	if err := member.PutMarker(ctx, Marker{Profile: "sp1"}); err == nil {
		t.Fatal("a marketing member wrote a marker on a support profile")
	}
	if err := member.DeleteMarker(ctx, "mk1"); err != nil {
		t.Fatal(err)
	}
	if mk, err := owner.Marker(ctx, "mk1"); mk != nil || err != nil {
		t.Fatalf("Marker after delete = %v, %v", mk, err)
	}
}
