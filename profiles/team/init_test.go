package team

import (
	"errors"
	"testing"
)

func TestInitTwiceRefused(t *testing.T) {
	t.Parallel()
	url, db := newTeam(t)
	ctx := testCtx(t)
	info, err := db.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.SchemaVersion != SchemaVersion || info.KeyFingerprint != "ab12 cd34 ef56 7890" || info.Members != 1 || info.ID == "" {
		t.Fatalf("Info = %+v", info)
	}
	if _, err := db.Init(ctx, "ffff"); !errors.Is(err, ErrInitialised) {
		t.Fatalf("second Init on the same DB: %v, want ErrInitialised", err)
	}
	// Another process (a fresh Open) is refused by the database itself.
	if _, err := open(t, url).Init(ctx, "ffff"); !errors.Is(err, ErrInitialised) {
		t.Fatalf("Init from another connection: %v, want ErrInitialised", err)
	}
	after, err := db.Info(ctx)
	if err != nil || after != info {
		t.Fatalf("Info after refused Init = %+v, %v; want unchanged %+v", after, err, info)
	}
	me, err := db.Me(ctx)
	if err != nil || me.Role != RoleOwner || me.Groups != nil {
		t.Fatalf("Me = %+v, %v", me, err)
	}
}
