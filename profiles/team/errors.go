package team

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

var (
	// ErrNotFound: no such row (or one the caller's grants hide).
	ErrNotFound = errors.New("not found in the team database")
	// ErrCatalogChanged: someone else changed the catalog since it was read.
	ErrCatalogChanged = errors.New("the team catalog changed meanwhile (someone else edited it): nothing was changed; read it again and retry")
	// ErrNotInitialised: the database holds no team yet.
	ErrNotInitialised = errors.New("the team database holds no team yet: run sbctl team init")
	// ErrInitialised: Init on a database that already holds a team.
	ErrInitialised = errors.New("the team database already holds a team: nothing was changed (sbctl team status shows it)")
)

// SchemaError is a database whose schema this binary does not know.
type SchemaError struct{ Database, Known int }

func (e *SchemaError) Error() string {
	return fmt.Sprintf("the team database has schema %d; this sbctl knows %d: upgrade sbctl", e.Database, e.Known)
}

// PermissionError is an operation the caller's role does not allow, refused
// by PostgreSQL (or, for clearer messages, checked first). Nothing changed.
type PermissionError struct {
	Login  string
	Role   Role     // "" when the login is no member of the team
	Groups []string // member/viewer grants; nil = all groups
	Action string   // "re-authenticate", "remove profiles", "read tokens", …
	// Need is the least role allowed to do Action; "" means admin (owners
	// and admins), the case of most refusals.
	Need Role
}

// Error reads `alice is a member of group "marketing"; only owners and
// admins may re-authenticate (ask one, or see sbctl team members list)`.
func (e *PermissionError) Error() string {
	return fmt.Sprintf("%s; only %s may %s (ask one, or see sbctl team members list)", e.who(), mayList(e.Need), e.Action)
}

func (e *PermissionError) who() string {
	var article string
	switch e.Role {
	case "":
		return e.Login + " is not a member of this team"
	case RoleOwner, RoleAdmin:
		article = "an"
	default:
		article = "a"
	}
	s := fmt.Sprintf("%s is %s %s", e.Login, article, e.Role)
	if e.Role != RoleMember && e.Role != RoleViewer || len(e.Groups) == 0 {
		return s
	}
	q := make([]string, len(e.Groups))
	for i, g := range e.Groups {
		q[i] = fmt.Sprintf("%q", g)
	}
	if len(q) == 1 {
		return s + " of group " + q[0]
	}
	return s + " of groups " + strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

func mayList(need Role) string {
	switch need {
	case RoleOwner:
		return "owners"
	case RoleMember:
		return "owners, admins and members"
	case RoleViewer:
		return "members of the team"
	default:
		return "owners and admins"
	}
}

// isUndefined: the schema or table does not exist (no team yet).
func isUndefined(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "3F000")
}

// isDenied: PostgreSQL refused by privilege or row-level security.
func isDenied(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42501"
}

// denied builds the PermissionError for a refused action, naming the
// caller's role and groups.
func (db *DB) denied(ctx context.Context, action string, need Role) error {
	me, err := db.Me(ctx)
	if err != nil {
		return fmt.Errorf("the team database refused to %s (and reading your role failed: %w)", action, err)
	}
	return &PermissionError{Login: me.Login, Role: me.Role, Groups: me.Groups, Action: action, Need: need}
}

// orDenied maps a privilege error from PostgreSQL to a PermissionError
// and wraps any other error with what was being done.
func (db *DB) orDenied(ctx context.Context, err error, action string, need Role) error {
	if err == nil {
		return nil
	}
	if isDenied(err) {
		return db.denied(context.WithoutCancel(ctx), action, need)
	}
	var perm *PermissionError
	if errors.As(err, &perm) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrCatalogChanged) {
		return err
	}
	return db.queryError(action, err)
}

// queryError names what failed; a lost connection reads like Open's.
func (db *DB) queryError(what string, err error) error {
	var unreach *UnreachableError
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &unreach), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &pgErr):
		return fmt.Errorf("team database: %s: %s", what, db.scrub(pgErr.Message))
	case err != nil:
		return fmt.Errorf("team database (host %s): %s: %s", db.where, what, db.scrub(err.Error()))
	}
	return nil
}

// isFKViolation: a row names a profile or provider that does not exist.
func isFKViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}
