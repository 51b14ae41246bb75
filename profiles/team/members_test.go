package team

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sbctl/sbctl/profiles/team/teamtest"
)

func TestMembers(t *testing.T) {
	t.Parallel()
	url, owner := fleet(t)
	ctx := testCtx(t)
	ownerMe, _ := owner.Me(ctx)
	adminLogin, _, admin := joined(t, owner, url, RoleAdmin)
	memberLogin, _, _ := joined(t, owner, url, RoleMember, "support", "marketing")

	// An existing login, granted without a password.
	existing := teamtest.Name("existing")
	existingURL := teamtest.Login(t, url, existing, "pw-"+teamtest.Random())
	if err := owner.AddMember(ctx, Member{Login: existing, Role: RoleViewer}, nil); err != nil {
		t.Fatal(err)
	}
	if me, err := open(t, existingURL).Me(ctx); err != nil || me.Role != RoleViewer {
		t.Fatalf("existing login's Me = %+v, %v", me, err)
	}
	list, err := owner.Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Member{
		{Login: ownerMe.Login, Role: RoleOwner},
		{Login: adminLogin, Role: RoleAdmin},
		{Login: memberLogin, Role: RoleMember, Groups: []string{"marketing", "support"}},
		{Login: existing, Role: RoleViewer},
	}
	if !reflect.DeepEqual(list, want) {
		t.Fatalf("Members = %+v\nwant %+v", list, want)
	}
	if info, _ := owner.Info(ctx); info.Members != 4 {
		t.Errorf("Info.Members = %d", info.Members)
	}

	testMemberChanges(t, owner, admin, adminLogin, memberLogin, existing, existingURL)
}

func testMemberChanges(t *testing.T, owner, admin *DB, adminLogin, memberLogin, existing, existingURL string) {
	ctx := testCtx(t)
	ownerMe, _ := owner.Me(ctx)
	// Changing a role replaces the old one.
	if err := owner.AddMember(ctx, Member{Login: memberLogin, Role: RoleAdmin}, nil); err != nil {
		t.Fatal(err)
	}
	list, _ := owner.Members(ctx)
	if list[2].Login != memberLogin || list[2].Role != RoleAdmin || list[2].Groups != nil {
		t.Fatalf("after the role change: %+v", list)
	}

	// Refusals: admins manage no members; a password never shows.
	pw := "sbx-secret-" + teamtest.Random()
	err := admin.AddMember(ctx, Member{Login: teamtest.Name("x"), Role: RoleMember}, &pw)
	permErr(t, err, adminLogin+" is an admin; only owners may manage members (ask one, or see sbctl team members list)")
	err = owner.AddMember(ctx, Member{Login: existing, Role: RoleMember}, &pw)
	if err == nil || strings.Contains(err.Error(), pw) || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("AddMember of an existing login with a password: %v", err)
	}
	if err := owner.AddMember(ctx, Member{Login: teamtest.Name("nobody"), Role: RoleMember}, nil); err == nil || !strings.Contains(err.Error(), "no PostgreSQL login") {
		t.Fatalf("AddMember of a missing login: %v", err)
	}
	if err := owner.AddMember(ctx, Member{Login: existing, Role: RoleMember, Groups: []string{"nope"}}, nil); err == nil || !strings.Contains(err.Error(), `no group "nope"`) {
		t.Fatalf("AddMember with an unknown group: %v", err)
	}
	if err := owner.AddMember(ctx, Member{Login: existing, Role: RoleAdmin, Groups: []string{"support"}}, nil); err == nil {
		t.Fatal("groups accepted for an admin")
	}

	// Remove: the login stays in PostgreSQL but has no role.
	if err := owner.RemoveMember(ctx, existing); err != nil {
		t.Fatal(err)
	}
	if me, _ := open(t, existingURL).Me(ctx); me.Role != "" {
		t.Fatalf("removed login's role = %q", me.Role)
	}
	if err := owner.RemoveMember(ctx, existing); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing a non-member: %v", err)
	}
	if err := owner.RemoveMember(ctx, ownerMe.Login); err == nil || !strings.Contains(err.Error(), "last owner") {
		t.Fatalf("removing the last owner: %v", err)
	}
	evs, _ := owner.Events(ctx, "", noTime)
	var n int
	for _, e := range evs {
		if strings.HasPrefix(e.Action, "member-") {
			n++
		}
		if strings.Contains(e.Detail, pw) {
			t.Fatal("the audit log holds a password")
		}
	}
	if n != 5 { // admin, member, existing, role change, removal
		t.Errorf("%d member events, want 5", n)
	}
}

// TestNewOwnerCanAddMembers: an owner added by an owner manages members
// too (it holds the owner role WITH ADMIN OPTION; the group role holds
// the others so).
func TestNewOwnerCanAddMembers(t *testing.T) {
	t.Parallel()
	url, first := fleet(t)
	_, _, second := joined(t, first, url, RoleOwner)
	ctx := testCtx(t)
	existing := teamtest.Name("existing")
	teamtest.Login(t, url, existing, "pw-"+teamtest.Random())
	for _, r := range Roles {
		if err := second.AddMember(ctx, Member{Login: existing, Role: r}, nil); err != nil {
			t.Fatalf("second owner granting %s: %v", r, err)
		}
	}
	// Without CREATEROLE on its own login it cannot create logins, and is
	// told why.
	pw := "pw-" + teamtest.Random()
	err := second.AddMember(ctx, Member{Login: teamtest.Name("new"), Role: RoleMember}, &pw)
	if err == nil || !strings.Contains(err.Error(), "needs CREATEROLE on your own PostgreSQL user") {
		t.Fatalf("AddMember with a password by an owner without CREATEROLE: %v", err)
	}
	if err := second.RemoveMember(ctx, existing); err != nil {
		t.Fatal(err)
	}
	// Owners own the tables: row-level security does not hide anything.
	if cat, err := second.Catalog(ctx); err != nil || len(cat.Profiles) != 3 {
		t.Fatalf("second owner's catalog: %d profiles, %v", len(cat.Profiles), err)
	}
	if _, err := second.Secret(ctx, SecretToken, "sp1"); err != nil {
		t.Fatalf("second owner reading a token: %v", err)
	}
}
