package cmd_test

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sbctl/sbctl/auth/sandbox"
	"github.com/sbctl/sbctl/auth/sandbox/sandboxtest"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/auth/testkit"
)

// `sbctl agent` as a process: signals, the metrics endpoint, and the
// service definitions of `agent install`.

// agentChild is a running `sbctl agent` whose stderr the test reads as it
// comes.
type agentChild struct {
	c      *exec.Cmd
	stderr *testkit.Buffer
	done   chan error
}

func startAgent(t *testing.T, w *rcWorkspace, args ...string) *agentChild {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rcChildTimeout)
	t.Cleanup(cancel)
	c, _, _ := w.command(ctx, "", append([]string{"agent"}, args...)...)
	a := &agentChild{c: c, stderr: &testkit.Buffer{}, done: make(chan error, 1)}
	c.Stderr = a.stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.done <- c.Wait() }()
	t.Cleanup(func() {
		if c.ProcessState == nil {
			_ = c.Process.Kill()
			<-a.done
		}
	})
	return a
}

// waitFor polls cond until it holds; the agent ending first fails the test.
func (a *agentChild) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(rcChildTimeout)
	for !cond() {
		select {
		case err := <-a.done:
			a.done <- err
			t.Fatalf("the agent ended (%v) before %s:\n%s", err, what, a.stderr)
		case <-deadline:
			t.Fatalf("no %s within %s:\n%s", what, rcChildTimeout, a.stderr)
		case <-tick.C:
		}
	}
}

// term sends SIGTERM and returns the exit code and how long the agent took
// to exit.
func (a *agentChild) term(t *testing.T) (int, time.Duration) {
	t.Helper()
	if err := a.c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	select {
	case <-a.done:
	case <-time.After(rcChildTimeout):
		t.Fatalf("the agent did not exit after SIGTERM:\n%s", a.stderr)
	}
	return a.c.ProcessState.ExitCode(), time.Since(sent)
}

// SIGTERM while a renewal of a rotating grant is in flight (the sandbox
// has rotated the refresh token and holds its answer back): the agent
// stores the rotated token and exits 0 within 5 s.
func TestAgentSIGTERMMidRenewalStoresTheToken(t *testing.T) {
	t.Parallel()
	srv := sandboxtest.Start(t, sandbox.Options{RotateRefresh: true, AccessTTL: time.Hour, AnswerLatency: 1500 * time.Millisecond})
	w := newRCWorkspace(t, srv, false)
	old := w.importGrant(t, time.Now().Add(-time.Minute))
	a := startAgent(t, w, "--verify-every", "0")
	a.waitFor(t, "refresh request", func() bool { return srv.Stats().RefreshRequests > 0 })
	code, took := a.term(t)
	if code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0:\n%s", code, a.stderr)
	}
	if took > 5*time.Second {
		t.Errorf("the agent took %s to exit after SIGTERM, want at most 5 s", took)
	}
	tok, err := store.GetToken(context.Background(), store.NewFile(w.dataDir, nil), "p")
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == old.RefreshToken {
		t.Fatalf("the stored refresh token is the spent one: the rotated token was lost\n%s", a.stderr)
	}
	if active, _ := rcIntrospect(t, srv, tok.RefreshToken); !active {
		t.Errorf("the stored refresh token is not the sandbox's live one\n%s", a.stderr)
	}
	if !strings.Contains(a.stderr.String(), `msg=renewed profile=p`) || !strings.Contains(a.stderr.String(), `msg="agent stopped"`) {
		t.Errorf("the log does not say the renewal finished and the agent stopped:\n%s", a.stderr)
	}
}

// The metrics endpoint, scraped over HTTP on 127.0.0.1 and read with the
// Prometheus text parser: one series per status, the connection expiry of
// each profile, the renewals by outcome, the last pass; /healthz is 200.
func TestAgentMetricsScrape(t *testing.T) {
	t.Parallel()
	srv := sandboxtest.Start(t, sandbox.Options{AccessTTL: time.Hour})
	w := newRCWorkspace(t, srv, false)
	tr, err := srv.Issue(sandbox.IssueRequest{ClientID: rcClientID, Scopes: []string{"openid", "offline_access"}})
	if err != nil {
		t.Fatal(err)
	}
	refreshEnds := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
	in, _ := json.Marshal(map[string]string{"access_token": tr.AccessToken, "refresh_token": tr.RefreshToken,
		"expiry": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "refresh_expiry": refreshEnds.Format(time.RFC3339)})
	if r := w.run(t, string(in), "profiles", "add", "p", "--provider", "sbx", "--with-token"); r.code != 0 {
		t.Fatalf("importing: %s", r) // due now: its access token has ended
	}
	a := startAgent(t, w, "--metrics-addr", "127.0.0.1:0", "--verify-every", "0", "--log-format", "json")
	var base string
	urlRE := regexp.MustCompile(`"url":"(http://127\.0\.0\.1:\d+)/metrics"`)
	a.waitFor(t, "the metrics address in the log", func() bool {
		m := urlRE.FindStringSubmatch(a.stderr.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	})
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) (int, string) {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	a.waitFor(t, "a healthy /healthz", func() bool { code, _ := get("/healthz"); return code == http.StatusOK })
	code, body := get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("the Prometheus parser refuses /metrics: %v\n%s", err, body)
	}
	value := func(name string, labels map[string]string) (float64, bool) {
		return metricValue(families[name], labels)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"sbctl_profiles", map[string]string{"status": "ok"}, 1},
		{"sbctl_profiles", map[string]string{"status": "needs_reauth"}, 0},
		{"sbctl_renewals_total", map[string]string{"provider": "sbx", "outcome": "renewed"}, 1},
		{"sbctl_agent_active", nil, 1},
	} {
		if got, ok := value(c.name, c.labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v\n%s", c.name, c.labels, got, ok, c.want, body)
		}
	}
	if exp, ok := value("sbctl_connection_expiry_timestamp_seconds", map[string]string{"profile": "p", "provider": "sbx"}); !ok || exp != float64(refreshEnds.Unix()) {
		t.Errorf("connection expiry of p: %v (present %v), want %d (its refresh token's end)", exp, ok, refreshEnds.Unix())
	}
	if last, ok := value("sbctl_agent_last_pass_timestamp_seconds", nil); !ok || time.Since(time.Unix(int64(last), 0)) > time.Minute {
		t.Errorf("last pass at %v (present %v)", last, ok)
	}
	for name := range families {
		if !strings.HasPrefix(name, "sbctl_") {
			t.Errorf("the agent's registry exports %s: only sbctl_* series belong there", name)
		}
	}
	// The log is one JSON object per line (--log-format json), secrets
	// never in it.
	sc := bufio.NewScanner(strings.NewReader(a.stderr.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Errorf("not a JSON log line: %q", sc.Text())
		}
		if strings.Contains(sc.Text(), "sbx-at-") || strings.Contains(sc.Text(), "sbx-rt-") {
			t.Errorf("a token in the log: %q", sc.Text())
		}
	}
	if code, _ := a.term(t); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
}

// metricValue is the value of f's series with labels (a subset).
func metricValue(f *dto.MetricFamily, labels map[string]string) (float64, bool) {
	if f == nil {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range labels {
			match = match && have[k] == v
		}
		switch {
		case !match:
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// --metrics-addr off loopback works only when the user names such an
// address, and is warned about.
func TestAgentMetricsOffLoopbackWarns(t *testing.T) {
	t.Parallel()
	srv := sandboxtest.Start(t, sandbox.Options{AccessTTL: time.Hour})
	w := newRCWorkspace(t, srv, false)
	a := startAgent(t, w, "--metrics-addr", "0.0.0.0:0", "--verify-every", "0")
	a.waitFor(t, "the warning", func() bool {
		return strings.Contains(a.stderr.String(), "the metrics endpoint is not on loopback")
	})
	a.term(t)
	r := w.run(t, "", "agent", "--metrics-addr", "nope:port")
	if r.code != 2 || !strings.Contains(r.stderr, `--metrics-addr "nope:port": bad port`) {
		t.Errorf("a bad --metrics-addr: %s", r)
	}
}

// `agent install --print` prints a systemd unit with the three sections,
// the absolute path of this sbctl and the flags given; systemd-analyze
// accepts it where it exists. --os prints launchd's and Task Scheduler's
// files, which are well-formed XML with the same command line.
func TestAgentInstallPrint(t *testing.T) {
	t.Parallel()
	srv := sandboxtest.Start(t, sandbox.Options{})
	w := newRCWorkspace(t, srv, false)
	r := w.run(t, "", "agent", "install", "--print", "--refresh-margin", "30m", "--verify-every", "0", "--metrics-addr", "127.0.0.1:9464")
	if r.code != 0 {
		t.Fatalf("install --print: %s", r)
	}
	unit := r.stdout
	execLine := "ExecStart=" + w.bin + " --token-store file agent --refresh-margin 30m --verify-every 0 --metrics-addr 127.0.0.1:9464\n"
	for _, want := range []string{"[Unit]\n", "[Service]\n", "[Install]\n", execLine, "Restart=on-failure\n", "WantedBy=default.target\n"} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lacks %q:\n%s", want, unit)
		}
	}
	if i, j, k := strings.Index(unit, "[Unit]"), strings.Index(unit, "[Service]"), strings.Index(unit, "[Install]"); !(i < j && j < k) {
		t.Errorf("sections out of order:\n%s", unit)
	}
	if _, err := os.Stat(filepath.Join(w.root, "cfg", "systemd")); !os.IsNotExist(err) {
		t.Errorf("--print wrote something: %v", err)
	}
	if analyze, err := exec.LookPath("systemd-analyze"); err == nil {
		dir := t.TempDir()
		path := filepath.Join(dir, "sbctl-agent.service")
		if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(analyze, "verify", path).CombinedOutput(); err != nil {
			t.Errorf("systemd-analyze verify: %v\n%s\n%s", err, out, unit)
		}
	} else {
		t.Log("systemd-analyze is not installed: the unit's syntax is not checked by systemd")
	}

	r = w.run(t, "", "agent", "install", "--print", "--os", "darwin", "--refresh-margin", "30m")
	var plist struct {
		Keys    []string `xml:"dict>key"`
		Strings []string `xml:"dict>array>string"`
	}
	if err := xml.Unmarshal([]byte(r.stdout), &plist); err != nil || r.code != 0 {
		t.Fatalf("launchd plist: %v\n%s", err, r)
	}
	if got := strings.Join(plist.Strings, " "); got != w.bin+" --token-store file agent --refresh-margin 30m" {
		t.Errorf("launchd ProgramArguments %q", got)
	}
	if !strings.Contains(strings.Join(plist.Keys, " "), "KeepAlive") {
		t.Errorf("launchd plist keys %v lack KeepAlive", plist.Keys)
	}

	r = w.run(t, "", "agent", "install", "--print", "--os", "windows")
	var task struct {
		Command   string `xml:"Actions>Exec>Command"`
		Arguments string `xml:"Actions>Exec>Arguments"`
		Restart   string `xml:"Settings>RestartOnFailure>Count"`
	}
	dec := xml.NewDecoder(strings.NewReader(r.stdout))
	dec.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil } // printed as UTF-8; on disk UTF-16
	if err := dec.Decode(&task); err != nil || r.code != 0 {
		t.Fatalf("task XML: %v\n%s", err, r)
	}
	if task.Command != w.bin || task.Arguments != "--token-store file agent" || task.Restart == "" {
		t.Errorf("task %+v", task)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"agent", "install", "--os", "darwin"}, "--os is for --print"},
		{[]string{"agent", "install", "--print", "--os", "plan9"}, `--os "plan9"`},
		{[]string{"agent", "install", "--print", "--log-format", "xml"}, `--log-format "xml": use text or json`},
		{[]string{"agent", "--refresh-margin", "0"}, "--refresh-margin must be more than 0"},
	} {
		if r := w.run(t, "", c.args...); r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("sbctl %s: want exit 2 and %q: %s", strings.Join(c.args, " "), c.want, r)
		}
	}
}

// `agent install` writes the unit and enables it with systemctl --user;
// `agent status` asks systemctl; `agent uninstall` disables and removes
// it. systemctl here is a stand-in that records its arguments. Without
// systemctl, install writes the unit and says what to do.
func TestAgentInstallEnablesTheUnit(t *testing.T) {
	t.Parallel()
	srv := sandboxtest.Start(t, sandbox.Options{})
	w := newRCWorkspace(t, srv, false)
	bin := t.TempDir()
	calls := filepath.Join(w.root, "systemctl.log")
	fake := fmt.Sprintf("#!/bin/sh\necho \"$*\" >> %s\ncase \"$*\" in *is-active*) echo active;; esac\n", calls)
	if err := os.WriteFile(filepath.Join(bin, "systemctl"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	for i, e := range w.env {
		if strings.HasPrefix(e, "PATH=") {
			w.env[i] = "PATH=" + bin + string(os.PathListSeparator) + strings.TrimPrefix(e, "PATH=")
		}
	}
	r := w.run(t, "", "agent", "install", "--verify-every", "1h")
	if r.code != 0 {
		t.Fatalf("install: %s", r)
	}
	unitPath := filepath.Join(w.root, "cfg", "systemd", "user", "sbctl-agent.service")
	unit, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatalf("the unit was not written: %v\n%s", err, r)
	}
	if !strings.Contains(string(unit), "agent --verify-every 1h\n") {
		t.Errorf("unit:\n%s", unit)
	}
	log, _ := os.ReadFile(calls)
	if string(log) != "--user daemon-reload\n--user enable --now sbctl-agent.service\n" {
		t.Errorf("systemctl calls:\n%s", log)
	}
	if r := w.run(t, "", "agent", "status"); r.code != 0 || !strings.Contains(r.stdout, "Service:   active") {
		t.Errorf("status with the service active: %s", r)
	}
	if r := w.run(t, "", "agent", "uninstall"); r.code != 0 {
		t.Errorf("uninstall: %s", r)
	}
	if _, err := os.Stat(unitPath); !os.IsNotExist(err) {
		t.Errorf("the unit is still there after uninstall: %v", err)
	}
	log, _ = os.ReadFile(calls)
	if !strings.HasSuffix(string(log), "--user disable --now sbctl-agent.service\n--user daemon-reload\n") {
		t.Errorf("systemctl calls after uninstall:\n%s", log)
	}
	r = w.run(t, "", "agent", "status", "-o", "json")
	var st struct {
		Installed bool `json:"installed"`
		Running   bool `json:"running"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != 1 || st.Installed || st.Running {
		t.Errorf("status after uninstall: %+v, %v: %s", st, err, r)
	}

	// No systemctl at all: the unit is written, and the user is told.
	for i, e := range w.env {
		if strings.HasPrefix(e, "PATH=") {
			w.env[i] = "PATH=" + t.TempDir()
		}
	}
	r = w.run(t, "", "agent", "install")
	if r.code != 0 || !strings.Contains(r.stderr, "systemctl is not available here, so nothing was started") {
		t.Errorf("install without systemctl: %s", r)
	}
	if _, err := os.Stat(unitPath); err != nil {
		t.Errorf("install without systemctl wrote no unit: %v", err)
	}
}

// BenchmarkAgentIdle1000 measures what an idle agent costs: `sbctl agent`
// as a process over 1,000 profiles with fresh 1 h tokens (nothing due for
// 45 minutes), CPU time (user + system, from /proc/PID/stat) over two
// minutes after its first pass. The agent sleeps on a timer and looks at
// the config once a minute, so the figure is two such looks.
//
//	go test -run '^$' -bench AgentIdle1000 -benchtime 1x ./cmd/
func BenchmarkAgentIdle1000(b *testing.B) {
	const n, idle = 1000, 2 * time.Minute
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		b.Skip("needs /proc to read a process's CPU time")
	}
	srv := sandboxtest.Start(b, sandbox.Options{AccessTTL: time.Hour})
	dir := b.TempDir()
	env := append(os.Environ(),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "cfg"), "XDG_STATE_HOME="+filepath.Join(dir, "state"),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"), "SBCTL_TOKEN_STORE=file", "SBCTL_CONFIG=")
	writeRefreshWorkspace(b, srv, dir, n)
	for b.Loop() {
		c := exec.Command("sbctl", "agent", "--log-level", "debug")
		c.Env = env
		stderr := &testkit.Buffer{}
		c.Stderr = stderr
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		for !strings.Contains(stderr.String(), "msg=pass profiles=1000") {
			if c.ProcessState != nil {
				b.Fatalf("the agent ended:\n%s", stderr)
			}
			time.Sleep(10 * time.Millisecond) // a benchmark's wait for the child's first pass
		}
		before := cpuTime(b, c.Process.Pid)
		time.Sleep(idle) // the idle period being measured
		used := cpuTime(b, c.Process.Pid) - before
		_ = c.Process.Signal(syscall.SIGTERM)
		_ = c.Wait()
		passes := strings.Count(stderr.String(), "msg=pass ")
		b.ReportMetric(used.Seconds()*1000/idle.Minutes(), "ms-CPU/min-idle")
		b.ReportMetric(100*used.Seconds()/idle.Seconds(), "%-CPU-idle")
		b.ReportMetric(float64(passes), "passes")
		if s := srv.Stats(); s.RefreshRequests != 0 {
			b.Errorf("the idle agent sent %d refreshes", s.RefreshRequests)
		}
	}
}

// cpuTime is a process's user + system CPU time so far (Linux /proc).
func cpuTime(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name (field 2) may hold spaces: count from its ")".
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	var utime, stime int64
	if _, err := fmt.Sscan(fields[11], &utime); err != nil {
		b.Fatal(err)
	}
	if _, err := fmt.Sscan(fields[12], &stime); err != nil {
		b.Fatal(err)
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks
}

// Acceptance 1 of the agent, with short lifetimes: two profiles on a
// sandbox with 6-second rotating access tokens, the agent renewing 4 s
// ahead and checking every second, a command sink appending each event to
// a file. Nothing else runs, yet the sandbox sees a refresh of each; the
// user revokes alice and the sink gets exactly one needs_reauth event for
// her (access_revoked), none more over the following passes; the metrics
// say one profile needs re-authentication; SIGTERM ends it with exit 0.
func TestAgentAcceptanceOneEventPerChange(t *testing.T) {
	t.Parallel()
	srv := sandboxtest.Start(t, sandbox.Options{RotateRefresh: true, AccessTTL: 6 * time.Second})
	w := newRCWorkspace(t, srv, false)
	events := filepath.Join(w.root, "events.jsonl")
	cfgPath := filepath.Join(w.root, "cfg", "sbctl", "config.yaml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	sink := fmt.Sprintf("notify:\n  - command: [/bin/sh, -c, 'cat >> %s; echo >> %s']\n    events: [needs_reauth, expired, expiring, recovered]\n", events, events)
	if err := os.WriteFile(cfgPath, append(cfg, sink...), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"alice", "bob"} {
		tr, err := srv.Issue(sandbox.IssueRequest{ClientID: rcClientID, Subject: who, Scopes: []string{"openid", "offline_access"}})
		if err != nil {
			t.Fatal(err)
		}
		in, _ := json.Marshal(map[string]any{"access_token": tr.AccessToken, "refresh_token": tr.RefreshToken, "expires_in": tr.ExpiresIn})
		if r := w.run(t, string(in), "profiles", "add", who, "--provider", "sbx", "--with-token"); r.code != 0 {
			t.Fatalf("importing %s: %s", who, r)
		}
	}
	a := startAgent(t, w, "--refresh-margin", "4s", "--verify-every", "1s", "--metrics-addr", "127.0.0.1:0", "--log-level", "debug")
	a.waitFor(t, "a refresh of each profile", func() bool {
		s := srv.Stats()
		return s.RefreshByAccount["alice"] > 0 && s.RefreshByAccount["bob"] > 0
	})
	if err := srv.RevokeAccount("alice"); err != nil {
		t.Fatal(err)
	}
	readEvents := func() []map[string]any {
		b, _ := os.ReadFile(events)
		var out []map[string]any
		for _, l := range strings.Split(string(b), "\n") {
			var ev map[string]any
			if json.Unmarshal([]byte(l), &ev) == nil {
				out = append(out, ev)
			}
		}
		return out
	}
	isRevoked := func(ev map[string]any) bool {
		return ev["profile"] == "alice" && ev["status"] == "needs_reauth" && ev["reason"] == "access_revoked"
	}
	a.waitFor(t, "alice's needs_reauth event", func() bool { return slices.ContainsFunc(readEvents(), isRevoked) })
	// Three more passes after the event (checks of both every second): still one.
	passes := strings.Count(a.stderr.String(), "msg=pass ")
	a.waitFor(t, "three more passes", func() bool { return strings.Count(a.stderr.String(), "msg=pass ") >= passes+3 })
	var revokedEvents int
	for _, ev := range readEvents() {
		if isRevoked(ev) {
			revokedEvents++
		}
		if ev["profile"] == "bob" {
			t.Errorf("an event for bob, whose grant is fine: %v", ev)
		}
	}
	if revokedEvents != 1 {
		t.Errorf("%d needs_reauth events for alice, want exactly 1: %v", revokedEvents, readEvents())
	}
	base := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+)/metrics`).FindStringSubmatch(a.stderr.String())
	if base == nil {
		t.Fatalf("no metrics address in the log:\n%s", a.stderr)
	}
	resp, err := http.Get(base[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := metricValue(families["sbctl_profiles"], map[string]string{"status": "needs_reauth"}); !ok || v != 1 {
		t.Errorf(`sbctl_profiles{status="needs_reauth"} = %v (present %v), want 1`, v, ok)
	}
	if code, took := a.term(t); code != 0 || took > 5*time.Second {
		t.Errorf("SIGTERM: exit %d after %s, want 0 within 5 s", code, took)
	}
}
