package profiles

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
	"github.com/sbctl/sbctl/profiles/team/teamtest"
)

// notifyWS is a workspace with two profiles and the sinks given, a clock
// the test moves, and a plain-file store.
type notifyWS struct {
	dir, cfgPath, stateDir string
	store                  *store.File

	mu  sync.Mutex
	now time.Time
}

var notifyEpoch = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func newNotifyWS(t *testing.T, sinks string) *notifyWS {
	t.Helper()
	dir := t.TempDir()
	w := &notifyWS{dir: dir, cfgPath: filepath.Join(dir, "config.yaml"), stateDir: filepath.Join(dir, "state"),
		store: store.NewFile(filepath.Join(dir, "data"), nil), now: notifyEpoch}
	cfg := "providers:\n  x:\n    client_id: abc\ngroups:\n  marketing: {}\nprofiles:\n  p1:\n    provider: x\n    groups: [marketing]\n  p2:\n    provider: x\n" + sinks
	if err := os.WriteFile(w.cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *notifyWS) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *notifyWS) advance(d time.Duration) {
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
}

// open is a new Manager on the workspace: a restart.
func (w *notifyWS) open(t *testing.T) *Manager {
	t.Helper()
	m, err := Open(Options{ConfigPath: w.cfgPath, StateDir: w.stateDir, Store: w.store, Now: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// set changes a profile's state record as the renewals and verifications
// do: in place, keeping what else it holds.
func (w *notifyWS) set(t *testing.T, m *Manager, name string, change func(r *Record)) {
	t.Helper()
	err := m.updateState(t.Context(), func(s *State) error {
		rec := s.Profiles[name]
		if rec == nil {
			rec = &Record{}
			s.Profiles[name] = rec
		}
		change(rec)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func healthy(now time.Time) func(*Record) {
	return func(r *Record) {
		exp := now.Add(time.Hour)
		*r = Record{Connected: true, HasRefresh: true, ExpiresAt: &exp, Account: "@acme", AccountID: "42", Notified: r.Notified}
	}
}

func revoked(r *Record) {
	r.NeedsReauth, r.Reason, r.LastError = true, auth.ReasonAccessRevoked, "the user removed the app"
}

func reconnected(r *Record) { r.NeedsReauth, r.Reason, r.LastError, r.Unknown = false, "", "", false }

// notify lists and notifies, as the agent and the commands do.
func notify(t *testing.T, m *Manager, renewals ...RenewResult) NotifyReport {
	t.Helper()
	views, err := m.List(t.Context(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	rep := m.NotifyTransitions(t.Context(), views, renewals)
	if rep.Err != nil {
		t.Fatalf("NotifyTransitions: %v", rep.Err)
	}
	return rep
}

// needShell skips where the test's sink scripts cannot run.
func needShell(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the sink scripts are POSIX shell")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on PATH for the sink scripts")
	}
	return sh
}

// appendSink writes a script that appends its stdin (one event per line)
// to out, and returns the `notify:` entry running it.
func appendSink(t *testing.T, dir, name, events string) (entry, out string) {
	t.Helper()
	sh := needShell(t)
	out = filepath.Join(dir, name+".jsonl")
	script := filepath.Join(dir, name+".sh")
	body := fmt.Sprintf("#!%s\ncat >> %s\n", sh, shellQuote(out))
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	entry = fmt.Sprintf("  - command: [%s]\n", yamlString(script))
	if events != "" {
		entry += "    events: [" + events + "]\n"
	}
	return entry, out
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// received reads the events a sink appended.
func received(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("sink got %q, not one JSON event per line: %v", line, err)
		}
		out = append(out, ev)
	}
	return out
}

func kinds(evs []map[string]any) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, fmt.Sprint(ev["profile"], ":", ev["event"]))
	}
	return out
}

// The heart of it: one needs_reauth over many passes, across a restart,
// then one recovered.
func TestNotifyOncePerTransition(t *testing.T) {
	t.Parallel()
	w := newNotifyWS(t, "")
	entry, out := appendSink(t, w.dir, "pager", "")
	w = withSinks(t, w, "notify:\n"+entry)
	m := w.open(t)
	w.set(t, m, "p1", healthy(w.clock()))
	w.set(t, m, "p2", healthy(w.clock()))
	if rep := notify(t, m); len(rep.Sent)+len(rep.Failed) != 0 {
		t.Fatalf("a healthy fleet sent %+v", rep)
	}

	w.set(t, m, "p1", revoked)
	for range 3 {
		notify(t, m)
		w.advance(time.Minute)
	}
	m2 := w.open(t) // a restart
	notify(t, m2)
	evs := received(t, out)
	if got := kinds(evs); !slices.Equal(got, []string{"p1:needs_reauth"}) {
		t.Fatalf("events %v, want exactly one p1:needs_reauth", got)
	}
	ev := evs[0]
	want := map[string]any{
		"event": "needs_reauth", "profile": "p1", "provider": "x", "account": "@acme", "status": "needs_reauth",
		"reason": "access_revoked", "previous_status": "ok", "fix": "sbctl reauth p1", "at": "2026-11-26T12:00:00Z", "host": host(),
	}
	for k, v := range want {
		if ev[k] != v {
			t.Errorf("event[%q] = %v, want %v (event %v)", k, ev[k], v, ev)
		}
	}
	if g, ok := ev["groups"].([]any); !ok || len(g) != 1 || g[0] != "marketing" {
		t.Errorf("groups = %v", ev["groups"])
	}
	if _, ok := ev["connection_expires_at"]; !ok {
		t.Error("no connection_expires_at field")
	}

	// Reconnected (as a verify that finds the grant good records it).
	w.set(t, m2, "p1", reconnected)
	notify(t, m2)
	notify(t, w.open(t))
	if got := kinds(received(t, out)); !slices.Equal(got, []string{"p1:needs_reauth", "p1:recovered"}) {
		t.Fatalf("events %v, want needs_reauth then recovered", got)
	}
	last := received(t, out)[1]
	if last["status"] != "ok" || last["previous_status"] != "needs_reauth" || last["fix"] != nil {
		t.Errorf("recovered event %v", last)
	}
}

// withSinks rewrites the workspace's config with a `notify:` section.
func withSinks(t *testing.T, w *notifyWS, notify string) *notifyWS {
	t.Helper()
	b, err := os.ReadFile(w.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.cfgPath, append(b, notify...), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

// The state keeps what was told across the renewals and sign-ins that
// replace a profile's record: otherwise a reauth would forget the
// needs_reauth it ends, and no `recovered` would be sent.
func TestNotifyMarkSurvivesReauthAndRenewal(t *testing.T) {
	t.Parallel()
	w := newNotifyWS(t, "")
	entry, out := appendSink(t, w.dir, "pager", "")
	withSinks(t, w, "notify:\n"+entry)
	m := w.open(t)
	w.set(t, m, "p1", healthy(w.clock()))
	w.set(t, m, "p1", revoked)
	notify(t, m)

	tok := &auth.Token{AccessToken: "at", RefreshToken: "rt", Expiry: w.clock().Add(time.Hour)}
	if _, err := m.recordSignedIn(t.Context(), "p1", tok, provider.Account{ID: "42", Name: "acme"}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	notify(t, m)
	if got := kinds(received(t, out)); !slices.Equal(got, []string{"p1:needs_reauth", "p1:recovered"}) {
		t.Errorf("after a reauth: events %v, want needs_reauth then recovered", got)
	}

	// A renewal replaces the record too.
	w.set(t, m, "p2", healthy(w.clock()))
	w.set(t, m, "p2", func(r *Record) { r.Notified = &NotifyMark{Status: StatusNeedsReauth} })
	res := RenewResult{Name: "p2", update: m.renewedRecord(tok)}
	if err := m.saveRecords(t.Context(), []RenewResult{res}); err != nil {
		t.Fatal(err)
	}
	if rec := m.State.Record("p2"); rec == nil || rec.Notified == nil || rec.Notified.Status != StatusNeedsReauth {
		t.Errorf("a renewal dropped what was notified: %+v", rec)
	}
}

// expiring: once per window, not every pass; a new connection whose
// expiry is again within the window is a new window; then expired.
func TestNotifyExpiringOncePerWindow(t *testing.T) {
	t.Parallel()
	w := newNotifyWS(t, "")
	entry, out := appendSink(t, w.dir, "pager", "expiring, expired, recovered")
	withSinks(t, w, "notify:\n"+entry)
	m := w.open(t)
	meta := func(life time.Duration) func(*Record) {
		return func(r *Record) {
			exp := w.clock().Add(life)
			*r = Record{Connected: true, ExpiresAt: &exp, Notified: r.Notified} // no refresh token: the access token is the connection
		}
	}
	w.set(t, m, "p1", meta(3*config.Day))
	for range 5 {
		notify(t, m)
		w.advance(time.Hour)
	}
	if got := kinds(received(t, out)); !slices.Equal(got, []string{"p1:expiring"}) {
		t.Fatalf("events %v, want one expiring", got)
	}
	// A reauth that again ends within the window: a new window.
	w.set(t, m, "p1", meta(5*config.Day))
	notify(t, m)
	notify(t, m)
	evs := received(t, out)
	if got := kinds(evs); !slices.Equal(got, []string{"p1:expiring", "p1:expiring"}) {
		t.Fatalf("events %v, want a second expiring for the new window", got)
	}
	if evs[0]["connection_expires_at"] == evs[1]["connection_expires_at"] {
		t.Errorf("both warnings name the same expiry %v", evs[0]["connection_expires_at"])
	}
	w.advance(6 * config.Day)
	notify(t, m)
	notify(t, m)
	if got := kinds(received(t, out)); !slices.Equal(got, []string{"p1:expiring", "p1:expiring", "p1:expired"}) {
		t.Fatalf("events %v, want then one expired", got)
	}
	if ev := received(t, out)[2]; ev["reason"] != "expired" || ev["previous_status"] != "expiring" {
		t.Errorf("expired event %v", ev)
	}
}

// renewal_failed once until a renewal succeeds (then recovered);
// renewed only to the sink that asks for it, for every renewal.
func TestNotifyRenewalFailedAndRenewed(t *testing.T) {
	t.Parallel()
	w := newNotifyWS(t, "")
	pager, pagerOut := appendSink(t, w.dir, "pager", "renewal_failed, recovered")
	audit, auditOut := appendSink(t, w.dir, "audit", "renewed")
	withSinks(t, w, "notify:\n"+pager+audit)
	m := w.open(t)
	w.set(t, m, "p1", healthy(w.clock()))
	failed := RenewResult{Name: "p1", Outcome: OutcomeFailed, Message: "the network answered 503 \x1b[31mService Unavailable"}
	for range 3 {
		w.set(t, m, "p1", func(r *Record) { r.Unknown, r.LastError = true, "503" })
		notify(t, m, failed)
	}
	evs := received(t, pagerOut)
	if got := kinds(evs); !slices.Equal(got, []string{"p1:renewal_failed"}) {
		t.Fatalf("events %v, want one renewal_failed", got)
	}
	if d := fmt.Sprint(evs[0]["detail"]); strings.Contains(d, "\x1b") || !strings.Contains(d, "503") || evs[0]["fix"] != "sbctl refresh p1" {
		t.Errorf("renewal_failed event %v: detail not cleaned, or no fix", evs[0])
	}
	exp := w.clock().Add(time.Hour)
	renewed := RenewResult{Name: "p1", Outcome: OutcomeRenewed, ExpiresAt: &exp}
	w.set(t, m, "p1", reconnected)
	notify(t, m, renewed)
	notify(t, m, renewed)
	if got := kinds(received(t, pagerOut)); !slices.Equal(got, []string{"p1:renewal_failed", "p1:recovered"}) {
		t.Errorf("pager events %v, want renewal_failed then recovered", got)
	}
	if got := kinds(received(t, auditOut)); !slices.Equal(got, []string{"p1:renewed", "p1:renewed"}) {
		t.Errorf("audit events %v, want a renewed per renewal", got)
	}
}

// A hanging sink is killed with its children at its timeout; the call
// returns; the other sink got the event once; the hung one gets it on the
// next call, and the other does not get it again.
func TestNotifyHangingSinkKilledAndRetried(t *testing.T) {
	t.Parallel()
	sh := needShell(t)
	w := newNotifyWS(t, "")
	good, goodOut := appendSink(t, w.dir, "good", "")
	flag := filepath.Join(w.dir, "hang")
	pidFile := filepath.Join(w.dir, "child.pid")
	hangOut := filepath.Join(w.dir, "hang.jsonl")
	script := filepath.Join(w.dir, "hang.sh")
	// While the flag exists it starts a child that would sleep for a
	// minute and waits for it; else it appends its stdin.
	body := fmt.Sprintf("#!%s\nif [ -e %s ]; then sleep 60 & echo $! > %s; wait; fi\ncat >> %s\n", sh, shellQuote(flag), shellQuote(pidFile), shellQuote(hangOut))
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	withSinks(t, w, "notify:\n"+good+fmt.Sprintf("  - command: [%s]\n    timeout: 300ms\n    name: slow\n", yamlString(script)))
	m := w.open(t)
	w.set(t, m, "p1", healthy(w.clock()))
	w.set(t, m, "p1", revoked)
	rep := notify(t, m)
	if len(rep.Sent) != 1 || len(rep.Failed) != 1 || rep.Failed[0].Sink != "slow" {
		t.Fatalf("report %+v, want one sent and the slow sink failed", rep)
	}
	if msg := rep.Failed[0].Err.Error(); !strings.Contains(msg, "killed with its process group") || !strings.Contains(msg, "300ms") {
		t.Errorf("failure %q does not say it was killed at its timeout", msg)
	}
	assertGone(t, pidFile)

	// Next call: only the slow sink, now working, gets it.
	if err := os.Remove(flag); err != nil {
		t.Fatal(err)
	}
	rep = notify(t, m)
	if len(rep.Sent) != 1 || rep.Sent[0].Sink != "slow" || len(rep.Failed) != 0 {
		t.Fatalf("retry report %+v, want the slow sink alone", rep)
	}
	notify(t, m)
	if got := kinds(received(t, goodOut)); !slices.Equal(got, []string{"p1:needs_reauth"}) {
		t.Errorf("good sink got %v", got)
	}
	if got := kinds(received(t, hangOut)); !slices.Equal(got, []string{"p1:needs_reauth"}) {
		t.Errorf("slow sink got %v", got)
	}
	if rec := m.State.Record("p1"); rec.Notified == nil || len(rec.Notified.Owed) != 0 || rec.Notified.Claim != "" {
		t.Errorf("the mark still owes or claims: %+v", rec.Notified)
	}
}

// A command sink's environment is built up: PATH and the like, the
// event's SBCTL_*; never sbctl's secrets nor any other variable.
func TestNotifyCommandEnvironment(t *testing.T) {
	t.Parallel()
	sh := needShell(t)
	dir := t.TempDir()
	envOut := filepath.Join(dir, "env")
	ev := Event{Kind: EventNeedsReauth, Profile: "p1", Provider: "x", Status: StatusNeedsReauth, Reason: "access_revoked"}
	environ := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=/home/u", "LANG=C.UTF-8", "LC_ALL=C",
		"SBCTL_TEAM_KEY=s3cret-team-key", "SBCTL_CLIENT_SECRET_X=s3cret-client", "SBCTL_DATABASE_URL=postgres://u:s3cret@db/x",
		"PGPASSWORD=s3cret-pg", "AWS_SECRET_ACCESS_KEY=s3cret-aws", "SBCTL_CONFIG=/etc/sbctl.yaml", "SBCTL_EVENT=forged",
	}
	if err := runCommandSink(t.Context(), []string{sh, "-c", "env > " + shellQuote(envOut)}, ev, environ); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(envOut)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if strings.Contains(got, "s3cret") || strings.Contains(got, "SBCTL_CONFIG") || strings.Contains(got, "forged") {
		t.Errorf("the child's environment holds what it must not:\n%s", got)
	}
	for _, want := range []string{"HOME=/home/u\n", "LANG=C.UTF-8\n", "LC_ALL=C\n", "SBCTL_EVENT=needs_reauth\n", "SBCTL_PROFILE=p1\n", "SBCTL_STATUS=needs_reauth\n", "SBCTL_REASON=access_revoked\n", "SBCTL_PROVIDER=x\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("the child's environment lacks %q:\n%s", want, got)
		}
	}
}

// The same through the Manager, with a secret in sbctl's own
// environment (not parallel: it sets the process's environment).
func TestNotifyTestKeepsSecretsFromCommands(t *testing.T) {
	sh := needShell(t)
	t.Setenv("SBCTL_TEAM_KEY", "s3cret-team-key")
	t.Setenv("SBCTL_CLIENT_SECRET_X", "s3cret-client")
	w := newNotifyWS(t, "")
	envOut := filepath.Join(w.dir, "env")
	withSinks(t, w, fmt.Sprintf("notify:\n  - command: [%s, -c, %s]\n    events: [expired]\n", yamlString(sh), yamlString("env > "+shellQuote(envOut))))
	rep := w.open(t).NotifyTest(t.Context(), EventNeedsReauth)
	if rep.Err != nil || len(rep.Sent) != 1 {
		t.Fatalf("NotifyTest: %+v", rep)
	}
	b, _ := os.ReadFile(envOut)
	if strings.Contains(string(b), "s3cret") || !strings.Contains(string(b), "SBCTL_EVENT=needs_reauth") {
		t.Errorf("the child's environment:\n%s", b)
	}
}

// The webhook: JSON signed with the key from the token store, verified
// on a loopback server; the slack format; no redirect followed; the
// server's words cleaned; the URL's path never in an error.
func TestNotifyWebhook(t *testing.T) {
	t.Parallel()
	const key = "hook-signing-key"
	var mu sync.Mutex
	var hits []hit
	followed := 0
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/moved/s3cret":
			http.Redirect(rw, r, "/elsewhere", http.StatusFound)
			return
		case "/elsewhere":
			followed++
			return
		case "/broken/s3cret":
			rw.WriteHeader(http.StatusBadGateway)
			_, _ = rw.Write([]byte("upstream \x1b]8;;https://evil.example\x07down"))
			return
		}
		hits = append(hits, hit{r.URL.Path, r.Header.Get(SignatureHeader), r.Header.Get("X-Sbctl-Event"), b})
	}))
	t.Cleanup(srv.Close)
	w := newNotifyWS(t, "")
	withSinks(t, w, "notify:\n"+
		"  - webhook: "+srv.URL+"/json/s3cret\n    secret: hook\n"+
		"  - webhook: "+srv.URL+"/slack\n    format: slack\n"+
		"  - webhook: "+srv.URL+"/moved/s3cret\n"+
		"  - webhook: "+srv.URL+"/broken/s3cret\n")
	m := w.open(t)
	// Without the key stored, nothing goes out unsigned.
	w.set(t, m, "p1", healthy(w.clock()))
	w.set(t, m, "p1", func(r *Record) { r.Account = "<!channel> & co" })
	w.set(t, m, "p1", revoked)
	rep := notify(t, m)
	assertFailed(t, rep, "webhook 127.0.0.1", "is not in", "sbctl notify set-secret hook")
	if where, err := m.SetNotifySecret(t.Context(), "hook", key+"\n"); err != nil || where == "" {
		t.Fatal(where, err)
	}
	rep = notify(t, m) // the retry: the signed sink now, the others again
	for _, f := range rep.Failed {
		if strings.Contains(f.Err.Error(), "s3cret") {
			t.Errorf("an error shows the webhook's path: %v", f.Err)
		}
	}
	assertFailed(t, rep, "webhook 127.0.0.1", "answered with a redirect (302), which sbctl does not follow")
	assertFailed(t, rep, "webhook 127.0.0.1", "answered 502 Bad Gateway: upstream")
	for _, f := range rep.Failed {
		if strings.ContainsAny(f.Err.Error(), "\x1b\x07") {
			t.Errorf("the server's text reached the error uncleaned: %q", f.Err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if followed != 0 {
		t.Errorf("a redirect was followed %d times", followed)
	}
	checkWebhookHits(t, key, hits)
}

// hit is one request a test webhook received.
type hit struct {
	path, sig, event string
	body             []byte
}

// checkWebhookHits: the json hook got one signed event, the slack hook
// one {"text": …} payload, unsigned, its account escaped.
func checkWebhookHits(t *testing.T, key string, hits []hit) {
	t.Helper()
	var json1, slack []hit
	for _, h := range hits {
		switch h.path {
		case "/json/s3cret":
			json1 = append(json1, h)
		case "/slack":
			slack = append(slack, h)
		}
	}
	if len(json1) != 1 || len(slack) != 1 {
		t.Fatalf("json hook got %d, slack hook %d; want one each", len(json1), len(slack))
	}
	// Verified as a receiver would, over the raw body.
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(json1[0].body)
	got, ok := strings.CutPrefix(json1[0].sig, "sha256=")
	sum, err := hex.DecodeString(got)
	if !ok || err != nil || !hmac.Equal(sum, mac.Sum(nil)) {
		t.Errorf("signature %q does not verify as sha256=<hex HMAC-SHA256 of the body>", json1[0].sig)
	}
	var ev map[string]any
	if err := json.Unmarshal(json1[0].body, &ev); err != nil || ev["event"] != "needs_reauth" || json1[0].event != "needs_reauth" {
		t.Errorf("json body %s (%v)", json1[0].body, err)
	}
	var payload map[string]any
	if err := json.Unmarshal(slack[0].body, &payload); err != nil || len(payload) != 1 {
		t.Fatalf("slack body %s: want only {\"text\": …} (%v)", slack[0].body, err)
	}
	text, _ := payload["text"].(string)
	if !strings.Contains(text, "p1 (x, &lt;!channel&gt; &amp; co) needs re-authentication (access_revoked); fix: `sbctl reauth p1`") {
		t.Errorf("slack text %q", text)
	}
	if slack[0].sig != "" {
		t.Errorf("an unsigned sink sent a signature")
	}
}

func assertFailed(t *testing.T, rep NotifyReport, sink string, says ...string) {
	t.Helper()
	for _, f := range rep.Failed {
		msg := f.Err.Error()
		ok := strings.HasPrefix(f.Sink, sink)
		for _, s := range says {
			ok = ok && strings.Contains(msg, s)
		}
		if ok {
			return
		}
	}
	t.Errorf("no failure of %s saying %q in %+v", sink, says, rep.Failed)
}

// Two processes (two Managers on one state) notify at once: the claim
// under the state lock lets exactly one send.
func TestNotifyTwoProcessesSendOnce(t *testing.T) {
	t.Parallel()
	w := newNotifyWS(t, "")
	entry, out := appendSink(t, w.dir, "pager", "")
	withSinks(t, w, "notify:\n"+entry)
	a, b := w.open(t), w.open(t)
	w.set(t, a, "p1", healthy(w.clock()))
	w.set(t, a, "p2", healthy(w.clock()))
	w.set(t, a, "p1", revoked)
	w.set(t, a, "p2", func(r *Record) { r.NeedsReauth, r.Reason = true, auth.ReasonPasswordChanged })
	var wg sync.WaitGroup
	for _, m := range []*Manager{a, b, a, b} {
		wg.Go(func() {
			views, err := m.List(context.Background(), Filter{})
			if err != nil {
				t.Error(err)
				return
			}
			if rep := m.NotifyTransitions(context.Background(), views, nil); rep.Err != nil || len(rep.Failed) > 0 {
				t.Errorf("report %+v", rep)
			}
		})
	}
	wg.Wait()
	got := kinds(received(t, out))
	slices.Sort(got)
	if !slices.Equal(got, []string{"p1:needs_reauth", "p2:needs_reauth"}) {
		t.Errorf("events %v, want one per profile", got)
	}
}

// A sink that left the config is not waited for: what it was owed stays
// (another machine may still have it) and no call spins on it.
func TestNotifyOwedToUnknownSinkIsLeft(t *testing.T) {
	t.Parallel()
	w := newNotifyWS(t, "")
	entry, out := appendSink(t, w.dir, "pager", "")
	withSinks(t, w, "notify:\n"+entry)
	m := w.open(t)
	w.set(t, m, "p1", healthy(w.clock()))
	w.set(t, m, "p1", revoked)
	w.set(t, m, "p1", func(r *Record) {
		r.Notified = &NotifyMark{Status: StatusNeedsReauth, Owed: []OwedEvent{{Event: Event{Kind: EventNeedsReauth, Profile: "p1"}, Sinks: []string{"gone00000000"}}}}
	})
	before, _ := os.ReadFile(filepath.Join(w.stateDir, "state.json"))
	if rep := notify(t, m); len(rep.Sent)+len(rep.Failed) != 0 {
		t.Errorf("report %+v, want nothing", rep)
	}
	after, _ := os.ReadFile(filepath.Join(w.stateDir, "state.json"))
	if string(before) != string(after) {
		t.Errorf("the state was rewritten for nothing")
	}
	if len(received(t, out)) != 0 {
		t.Errorf("the known sink got %v", received(t, out))
	}
}

func TestNotifyTestSendsToEverySink(t *testing.T) {
	t.Parallel()
	w := newNotifyWS(t, "")
	a, aOut := appendSink(t, w.dir, "a", "expired")
	b, bOut := appendSink(t, w.dir, "b", "renewed")
	withSinks(t, w, "notify:\n"+a+b)
	m := w.open(t)
	rep := m.NotifyTest(t.Context(), EventExpiring)
	if rep.Err != nil || len(rep.Sent) != 2 {
		t.Fatalf("report %+v", rep)
	}
	for _, out := range []string{aOut, bOut} {
		evs := received(t, out)
		if len(evs) != 1 || evs[0]["event"] != "expiring" || evs[0]["test"] != true || evs[0]["status"] != "expiring" {
			t.Errorf("%s got %v", filepath.Base(out), evs)
		}
	}
	if rep := m.NotifyTest(t.Context(), "expird"); rep.Err == nil || !strings.Contains(rep.Err.Error(), `did you mean "expired"`) {
		t.Errorf("unknown event: %v", rep.Err)
	}
	if st, _ := m.State.Load(); len(st.Profiles) != 0 {
		t.Errorf("a test event recorded state: %+v", st.Profiles)
	}
	none := newNotifyWS(t, "").open(t)
	if rep := none.NotifyTest(t.Context(), ""); rep.Err == nil || !strings.Contains(rep.Err.Error(), "has no `notify:` list") || none.HasSinks() {
		t.Errorf("no sinks: %v", rep.Err)
	}
}

// decide's table: each transition and what it sends.
func TestNotifyDecide(t *testing.T) {
	t.Parallel()
	exp := notifyEpoch.Add(3 * config.Day)
	mark := func(s Status) *NotifyMark { return &NotifyMark{Status: s} }
	h := func(s Status) Health { return Health{Status: s} }
	cases := []struct {
		name  string
		prev  *NotifyMark
		h     Health
		res   *RenewResult
		want  []EventKind
		write bool
	}{
		{"first sight, ok", nil, h(StatusOK), nil, nil, true},
		{"first sight, unknown", nil, h(StatusUnknown), nil, nil, false},
		{"first sight, dead", nil, h(StatusNeedsReauth), nil, []EventKind{EventNeedsReauth}, true},
		{"ok to needs_reauth", mark(StatusOK), h(StatusNeedsReauth), nil, []EventKind{EventNeedsReauth}, true},
		{"needs_reauth again", mark(StatusNeedsReauth), h(StatusNeedsReauth), nil, nil, false},
		{"unknown is no news", mark(StatusNeedsReauth), h(StatusUnknown), nil, nil, false},
		{"recovered", mark(StatusNeedsReauth), h(StatusOK), nil, []EventKind{EventRecovered}, true},
		{"expired to needs_reauth", mark(StatusExpired), h(StatusNeedsReauth), nil, []EventKind{EventNeedsReauth}, true},
		{"expiring", mark(StatusOK), Health{Status: StatusExpiring, ConnectionExpiry: exp}, nil, []EventKind{EventExpiring}, true},
		{"same window", &NotifyMark{Status: StatusExpiring, Window: &exp}, Health{Status: StatusExpiring, ConnectionExpiry: exp.Add(30 * time.Second)}, nil, nil, false},
		{"new window", &NotifyMark{Status: StatusExpiring, Window: &exp}, Health{Status: StatusExpiring, ConnectionExpiry: exp.Add(2 * config.Day)}, nil, []EventKind{EventExpiring}, true},
		{"not connected", mark(StatusOK), h(StatusNotConnected), nil, nil, true},
		{"connected", mark(StatusNotConnected), h(StatusOK), nil, nil, true},
		{"renewal failed", mark(StatusOK), h(StatusUnknown), &RenewResult{Outcome: OutcomeFailed}, []EventKind{EventRenewalFailed}, true},
		{"renewal failed again", &NotifyMark{Status: StatusOK, RenewalFailed: true}, h(StatusUnknown), &RenewResult{Outcome: OutcomeFailed}, nil, false},
		{"renewal back", &NotifyMark{Status: StatusOK, RenewalFailed: true}, h(StatusOK), &RenewResult{Outcome: OutcomeRenewed}, []EventKind{EventRecovered}, true},
		{"renewal rejected", mark(StatusOK), h(StatusNeedsReauth), &RenewResult{Outcome: OutcomeNeedsReauth}, []EventKind{EventNeedsReauth}, true},
		{"one recovered", &NotifyMark{Status: StatusExpiring, Window: &exp, RenewalFailed: true}, h(StatusOK), &RenewResult{Outcome: OutcomeRenewed}, []EventKind{EventRecovered}, true},
	}
	for _, tc := range cases {
		got, _, changed := decide(tc.prev, tc.h, tc.res)
		if !slices.Equal(got, tc.want) || changed != tc.write {
			t.Errorf("%s: events %v (write %v), want %v (write %v)", tc.name, got, changed, tc.want, tc.write)
		}
	}
}

func TestEventJSONNulls(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Event{Kind: EventRecovered, Profile: "p", Provider: "x", Status: StatusOK, At: notifyEpoch})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event":"recovered","profile":"p","provider":"x","groups":[],"account":null,"status":"ok","reason":null,"previous_status":null,"connection_expires_at":null,"fix":null,"at":"2026-11-26T12:00:00Z","host":""}`
	if string(b) != want {
		t.Errorf("JSON\n%s\nwant\n%s", b, want)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil || back.Kind != EventRecovered || back.Account != "" {
		t.Errorf("read back %+v, %v", back, err)
	}
}

// Team mode: two machines whose agents run the same sink notice the same
// dead profile at once; the team database's state rows carry what was
// told, so the sink hears of it once, and of the recovery once.
func TestNotifyTeamTwoMachinesOnce(t *testing.T) {
	t.Parallel()
	db := teamtest.Database(t)
	ctx := t.Context()
	dir := t.TempDir()
	entry, out := appendSink(t, dir, "pager", "")
	localA, localB := newMemStore(), newMemStore()
	admin, err := OpenTeamAdmin(ctx, TeamAdminOptions{DatabaseURL: db, Local: localA, Host: "machine-a"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := admin.Init(ctx)
	admin.Close()
	if err != nil {
		t.Fatal(err)
	}
	keyA, _ := localA.Get(ctx, TeamKeyItem(res.Info.ID))
	if err := localB.Set(ctx, TeamKeyItem(res.Info.ID), keyA); err != nil {
		t.Fatal(err)
	}
	open := func(local *memStore) *Manager {
		cfg := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(cfg, []byte("team:\n  database: "+yamlString(db)+"\nnotify:\n"+entry), 0o600); err != nil {
			t.Fatal(err)
		}
		m, err := OpenContext(ctx, Options{ConfigPath: cfg, StateDir: filepath.Join(t.TempDir(), "state"), Store: local, TeamBackend: OpenTeamBackend})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		return m
	}
	a, b := open(localA), open(localB)
	if !a.HasSinks() {
		t.Fatal("team mode lost this machine's sinks")
	}
	if _, err := a.AddProvider(ctx, ProviderSpec{Name: "x", Preset: "x", NewProvider: config.NewProvider{ClientID: "abc"}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok := &ImportedToken{AccessToken: "at-1", RefreshToken: "rt-1", TokenType: "Bearer", Expiry: now.Add(time.Hour), ObtainedAt: now}
	if err := a.AddWithToken(ctx, AddSpec{Name: "acme-x", Provider: "x"}, tok); err != nil {
		t.Fatal(err)
	}
	both := func() {
		var wg sync.WaitGroup
		for _, m := range []*Manager{a, b, a, b} {
			wg.Go(func() {
				views, err := m.List(ctx, Filter{})
				if err != nil {
					t.Error(err)
					return
				}
				if rep := m.NotifyTransitions(ctx, views, nil); rep.Err != nil || len(rep.Failed) > 0 {
					t.Errorf("report %+v", rep)
				}
			})
		}
		wg.Wait()
	}
	both()
	setRecord := func(change func(*Record)) {
		if err := a.updateState(ctx, func(s *State) error { change(s.Profiles["acme-x"]); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	setRecord(revoked)
	both()
	both()
	setRecord(reconnected)
	both()
	if got := kinds(received(t, out)); !slices.Equal(got, []string{"acme-x:needs_reauth", "acme-x:recovered"}) {
		t.Errorf("events %v, want one needs_reauth and one recovered across both machines", got)
	}
}
