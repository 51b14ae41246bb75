package cmd_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/sandbox"
	"github.com/sbctl/sbctl/auth/sandbox/sandboxtest"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/profiles"
)

// BenchmarkRefreshAll1000 runs `sbctl refresh --all` as a process over
// 1,000 profiles against the sandbox adding 50 ms to every token request,
// at the default concurrency (8). Ideal: 1,000 × 50 ms ÷ 8 = 6.25 s; the
// target is within 1.5× of it. Reports the ratio and the process's peak
// resident memory.
//
//	go test -run '^$' -bench RefreshAll1000 -benchtime 1x ./cmd/
func BenchmarkRefreshAll1000(b *testing.B) {
	const n, latency = 1000, 50 * time.Millisecond
	srv := sandboxtest.Start(b, sandbox.Options{TokenLatency: latency, AccessTTL: time.Hour})
	dir := b.TempDir()
	env := append(os.Environ(),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "cfg"), "XDG_STATE_HOME="+filepath.Join(dir, "state"),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"), "SBCTL_TOKEN_STORE=file", "SBCTL_CONFIG=")
	writeRefreshWorkspace(b, srv, dir, n)
	ideal := time.Duration(n) * latency / profiles.DefaultConcurrency
	for b.Loop() {
		start := time.Now()
		cmd := exec.Command("sbctl", "refresh", "--all")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		wall := time.Since(start)
		if err != nil {
			b.Fatalf("refresh --all: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), fmt.Sprintf("%d renewed", n)) {
			b.Fatalf("not all renewed:\n%s", out)
		}
		b.ReportMetric(wall.Seconds(), "s-wall")
		b.ReportMetric(wall.Seconds()/ideal.Seconds(), "x-ideal")
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			b.ReportMetric(float64(ru.Maxrss)/1024, "MB-peak-RSS")
		}
	}
	if s := srv.Stats(); s.RefreshRequests < int64(n) {
		b.Errorf("the sandbox saw %d refreshes, want at least %d", s.RefreshRequests, n)
	}
}

// writeRefreshWorkspace writes the config, the plain-file token store and
// the state for n connected profiles, each with its own sandbox grant.
func writeRefreshWorkspace(b *testing.B, srv *sandbox.Server, dir string, n int) {
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "providers:\n  sbx:\n    type: oidc\n    issuer: %s\n    client_id: bench\n    scopes: [offline_access]\nprofiles:\n", srv.Issuer())
	tokens := map[string]string{}
	st := profiles.State{Version: 1, Profiles: map[string]*profiles.Record{}}
	now := time.Now().UTC()
	for i := range n {
		name := fmt.Sprintf("p%04d", i)
		fmt.Fprintf(&cfg, "  %s:\n    provider: sbx\n", name)
		tr, err := srv.Issue(sandbox.IssueRequest{ClientID: "bench", Subject: name, Scopes: []string{"offline_access"}})
		if err != nil {
			b.Fatal(err)
		}
		t := auth.Token{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, TokenType: "Bearer",
			Expiry: now.Add(time.Duration(tr.ExpiresIn) * time.Second), ObtainedAt: now}
		raw, _ := json.Marshal(t)
		tokens[store.ProfileKey(name)] = string(raw)
		st.Profiles[name] = profiles.RecordFromToken(&t, now)
	}
	write := func(path string, data []byte, mode os.FileMode) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, data, mode); err != nil {
			b.Fatal(err)
		}
	}
	write(filepath.Join(dir, "cfg", "sbctl", "config.yaml"), []byte(cfg.String()), 0o644)
	tb, _ := json.Marshal(tokens)
	write(filepath.Join(dir, "data", "sbctl", "tokens.json"), tb, 0o600)
	sb, _ := json.Marshal(st)
	write(filepath.Join(dir, "state", "sbctl", "state.json"), sb, 0o600)
}
