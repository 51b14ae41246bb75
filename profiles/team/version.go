package team

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// CatalogVersion is the catalog's version alone: one small query, so a
// Manager can ask before every look-up whether its copy of the catalog is
// still the team's, without reading the catalog.
func (db *DB) CatalogVersion(ctx context.Context) (int64, error) {
	if _, err := db.team(); err != nil {
		return 0, err
	}
	var v int64
	err := db.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT catalog_version FROM sbctl.team`).Scan(&v)
	})
	if err != nil {
		return 0, db.orDenied(ctx, err, "read the catalog", RoleViewer)
	}
	return v, nil
}

// KeyInfo is what opening a session needs of the team: its id and the
// fingerprint and id of its current key — Info without the member count
// (which walks the role catalog), so `sbctl token` stays one small query
// here.
func (db *DB) KeyInfo(ctx context.Context) (Info, error) {
	if _, err := db.team(); err != nil {
		return Info{}, err
	}
	info := Info{Host: db.where}
	err := db.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT id::text, key_fingerprint, key_id FROM sbctl.team`).Scan(&info.ID, &info.KeyFingerprint, &info.KeyID)
	})
	if err != nil {
		return Info{}, db.queryError("read the team", err)
	}
	return info, nil
}
