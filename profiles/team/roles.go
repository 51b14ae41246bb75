package team

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/text/secure/precis"
)

// Role is a member's role in the team: a NOLOGIN group role
// sbctl_<team>_<role> in PostgreSQL, granted to the member's login.
type Role string

const (
	RoleOwner  Role = "owner"  // everything, including members and key rotation
	RoleAdmin  Role = "admin"  // profiles, providers, groups; re-authenticate
	RoleMember Role = "member" // see, verify, refresh, get tokens: its groups
	RoleViewer Role = "viewer" // status only, never a token
)

// Roles lists the roles from the most to the least powerful.
var Roles = []Role{RoleOwner, RoleAdmin, RoleMember, RoleViewer}

// ParseRole reads "owner", "admin", "member" or "viewer".
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Roles, r) {
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q: owner, admin, member or viewer", s)
}

// atLeast: r may do what need may.
func (r Role) atLeast(need Role) bool {
	i, j := slices.Index(Roles, r), slices.Index(Roles, need)
	return i >= 0 && j >= 0 && i <= j
}

// Me is the caller as the database sees it.
type Me struct {
	Login  string
	Role   Role     // "" when the login has no role in the team
	Groups []string // member/viewer grants; nil = all groups
}

// Me reports the caller's login, role and group grants.
func (db *DB) Me(ctx context.Context) (Me, error) {
	m, err := db.team()
	if err != nil {
		return Me{}, err
	}
	var me Me
	err = db.with(ctx, func(c *pgx.Conn) error {
		var err error
		me, err = readMe(ctx, c, m)
		return err
	})
	if err != nil {
		return Me{}, db.queryError("read your role", err)
	}
	return me, nil
}

// querier is a connection or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// readMe reads the caller's role on q, so a transaction can check it
// without a second connection (which a full pool might never give).
func readMe(ctx context.Context, q querier, m *teamMeta) (Me, error) {
	var me Me
	var roles []string
	err := q.QueryRow(ctx, `
SELECT session_user,
       ARRAY(SELECT r FROM unnest($1::text[]) WITH ORDINALITY AS t(r, i)
             WHERE pg_has_role(session_user, $2 || r, 'USAGE') ORDER BY i)`,
		roleStrings(), m.prefix).Scan(&me.Login, &roles)
	if err != nil {
		return Me{}, err
	}
	if len(roles) > 0 {
		me.Role = Role(roles[0])
	}
	// Only team roles may read the grants (a stranger gets Role "").
	if me.Role == RoleMember || me.Role == RoleViewer {
		err = q.QueryRow(ctx, `SELECT ARRAY(SELECT group_name FROM sbctl.member_groups WHERE login = session_user ORDER BY 1)`).Scan(&me.Groups)
		if err != nil {
			return Me{}, err
		}
	}
	if len(me.Groups) == 0 || (me.Role != RoleMember && me.Role != RoleViewer) {
		me.Groups = nil
	}
	return me, nil
}

func roleStrings() []string {
	out := make([]string, len(Roles))
	for i, r := range Roles {
		out[i] = string(r)
	}
	return out
}

// Info describes the team for `team status`.
type Info struct {
	ID             string
	Database       string
	Host           string // the server: "/tmp/x" (a socket directory) or "db.example.com:5432"
	SchemaVersion  int
	KeyFingerprint string
	KeyID          int
	Members        int
}

// Info reads the team's description.
func (db *DB) Info(ctx context.Context) (Info, error) {
	m, err := db.team()
	if err != nil {
		return Info{}, err
	}
	info := Info{Host: db.where}
	err = db.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `
SELECT t.id::text, current_database(), (SELECT max(version) FROM sbctl.schema_migrations),
       t.key_fingerprint, t.key_id,
       (SELECT count(DISTINCT a.member) FROM pg_auth_members a
          JOIN pg_roles g ON g.oid = a.roleid
          JOIN pg_roles u ON u.oid = a.member
         WHERE g.rolname = ANY ($1) AND NOT u.rolname = ANY ($1))
  FROM sbctl.team t`, groupRoles(m)).Scan(&info.ID, &info.Database, &info.SchemaVersion, &info.KeyFingerprint, &info.KeyID, &info.Members)
	})
	if err != nil {
		return Info{}, db.queryError("read the team", err)
	}
	return info, nil
}

func groupRoles(m *teamMeta) []string {
	out := make([]string, len(Roles))
	for i, r := range Roles {
		out[i] = m.role(r)
	}
	return out
}

// Member is one login's place in the team.
type Member struct {
	Login  string
	Role   Role
	Groups []string // member/viewer only; nil = all groups
}

// Members lists the team's logins, most powerful first, then by login.
func (db *DB) Members(ctx context.Context) ([]Member, error) {
	m, err := db.team()
	if err != nil {
		return nil, err
	}
	var out []Member
	err = db.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `
SELECT u.rolname, min(array_position($1::text[], g.rolname)),
       ARRAY(SELECT mg.group_name FROM sbctl.member_groups mg WHERE mg.login = u.rolname ORDER BY 1)
  FROM pg_auth_members a
  JOIN pg_roles g ON g.oid = a.roleid
  JOIN pg_roles u ON u.oid = a.member
 WHERE g.rolname = ANY ($1) AND NOT u.rolname = ANY ($1)
 GROUP BY u.rolname
 ORDER BY 2, 1`, groupRoles(m))
		if err != nil {
			return err
		}
		for rows.Next() {
			var mem Member
			var i int
			if err := rows.Scan(&mem.Login, &i, &mem.Groups); err != nil {
				return err
			}
			mem.Role = Roles[i-1]
			if len(mem.Groups) == 0 || !(mem.Role == RoleMember || mem.Role == RoleViewer) {
				mem.Groups = nil
			}
			out = append(out, mem)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, db.orDenied(ctx, err, "list members", RoleViewer)
	}
	return out, nil
}

// AddMember gives a login its role (replacing any other role it had in this
// team) and, for members and viewers, its groups (none: all groups). With
// a password it first creates the login role (CREATE ROLE … LOGIN), which
// needs CREATEROLE on the caller's own PostgreSQL user; the password
// reaches the server only as a SCRAM-SHA-256 verifier, so no server log
// can hold it. Without one, the login must exist. Owners only.
func (db *DB) AddMember(ctx context.Context, mem Member, password *string) error {
	m, err := db.team()
	if err != nil {
		return err
	}
	if err := checkMember(mem, password); err != nil {
		return err
	}
	err = db.tx(ctx, func(tx pgx.Tx) error {
		if err := needRole(ctx, tx, m, RoleOwner, "manage members"); err != nil {
			return err
		}
		return db.addMemberTx(ctx, tx, m, mem, password)
	})
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "42710":
		return fmt.Errorf("a PostgreSQL role %q exists already: nothing was changed (drop --password-stdin to grant it the role)", mem.Login)
	case errors.As(err, &pgErr) && pgErr.Code == "42704":
		return fmt.Errorf("no PostgreSQL login %q: nothing was changed (give --password-stdin to create it)", mem.Login)
	case errors.As(err, &pgErr) && pgErr.Code == "42501" && password != nil:
		return fmt.Errorf("creating the login %q needs CREATEROLE on your own PostgreSQL user (ask the database's administrator, or create the login there and add it without --password-stdin); nothing was changed: %s", mem.Login, pgErr.Message)
	}
	return db.orDenied(ctx, err, "manage members", RoleOwner)
}

func checkMember(mem Member, password *string) error {
	if mem.Login == "" || len(mem.Login) > 63 || strings.ContainsRune(mem.Login, 0) {
		return fmt.Errorf("login %q: 1 to 63 bytes", mem.Login)
	}
	if !slices.Contains(Roles, mem.Role) {
		return fmt.Errorf("unknown role %q: owner, admin, member or viewer", mem.Role)
	}
	if len(mem.Groups) > 0 && mem.Role != RoleMember && mem.Role != RoleViewer {
		return fmt.Errorf("groups restrict members and viewers only: an %s sees every profile", mem.Role)
	}
	if password != nil && *password == "" {
		return errors.New("the new login's password is empty")
	}
	return nil
}

func (db *DB) addMemberTx(ctx context.Context, tx pgx.Tx, m *teamMeta, mem Member, password *string) error {
	login := pgx.Identifier{mem.Login}.Sanitize()
	if password != nil {
		verifier, err := scramVerifier(*password)
		if err != nil {
			return err
		}
		if err := execFormat(ctx, tx, "CREATE ROLE %I LOGIN PASSWORD %L", mem.Login, verifier); err != nil {
			return err
		}
		note := fmt.Sprintf("sbctl team %s, member login (database %q)", m.id, db.database)
		if err := execFormat(ctx, tx, "COMMENT ON ROLE %I IS %L", mem.Login, note); err != nil {
			return err
		}
	}
	if err := checkGroups(ctx, tx, mem.Groups); err != nil {
		return err
	}
	if err := revokeAll(ctx, tx, m, mem.Login); err != nil {
		return err
	}
	grant := "GRANT " + pgx.Identifier{m.role(mem.Role)}.Sanitize() + " TO " + login
	if mem.Role == RoleOwner {
		grant += " WITH ADMIN OPTION" // owners add members
	}
	if _, err := tx.Exec(ctx, grant); err != nil {
		return err
	}
	for _, g := range mem.Groups {
		if _, err := tx.Exec(ctx, `INSERT INTO sbctl.member_groups (login, group_name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, mem.Login, g); err != nil {
			return err
		}
	}
	detail := "role " + string(mem.Role)
	if len(mem.Groups) > 0 {
		detail += ", groups " + strings.Join(mem.Groups, ", ")
	}
	if password != nil {
		detail += ", login created"
	}
	return db.logTx(ctx, tx, ActionMemberAdd, "", mem.Login+": "+detail)
}

// checkGroups refuses a grant of a group the catalog does not have: a typo
// would otherwise hide every profile from the member.
func checkGroups(ctx context.Context, tx pgx.Tx, groups []string) error {
	if len(groups) == 0 {
		return nil
	}
	var missing []string
	if err := tx.QueryRow(ctx, `SELECT ARRAY(SELECT g FROM unnest($1::text[]) g WHERE NOT EXISTS (SELECT 1 FROM sbctl.groups WHERE name = g))`, groups).Scan(&missing); err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("no group %q in the team catalog: nothing was changed (sbctl groups list)", missing[0])
	}
	return nil
}

// revokeAll takes every team role and group grant from login.
func revokeAll(ctx context.Context, tx pgx.Tx, m *teamMeta, login string) error {
	var held []string
	err := tx.QueryRow(ctx, `
SELECT ARRAY(SELECT g.rolname FROM pg_auth_members a
  JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles u ON u.oid = a.member
 WHERE u.rolname = $1 AND g.rolname = ANY ($2))`, login, groupRoles(m)).Scan(&held)
	if err != nil {
		return err
	}
	for _, r := range held {
		if _, err := tx.Exec(ctx, "REVOKE "+pgx.Identifier{r}.Sanitize()+" FROM "+pgx.Identifier{login}.Sanitize()); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `DELETE FROM sbctl.member_groups WHERE login = $1`, login)
	return err
}

// RemoveMember takes the login's role and groups away. The PostgreSQL
// login itself stays (roles are cluster-wide and may serve elsewhere);
// DROP ROLE removes it. The last owner cannot be removed. Owners only.
func (db *DB) RemoveMember(ctx context.Context, login string) error {
	m, err := db.team()
	if err != nil {
		return err
	}
	err = db.tx(ctx, func(tx pgx.Tx) error {
		if err := needRole(ctx, tx, m, RoleOwner, "manage members"); err != nil {
			return err
		}
		// Serialise member changes, so two owners removing each other
		// cannot leave the team without one.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "sbctl:members:"+m.id); err != nil {
			return err
		}
		var isMember, lastOwner bool
		err := tx.QueryRow(ctx, `
WITH held AS (
  SELECT u.rolname AS login, g.rolname AS grp FROM pg_auth_members a
    JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles u ON u.oid = a.member
   WHERE g.rolname = ANY ($2) AND NOT u.rolname = ANY ($2))
SELECT EXISTS (SELECT 1 FROM held WHERE login = $1),
       EXISTS (SELECT 1 FROM held WHERE login = $1 AND grp = $3)
   AND NOT EXISTS (SELECT 1 FROM held WHERE login <> $1 AND grp = $3)`,
			login, groupRoles(m), m.role(RoleOwner)).Scan(&isMember, &lastOwner)
		if err != nil {
			return err
		}
		if !isMember {
			return fmt.Errorf("%s is not a member of this team: %w", login, ErrNotFound)
		}
		if lastOwner {
			return fmt.Errorf("%s is the team's last owner: add another owner first; nothing was changed", login)
		}
		if err := revokeAll(ctx, tx, m, login); err != nil {
			return err
		}
		return db.logTx(ctx, tx, ActionMemberRemove, "", login)
	})
	return db.orDenied(ctx, err, "manage members", RoleOwner)
}

// needRole refuses early, with the clear message, what the database would
// refuse later with a bare "permission denied".
func needRole(ctx context.Context, q querier, m *teamMeta, need Role, action string) error {
	me, err := readMe(ctx, q, m)
	if err != nil {
		return err
	}
	if me.Role.atLeast(need) {
		return nil
	}
	return &PermissionError{Login: me.Login, Role: me.Role, Groups: me.Groups, Action: action, Need: need}
}

// scramVerifier computes what PostgreSQL stores for a password
// (SCRAM-SHA-256, RFC 5802/7677, 4096 iterations as the server does), so
// CREATE ROLE carries the verifier and never the password. The password is
// normalised as pgx's client normalises it when logging in.
func scramVerifier(password string) (string, error) {
	const iterations = 4096
	norm := password
	if n, err := precis.OpaqueString.String(password); err == nil {
		norm = n
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	salted, err := pbkdf2.Key(sha256.New, norm, salt, iterations, sha256.Size)
	if err != nil {
		return "", err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac(salted, "Client Key"))
	server := mac(salted, "Server Key")
	b := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, b(salt), b(stored[:]), b(server)), nil
}
