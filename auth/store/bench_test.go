package store

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The plain-file store at 10 and at 10,000 items (issue 8, item 12): a
// token write (Set + the read-back of PutToken) and a read should cost the
// same at both sizes. The store is filled the way an upgrade finds it, a
// tokens.json, and the first write moves it into item files; that one-off
// cost is reported as s-migrate.
//
//	go test -run '^$' -bench 'File(Set|Get)' -benchtime 200x ./auth/store/
func BenchmarkFileSet(b *testing.B) {
	for _, n := range []int{10, 10000} {
		dir := filepath.Join(b.TempDir(), "sbctl")
		b.Run(fmt.Sprint("items=", n), func(b *testing.B) {
			f, migrate := filledFile(b, dir, n)
			defer b.ReportMetric(migrate.Seconds(), "s-migrate")
			ctx := context.Background()
			tok := fakeToken()
			i := 0
			for b.Loop() {
				key := ProfileKey(fmt.Sprintf("p%05d", i%n))
				if err := f.Set(ctx, key, tok); err != nil {
					b.Fatal(err)
				}
				if _, err := f.Get(ctx, key); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkFileGet(b *testing.B) {
	for _, n := range []int{10, 10000} {
		dir := filepath.Join(b.TempDir(), "sbctl")
		b.Run(fmt.Sprint("items=", n), func(b *testing.B) {
			_, _ = filledFile(b, dir, n)
			ctx := context.Background()
			i := 0
			for b.Loop() {
				// A new store each time, as each `sbctl token` process
				// has: no cache carried over.
				f := NewFile(dir, nil)
				if _, err := f.Get(ctx, ProfileKey(fmt.Sprintf("p%05d", i%n))); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func fakeToken() string {
	return fmt.Sprintf(`{"access_token":"%s","refresh_token":"%s","token_type":"Bearer","expiry":%q}`,
		strings.Repeat("a", 180), strings.Repeat("r", 120), time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
}

// filledFile writes n items as dir/tokens.json and makes one write, which
// (with per-item files) moves them all; it returns how long that took.
// b.Loop benchmarks run once, so this happens once per size.
func filledFile(b *testing.B, dir string, n int) (*File, time.Duration) {
	b.Helper()
	f := NewFile(dir, nil)
	items := map[string]string{}
	tok := fakeToken()
	for i := range n {
		items[ProfileKey(fmt.Sprintf("p%05d", i))] = tok
	}
	raw, _ := json.Marshal(items)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokens.json"), raw, 0o600); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := f.Set(context.Background(), ClientKey("bench"), "x"); err != nil {
		b.Fatal(err)
	}
	return f, time.Since(start)
}
