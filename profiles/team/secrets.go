package team

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SecretKind says which secret: a profile's token or a provider's client
// secret. The database holds only ciphertext (sealed by the caller under
// the team key with AD(teamID, kind.Table(), name, "ciphertext")).
type SecretKind string

const (
	SecretToken        SecretKind = "token"         // per profile: table tokens
	SecretClientSecret SecretKind = "client_secret" // per provider: table client_secrets
)

// Table is the table holding this kind of secret, for the AD and for
// RotateKey: "tokens" or "client_secrets". Both have the columns
// (<Key()>, ciphertext bytea, key_id int, updated_at, updated_by).
func (k SecretKind) Table() string {
	if k == SecretClientSecret {
		return "client_secrets"
	}
	return "tokens"
}

// Key is the table's name column: "profile" or "provider".
func (k SecretKind) Key() string {
	if k == SecretClientSecret {
		return "provider"
	}
	return "profile"
}

func (k SecretKind) check() error {
	if k != SecretToken && k != SecretClientSecret {
		return fmt.Errorf("unknown secret kind %q", k)
	}
	return nil
}

// Secret reads a ciphertext; ErrNotFound when there is none (or the
// caller's groups hide it). Viewers may not read tokens.
func (db *DB) Secret(ctx context.Context, kind SecretKind, name string) ([]byte, error) {
	if _, err := db.team(); err != nil {
		return nil, err
	}
	if err := kind.check(); err != nil {
		return nil, err
	}
	var ct []byte
	err := db.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT ciphertext FROM sbctl.`+kind.Table()+` WHERE `+kind.Key()+` = $1`, name).Scan(&ct)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%s of %s: %w", kind, name, ErrNotFound)
	}
	if err != nil {
		action := "read tokens"
		if kind == SecretClientSecret {
			action = "read client secrets"
		}
		return nil, db.orDenied(ctx, err, action, RoleMember)
	}
	return ct, nil
}

// PutSecret stores a ciphertext made under key keyID. Members may replace
// the token of a profile they see (a refresh) but not store a first one
// (connecting is re-authenticating); client secrets are for admins.
// Running TUIs hear of it. It logs nothing: see PutSecretLog.
func (db *DB) PutSecret(ctx context.Context, kind SecretKind, name string, ct []byte, keyID int) error {
	return db.PutSecretLog(ctx, kind, name, ct, keyID, "", "")
}

// PutSecretLog is PutSecret plus, in the same transaction, an audit event
// (action "connect", "reauth", "refresh"… with detail) when action is not
// empty: the event is there exactly when the secret is.
func (db *DB) PutSecretLog(ctx context.Context, kind SecretKind, name string, ct []byte, keyID int, action, detail string) error {
	m, err := db.team()
	if err != nil {
		return err
	}
	if err := kind.check(); err != nil {
		return err
	}
	if len(ct) == 0 {
		return errors.New("refusing to store an empty ciphertext")
	}
	step := "update"
	err = db.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE sbctl.`+kind.Table()+` SET ciphertext = $2, key_id = $3 WHERE `+kind.Key()+` = $1`, name, ct, keyID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			step = "insert"
			_, err = tx.Exec(ctx, `INSERT INTO sbctl.`+kind.Table()+` (`+kind.Key()+`, ciphertext, key_id) VALUES ($1, $2, $3)
ON CONFLICT (`+kind.Key()+`) DO UPDATE SET ciphertext = excluded.ciphertext, key_id = excluded.key_id`, name, ct, keyID)
			if err != nil {
				return err
			}
		}
		if action != "" {
			if err := db.logTx(ctx, tx, action, profileOf(kind, name), detail); err != nil {
				return err
			}
		}
		if kind == SecretToken {
			return notifyProfile(ctx, tx, m, name)
		}
		return notifyAll(ctx, tx, m)
	})
	return db.secretError(ctx, err, kind, name, step)
}

func profileOf(kind SecretKind, name string) string {
	if kind == SecretToken {
		return name
	}
	return ""
}

// secretError names the refused action: replacing a token is refreshing,
// storing a first one is re-authenticating.
func (db *DB) secretError(ctx context.Context, err error, kind SecretKind, name, step string) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		what := "profile"
		if kind == SecretClientSecret {
			what = "provider"
		}
		return fmt.Errorf("no %s %q in the team catalog: %w", what, name, ErrNotFound)
	}
	action, need := "re-authenticate", RoleAdmin
	switch {
	case kind == SecretClientSecret:
		action = "change providers"
	case step == "update":
		action, need = "refresh tokens", RoleMember
	case step == "delete":
		action = "remove tokens"
	}
	return db.orDenied(ctx, err, action, need)
}

// DeleteSecret removes a ciphertext; nothing to remove is no error.
// Owners and admins only.
func (db *DB) DeleteSecret(ctx context.Context, kind SecretKind, name string) error {
	m, err := db.team()
	if err != nil {
		return err
	}
	if err := kind.check(); err != nil {
		return err
	}
	err = db.tx(ctx, func(tx pgx.Tx) error {
		if err := needRole(ctx, tx, m, RoleAdmin, "remove tokens"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sbctl.`+kind.Table()+` WHERE `+kind.Key()+` = $1`, name); err != nil {
			return err
		}
		if kind == SecretToken {
			return notifyProfile(ctx, tx, m, name)
		}
		return notifyAll(ctx, tx, m)
	})
	return db.secretError(ctx, err, kind, name, "delete")
}
