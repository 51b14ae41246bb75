package team

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// RotateKey makes next the team key: in one transaction every token and
// client secret is opened under old and sealed again under next (the same
// associated data: SecretAD), each row is marked key nextID, and the team
// row records next's fingerprint and id. Owners only.
//
// Either all of it happens or none: a secret that does not open under old
// (sealed under another key, or altered) refuses the rotation, naming it,
// and nothing changes. While it runs no secret can be written (writers
// wait; readers read the old ciphertexts); afterwards only next opens
// them. The caller keeps next durably (the keychain) before calling: once
// this commits, old opens nothing.
func (db *DB) RotateKey(ctx context.Context, old, next Key, nextID int) error {
	m, err := db.team()
	if err != nil {
		return err
	}
	switch {
	case old.isZero() || next.isZero():
		return errZeroKey
	case old == next:
		return errors.New("the new team key is the current one: nothing was changed")
	}
	var n [2]int
	// refused is a rotation this function refuses (the key, a secret that
	// does not open): its own words, not a database error's.
	var refused error
	// committing: everything was written and only the commit remained,
	// whose failure leaves the outcome unknown.
	var committing bool
	err = db.tx(ctx, func(tx pgx.Tx) error {
		refused, committing = nil, false // the pool may run this again on a fresh connection
		if err := needRole(ctx, tx, m, RoleOwner, "rotate the team key"); err != nil {
			return err
		}
		if refused, err = checkCurrentKey(ctx, tx, old, nextID); refused != nil {
			return refused
		} else if err != nil {
			return err
		}
		// EXCLUSIVE blocks every INSERT, UPDATE and DELETE until the
		// commit, and no read: a refresh that stored a token sealed under
		// old after the rows were read would be left behind unreadable.
		if _, err := tx.Exec(ctx, `LOCK TABLE sbctl.tokens, sbctl.client_secrets IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		for i, kind := range []SecretKind{SecretToken, SecretClientSecret} {
			if n[i], refused, err = reseal(ctx, tx, m.id, kind, old, next, nextID); refused != nil {
				return refused
			} else if err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE sbctl.team SET key_fingerprint = $1, key_id = $2`, next.Fingerprint(), nextID); err != nil {
			return err
		}
		detail := fmt.Sprintf("key %d (%s): %d tokens and %d client secrets re-encrypted", nextID, next.Fingerprint(), n[0], n[1])
		if err := db.logTx(ctx, tx, ActionKeyRotate, "", detail); err != nil {
			return err
		}
		// Running sbctls re-read: what they hold no longer opens.
		if err := notifyAll(ctx, tx, m); err != nil {
			return err
		}
		committing = true
		return nil
	})
	switch {
	case refused != nil:
		return refused
	case err != nil && committing:
		return fmt.Errorf("%w (%v)", ErrRotateUnknown, db.orDenied(ctx, err, "rotate the team key", RoleOwner))
	}
	return db.orDenied(ctx, err, "rotate the team key", RoleOwner)
}

// ErrRotateUnknown is a rotation whose commit failed (the connection broke
// meanwhile): the team may hold either key now. Keep both until sbctl team
// status shows which fingerprint it has.
var ErrRotateUnknown = errors.New("the key rotation may or may not have been applied (the commit did not answer): keep both the old and the new key until sbctl team status shows which one the team has")

// checkCurrentKey locks the team row (a second rotation waits, then finds
// the key changed) and refuses an old key that is not the team's, or a
// key id that is not new (refused); err is a failed query.
func checkCurrentKey(ctx context.Context, tx pgx.Tx, old Key, nextID int) (refused, err error) {
	var fp string
	var id int
	if err := tx.QueryRow(ctx, `SELECT key_fingerprint, key_id FROM sbctl.team FOR UPDATE`).Scan(&fp, &id); err != nil {
		return nil, err
	}
	if fp != old.Fingerprint() {
		return &KeyMismatchError{Have: old.Fingerprint(), Team: fp}, nil
	}
	if nextID <= id {
		return fmt.Errorf("the new team key's id %d must be above the current key's (%d): nothing was changed", nextID, id), nil
	}
	return nil, nil
}

// KeyMismatchError is a team key that is not the one the team uses now.
type KeyMismatchError struct{ Have, Team string } // fingerprints

func (e *KeyMismatchError) Error() string {
	return fmt.Sprintf("this machine's team key (fingerprint %s) is not the team's current key (%s): import the current key (sbctl team key import) and retry; nothing was changed", e.Have, e.Team)
}

// reseal re-encrypts every secret of kind, in one statement, and returns
// how many there were; refused is a secret that does not open.
func reseal(ctx context.Context, tx pgx.Tx, teamID string, kind SecretKind, old, next Key, nextID int) (n int, refused, err error) {
	rows, err := tx.Query(ctx, `SELECT `+kind.Key()+`, ciphertext FROM sbctl.`+kind.Table()+` ORDER BY 1`)
	if err != nil {
		return 0, nil, err
	}
	var names []string
	var cts [][]byte
	for rows.Next() {
		var name string
		var ct []byte
		if err := rows.Scan(&name, &ct); err != nil {
			rows.Close()
			return 0, nil, err
		}
		names = append(names, name)
		cts = append(cts, ct)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	for i, name := range names {
		ad := SecretAD(teamID, kind, name)
		plain, err := old.Open(cts[i], ad)
		if err != nil {
			return 0, fmt.Errorf("the %s of %q: %w; nothing was changed (remove or re-authenticate %s, then rotate again)", kindWord(kind), name, err, name), nil
		}
		cts[i], err = next.Seal(plain, ad)
		clear(plain)
		if err != nil {
			return 0, nil, err
		}
	}
	if len(names) == 0 {
		return 0, nil, nil
	}
	tag, err := tx.Exec(ctx, `UPDATE sbctl.`+kind.Table()+` AS t SET ciphertext = v.ct, key_id = $3
FROM unnest($1::text[], $2::bytea[]) AS v(name, ct) WHERE t.`+kind.Key()+` = v.name`, names, cts, nextID)
	if err != nil {
		return 0, nil, err
	}
	if int(tag.RowsAffected()) != len(names) {
		return 0, nil, fmt.Errorf("re-encrypting %ss: %d of %d rows written", kindWord(kind), tag.RowsAffected(), len(names))
	}
	return len(names), nil, nil
}

func kindWord(kind SecretKind) string {
	if kind == SecretClientSecret {
		return "client secret"
	}
	return "token"
}
