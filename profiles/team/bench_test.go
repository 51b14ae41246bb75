package team

import (
	"fmt"
	"testing"
)

// big is a team of n profiles in two groups, each with a status record,
// and a marketing member.
func big(b *testing.B, n int) (owner, member *DB) {
	b.Helper()
	url, owner := newTeam(b)
	ctx := testCtx(b)
	cat := Catalog{
		Providers: []CatalogProvider{{Name: "x", YAML: "preset: x\n"}},
		Groups:    []CatalogGroup{{Name: "marketing"}, {Name: "support"}},
	}
	for i := range n {
		g := []string{"marketing", "support"}[i%2]
		cat.Profiles = append(cat.Profiles, CatalogProfile{Name: fmt.Sprintf("p%05d", i), Provider: "x", Groups: []string{g}})
	}
	if _, err := owner.ApplyCatalog(ctx, 0, cat); err != nil {
		b.Fatal(err)
	}
	if err := owner.UpdateRecords(ctx, func(m map[string][]byte) error {
		for _, p := range cat.Profiles {
			m[p.Name] = []byte(`{"status":"ok","account":"acct","expires":"2026-12-01T10:00:00Z"}`)
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	_, _, member = joined(b, owner, url, RoleMember, "marketing")
	return owner, member
}

// BenchmarkCatalog10k: the catalog and status a member reads for
// `profiles list` over 10,000 team profiles (it sees 5,000, through RLS).
func BenchmarkCatalog10k(b *testing.B) {
	owner, member := big(b, 10000)
	ctx := testCtx(b)
	for _, c := range []struct {
		name string
		db   *DB
	}{{"owner", owner}, {"member", member}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.db.Catalog(ctx); err != nil {
					b.Fatal(err)
				}
				if _, err := c.db.Records(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSecret: one token read (sbctl token with a valid token).
func BenchmarkSecret(b *testing.B) {
	_, db := newTeam(b)
	ctx := testCtx(b)
	if _, err := db.ApplyCatalog(ctx, 0, Catalog{Profiles: []CatalogProfile{{Name: "p", Provider: "x"}}}); err != nil {
		b.Fatal(err)
	}
	if err := db.PutSecret(ctx, SecretToken, "p", []byte("ct"), 1); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := db.Secret(ctx, SecretToken, "p"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefreshRoundTrips: the database side of one team refresh —
// lock, read the token, store the new one with its audit event, update
// the status record, unlock.
func BenchmarkRefreshRoundTrips(b *testing.B) {
	_, db := newTeam(b)
	ctx := testCtx(b)
	if _, err := db.ApplyCatalog(ctx, 0, Catalog{Profiles: []CatalogProfile{{Name: "p", Provider: "x"}}}); err != nil {
		b.Fatal(err)
	}
	if err := db.PutSecret(ctx, SecretToken, "p", []byte("ct"), 1); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		unlock, err := db.LockProfile(ctx, "p")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.Secret(ctx, SecretToken, "p"); err != nil {
			b.Fatal(err)
		}
		if err := db.PutSecretLog(ctx, SecretToken, "p", []byte("ct2"), 1, ActionRefresh, ""); err != nil {
			b.Fatal(err)
		}
		if err := db.UpdateRecord(ctx, "p", func([]byte) ([]byte, error) { return []byte(`{"status":"ok"}`), nil }); err != nil {
			b.Fatal(err)
		}
		unlock()
	}
}
