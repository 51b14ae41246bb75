package cmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sbctl/sbctl/auth/sandbox"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/profiles/team"
	"github.com/sbctl/sbctl/profiles/team/teamtest"
)

// These tests run the real CLI, in separate processes, as two "machines"
// of one team (issue 12): two hermetic sbctl homes (HOME, XDG directories,
// each its own file token store holding its copy of the team key) that
// share one PostgreSQL team database, against the sandbox with strict
// refresh-token rotation and reuse detection. They reuse the workspace
// helpers of race_crash_test.go.

// tmSandbox is the sandbox behind the team tests, served by the test's own
// loopback server so the test can tell when no request is left at it: a
// process killed after sending its refresh may leave a request the
// sandbox still carries out, as a real server would (the sandbox sleeps
// TokenLatency before it reads the request, so net/http does not notice
// that the client is gone), and the other machine must only ask once that
// request has done whatever it does, or the sandbox's counters could not
// say whose request rotated the token.
type tmSandbox struct {
	srv    *sandbox.Server
	ts     *httptest.Server
	issuer string

	mu    sync.Mutex
	conns map[net.Conn]bool // open connections (accepted, not yet closed)
	// arrived and answered are when the last token request reached the
	// sandbox and when it was finished.
	arrived, answered time.Time
}

func startTMSandbox(t *testing.T, opts sandbox.Options) *tmSandbox {
	t.Helper()
	s := &tmSandbox{conns: map[net.Conn]bool{}}
	opts.AutoApprove = true
	opts.Logf = s.logf
	srv, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.srv = srv
	// Not started: the sandbox answers for the Host of each request, which
	// is this loopback server's.
	h := srv.Handler()
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			s.mu.Lock()
			s.arrived = time.Now()
			s.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	s.ts.Config.ConnState = s.connState
	s.ts.Start()
	t.Cleanup(s.ts.Close)
	s.issuer = s.ts.URL
	return s
}

func (s *tmSandbox) connState(c net.Conn, st http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch st {
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c)
	default:
		s.conns[c] = true
	}
}

// logf receives the sandbox's request log (never a secret).
func (s *tmSandbox) logf(format string, args ...any) {
	if len(args) >= 2 && args[1] == "/token" {
		s.mu.Lock()
		s.answered = time.Now()
		s.mu.Unlock()
	}
}

// lastRequest is when the last token request reached the sandbox and when
// it was answered.
func (s *tmSandbox) lastRequest() (arrived, answered time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.arrived, s.answered
}

func (s *tmSandbox) lastAnswer() time.Time {
	_, a := s.lastRequest()
	return a
}

// waitIdle polls until the sandbox has no open connection: every request
// that reached it, a dead process's included, has been carried out. Every
// client of the sandbox (sbctl, the test's introspection) closes its
// connections or dies.
func (s *tmSandbox) waitIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(rcChildTimeout)
	for {
		s.mu.Lock()
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sandbox still has %d open connections after %s", n, rcChildTimeout)
		}
		time.Sleep(time.Millisecond) // polling a condition, not waiting for one
	}
}

// introspect asks the sandbox (RFC 7662) about a token, on a connection of
// its own that is closed after the answer (see waitIdle).
func (s *tmSandbox) introspect(t *testing.T, token string) (active bool, body map[string]any) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.PostForm(s.issuer+"/introspect", url.Values{"token": {token}, "client_id": {rcClientID}})
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

// tmTeam is one team: its database, the sandbox, machines A and B, and the
// test's own connection to the database (as its owner) to look at what the
// machines left there: the sealed token and the renewal marker.
type tmTeam struct {
	sbx    *tmSandbox
	url    string
	a, b   *rcWorkspace
	db     *team.DB
	key    team.Key
	teamID string
	host   string // this machine's name: both "machines" run here
	// sessions is the test's connection that watches the machines'
	// sessions (waitQuiet).
	sessions *pgx.Conn
}

// newTMTeam builds the team through the CLI: `team init` on A, the key
// moved to B with `team key export | team key import`, the sandbox added
// as a provider on A and profile p connected on A by importing a grant
// whose access token expired a minute ago.
func newTMTeam(t *testing.T, opts sandbox.Options) *tmTeam {
	t.Helper()
	tm := &tmTeam{url: teamtest.Database(t)} // first: it skips without PostgreSQL
	tm.sbx = startTMSandbox(t, opts)
	var err error
	if tm.host, err = os.Hostname(); err != nil {
		t.Fatal(err)
	}
	tm.a, tm.b = tm.machine(t), tm.machine(t)

	if r := tm.a.run(t, "", "team", "init"); r.code != 0 {
		t.Fatalf("team init on A: %s", r)
	}
	exp := tm.a.run(t, "", "team", "key", "export")
	if exp.code != 0 {
		t.Fatalf("team key export on A: %s", shown(exp))
	}
	if tm.key, err = team.ParseKey(strings.TrimSpace(exp.stdout)); err != nil {
		t.Fatalf("team key export printed no key (%v): %s", err, exp.stderr)
	}
	if r := tm.b.run(t, exp.stdout, "team", "key", "import"); r.code != 0 {
		t.Fatalf("team key import on B: %s", r)
	}
	// Both machines see the same team with the same key.
	var stA, stB struct {
		Team           string `json:"team"`
		KeyFingerprint string `json:"key_fingerprint"`
	}
	tm.a.runJSON(t, &stA, "team", "status", "-o", "json")
	tm.b.runJSON(t, &stB, "team", "status", "-o", "json")
	if stA.Team == "" || stA != stB {
		t.Fatalf("team status: A %+v, B %+v", stA, stB)
	}
	tm.teamID = stA.Team

	if r := tm.a.run(t, "", "providers", "add", "sbx", "--preset", "oidc", "--issuer", tm.sbx.issuer, "--client-id", rcClientID,
		"--scope", "openid", "--scope", "offline_access"); r.code != 0 {
		t.Fatalf("providers add on A: %s", r)
	}
	tm.a.importGrant(t, time.Now().Add(-time.Minute))

	ctx, cancel := context.WithTimeout(context.Background(), rcChildTimeout)
	defer cancel()
	own := teamtest.WithSetting(tm.url, "application_name", tmTestApp)
	if tm.db, err = team.Open(ctx, own, team.OpenOptions{Host: "the-test"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tm.db.Close)
	if tm.sessions, err = pgx.Connect(ctx, own); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tm.sessions.Close(context.Background()) })
	return tm
}

// tmTestApp is the application_name of the test's own sessions in the
// team database; the machines' are "sbctl".
const tmTestApp = "sbctl-team-crash-test"

// waitQuiet polls until neither the sandbox nor the team database has
// anything left of a finished or killed process: no connection open at
// the sandbox (a killed process's refresh still being carried out), no
// session of a machine in the database (a killed process's last COMMIT,
// sent on one session while its lock is on another, may still be on its
// way: the lock can go before the write lands). Only then is what the
// process did final, and the other machine's turn starts from it.
func (tm *tmTeam) waitQuiet(t *testing.T) {
	t.Helper()
	tm.sbx.waitIdle(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*rcChildTimeout)
	defer cancel()
	deadline := time.Now().Add(rcChildTimeout)
	for {
		var n int
		err := tm.sessions.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND application_name <> $1 AND pid <> pg_backend_pid()`, tmTestApp).Scan(&n)
		if err != nil {
			t.Fatalf("counting the machines' sessions in the team database: %v", err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the machines still have %d sessions in the team database after %s", n, rcChildTimeout)
		}
		time.Sleep(time.Millisecond) // polling a condition, not waiting for one
	}
}

// machine is a workspace whose config names only the team database.
func (tm *tmTeam) machine(t *testing.T) *rcWorkspace {
	t.Helper()
	w := newRCWorkspace(t, tm.sbx.srv, false)
	q, _ := json.Marshal(tm.url) // a JSON string is a YAML double-quoted scalar
	cfg := "team:\n  database: " + string(q) + "\n"
	if err := os.WriteFile(filepath.Join(w.root, "cfg", "sbctl", "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return w
}

// runJSON runs sbctl, which must succeed, and decodes its stdout.
func (w *rcWorkspace) runJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	r := w.run(t, "", args...)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("not JSON (%v): %s", err, r)
	}
}

// grantJSON is a fresh grant at the sandbox as `--with-token` reads it,
// its access token expiring at expiry.
func (tm *tmTeam) grantJSON(t *testing.T, expiry time.Time) string {
	t.Helper()
	tr, err := tm.sbx.srv.Issue(sandbox.IssueRequest{ClientID: rcClientID, Scopes: []string{"openid", "offline_access"}})
	if err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(map[string]string{
		"access_token": tr.AccessToken, "refresh_token": tr.RefreshToken, "token_type": "Bearer",
		"expiry": expiry.UTC().Format(time.RFC3339),
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(in)
}

// sealedToken reads p's token from the team database and opens it with
// the team key, as a machine would.
type sealedToken struct{ tm *tmTeam }

func (s sealedToken) Get(ctx context.Context, key string) (string, error) {
	name, ok := strings.CutPrefix(key, store.ProfileKey(""))
	if !ok {
		return "", fmt.Errorf("not a profile's token: %q", key)
	}
	ct, err := s.tm.db.Secret(ctx, team.SecretToken, name)
	if errors.Is(err, team.ErrNotFound) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", err
	}
	plain, err := s.tm.key.Open(ct, team.SecretAD(s.tm.teamID, team.SecretToken, name))
	return string(plain), err
}

func (sealedToken) Set(context.Context, string, string) error { return errors.New("read only") }
func (sealedToken) Delete(context.Context, string) error      { return errors.New("read only") }
func (sealedToken) Describe() string                          { return "the team database (read by the test)" }

// storedRefresh is p's refresh token in the team database.
func (tm *tmTeam) storedRefresh(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rcChildTimeout)
	defer cancel()
	tok, err := store.GetToken(ctx, sealedToken{tm}, "p")
	if err != nil {
		t.Fatalf("reading p's token from the team database: %v", err)
	}
	return tok.RefreshToken
}

// marker is p's renewal marker in the team database (nil: none).
func (tm *tmTeam) marker(t *testing.T) *team.Marker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rcChildTimeout)
	defer cancel()
	mk, err := tm.db.Marker(ctx, "p")
	if err != nil {
		t.Fatalf("reading p's renewal marker: %v", err)
	}
	return mk
}

// listed is p in `profiles list -o json` on w.
func (w *rcWorkspace) listed(t *testing.T) map[string]any {
	t.Helper()
	var list []map[string]any
	w.runJSON(t, &list, "profiles", "list", "-o", "json")
	if len(list) != 1 || list[0]["name"] != "p" {
		t.Fatalf("profiles list: want p alone, got %v", list)
	}
	return list[0]
}

// status is p's status in `profiles list -o json` on w.
func (w *rcWorkspace) status(t *testing.T) string {
	t.Helper()
	s, _ := w.listed(t)["status"].(string)
	return s
}

// shown is r for a message, without its stdout: a token or the team key
// never goes into test output, only how long it was.
func shown(r rcResult) string {
	if r.stdout != "" {
		r.stdout = fmt.Sprintf("<%d bytes, not shown>", len(r.stdout))
	}
	return r.String()
}

// runKilledPID is runKilled that also returns the process's pid (the one a
// renewal marker names).
func (w *rcWorkspace) runKilledPID(t *testing.T, delay time.Duration, args ...string) (rcResult, int) {
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
	r := rcFinish(t, c, args, out, errOut, err, time.Since(start))
	if strings.Contains(r.stderr, "DATA RACE") {
		t.Errorf("data race in a child: %s", shown(r))
	}
	return r, c.Process.Pid
}

// TestTeamTwoMachineTokensCLI is acceptance 1 of issue 12 through the real
// binary: with p's access token expired, 10 `sbctl token p` on machine A
// and 10 on machine B at once all print the same new token, from exactly
// one refresh at the sandbox, with no reuse of a rotated refresh token;
// the grant is alive afterwards.
func TestTeamTwoMachineTokensCLI(t *testing.T) {
	t.Parallel()
	// The sandbox holds the refresh 500 ms before it reads it: every
	// process has started and found the token expired while it is in
	// flight, so all 20 really race (without the team's lock, each would
	// send its own refresh).
	tm := newTMTeam(t, sandbox.Options{RotateRefresh: true, AccessTTL: time.Hour, TokenLatency: 500 * time.Millisecond})
	// B sees the profile A connected: ok (it renews automatically), with
	// its account.
	if p := tm.b.listed(t); p["status"] != "ok" || p["account"] != sandbox.DefaultSubject {
		t.Errorf("B lists p as %v, want ok with account %s", p, sandbox.DefaultSubject)
	}
	imported := tm.storedRefresh(t)

	const perMachine = 10
	ctx, cancel := context.WithTimeout(context.Background(), rcChildTimeout)
	defer cancel()
	type proc struct {
		c        *exec.Cmd
		out, err *bytes.Buffer
		machine  string
	}
	var procs []proc
	for range perMachine {
		for _, m := range []struct {
			w    *rcWorkspace
			name string
		}{{tm.a, "A"}, {tm.b, "B"}} {
			c, out, errOut := m.w.command(ctx, "", "token", "p")
			procs = append(procs, proc{c, out, errOut, m.name})
		}
	}
	before := tm.sbx.srv.Stats()
	start := time.Now()
	started := make([]time.Time, len(procs))
	for i, p := range procs {
		if err := p.c.Start(); err != nil {
			t.Fatalf("starting process %d: %v", i, err)
		}
		started[i] = time.Now()
	}
	spread := time.Since(start)
	waitErrs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Go(func() { waitErrs[i] = p.c.Wait() })
	}
	wg.Wait()
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("the %d processes did not finish within %s", len(procs), rcChildTimeout)
	}
	tm.sbx.waitIdle(t)
	after := tm.sbx.srv.Stats()
	arrived, answered := tm.sbx.lastRequest()
	racing := 0 // started before the refresh was answered
	for _, s := range started {
		if s.Before(answered) {
			racing++
		}
	}
	t.Logf("%d processes (%d on each machine) started within %s and all ended after %s; the refresh reached the sandbox %s after the first start and was answered after %s, when %d of them had started",
		len(procs), perMachine, spread.Round(time.Millisecond), elapsed.Round(time.Millisecond),
		arrived.Sub(start).Round(time.Millisecond), answered.Sub(start).Round(time.Millisecond), racing)

	tokens := map[string][]string{} // token → machines that printed it
	for i, p := range procs {
		r := rcFinish(t, p.c, []string{"token", "p"}, p.out, p.err, waitErrs[i], elapsed)
		tok := tokenLine(r.stdout)
		switch {
		case r.code != 0 || tok == "":
			t.Errorf("machine %s, process %d: %s", p.machine, i, shown(r))
		case strings.Contains(r.stderr, "DATA RACE"):
			t.Errorf("machine %s, process %d: %s", p.machine, i, shown(r))
		}
		tokens[tok] = append(tokens[tok], p.machine)
	}
	if t.Failed() {
		t.FailNow()
	}
	if len(tokens) != 1 {
		t.Errorf("the %d processes printed %d different tokens, want 1", len(procs), len(tokens))
	}
	if got := after.RefreshRequests - before.RefreshRequests; got != 1 {
		t.Errorf("the sandbox got %d refresh requests, want exactly 1", got)
	}
	if got := after.RefreshSucceeded - before.RefreshSucceeded; got != 1 {
		t.Errorf("%d refreshes succeeded at the sandbox, want 1", got)
	}
	if got := after.ReuseDetections - before.ReuseDetections; got != 0 {
		t.Errorf("the sandbox detected %d refresh-token reuses, want 0", got)
	}
	for tok := range tokens {
		if active, body := tm.sbx.introspect(t, tok); !active {
			t.Errorf("the printed token is not active at the sandbox: %v", body)
		}
	}
	if rt := tm.storedRefresh(t); rt == imported || rt == "" {
		t.Error("the team database does not hold the rotated refresh token")
	}
	if mk := tm.marker(t); mk != nil {
		t.Errorf("a renewal marker is left behind: %+v", *mk)
	}
	// The grant is alive: a forced refresh on B works, and A then prints
	// B's new token without asking the sandbox.
	if r := tm.b.run(t, "", "refresh", "p"); r.code != 0 {
		t.Fatalf("refresh on B after the race: %s", shown(r))
	}
	r := tm.a.run(t, "", "token", "p")
	next := tokenLine(r.stdout)
	if r.code != 0 || next == "" || tokens[next] != nil {
		t.Fatalf("token on A after B's refresh: want B's new token: %s", shown(r))
	}
	tm.sbx.waitIdle(t)
	final := tm.sbx.srv.Stats()
	if final.RefreshRequests-before.RefreshRequests != 2 || final.ReuseDetections != before.ReuseDetections {
		t.Errorf("after the race: %d refresh requests in all, %d reuse detections; want 2 and 0", final.RefreshRequests-before.RefreshRequests, final.ReuseDetections-before.ReuseDetections)
	}
	if active, body := tm.sbx.introspect(t, next); !active {
		t.Errorf("B's renewed token is not active: %v", body)
	}
}

// TestTeamCrashKill is issue 12's crash test: machine A's `sbctl token p`
// or `sbctl refresh p` is killed with SIGKILL at a random moment (before,
// during or after its refresh request), then machine B runs `sbctl token
// p`, 100 times (10 with -short). Never a silent loss: B prints a token the
// sandbox calls active, or — exactly when A died after the sandbox rotated
// the refresh token and before the new one reached the team database — B
// fails naming A's renewal (its pid and host, from the marker in the
// database) and the lost grant; the sandbox never sees a reuse that B does
// not report; after a loss both machines list p as needs_reauth, never ok,
// and `sbctl reauth p --with-token` reconnects it.
func TestTeamCrashKill(t *testing.T) {
	t.Parallel()
	iterations := 100
	if testing.Short() {
		iterations = 10
	}
	// Access tokens live 30 s, less than `sbctl token`'s --min-ttl (60 s):
	// every `sbctl token p` renews, on either machine. TokenLatency holds
	// each refresh request before the sandbox reads it (a kill then may
	// leave a request the sandbox still carries out), AnswerLatency after
	// it rotated (a kill then loses the answer): both widen the window in
	// which a kill loses the grant.
	c := &tmCrash{t: t, tokenLatency: 30 * time.Millisecond, answerLatency: 10 * time.Millisecond}
	c.tm = newTMTeam(t, sandbox.Options{RotateRefresh: true, AccessTTL: 30 * time.Second, TokenLatency: c.tokenLatency, AnswerLatency: c.answerLatency})
	start := time.Now()
	c.calibrate()
	run := func(i int) {
		if d := time.Since(start); d > rcCrashBudget {
			t.Fatalf("iteration %d: over the time budget (%s)", i, d.Round(time.Second))
		}
		c.iteration(i)
		if c.bad >= 10 {
			t.Fatalf("stopping after %d bad iterations", c.bad)
		}
	}
	for i := range iterations {
		run(i)
	}
	// A run in which no kill landed inside the rotation window proved
	// nothing about it: kill there (pick's third kind) until one does.
	for extra := 0; c.lost == 0 && extra < iterations; extra++ {
		run(4*(iterations/4+extra) + 2)
	}
	if c.lost == 0 {
		t.Errorf("no kill landed inside the rotation window in %d iterations: the marker was never put to the test", c.iterations)
	}
	// Every reuse the sandbox detected was one B reported as A's lost
	// grant.
	if got := c.tm.sbx.srv.Stats().ReuseDetections; got != int64(c.lost) {
		t.Errorf("the sandbox detected %d refresh-token reuses; B reported %d lost grants", got, c.lost)
	}
	// The profile ends healthy on both machines.
	if r := c.tm.b.run(t, "", "refresh", "p"); r.code != 0 {
		t.Errorf("final refresh on B: %s", shown(r))
	}
	for _, w := range []*rcWorkspace{c.tm.a, c.tm.b} {
		if st := w.status(t); st != "ok" {
			t.Errorf("after the run, p is %q", st)
		}
	}
	d := slices.Sorted(slices.Values(c.delays))
	t.Logf("%d iterations in %s; a renewing process took %s (median), the sandbox had answered its refresh %s after its start; kill delays: min %s, quartiles %s %s %s, max %s",
		c.iterations, time.Since(start).Round(time.Millisecond), tmMedian(c.total), tmMedian(c.answeredAt),
		d[0], d[len(d)/4], d[len(d)/2], d[3*len(d)/4], d[len(d)-1])
	t.Logf("A: %d ended before the kill (clean), %d killed before its refresh request reached the sandbox, %d killed during a request that did not rotate, %d killed after the rotation and after storing the new token, %d killed after the rotation and before storing it (reported by B); a marker was left in the database %d times",
		c.finished, c.killedEarly, c.killedInRequest, c.killedStored, c.killedLost, c.markerLeft)
	t.Logf("B's `sbctl token p`: %d printed an active token, %d reported A's lost grant (then reconnected), %d wrong", c.ok, c.lost, c.bad)
	t.Logf("sandbox: %+v", c.tm.sbx.srv.Stats())
}

// tmCrash is TestTeamCrashKill's state: the team, the timing estimates and
// the outcome counts.
type tmCrash struct {
	t                           *testing.T
	tm                          *tmTeam
	tokenLatency, answerLatency time.Duration

	// total and answeredAt are the last unkilled renewals' durations and
	// when the sandbox had answered their refresh, after their start.
	total, answeredAt []time.Duration
	delays            []time.Duration

	iterations                                                                   int
	finished, killedEarly, killedInRequest, killedStored, killedLost, markerLeft int
	ok, lost, bad                                                                int
}

// tmOp is A's renewal in iteration i: `sbctl token p` and `sbctl refresh
// p` in turn.
func tmOp(i int) []string {
	if i%2 == 0 {
		return []string{"token", "p"}
	}
	return []string{"refresh", "p"}
}

func tmMedian(d []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(d))
	return s[len(s)/2]
}

func (c *tmCrash) sample(r rcResult, t0 time.Time) {
	c.total = append(c.total, r.elapsed)
	c.answeredAt = append(c.answeredAt, c.tm.sbx.lastAnswer().Sub(t0))
	if len(c.total) > 21 {
		c.total, c.answeredAt = c.total[1:], c.answeredAt[1:]
	}
}

// calibrate times a few unkilled renewals on A.
func (c *tmCrash) calibrate() {
	for i := range 6 {
		t0 := time.Now()
		r := c.tm.a.run(c.t, "", tmOp(i)...)
		if r.code != 0 {
			c.t.Fatalf("calibration: %s", shown(r))
		}
		c.sample(r, t0)
	}
	c.tm.waitQuiet(c.t)
	c.t.Logf("calibration: a renewing process takes %s; the sandbox has answered its refresh %s after the start", tmMedian(c.total), tmMedian(c.answeredAt))
}

// pick is the kill delay of iteration i, in turn: anywhere in the
// process's life or after it (uniform over [0, 2×typical]); before its
// refresh request reaches the sandbox; while the sandbox holds the request
// (TokenLatency, then AnswerLatency after rotating); and from just before
// the answer to just after the typical end (storing the new token,
// clearing the marker, exiting).
func (c *tmCrash) pick(i int) time.Duration {
	typical, answered := tmMedian(c.total), tmMedian(c.answeredAt)
	arrival := max(time.Millisecond, answered-c.tokenLatency-c.answerLatency)
	switch i % 4 {
	case 0:
		return uniform(0, 2*typical)
	case 1:
		return uniform(0, arrival)
	case 2:
		return uniform(arrival, answered)
	default:
		return uniform(answered-5*time.Millisecond, typical+10*time.Millisecond)
	}
}

// uniform is a random duration in [lo, hi) (lo when the range is empty).
func uniform(lo, hi time.Duration) time.Duration {
	lo = max(lo, 0)
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(mrand.Int64N(int64(hi-lo)))
}

// tmKill is what A's killed (or finished) renewal left behind.
type tmKill struct {
	op             []string
	delay          time.Duration
	r              rcResult
	pid            int
	req, rotated   int64 // refresh requests A's process sent, refreshes that rotated
	stored, marker bool  // a new refresh token reached the database; a marker is left
	inWindow       bool  // rotated at the sandbox, not stored: the grant is lost
	pre, mid       sandbox.Stats
	refreshBefore  string
	markerHost     string
	markerPID      int
}

func (k tmKill) String() string {
	return fmt.Sprintf("A's `sbctl %s` killed after %s (killed=%v, pid %d): its refresh reached the sandbox=%v, rotated=%v, new refresh token stored=%v, marker left=%v (host %q, pid %d)",
		strings.Join(k.op, " "), k.delay.Round(time.Microsecond), k.r.killed, k.pid, k.req > 0, k.rotated > 0, k.stored, k.marker, k.markerHost, k.markerPID)
}

// killA runs one of A's renewals, killed after a random delay, and reads
// what it left once nothing of it is left at the sandbox or the database.
func (c *tmCrash) killA(i int) tmKill {
	t, tm := c.t, c.tm
	k := tmKill{op: tmOp(i), delay: c.pick(i)}
	c.delays = append(c.delays, k.delay)
	k.pre, k.refreshBefore = tm.sbx.srv.Stats(), tm.storedRefresh(t)
	k.r, k.pid = tm.a.runKilledPID(t, k.delay, k.op...)
	tm.waitQuiet(t)
	k.mid = tm.sbx.srv.Stats()
	k.req, k.rotated = k.mid.RefreshRequests-k.pre.RefreshRequests, k.mid.RefreshSucceeded-k.pre.RefreshSucceeded
	k.stored = tm.storedRefresh(t) != k.refreshBefore
	k.inWindow = k.rotated > 0 && !k.stored
	if mk := tm.marker(t); mk != nil {
		k.marker, k.markerHost, k.markerPID = true, mk.Host, mk.PID
		c.markerLeft++
	}
	switch {
	case !k.r.killed:
		c.finished++
		if k.r.code != 0 || !k.stored || k.marker {
			t.Errorf("iteration %d: A's renewal ended on its own but failed, stored nothing or left its marker: %s\n%s", i, shown(k.r), k)
		}
	case k.req == 0:
		c.killedEarly++
	case k.rotated == 0:
		c.killedInRequest++
	case k.inWindow:
		c.killedLost++
		// The other machine can only report what the database tells it.
		if !k.marker || k.markerPID != k.pid || k.markerHost != tm.host {
			t.Errorf("iteration %d: A died inside the rotation window, but the database holds no marker naming it (want pid %d on %s): %s", i, k.pid, tm.host, k)
		}
	default:
		c.killedStored++
	}
	if k.req > 1 || k.rotated > 1 || k.mid.ReuseDetections != k.pre.ReuseDetections {
		t.Errorf("iteration %d: A sent %d refresh requests (%d rotated, %d reuse detections): a rotating refresh was resent\n%s", i, k.req, k.rotated, k.mid.ReuseDetections-k.pre.ReuseDetections, k)
	}
	return k
}

// iteration is one kill on A and the check on B.
func (c *tmCrash) iteration(i int) {
	t, tm := c.t, c.tm
	c.iterations++
	k := c.killA(i)

	t0 := time.Now()
	f := tm.b.run(t, "", "token", "p")
	tm.waitQuiet(t)
	post := tm.sbx.srv.Stats()
	tok := tokenLine(f.stdout)
	bOK := f.code == 0 && tok != "" && !strings.Contains(f.stderr, "could not renew")
	// The loss is reported with who lost it: A's pid and host, from the
	// marker in the database.
	bLost := f.code == 4 && f.stdout == "" && strings.Contains(f.stderr, "was stopped") &&
		strings.Contains(f.stderr, fmt.Sprintf("pid %d on %s", k.pid, tm.host)) && strings.Contains(f.stderr, "the grant is lost")
	reuse := post.ReuseDetections - k.mid.ReuseDetections
	detail := func() string {
		return fmt.Sprintf("%s\nB: %s\nsandbox during B: refresh requests %d→%d, succeeded %d→%d, reuse detections %d→%d",
			k, shown(f), k.mid.RefreshRequests, post.RefreshRequests, k.mid.RefreshSucceeded, post.RefreshSucceeded, k.mid.ReuseDetections, post.ReuseDetections)
	}
	// p's access token always expires within --min-ttl: B renews, once.
	if got := post.RefreshRequests - k.mid.RefreshRequests; got != 1 {
		t.Errorf("iteration %d: B sent %d refresh requests, want 1\n%s", i, got, detail())
	}
	switch {
	case bOK && !k.inWindow:
		c.ok++
		c.sample(f, t0)
		if reuse != 0 {
			t.Errorf("iteration %d: B printed a token but the sandbox detected a reuse, so the grant is dead (an undetected reuse)\n%s", i, detail())
		}
		if active, body := tm.sbx.introspect(t, tok); !active {
			t.Errorf("iteration %d: B printed a token the sandbox calls inactive (%v)\n%s", i, body, detail())
		}
		if mk := tm.marker(t); mk != nil {
			t.Errorf("iteration %d: B renewed but a marker is left: %+v\n%s", i, *mk, detail())
		}
		c.checkStatus(i, "ok", detail)
	case bLost && k.inWindow:
		c.lost++
		if reuse != 1 {
			t.Errorf("iteration %d: B reported the lost grant, but the sandbox saw %d reuses, want 1\n%s", i, reuse, detail())
		}
		c.checkStatus(i, "needs_reauth", detail)
		c.reconnect(i)
	default:
		c.bad++
		switch {
		case bLost:
			t.Errorf("iteration %d: B reported a lost grant although nothing was lost\n%s", i, detail())
		case k.inWindow:
			t.Errorf("iteration %d: A died inside the rotation window, but B did not report the loss naming A's renewal (a silent loss)\n%s", i, detail())
		default:
			t.Errorf("iteration %d: B neither printed a token nor reported a lost grant\n%s", i, detail())
		}
		c.reconnect(i)
	}
}

// checkStatus: both machines list p with the status.
func (c *tmCrash) checkStatus(i int, want string, detail func() string) {
	for _, m := range []struct {
		w    *rcWorkspace
		name string
	}{{c.tm.a, "A"}, {c.tm.b, "B"}} {
		if st := m.w.status(c.t); st != want {
			c.t.Errorf("iteration %d: machine %s lists p as %q, want %s\n%s", i, m.name, st, want, detail())
		}
	}
}

// reconnect imports a fresh grant on A with `sbctl reauth p --with-token`.
func (c *tmCrash) reconnect(i int) {
	if r := c.tm.a.run(c.t, c.tm.grantJSON(c.t, time.Now().Add(30*time.Second)), "reauth", "p", "--with-token"); r.code != 0 {
		c.t.Fatalf("iteration %d: reconnecting p: %s", i, shown(r))
	}
	if st := c.tm.b.status(c.t); st != "ok" {
		c.t.Errorf("iteration %d: after the reconnect on A, B lists p as %q", i, st)
	}
}
