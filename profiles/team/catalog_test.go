package team

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestApplyCatalog(t *testing.T) {
	t.Parallel()
	_, db := newTeam(t)
	ctx := testCtx(t)
	cat := Catalog{
		Providers: []CatalogProvider{{Name: "x", YAML: "preset: x\n"}},
		Groups:    []CatalogGroup{{Name: "g", Description: "d"}},
		Profiles: []CatalogProfile{
			{Name: "b", Provider: "x", Groups: []string{"g"}, Scopes: []string{"s1", "s2"}},
			{Name: "a", Provider: "x"},
		},
	}
	v, err := db.ApplyCatalog(ctx, 0, cat)
	if err != nil || v != 1 {
		t.Fatalf("ApplyCatalog = %d, %v", v, err)
	}
	got, err := db.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := cat
	want.Version = 1
	want.Profiles[1].Groups, want.Profiles[1].Scopes = []string{}, []string{}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Catalog = %+v\nwant %+v", got, want)
	}
	// The same catalog again: nothing to write, the version stays.
	if v, err := db.ApplyCatalog(ctx, 1, got); err != nil || v != 1 {
		t.Fatalf("no-op ApplyCatalog = %d, %v", v, err)
	}
	// A stale version is refused and changes nothing.
	stale := got
	stale.Profiles = stale.Profiles[:1]
	if _, err := db.ApplyCatalog(ctx, 0, stale); !errors.Is(err, ErrCatalogChanged) {
		t.Fatalf("stale ApplyCatalog: %v, want ErrCatalogChanged", err)
	}
	if now, _ := db.Catalog(ctx); len(now.Profiles) != 2 || now.Version != 1 {
		t.Fatalf("after the refused write: %+v", now)
	}
	// Removing a profile removes its token and status too; the log says so.
	if err := db.PutSecret(ctx, SecretToken, "a", []byte("ct"), 1); err != nil {
		t.Fatal(err)
	}
	if v, err := db.ApplyCatalog(ctx, 1, stale); err != nil || v != 2 {
		t.Fatalf("ApplyCatalog removing a = %d, %v", v, err)
	}
	if _, err := db.Secret(ctx, SecretToken, "a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("token of the removed profile: %v", err)
	}
	evs, err := db.Events(ctx, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action+":"+e.Profile)
		if e.Host != "test-host" || e.Login == "" {
			t.Errorf("event %+v: want host test-host and a login", e)
		}
	}
	wantActions := []string{"init:", "add:b", "add:a", "catalog:", "catalog:", "remove:a"}
	if !reflect.DeepEqual(actions, wantActions) {
		t.Fatalf("events %v, want %v", actions, wantActions)
	}
	if evs, _ := db.Events(ctx, "a", time.Time{}); len(evs) != 2 {
		t.Fatalf("events of a: %+v", evs)
	}
	if evs, _ := db.Events(ctx, "", time.Now().Add(time.Hour)); len(evs) != 0 {
		t.Fatalf("events from the future: %+v", evs)
	}
}

func TestApplyCatalogConcurrent(t *testing.T) {
	t.Parallel()
	url, a := newTeam(t)
	b := open(t, url)
	ctx := testCtx(t)
	errs := make(chan error, 2)
	for i, db := range []*DB{a, b} {
		go func() {
			_, err := db.ApplyCatalog(ctx, 0, Catalog{Groups: []CatalogGroup{{Name: string(rune('a' + i))}}})
			errs <- err
		}()
	}
	e1, e2 := <-errs, <-errs
	if (e1 == nil) == (e2 == nil) || !(errors.Is(e1, ErrCatalogChanged) || errors.Is(e2, ErrCatalogChanged)) {
		t.Fatalf("two editors from version 0: %v, %v; want one success and one ErrCatalogChanged", e1, e2)
	}
}
