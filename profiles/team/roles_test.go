package team

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/sbctl/sbctl/profiles/team/teamtest"
)

// fleet is a team with two groups, one profile each (mk1 in marketing on
// provider p1, sp1 in support on p2), their tokens, client secrets and
// status, plus mk2 (marketing) with no token yet.
func fleet(t *testing.T) (string, *DB) {
	t.Helper()
	url, owner := newTeam(t)
	ctx := testCtx(t)
	cat := Catalog{
		Providers: []CatalogProvider{{Name: "p1", YAML: "preset: x\n"}, {Name: "p2", YAML: "preset: tiktok\n"}},
		Groups:    []CatalogGroup{{Name: "marketing"}, {Name: "support", Description: "help desk"}},
		Profiles: []CatalogProfile{
			{Name: "mk1", Provider: "p1", Groups: []string{"marketing"}},
			{Name: "mk2", Provider: "p1", Groups: []string{"marketing"}},
			{Name: "sp1", Provider: "p2", Groups: []string{"support"}, Scopes: []string{"read"}},
		},
	}
	if _, err := owner.ApplyCatalog(ctx, 0, cat); err != nil {
		t.Fatalf("ApplyCatalog: %v", err)
	}
	for _, p := range []string{"mk1", "sp1"} {
		if err := owner.PutSecret(ctx, SecretToken, p, []byte("ct-"+p), 1); err != nil {
			t.Fatal(err)
		}
		if err := owner.UpdateRecord(ctx, p, func([]byte) ([]byte, error) { return []byte(`{"status":"ok"}`), nil }); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"p1", "p2"} {
		if err := owner.PutSecret(ctx, SecretClientSecret, p, []byte("cs-"+p), 1); err != nil {
			t.Fatal(err)
		}
	}
	return url, owner
}

func permErr(t *testing.T, err error, want string) {
	t.Helper()
	var pe *PermissionError
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v, want a *PermissionError", err)
	}
	if got := err.Error(); got != want {
		t.Fatalf("error text\n got: %s\nwant: %s", got, want)
	}
}

// matrix is a fleet with one login per role; its methods are the columns
// of the role matrix.
type matrix struct {
	owner, admin, member, viewer *DB
	memberWho, viewerWho         string
	writers                      []named
}

type named struct {
	name string
	db   *DB
}

func newMatrix(t *testing.T) *matrix {
	url, owner := fleet(t)
	_, _, admin := joined(t, owner, url, RoleAdmin)
	memberLogin, _, member := joined(t, owner, url, RoleMember, "marketing")
	viewerLogin, _, viewer := joined(t, owner, url, RoleViewer, "marketing")
	return &matrix{
		owner: owner, admin: admin, member: member, viewer: viewer,
		memberWho: memberLogin + ` is a member of group "marketing"`,
		viewerWho: viewerLogin + ` is a viewer of group "marketing"`,
		writers:   []named{{"owner", owner}, {"admin", admin}, {"member", member}},
	}
}

func refusal(who, action string) string {
	return who + "; only owners and admins may " + action + " (ask one, or see sbctl team members list)"
}

func memberRefusal(who, action string) string {
	return who + "; only owners, admins and members may " + action + " (ask one, or see sbctl team members list)"
}

// TestRoleMatrixAPI: each role × catalog write, token read, token refresh,
// first token (re-authenticate), status update, through the API.
func TestRoleMatrixAPI(t *testing.T) {
	t.Parallel()
	m := newMatrix(t)
	t.Run("catalog write", m.catalogWrite)
	t.Run("token read", m.tokenRead)
	t.Run("token refresh", m.tokenRefresh)
	t.Run("first token", m.firstToken)
	t.Run("status update", m.statusUpdate)
	t.Run("visibility", m.visibility)
}

func (m *matrix) addProfile(t *testing.T, db *DB, name string) error {
	ctx := testCtx(t)
	cat, err := m.owner.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cat.Profiles = append(cat.Profiles, CatalogProfile{Name: name, Provider: "p1", Groups: []string{"marketing"}})
	_, err = db.ApplyCatalog(ctx, cat.Version, cat)
	return err
}

func (m *matrix) catalogWrite(t *testing.T) {
	ctx := testCtx(t)
	if err := m.addProfile(t, m.owner, "by-owner"); err != nil {
		t.Errorf("owner: %v", err)
	}
	if err := m.addProfile(t, m.admin, "by-admin"); err != nil {
		t.Errorf("admin: %v", err)
	}
	permErr(t, m.addProfile(t, m.member, "by-member"), refusal(m.memberWho, "add profiles"))
	permErr(t, m.addProfile(t, m.viewer, "by-viewer"), refusal(m.viewerWho, "add profiles"))
	// A member removing a profile it sees: refused, and named so.
	cat, _ := m.member.Catalog(ctx)
	cat.Profiles = slices.DeleteFunc(cat.Profiles, func(p CatalogProfile) bool { return p.Name == "mk1" })
	_, err := m.member.ApplyCatalog(ctx, cat.Version, cat)
	permErr(t, err, refusal(m.memberWho, "remove profiles"))
	if _, err := m.owner.Secret(ctx, SecretToken, "mk1"); err != nil {
		t.Errorf("mk1's token after the refused removal: %v", err)
	}
}

func (m *matrix) tokenRead(t *testing.T) {
	ctx := testCtx(t)
	for _, w := range m.writers {
		if ct, err := w.db.Secret(ctx, SecretToken, "mk1"); err != nil || !strings.HasPrefix(string(ct), "ct-mk1") {
			t.Errorf("%s: Secret(mk1) = %q, %v", w.name, ct, err)
		}
	}
	if _, err := m.member.Secret(ctx, SecretToken, "sp1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("marketing member reading support's token: %v, want ErrNotFound", err)
	}
	if _, err := m.member.Secret(ctx, SecretClientSecret, "p2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("marketing member reading support's client secret: %v, want ErrNotFound", err)
	}
	if _, err := m.member.Secret(ctx, SecretClientSecret, "p1"); err != nil {
		t.Errorf("member reading its provider's client secret: %v", err)
	}
	_, err := m.viewer.Secret(ctx, SecretToken, "mk1")
	permErr(t, err, memberRefusal(m.viewerWho, "read tokens"))
}

func (m *matrix) tokenRefresh(t *testing.T) {
	ctx := testCtx(t)
	for _, w := range m.writers {
		if err := w.db.PutSecret(ctx, SecretToken, "mk1", []byte("ct-mk1-by-"+w.name), 1); err != nil {
			t.Errorf("%s refreshing mk1: %v", w.name, err)
		}
	}
	err := m.viewer.PutSecret(ctx, SecretToken, "mk1", []byte("ct-by-viewer"), 1)
	permErr(t, err, memberRefusal(m.viewerWho, "refresh tokens"))
	if ct, _ := m.owner.Secret(ctx, SecretToken, "mk1"); string(ct) != "ct-mk1-by-member" {
		t.Errorf("mk1's token = %q after the viewer's refused write", ct)
	}
}

func (m *matrix) firstToken(t *testing.T) {
	ctx := testCtx(t)
	// The message, word for word.
	err := m.member.PutSecret(ctx, SecretToken, "mk2", []byte("ct-mk2"), 1)
	permErr(t, err, refusal(m.memberWho, "re-authenticate"))
	if _, err := m.owner.Secret(ctx, SecretToken, "mk2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("mk2 after the refused connect: %v, want no token", err)
	}
	if err := m.admin.PutSecret(ctx, SecretToken, "mk2", []byte("ct-mk2"), 1); err != nil {
		t.Errorf("admin connecting mk2: %v", err)
	}
	permErr(t, m.member.DeleteSecret(ctx, SecretToken, "mk2"), refusal(m.memberWho, "remove tokens"))
}

func (m *matrix) statusUpdate(t *testing.T) {
	ctx := testCtx(t)
	set := func(db *DB) error {
		return db.UpdateRecord(ctx, "mk1", func([]byte) ([]byte, error) { return []byte(`{"status":"` + teamtest.Random() + `"}`), nil })
	}
	for _, w := range m.writers {
		if err := set(w.db); err != nil {
			t.Errorf("%s: %v", w.name, err)
		}
	}
	permErr(t, set(m.viewer), memberRefusal(m.viewerWho, "change status"))
	if recs, err := m.viewer.Records(ctx); err != nil || len(recs) != 1 || recs["mk1"] == nil {
		t.Errorf("viewer's Records = %v, %v; want mk1's only", recs, err)
	}
}

func (m *matrix) visibility(t *testing.T) {
	ctx := testCtx(t)
	cat, err := m.member.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range cat.Profiles {
		names = append(names, p.Name)
	}
	if slices.Contains(names, "sp1") || !slices.Contains(names, "mk1") {
		t.Errorf("marketing member sees profiles %v", names)
	}
	if len(cat.Groups) != 1 || cat.Groups[0].Name != "marketing" || len(cat.Providers) != 1 || cat.Providers[0].Name != "p1" {
		t.Errorf("marketing member sees groups %v, providers %v", cat.Groups, cat.Providers)
	}
	me, err := m.member.Me(ctx)
	if err != nil || me.Role != RoleMember || !slices.Equal(me.Groups, []string{"marketing"}) {
		t.Errorf("member Me = %+v, %v", me, err)
	}
}

// TestMemberWithoutGroupsSeesAll: no --group means every group.
func TestMemberWithoutGroupsSeesAll(t *testing.T) {
	t.Parallel()
	url, owner := fleet(t)
	_, _, member := joined(t, owner, url, RoleMember)
	cat, err := member.Catalog(testCtx(t))
	if err != nil || len(cat.Profiles) != 3 {
		t.Fatalf("member without groups sees %d profiles (%v); want all 3", len(cat.Profiles), err)
	}
}

// sqlAs is a plain pgx session under a login: what a member could do with
// psql and its own password.
func sqlAs(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(testCtx(t), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func wantDenied(t *testing.T, c *pgx.Conn, sql string, args ...any) {
	t.Helper()
	_, err := c.Exec(testCtx(t), sql, args...)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Errorf("%s: %v, want permission denied", sql, err)
	}
}

func wantCount(t *testing.T, c *pgx.Conn, want int, sql string, args ...any) {
	t.Helper()
	var n int
	if err := c.QueryRow(testCtx(t), sql, args...).Scan(&n); err != nil || n != want {
		t.Errorf("%s = %d, %v; want %d", sql, n, err, want)
	}
}

func wantAffected(t *testing.T, c *pgx.Conn, want int64, sql string, args ...any) {
	t.Helper()
	tag, err := c.Exec(testCtx(t), sql, args...)
	if err != nil || tag.RowsAffected() != want {
		t.Errorf("%s: %d rows, %v; want %d", sql, tag.RowsAffected(), err, want)
	}
}

// TestRoleMatrixSQL: hand-written SQL under each login's own session can
// do no more than sbctl lets it.
func TestRoleMatrixSQL(t *testing.T) {
	t.Parallel()
	url, owner := fleet(t)
	adminLogin, adminURL, _ := joined(t, owner, url, RoleAdmin)
	memberLogin, memberURL, _ := joined(t, owner, url, RoleMember, "marketing")
	_, viewerURL, _ := joined(t, owner, url, RoleViewer, "marketing")
	m := owner.meta.Load()
	ctx := testCtx(t)

	t.Run("member", func(t *testing.T) {
		c := sqlAs(t, memberURL)
		wantCount(t, c, 0, `SELECT count(*) FROM sbctl.profiles WHERE 'support' = ANY (groups)`)
		wantCount(t, c, 2, `SELECT count(*) FROM sbctl.profiles`)
		wantCount(t, c, 0, `SELECT count(*) FROM sbctl.tokens WHERE profile = 'sp1'`)
		wantCount(t, c, 1, `SELECT count(*) FROM sbctl.tokens`)
		wantCount(t, c, 0, `SELECT count(*) FROM sbctl.client_secrets WHERE provider = 'p2'`)
		wantCount(t, c, 0, `SELECT count(*) FROM sbctl.state WHERE profile = 'sp1'`)
		wantCount(t, c, 0, `SELECT count(*) FROM sbctl.groups WHERE name = 'support'`)
		wantCount(t, c, 0, `SELECT count(*) FROM sbctl.providers WHERE name = 'p2'`)
		wantAffected(t, c, 0, `UPDATE sbctl.tokens SET ciphertext = 'x' WHERE profile = 'sp1'`)
		wantAffected(t, c, 0, `UPDATE sbctl.state SET record = '{}' WHERE profile = 'sp1'`)
		wantAffected(t, c, 1, `UPDATE sbctl.tokens SET ciphertext = 'refreshed' WHERE profile = 'mk1'`)
		wantDenied(t, c, `INSERT INTO sbctl.tokens (profile, ciphertext, key_id) VALUES ('mk2', 'x', 1)`)
		wantDenied(t, c, `INSERT INTO sbctl.state (profile, record) VALUES ('sp1', '{}')`)
		wantDenied(t, c, `DELETE FROM sbctl.tokens`)
		wantDenied(t, c, `UPDATE sbctl.profiles SET groups = '{marketing}' WHERE name = 'sp1'`)
		wantDenied(t, c, `DELETE FROM sbctl.profiles`)
		wantDenied(t, c, `INSERT INTO sbctl.member_groups VALUES ($1, 'support')`, memberLogin)
		wantDenied(t, c, `DELETE FROM sbctl.member_groups`)
		wantDenied(t, c, `UPDATE sbctl.team SET catalog_version = 99`)
		wantDenied(t, c, `INSERT INTO sbctl.audit (db_user, action) VALUES ('someone-else', 'refresh')`)
		wantDenied(t, c, `UPDATE sbctl.audit SET detail = ''`)
		wantDenied(t, c, "GRANT "+pgx.Identifier{m.role(RoleAdmin)}.Sanitize()+" TO "+pgx.Identifier{memberLogin}.Sanitize())
		// Its group role gives it nothing more: policies ask session_user.
		if _, err := c.Exec(ctx, "SET ROLE "+pgx.Identifier{m.role(RoleMember)}.Sanitize()); err != nil {
			t.Fatal(err)
		}
		wantCount(t, c, 2, `SELECT count(*) FROM sbctl.profiles`)
		wantCount(t, c, 0, `SELECT count(*) FROM sbctl.tokens WHERE profile = 'sp1'`)
	})
	t.Run("viewer", func(t *testing.T) {
		c := sqlAs(t, viewerURL)
		wantDenied(t, c, `SELECT ciphertext FROM sbctl.tokens`)
		wantDenied(t, c, `SELECT ciphertext FROM sbctl.client_secrets`)
		wantDenied(t, c, `SELECT refresh_sha256 FROM sbctl.renewals`)
		wantCount(t, c, 0, `SELECT count(profile) FROM sbctl.renewals`)
		wantCount(t, c, 1, `SELECT count(*) FROM sbctl.state`)
		wantDenied(t, c, `UPDATE sbctl.state SET record = '{}'`)
		wantDenied(t, c, `INSERT INTO sbctl.audit (action) VALUES ('x')`)
	})
	t.Run("admin", func(t *testing.T) {
		c := sqlAs(t, adminURL)
		wantCount(t, c, 3, `SELECT count(*) FROM sbctl.profiles`)
		wantCount(t, c, 2, `SELECT count(*) FROM sbctl.tokens`)
		wantDenied(t, c, `INSERT INTO sbctl.member_groups VALUES ($1, 'support')`, adminLogin)
		wantDenied(t, c, "GRANT "+pgx.Identifier{m.role(RoleOwner)}.Sanitize()+" TO "+pgx.Identifier{adminLogin}.Sanitize())
		wantDenied(t, c, `UPDATE sbctl.team SET key_id = 2`)
		wantDenied(t, c, `DROP TABLE sbctl.tokens`)
	})
	t.Run("audit names the login", func(t *testing.T) {
		c := sqlAs(t, memberURL)
		if _, err := c.Exec(ctx, `INSERT INTO sbctl.audit (action, profile) VALUES ('refresh', 'mk1')`); err != nil {
			t.Fatal(err)
		}
		evs, err := owner.Events(ctx, "mk1", time.Time{})
		if err != nil || len(evs) == 0 || evs[len(evs)-1].Login != memberLogin {
			t.Fatalf("last mk1 event = %+v, %v; want by %s", evs, err, memberLogin)
		}
		var by string
		if err := owner.with(ctx, func(c *pgx.Conn) error {
			return c.QueryRow(ctx, `SELECT updated_by FROM sbctl.tokens WHERE profile = 'mk1'`).Scan(&by)
		}); err != nil || by != memberLogin {
			t.Fatalf("tokens.updated_by = %q, %v; want %s", by, err, memberLogin)
		}
	})
}

// TestNonMember: a login of the cluster with no team role sees nothing.
func TestNonMember(t *testing.T) {
	t.Parallel()
	url, _ := fleet(t)
	login := teamtest.Name("stranger")
	u := teamtest.Login(t, url, login, "pw-"+teamtest.Random())
	db := open(t, u)
	ctx := testCtx(t)
	me, err := db.Me(ctx)
	if err != nil || me.Role != "" || me.Login != login {
		t.Fatalf("Me = %+v, %v", me, err)
	}
	_, err = db.Catalog(ctx)
	permErr(t, err, login+" is not a member of this team; only members of the team may read the catalog (ask one, or see sbctl team members list)")
	wantDenied(t, sqlAs(t, u), `SELECT * FROM sbctl.profiles`)
}
