package team

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Catalog is the team's providers, groups and profiles, in their order.
// Version moves on every change (ApplyCatalog's optimistic check).
type Catalog struct {
	Version   int64
	Providers []CatalogProvider
	Groups    []CatalogGroup
	Profiles  []CatalogProfile
}

// CatalogProvider is one provider. YAML is the provider's mapping body as
// config.yaml would hold it; it must not hold the client secret (that is
// a SecretClientSecret, stored encrypted).
type CatalogProvider struct{ Name, YAML string }

// CatalogGroup is one group.
type CatalogGroup struct{ Name, Description string }

// CatalogProfile is one profile.
type CatalogProfile struct {
	Name, Provider string
	Groups, Scopes []string
}

// Catalog reads the catalog as the caller may see it: members and viewers
// get only the profiles of their groups, those groups, and the providers
// those profiles use (row-level security).
func (db *DB) Catalog(ctx context.Context) (Catalog, error) {
	if _, err := db.team(); err != nil {
		return Catalog{}, err
	}
	var cat Catalog
	err := db.with(ctx, func(c *pgx.Conn) error {
		// One snapshot: the version and the rows agree.
		return pgx.BeginTxFunc(ctx, c, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			var err error
			cat, err = readCatalog(ctx, tx)
			return err
		})
	})
	if err != nil {
		return Catalog{}, db.orDenied(ctx, err, "read the catalog", RoleViewer)
	}
	return cat, nil
}

func readCatalog(ctx context.Context, tx pgx.Tx) (Catalog, error) {
	var cat Catalog
	if err := tx.QueryRow(ctx, `SELECT catalog_version FROM sbctl.team`).Scan(&cat.Version); err != nil {
		return cat, err
	}
	rows, err := tx.Query(ctx, `SELECT name, yaml FROM sbctl.providers ORDER BY position, name`)
	if err != nil {
		return cat, err
	}
	cat.Providers, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (CatalogProvider, error) {
		var p CatalogProvider
		return p, r.Scan(&p.Name, &p.YAML)
	})
	if err != nil {
		return cat, err
	}
	rows, err = tx.Query(ctx, `SELECT name, description FROM sbctl.groups ORDER BY position, name`)
	if err != nil {
		return cat, err
	}
	cat.Groups, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (CatalogGroup, error) {
		var g CatalogGroup
		return g, r.Scan(&g.Name, &g.Description)
	})
	if err != nil {
		return cat, err
	}
	rows, err = tx.Query(ctx, `SELECT name, provider, groups, scopes FROM sbctl.profiles ORDER BY position, name`)
	if err != nil {
		return cat, err
	}
	cat.Profiles, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (CatalogProfile, error) {
		var p CatalogProfile
		return p, r.Scan(&p.Name, &p.Provider, &p.Groups, &p.Scopes)
	})
	return cat, err
}

// ApplyCatalog makes the catalog next, in one transaction, when it is still
// at version expect (else ErrCatalogChanged, nothing changed); it returns
// the new version. Only what differs is written. Removing a profile removes
// its token, status and marker; removing a provider its client secret.
// Every change is in the audit log, and running TUIs hear of it. Owners
// and admins only (a *PermissionError naming the refused action).
func (db *DB) ApplyCatalog(ctx context.Context, expect int64, next Catalog) (int64, error) {
	m, err := db.team()
	if err != nil {
		return 0, err
	}
	if err := checkCatalog(next); err != nil {
		return 0, err
	}
	var version int64
	var action string
	err = db.tx(ctx, func(tx pgx.Tx) error {
		cur, err := readCatalog(ctx, tx)
		if err != nil {
			return err
		}
		d := diffCatalog(cur, next)
		action = d.action()
		if d.empty() {
			version = cur.Version
			if cur.Version != expect {
				return ErrCatalogChanged
			}
			return nil
		}
		if err := needRole(ctx, tx, m, RoleAdmin, action); err != nil {
			return err
		}
		// The row lock orders concurrent editors; the version check then
		// refuses all but the first.
		if err := tx.QueryRow(ctx, `SELECT catalog_version FROM sbctl.team FOR UPDATE`).Scan(&version); err != nil {
			return err
		}
		if version != expect {
			return ErrCatalogChanged
		}
		if err := db.writeCatalog(ctx, tx, next, d); err != nil {
			return err
		}
		version++
		if _, err := tx.Exec(ctx, `UPDATE sbctl.team SET catalog_version = $1`, version); err != nil {
			return err
		}
		return notifyAll(ctx, tx, m)
	})
	if err != nil {
		if action == "" {
			action = "change the catalog"
		}
		return 0, db.orDenied(ctx, err, action, RoleAdmin)
	}
	return version, nil
}

func checkCatalog(c Catalog) error {
	seen := map[string]bool{}
	for _, p := range c.Providers {
		if p.Name == "" || seen["p:"+p.Name] {
			return fmt.Errorf("catalog: provider name %q empty or repeated", p.Name)
		}
		seen["p:"+p.Name] = true
	}
	for _, g := range c.Groups {
		if g.Name == "" || seen["g:"+g.Name] {
			return fmt.Errorf("catalog: group name %q empty or repeated", g.Name)
		}
		seen["g:"+g.Name] = true
	}
	for _, p := range c.Profiles {
		if p.Name == "" || seen["f:"+p.Name] {
			return fmt.Errorf("catalog: profile name %q empty or repeated", p.Name)
		}
		seen["f:"+p.Name] = true
	}
	return nil
}

// catalogDiff is what ApplyCatalog writes: names to upsert (with their new
// positions) and names to delete, per table.
type catalogDiff struct {
	providers, groups, profiles tableDiff
}

type tableDiff struct {
	added, changed, removed []string
}

func (t tableDiff) empty() bool { return len(t.added)+len(t.changed)+len(t.removed) == 0 }

func (d catalogDiff) empty() bool {
	return d.providers.empty() && d.groups.empty() && d.profiles.empty()
}

// action names the change for a refusal: "remove profiles" for
// `profiles remove`, "add profiles" for `profiles add`.
func (d catalogDiff) action() string {
	switch {
	case len(d.profiles.removed) > 0:
		return "remove profiles"
	case len(d.profiles.added) > 0:
		return "add profiles"
	case len(d.profiles.changed) > 0:
		return "change profiles"
	case !d.providers.empty():
		return "change providers"
	case !d.groups.empty():
		return "change groups"
	}
	return "change the catalog"
}

// diffRows compares two ordered lists by name; a row whose content or
// position moved counts as changed.
func diffRows[T any](cur, next []T, name func(T) string, same func(a, b T) bool) tableDiff {
	var d tableDiff
	at := map[string]int{}
	for i, r := range cur {
		at[name(r)] = i
	}
	inNext := map[string]bool{}
	for i, r := range next {
		n := name(r)
		inNext[n] = true
		j, ok := at[n]
		switch {
		case !ok:
			d.added = append(d.added, n)
		case i != j || !same(cur[j], r):
			d.changed = append(d.changed, n)
		}
	}
	for _, r := range cur {
		if !inNext[name(r)] {
			d.removed = append(d.removed, name(r))
		}
	}
	return d
}

func diffCatalog(cur, next Catalog) catalogDiff {
	return catalogDiff{
		providers: diffRows(cur.Providers, next.Providers, func(p CatalogProvider) string { return p.Name },
			func(a, b CatalogProvider) bool { return a == b }),
		groups: diffRows(cur.Groups, next.Groups, func(g CatalogGroup) string { return g.Name },
			func(a, b CatalogGroup) bool { return a == b }),
		profiles: diffRows(cur.Profiles, next.Profiles, func(p CatalogProfile) string { return p.Name },
			func(a, b CatalogProfile) bool {
				return a.Provider == b.Provider && slices.Equal(a.Groups, b.Groups) && slices.Equal(a.Scopes, b.Scopes)
			}),
	}
}

// writeCatalog applies d: upserts first (providers before the profiles that
// use them), deletes last (profiles before their providers).
func (db *DB) writeCatalog(ctx context.Context, tx pgx.Tx, next Catalog, d catalogDiff) error {
	b := &pgx.Batch{}
	want := func(t tableDiff) map[string]bool {
		m := map[string]bool{}
		for _, n := range append(slices.Clone(t.added), t.changed...) {
			m[n] = true
		}
		return m
	}
	wp, wg, wf := want(d.providers), want(d.groups), want(d.profiles)
	for i, p := range next.Providers {
		if wp[p.Name] {
			b.Queue(`INSERT INTO sbctl.providers (name, yaml, position) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET yaml = excluded.yaml, position = excluded.position`, p.Name, p.YAML, i)
		}
	}
	for i, g := range next.Groups {
		if wg[g.Name] {
			b.Queue(`INSERT INTO sbctl.groups (name, description, position) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET description = excluded.description, position = excluded.position`, g.Name, g.Description, i)
		}
	}
	for i, p := range next.Profiles {
		if wf[p.Name] {
			b.Queue(`INSERT INTO sbctl.profiles (name, provider, groups, scopes, position) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (name) DO UPDATE SET provider = excluded.provider, groups = excluded.groups, scopes = excluded.scopes, position = excluded.position`,
				p.Name, p.Provider, nonNil(p.Groups), nonNil(p.Scopes), i)
		}
	}
	if len(d.profiles.removed) > 0 {
		b.Queue(`DELETE FROM sbctl.profiles WHERE name = ANY ($1)`, d.profiles.removed)
	}
	if len(d.groups.removed) > 0 {
		b.Queue(`DELETE FROM sbctl.groups WHERE name = ANY ($1)`, d.groups.removed)
	}
	if len(d.providers.removed) > 0 {
		b.Queue(`DELETE FROM sbctl.providers WHERE name = ANY ($1)`, d.providers.removed)
	}
	queueCatalogAudit(db, b, d)
	return tx.SendBatch(ctx, b).Close()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// queueCatalogAudit logs one event per profile added, changed or removed,
// and one per provider or group change.
func queueCatalogAudit(db *DB, b *pgx.Batch, d catalogDiff) {
	add := func(action, profile, detail string) {
		b.Queue(`INSERT INTO sbctl.audit (host, action, profile, detail) VALUES ($1, $2, $3, $4)`, db.host, action, profile, detail)
	}
	for _, n := range d.profiles.added {
		add(ActionAdd, n, "")
	}
	for _, n := range d.profiles.changed {
		add(ActionEdit, n, "")
	}
	for _, n := range d.profiles.removed {
		add(ActionRemove, n, "")
	}
	summary := func(kind string, t tableDiff) {
		if t.empty() {
			return
		}
		var parts []string
		for _, x := range []struct {
			verb  string
			names []string
		}{{"added", t.added}, {"changed", t.changed}, {"removed", t.removed}} {
			if len(x.names) > 0 {
				parts = append(parts, x.verb+" "+strings.Join(x.names, ", "))
			}
		}
		add(ActionCatalog, "", kind+": "+strings.Join(parts, "; "))
	}
	summary("providers", d.providers)
	summary("groups", d.groups)
}
