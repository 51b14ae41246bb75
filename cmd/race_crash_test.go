package cmd_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth/sandbox"
	"github.com/sbctl/sbctl/auth/sandbox/sandboxtest"
	"github.com/sbctl/sbctl/auth/store"
)

// These tests run the real CLI in separate processes: TestMain
// (testscript.Main) put this test binary on $PATH as `sbctl` for the whole
// test process. They prove SECURITY 19 (one refresh across processes) and
// 23 (crash window of a rotating refresh) end to end, against the sandbox
// with strict refresh-token rotation and reuse detection.

// rcClientID is the client id of the sandbox provider in the config and of
// every grant the tests issue.
const rcClientID = "race-cli"

// rcChildTimeout bounds every child process; rcCrashBudget each workspace
// of the crash test (normally 5-15 s, longer under -race).
const (
	rcChildTimeout = 45 * time.Second
	rcCrashBudget  = 5 * time.Minute
)

// rcWorkspace is one hermetic sbctl home: its own config, state, data and
// cache directories, and either the explicit file store or its own keychain
// service.
type rcWorkspace struct {
	srv      *sandbox.Server
	bin      string
	root     string
	env      []string
	stateDir string // $XDG_STATE_HOME/sbctl
	dataDir  string // $XDG_DATA_HOME/sbctl
	service  string // keychain service; "" for the file store
}

// rcResult is what one child process did.
type rcResult struct {
	args           []string
	stdout, stderr string
	code           int // -1 when killed by a signal
	killed         bool
	elapsed        time.Duration
}

func (r rcResult) String() string {
	return fmt.Sprintf("`sbctl %s`: exit %d (killed=%v, %s)\nstdout: %q\nstderr: %s", strings.Join(r.args, " "), r.code, r.killed, r.elapsed.Round(time.Millisecond), r.stdout, r.stderr)
}

func rcRandom() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newRCWorkspace(t *testing.T, srv *sandbox.Server, keychain bool) *rcWorkspace {
	t.Helper()
	bin, err := exec.LookPath("sbctl")
	if err != nil {
		t.Fatalf("sbctl is not on $PATH (TestMain's testscript.Main puts it there): %v", err)
	}
	root := t.TempDir()
	w := &rcWorkspace{srv: srv, bin: bin, root: root}
	w.env = []string{"PATH=" + os.Getenv("PATH"), "NO_COLOR=1", "TERM=dumb"}
	for _, d := range []struct{ env, dir string }{
		{"HOME", "home"}, {"XDG_CONFIG_HOME", "cfg"}, {"XDG_STATE_HOME", "state"},
		{"XDG_DATA_HOME", "data"}, {"XDG_CACHE_HOME", "cache"},
	} {
		p := filepath.Join(root, d.dir)
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		w.env = append(w.env, d.env+"="+p)
	}
	w.stateDir = filepath.Join(root, "state", "sbctl")
	w.dataDir = filepath.Join(root, "data", "sbctl")
	if v, ok := os.LookupEnv("TMPDIR"); ok {
		w.env = append(w.env, "TMPDIR="+v)
	}
	// Under -race the children are race-enabled too, and the race runtime
	// sleeps 1 s at exit by default: that would make every child last a
	// second (and move the end of each process far from its refresh).
	w.env = append(w.env, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	if keychain {
		w.service = "sbctl-race-" + rcRandom()
		w.env = append(w.env, "SBCTL_KEYRING_SERVICE="+w.service)
		for _, k := range []string{"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"} {
			if v := os.Getenv(k); v != "" {
				w.env = append(w.env, k+"="+v)
			}
		}
		t.Cleanup(func() {
			k := store.NewKeyring(w.service)
			_ = k.Delete(context.Background(), store.ProfileKey("p"))
		})
	} else {
		w.env = append(w.env, "SBCTL_TOKEN_STORE=file")
	}
	cfg := fmt.Sprintf("providers:\n  sbx:\n    type: oidc\n    issuer: %s\n    client_id: %s\n    scopes: [openid, offline_access]\n", srv.Issuer(), rcClientID)
	if err := os.MkdirAll(filepath.Join(root, "cfg", "sbctl"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "cfg", "sbctl", "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *rcWorkspace) command(ctx context.Context, stdin string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	c := exec.CommandContext(ctx, w.bin, args...)
	c.Env = w.env
	c.Dir = w.root
	c.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	return c, &out, &errOut
}

func rcFinish(t *testing.T, c *exec.Cmd, args []string, out, errOut *bytes.Buffer, err error, elapsed time.Duration) rcResult {
	t.Helper()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("sbctl %s: %v", strings.Join(args, " "), err)
	}
	r := rcResult{args: args, stdout: out.String(), stderr: errOut.String(), code: c.ProcessState.ExitCode(), elapsed: elapsed}
	if ws, ok := c.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		r.killed = ws.Signal() == syscall.SIGKILL
	}
	return r
}

// run runs sbctl to completion.
func (w *rcWorkspace) run(t *testing.T, stdin string, args ...string) rcResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rcChildTimeout)
	defer cancel()
	c, out, errOut := w.command(ctx, stdin, args...)
	start := time.Now()
	err := c.Run()
	r := rcFinish(t, c, args, out, errOut, err, time.Since(start))
	if ctx.Err() != nil {
		t.Errorf("timed out after %s: %s", rcChildTimeout, r)
	}
	if strings.Contains(r.stderr, "DATA RACE") {
		t.Errorf("data race in a child: %s", r)
	}
	return r
}

// runKilled starts sbctl and sends it SIGKILL after delay unless it has
// ended by then.
func (w *rcWorkspace) runKilled(t *testing.T, delay time.Duration, args ...string) rcResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rcChildTimeout)
	defer cancel()
	c, out, errOut := w.command(ctx, "", args...)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	timer := time.NewTimer(delay)
	defer timer.Stop()
	var err error
	select {
	case err = <-done:
	case <-timer.C:
		_ = c.Process.Kill() // SIGKILL
		err = <-done
	}
	return rcFinish(t, c, args, out, errOut, err, time.Since(start))
}

// importGrant makes a new grant at the sandbox and imports it as profile p
// with `profiles add --with-token`, its access token expiring at expiry.
func (w *rcWorkspace) importGrant(t *testing.T, expiry time.Time) sandbox.TokenResponse {
	t.Helper()
	tr, err := w.srv.Issue(sandbox.IssueRequest{ClientID: rcClientID, Scopes: []string{"openid", "offline_access"}})
	if err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(map[string]string{
		"access_token":  tr.AccessToken,
		"refresh_token": tr.RefreshToken,
		"token_type":    "Bearer",
		"expiry":        expiry.UTC().Format(time.RFC3339),
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := w.run(t, string(in), "profiles", "add", "p", "--provider", "sbx", "--with-token"); r.code != 0 {
		t.Fatalf("importing the grant: %s", r)
	}
	return tr
}

// tokenLine returns the token of a `sbctl token` stdout that is exactly one
// line holding one word, or "".
func tokenLine(stdout string) string {
	tok, ok := strings.CutSuffix(stdout, "\n")
	if !ok || tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return ""
	}
	return tok
}

// rcIntrospect asks the sandbox (RFC 7662) about a token.
func rcIntrospect(t *testing.T, srv *sandbox.Server, token string) (active bool, body map[string]any) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.PostForm(srv.Metadata().IntrospectionEndpoint, url.Values{"token": {token}, "client_id": {rcClientID}})
	if err != nil {
		t.Fatalf("introspection: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("introspection answered %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("introspection: %v", err)
	}
	return body["active"] == true, body
}

// rcKeychainUsable probes the real keychain under a throwaway service.
func rcKeychainUsable() error {
	k := store.NewKeyring("sbctl-race-probe-" + rcRandom())
	k.Timeout = 10 * time.Second
	if err := k.Set(context.Background(), "probe", "x"); err != nil {
		return err
	}
	return k.Delete(context.Background(), "probe")
}

// TestTokenRace20Processes: 20 concurrent `sbctl token` calls on an expired
// profile against a sandbox with strict rotation and reuse detection all
// exit 0 with the same new token, exactly one refresh request reaches the
// server, and the grant is still alive afterwards (SECURITY 19, SPEC §6).
func TestTokenRace20Processes(t *testing.T) {
	t.Run("file", func(t *testing.T) { testTokenRace(t, false) })
	t.Run("keychain", func(t *testing.T) {
		if err := rcKeychainUsable(); err != nil {
			if os.Getenv("SBCTL_REQUIRE_KEYRING") == "1" {
				t.Fatalf("SBCTL_REQUIRE_KEYRING=1 but the keychain is unusable: %v", err)
			}
			t.Skipf("no usable keychain: %v", err)
		}
		testTokenRace(t, true)
	})
}

func testTokenRace(t *testing.T, keychain bool) {
	var tl rcTokenLog
	srv := sandboxtest.Start(t, sandbox.Options{RotateRefresh: true, AccessTTL: time.Hour, Logf: tl.logf})
	w := newRCWorkspace(t, srv, keychain)
	imported := w.importGrant(t, time.Now().Add(-time.Minute))

	const n = 20
	before := srv.Stats()
	ctx, cancel := context.WithTimeout(context.Background(), rcChildTimeout)
	defer cancel()
	cmds := make([]*exec.Cmd, n)
	outs := make([]*bytes.Buffer, n)
	errs := make([]*bytes.Buffer, n)
	for i := range n {
		cmds[i], outs[i], errs[i] = w.command(ctx, "", "token", "p")
	}
	// Start all, then wait for all.
	start := time.Now()
	for i, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatalf("starting process %d: %v", i, err)
		}
	}
	spread := time.Since(start)
	results := make([]rcResult, n)
	ended := make([]time.Time, n)
	waitErrs := make([]error, n)
	var wg sync.WaitGroup
	for i, c := range cmds {
		wg.Go(func() {
			waitErrs[i] = c.Wait()
			ended[i] = time.Now()
		})
	}
	wg.Wait()
	for i, c := range cmds {
		results[i] = rcFinish(t, c, []string{"token", "p"}, outs[i], errs[i], waitErrs[i], ended[i].Sub(start))
	}
	elapsed := time.Since(start)
	after := srv.Stats()
	if ctx.Err() != nil {
		t.Fatalf("the %d processes did not finish within %s", n, rcChildTimeout)
	}
	// How many were racing: still running when the sandbox answered the
	// one refresh.
	answered := time.Unix(0, tl.last.Load())
	running := 0
	for _, e := range ended {
		if e.After(answered) {
			running++
		}
	}
	t.Logf("%d processes started within %s and all ended after %s; the sandbox answered the refresh %s after the first start, while %d of them were running",
		n, spread.Round(time.Microsecond), elapsed.Round(time.Millisecond), answered.Sub(start).Round(time.Microsecond), running)

	var tokens []string
	for i, r := range results {
		tok := tokenLine(r.stdout)
		switch {
		case r.code != 0:
			t.Errorf("process %d: %s", i, r)
		case tok == "":
			t.Errorf("process %d: stdout is not exactly one line with the token: %s", i, r)
		case strings.Contains(r.stderr, "DATA RACE"):
			t.Errorf("process %d: %s", i, r)
		}
		tokens = append(tokens, tok)
	}
	if t.Failed() {
		t.FailNow()
	}
	if distinct := slices.Compact(slices.Sorted(slices.Values(tokens))); len(distinct) != 1 {
		t.Errorf("the %d processes printed %d different tokens, want 1", n, len(distinct))
	}
	tok := tokens[0]
	if tok == imported.AccessToken {
		t.Errorf("the processes printed the imported, expired access token: nothing was renewed")
	}
	if got := after.RefreshRequests - before.RefreshRequests; got != 1 {
		t.Errorf("the sandbox got %d refresh requests, want exactly 1", got)
	}
	if got := after.RefreshSucceeded - before.RefreshSucceeded; got != 1 {
		t.Errorf("%d refreshes succeeded at the sandbox, want 1", got)
	}
	if got := after.ReuseDetections - before.ReuseDetections; got != 0 {
		t.Errorf("the sandbox detected %d refresh-token reuses, want 0 (the grant was killed)", got)
	}
	if active, body := rcIntrospect(t, srv, tok); !active {
		t.Errorf("the printed token is not active at the sandbox: %v", body)
	}
	// It was stored (with its rotated refresh token) in the chosen store,
	// and only there.
	var st store.Store = store.NewFile(w.dataDir, nil)
	if keychain {
		st = store.NewKeyring(w.service)
		for _, f := range []string{"tokens.json", "tokens"} {
			if _, err := os.Stat(filepath.Join(w.dataDir, f)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("keychain run: the file store's %s exists (%v)", f, err)
			}
		}
	}
	if stored, err := store.GetToken(context.Background(), st, "p"); err != nil {
		t.Errorf("reading the stored token: %v", err)
	} else if stored.AccessToken != tok || stored.RefreshToken == imported.RefreshToken || stored.RefreshToken == "" {
		t.Errorf("the store does not hold the renewed token with its rotated refresh token")
	}

	// The grant is alive: one more (forced) refresh works, without reuse.
	if r := w.run(t, "", "refresh", "p"); r.code != 0 {
		t.Fatalf("refresh after the race: %s", r)
	}
	final := srv.Stats()
	if got := final.RefreshSucceeded - before.RefreshSucceeded; got != 2 {
		t.Errorf("refreshes succeeded at the sandbox: %d, want 2", got)
	}
	if got := final.ReuseDetections - before.ReuseDetections; got != 0 {
		t.Errorf("reuse detections: %d, want 0", got)
	}
	r := w.run(t, "", "token", "p")
	next := tokenLine(r.stdout)
	if r.code != 0 || next == "" || next == tok {
		t.Fatalf("token after the extra refresh: want a new token: %s", r)
	}
	if active, body := rcIntrospect(t, srv, next); !active {
		t.Errorf("the renewed token is not active: %v", body)
	}
}

// rcTokenLog records when the sandbox finished each token-endpoint request,
// from its request log (Options.Logf never sees secrets).
type rcTokenLog struct{ last atomic.Int64 }

func (l *rcTokenLog) logf(format string, args ...any) {
	if len(args) >= 2 && args[1] == "/token" {
		l.last.Store(time.Now().UnixNano())
	}
}

// TestCrashKill200 kills `sbctl refresh`/`sbctl token` with SIGKILL at
// random moments, 200 times, against a rotating sandbox. After each kill a
// fresh `sbctl token` either succeeds or, only when the kill landed inside
// the rotation window, reports the detected loss ("was stopped"); never a
// silent needs_reauth, never a corrupt state or config file (SECURITY 23,
// 24).
func TestCrashKill200(t *testing.T) {
	t.Parallel()
	iterations := 200
	if testing.Short() {
		iterations = 40
	}
	// The kills are shared by two workspaces, each with its own sandbox,
	// side by side: every kill is independent of the others (each check
	// starts from what the last one left), a workspace still lives through
	// a long history of kills, and the run takes half the time on two
	// cores. Each workspace checks everything below after each of its
	// kills, and ends healthy.
	const workspaces = 2
	for i := range workspaces {
		t.Run(fmt.Sprintf("workspace%d", i+1), func(t *testing.T) {
			t.Parallel()
			crashKills(t, iterations/workspaces)
		})
	}
}

// crashKills is TestCrashKill200 in one workspace, iterations times.
func crashKills(t *testing.T, iterations int) {
	var tl rcTokenLog
	// Access tokens live 30 s, less than `sbctl token`'s default --min-ttl
	// (60 s): every `sbctl token p` renews, so the check after each kill
	// really exercises the marker.
	srv := sandboxtest.Start(t, sandbox.Options{RotateRefresh: true, AccessTTL: 30 * time.Second, Logf: tl.logf})
	w := newRCWorkspace(t, srv, false)
	w.importGrant(t, time.Now().Add(30*time.Second))
	testStart := time.Now()

	ops := [][]string{{"refresh", "p"}, {"token", "p", "--min-ttl", "100h"}}

	// Calibrate: how long a whole renewing process takes, and when (after
	// its start) the server has answered its refresh request. The estimates
	// keep following the unkilled checks below (medians of the last 21).
	var total, reqAt []time.Duration
	sample := func(r rcResult, t0 time.Time) {
		total = append(total, r.elapsed)
		reqAt = append(reqAt, time.Duration(tl.last.Load()-t0.UnixNano()))
		if len(total) > 21 {
			total, reqAt = total[1:], reqAt[1:]
		}
	}
	median := func(d []time.Duration) time.Duration {
		s := slices.Sorted(slices.Values(d))
		return s[len(s)/2]
	}
	for i := range 6 {
		t0 := time.Now()
		r := w.run(t, "", ops[i%2]...)
		if r.code != 0 {
			t.Fatalf("calibration: %s", r)
		}
		sample(r, t0)
	}
	t.Logf("calibration: a renewing process takes %s; the server has answered its refresh %s after the start", median(total), median(reqAt))

	// Kill delays: half uniform over [0, 2×typical] (anywhere in the
	// process's life, or after it), half uniform over [answered/2,
	// typical]: from sending the request to storing its answer and
	// exiting, where the rotation window is.
	var delays []time.Duration
	pick := func(i int) time.Duration {
		typical, answered := median(total), median(reqAt)
		if i%4 < 2 {
			return time.Duration(mrand.Int64N(int64(2 * typical)))
		}
		lo, hi := answered/2, max(typical, answered+5*time.Millisecond)
		return lo + time.Duration(mrand.Int64N(int64(hi-lo)))
	}

	var (
		finished, killedEarly, killedInRequest, killedStored, killedLost int
		markerLeft, ok, lost, bad                                        int
	)
	// The marker is renewing/p.<digest of the name>.json (profiles/lock.go).
	sum := sha256.Sum256([]byte("p"))
	markerPath := filepath.Join(w.stateDir, "renewing", "p."+hex.EncodeToString(sum[:4])+".json")
	for i := range iterations {
		if d := time.Since(testStart); d > rcCrashBudget {
			t.Fatalf("iteration %d: over the time budget (%s)", i, d.Round(time.Second))
		}
		op := ops[i%2]
		delay := pick(i)
		delays = append(delays, delay)
		pre := srv.Stats()
		rt0 := w.storedRefresh(t)
		k := w.runKilled(t, delay, op...)
		// The killed process is gone: what it stored is final.
		rt1 := w.storedRefresh(t)
		_, err := os.Stat(markerPath)
		marker := err == nil
		if marker {
			markerLeft++
		}
		if !k.killed && k.code != 0 {
			t.Errorf("iteration %d: %s ended on its own but failed: %s", i, op[0], k)
		}

		t0 := time.Now()
		f := w.run(t, "", "token", "p")
		post := srv.Stats()
		tok := tokenLine(f.stdout)
		fOK := f.code == 0 && tok != "" && !strings.Contains(f.stderr, "could not renew")
		fLost := f.code == 4 && f.stdout == "" && strings.Contains(f.stderr, "was stopped")

		// Exact accounting from the server's counters: the check always
		// sends one refresh request (every token expires within its
		// --min-ttl), which succeeds exactly when it prints a token; the
		// rest is the killed process's.
		killReq := post.RefreshRequests - pre.RefreshRequests - 1
		killRotated := post.RefreshSucceeded - pre.RefreshSucceeded
		if fOK {
			killRotated--
		}
		// The rotation window: the server replaced the refresh token but
		// the killed process had not stored the new one.
		inWindow := killRotated > 0 && rt1 == rt0
		switch {
		case !k.killed:
			finished++
		case killReq == 0:
			killedEarly++
		case killRotated == 0:
			killedInRequest++
		case inWindow:
			killedLost++
		default:
			killedStored++
		}

		detail := func() string {
			return fmt.Sprintf("%s killed after %s (killed=%v, marker left=%v, its refresh reached the server=%v, rotated=%v, new refresh token stored=%v)\nsandbox: refresh requests %d→%d, succeeded %d→%d, reuse detections %d→%d",
				op[0], delay.Round(time.Microsecond), k.killed, marker, killReq > 0, killRotated > 0, rt1 != rt0,
				pre.RefreshRequests, post.RefreshRequests, pre.RefreshSucceeded, post.RefreshSucceeded, pre.ReuseDetections, post.ReuseDetections)
		}
		switch {
		case fOK && !inWindow:
			ok++
			sample(f, t0)
			if active, body := rcIntrospect(t, srv, tok); !active {
				t.Errorf("iteration %d: `sbctl token p` printed a token the sandbox calls inactive (%v): %s\n%s", i, body, f, detail())
			}
			if post.ReuseDetections != pre.ReuseDetections {
				t.Errorf("iteration %d: `sbctl token p` succeeded but the sandbox detected a reuse, so the grant is dead: %s\n%s", i, f, detail())
			}
			w.checkList(t, i, "ok")
		case fLost && inWindow:
			lost++
			w.checkList(t, i, "needs_reauth")
			w.recover(t)
		default:
			bad++
			switch {
			case fLost:
				t.Errorf("iteration %d: `sbctl token p` reported a lost grant although nothing was lost: %s\n%s", i, f, detail())
			case inWindow:
				t.Errorf("iteration %d: killed inside the rotation window, but `sbctl token p` did not report the detected loss: %s\n%s", i, f, detail())
			default:
				t.Errorf("iteration %d: after the kill, `sbctl token p` neither succeeded nor reported a detected loss: %s\n%s", i, f, detail())
			}
			w.recover(t)
			if bad >= 10 {
				t.Fatalf("stopping after %d bad iterations", bad)
			}
		}
		w.checkFiles(t, i)
	}

	// The profile ends healthy.
	if r := w.run(t, "", "refresh", "p"); r.code != 0 {
		t.Errorf("final refresh: %s", r)
	}
	w.checkList(t, iterations, "ok")
	slices.Sort(delays)
	t.Logf("%d iterations in %s; a renewing process took %s (median), its refresh was answered after %s; kill delays: min %s, quartiles %s %s %s, max %s",
		iterations, time.Since(testStart).Round(time.Millisecond), median(total), median(reqAt),
		delays[0], delays[len(delays)/4], delays[len(delays)/2], delays[3*len(delays)/4], delays[len(delays)-1])
	t.Logf("killed process: %d ended before the kill, %d killed before its refresh request reached the server, %d killed during a request that did not rotate, %d killed after the rotation and after storing the new token, %d killed inside the rotation window; a renewal marker was left behind %d times",
		finished, killedEarly, killedInRequest, killedStored, killedLost, markerLeft)
	t.Logf("next `sbctl token p`: %d ok, %d detected loss (then re-imported), %d wrong", ok, lost, bad)
	t.Logf("sandbox: %+v", srv.Stats())
	// A killed writer's temp file is removed by the next writer of the same
	// file (under its lock): none may outlive the run with a token in it.
	if left, secrets := w.tempLeftovers(); secrets > 0 {
		t.Errorf("temporary files left behind by killed writers: %d, of which %d hold a refresh token: %v", len(left), secrets, left)
	} else if len(left) > 0 {
		t.Logf("temporary files left behind by killed writers (no tokens): %v", left)
	}
}

// storedRefresh is profile p's refresh token in the file store.
func (w *rcWorkspace) storedRefresh(t *testing.T) string {
	t.Helper()
	tok, err := store.GetToken(context.Background(), store.NewFile(w.dataDir, nil), "p")
	if err != nil {
		t.Fatalf("reading p's token from the file store: %v", err)
	}
	return tok.RefreshToken
}

// recover replaces profile p with a freshly issued grant.
func (w *rcWorkspace) recover(t *testing.T) {
	t.Helper()
	if r := w.run(t, "", "profiles", "remove", "p", "--keep-remote", "--yes"); r.code != 0 {
		t.Fatalf("removing p to recover: %s", r)
	}
	w.importGrant(t, time.Now().Add(30*time.Second))
}

// checkFiles: the state file (when present) and the token files (an old
// tokens.json, the per-item files) are valid JSON.
func (w *rcWorkspace) checkFiles(t *testing.T, i int) {
	t.Helper()
	files := []string{filepath.Join(w.stateDir, "state.json"), filepath.Join(w.dataDir, "tokens.json")}
	items, _ := filepath.Glob(filepath.Join(w.dataDir, "tokens", "*.json"))
	for _, p := range append(files, items...) {
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Errorf("iteration %d: %v", i, err)
			continue
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Errorf("iteration %d: %s is not valid JSON (%v): %q", i, p, err, b)
		}
	}
}

// checkList: the config still parses and p has the wanted status.
func (w *rcWorkspace) checkList(t *testing.T, i int, status string) {
	t.Helper()
	r := w.run(t, "", "profiles", "list", "-o", "json")
	var list []map[string]any
	if r.code != 0 {
		t.Errorf("iteration %d: %s", i, r)
		return
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Errorf("iteration %d: profiles list -o json is not JSON (%v): %s", i, err, r)
		return
	}
	if len(list) != 1 || list[0]["name"] != "p" || list[0]["status"] != status {
		t.Errorf("iteration %d: profiles list: want p with status %s, got %v", i, status, list)
	}
}

// tempLeftovers lists the temporary files that killed writers left
// behind, and counts those holding a refresh token.
func (w *rcWorkspace) tempLeftovers() (files []string, secrets int) {
	for _, dir := range []string{w.stateDir, w.dataDir} {
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), ".") {
				rel, _ := filepath.Rel(w.root, p)
				files = append(files, rel)
				if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte("sbx-rt-")) {
					secrets++
				}
			}
			return nil
		})
	}
	return files, secrets
}
