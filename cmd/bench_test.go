package cmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sbctl/sbctl/cmd"
	"github.com/sbctl/sbctl/profiles"
)

// BenchmarkProfilesListJSON measures `sbctl profiles list -o json` in
// process (config parse, state read, evaluation, JSON) over 1,000 and
// 10,000 connected profiles. The targets compare whole-process wall
// times (see docs/benchmarks.md and testdata/bench/list.sh); this benchmark
// shows the scaling and the allocations behind them:
//
//	go test -run '^$' -bench ProfilesListJSON -benchmem ./cmd/
func BenchmarkProfilesListJSON(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("profiles=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			cfgPath, stateDir := writeBenchWorkspace(b, dir, n)
			b.Setenv("SBCTL_CONFIG", cfgPath)
			b.Setenv("XDG_STATE_HOME", filepath.Dir(stateDir))
			b.ReportAllocs()
			for b.Loop() {
				var out, errOut bytes.Buffer
				ios := &cmd.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Now: time.Now, Env: nil}
				code := cmd.Run(context.Background(), &cmd.Factory{IO: ios}, []string{"profiles", "list", "-o", "json"})
				if code != 0 || !bytes.Contains(out.Bytes(), []byte(`"name": "p00001"`)) || bytes.Count(out.Bytes(), []byte(`"status": "ok"`)) != n {
					b.Fatalf("exit %d: %s (%d bytes out)", code, errOut.String(), out.Len())
				}
			}
		})
	}
}

// writeBenchWorkspace writes a config with n profiles and a state file in
// which every one is connected.
func writeBenchWorkspace(b *testing.B, dir string, n int) (cfgPath, stateDir string) {
	var cfg strings.Builder
	cfg.WriteString("providers:\n  acme:\n    type: oauth2\n    auth_url: http://127.0.0.1:9/a\n    token_url: http://127.0.0.1:9/t\n    client_id: c\nprofiles:\n")
	st := profiles.State{Version: 1, Profiles: map[string]*profiles.Record{}}
	exp := time.Now().Add(10 * 24 * time.Hour).UTC()
	for i := range n {
		name := fmt.Sprintf("p%05d", i)
		fmt.Fprintf(&cfg, "  %s:\n    provider: acme\n", name)
		st.Profiles[name] = &profiles.Record{Connected: true, ExpiresAt: &exp}
	}
	cfgPath = filepath.Join(dir, "config.yaml")
	stateDir = filepath.Join(dir, "state", "sbctl")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		b.Fatal(err)
	}
	data, _ := json.Marshal(st)
	if err := os.WriteFile(filepath.Join(stateDir, "state.json"), data, 0o600); err != nil {
		b.Fatal(err)
	}
	return cfgPath, stateDir
}
