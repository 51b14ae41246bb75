package flow

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRelayPageStatic(t *testing.T) {
	page := RelayPage()
	for _, want := range []string{"<!doctype html>", "<!--", "relay_url", "http://127.0.0.1:", "window.location.replace", "no-referrer"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Nothing from the URL is written as HTML.
	for _, bad := range []string{"innerHTML", "outerHTML", "document.write", "insertAdjacentHTML", "eval(", "<iframe", "src="} {
		if strings.Contains(page, bad) {
			t.Errorf("page uses %q", bad)
		}
	}
	// The CSP allows exactly the embedded script.
	start := strings.Index(page, "<script>") + len("<script>")
	end := strings.Index(page, "</script>")
	sum := sha256.Sum256([]byte(page[start:end]))
	if !strings.Contains(page, "script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
		t.Fatal("CSP hash does not match the script")
	}
}

// requireNodeEnv makes a missing node a test failure instead of a skip (CI
// sets it), so the relay page's security test cannot silently stop running.
const requireNodeEnv = "SBCTL_REQUIRE_NODE"

// findNode returns node's path. Without node the page's script cannot run:
// the caller gets ok=false (and should skip or fall back), unless
// SBCTL_REQUIRE_NODE=1, where the test fails.
func findNode(t testing.TB) (node string, ok bool) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		return node, true
	}
	if os.Getenv(requireNodeEnv) == "1" {
		t.Fatalf("%s=1 but node is not on $PATH (%v): install Node.js (Debian: apt-get install nodejs) so the relay page's script is tested", requireNodeEnv, err)
	}
	return "", false
}

// runRelayScript executes the page's script in node with a fake window for
// each query, returning where it navigated ("" for nowhere) and its message.
func runRelayScript(t *testing.T, searches []string) []struct{ Target, Msg string } {
	t.Helper()
	node, ok := findNode(t)
	if !ok {
		t.Skipf("node is not installed; set %s=1 to make this a failure", requireNodeEnv)
	}
	page := RelayPage()
	script := page[strings.Index(page, "<script>")+len("<script>") : strings.Index(page, "</script>")]
	dir := t.TempDir()
	harness := `
const fs = require("fs");
const script = fs.readFileSync(process.argv[2], "utf8");
const searches = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const out = searches.map(function (search) {
  let target = "";
  const msg = { textContent: "" };
  const window = { location: { search: search, replace: function (u) { target = u; }, assign: function () { throw new Error("assign"); } } };
  const document = { getElementById: function () { return msg; } };
  new Function("window", "document", script)(window, document);
  return { Target: target, Msg: msg.textContent };
});
process.stdout.write(JSON.stringify(out));
`
	files := map[string]string{"h.js": harness, "s.js": script}
	js, _ := json.Marshal(searches)
	files["q.json"] = string(js)
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b, err := exec.Command(node, filepath.Join(dir, "h.js"), filepath.Join(dir, "s.js"), filepath.Join(dir, "q.json")).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, b)
	}
	var res []struct{ Target, Msg string }
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return res
}

func TestRelayPageScript(t *testing.T) {
	const r = "AbC-_09"
	cases := []struct{ search, target string }{
		{"?code=abc&state=8765." + r, "http://127.0.0.1:8765/callback?code=abc&state=8765." + r},
		{"?state=8765." + r + "&code=a%2Bb%26c&next=https%3A%2F%2Fevil.example&redirect_uri=x", "http://127.0.0.1:8765/callback?code=a%2Bb%26c&state=8765." + r},
		{"?error=access_denied&error_description=%3Cscript%3E&state=1." + r, "http://127.0.0.1:1/callback?state=1." + r + "&error=access_denied&error_description=%3Cscript%3E"},
		{"?code=abc&state=8765." + r + "&iss=https%3A%2F%2Fid.example", "http://127.0.0.1:8765/callback?code=abc&state=8765." + r + "&iss=https%3A%2F%2Fid.example"},
		{"?code=abc&state=evil.example:80." + r, ""},
		{"?code=abc&state=8765@evil.example." + r, ""},
		{"?code=abc&state=99999." + r, ""},
		{"?code=abc&state=0." + r, ""},
		{"?code=abc&state=08765." + r, ""},
		{"?code=abc&state=8765." + r + "/../x", ""},
		{"?code=abc&state=8765", ""},
		{"?code=abc", ""},
		{"", ""},
	}
	var searches []string
	for _, c := range cases {
		searches = append(searches, c.search)
	}
	for i, got := range runRelayScript(t, searches) {
		if got.Target != cases[i].target {
			t.Errorf("%q: navigated to %q, want %q", cases[i].search, got.Target, cases[i].target)
		}
		if strings.Contains(got.Msg, "abc") || strings.Contains(got.Msg, "evil") || strings.Contains(got.Msg, "script") {
			t.Errorf("%q: message reflects input: %q", cases[i].search, got.Msg)
		}
	}
}

var relayStateRE = regexp.MustCompile(`^([0-9]+)\.[A-Za-z0-9_-]{43}$`)

func TestRelayFlow(t *testing.T) {
	const relay = "https://relay.example/sbctl.html"
	r := start(t, Params{Mode: ModeRelay, RelayURL: relay})
	if got := r.q.Get("redirect_uri"); got != relay {
		t.Fatalf("redirect_uri %q", got)
	}
	st := r.q.Get("state")
	m := relayStateRE.FindStringSubmatch(st)
	if m == nil {
		t.Fatalf("state %q", st)
	}
	if _, port, _ := strings.Cut(r.host(), ":"); port != m[1] {
		t.Fatalf("state port %s, listener %s", m[1], r.host())
	}
	// The network redirects to the relay page; the page forwards to the
	// listener. Use the real script when node is there.
	search := "?" + url.Values{"code": {"relayed"}, "state": {st}}.Encode()
	target := "http://127.0.0.1:" + m[1] + "/callback" + search
	if _, ok := findNode(t); ok {
		target = runRelayScript(t, []string{search})[0].Target
	} else {
		t.Logf("node is not installed: forwarding as the page would, without running it")
	}
	// A forged forward with another state is refused first.
	if resp := do(t, "GET", "http://127.0.0.1:"+m[1]+"/callback?code=x&state="+m[1]+".forged", ""); resp.status != 400 {
		t.Fatalf("forged: %d", resp.status)
	}
	if resp := do(t, "GET", target, ""); resp.status != 200 {
		t.Fatalf("relayed callback: %d", resp.status)
	}
	res, err := r.wait(t)
	if err != nil || res.Code != "relayed" || res.RedirectURI != relay {
		t.Fatalf("%v %v", res, err)
	}
}

func TestRequireNodeSwitch(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no node here
	t.Setenv(requireNodeEnv, "")
	if o := runOutcome(t, func(tb testing.TB) { findNode(tb) }); o.failed != "" {
		t.Fatalf("without %s a missing node failed the test: %s", requireNodeEnv, o.failed)
	}
	t.Setenv(requireNodeEnv, "1")
	o := runOutcome(t, func(tb testing.TB) { findNode(tb) })
	if !strings.Contains(o.failed, requireNodeEnv+"=1 but node is not on $PATH") || !strings.Contains(o.failed, "install Node.js") {
		t.Fatalf("with %s=1 a missing node gave failure %q", requireNodeEnv, o.failed)
	}
}

// Hole 8: the page refuses an address that repeats a response parameter
// instead of forwarding the first copy (sbctl's listener refuses repeats
// too, so which copy counts can never be chosen by whoever built the URL).
func TestRelayPageRefusesRepeatedParams(t *testing.T) {
	const st = "8765.AbC-_09"
	searches := []string{
		"?code=a&code=b&state=" + st,
		"?code=a&state=" + st + "&state=" + st,
		"?state=" + st + "&state=9999.x&code=a",
		"?code=a&state=" + st + "&iss=https%3A%2F%2Fa.example&iss=https%3A%2F%2Fb.example",
		"?error=access_denied&error=server_error&state=" + st,
		"?error=x&error_description=a&error_description=b&state=" + st,
		"?error=x&error_uri=a&error_uri=b&state=" + st,
		"?code=a&cod%65=b&state=" + st,
		"?code=a&st%61te=" + st + "&state=" + st,
	}
	for i, got := range runRelayScript(t, searches) {
		if got.Target != "" {
			t.Errorf("%q: forwarded to %q", searches[i], got.Target)
		}
		if !strings.Contains(got.Msg, "repeats") {
			t.Errorf("%q: message %q", searches[i], got.Msg)
		}
	}
}

// SECURITY 28, relay part: the listener waits on the provider's own path,
// which travels inside state next to the port; the page forwards there and
// nowhere else.
func TestRelayPageForwardsToProviderPath(t *testing.T) {
	const r = "AbC-_09"
	cases := []struct{ search, target string }{
		{"?code=abc&state=8765.facebook." + r, "http://127.0.0.1:8765/callback/facebook?code=abc&state=8765.facebook." + r},
		{"?code=abc&state=8765.my_net-2." + r, "http://127.0.0.1:8765/callback/my_net-2?code=abc&state=8765.my_net-2." + r},
		{"?code=abc&state=8765." + strings.Repeat("a", 64) + "." + r, "http://127.0.0.1:8765/callback/" + strings.Repeat("a", 64) + "?code=abc&state=8765." + strings.Repeat("a", 64) + "." + r},
		{"?code=abc&state=8765." + strings.Repeat("a", 65) + "." + r, ""},
		{"?code=abc&state=8765..x." + r, ""},
		{"?code=abc&state=8765.a.b." + r, ""},
		{"?code=abc&state=8765.a%2Fb." + r, ""},
		{"?code=abc&state=8765.%2E%2E." + r, ""},
		{"?code=abc&state=8765.a%3Fx." + r, ""},
		{"?code=abc&state=8765.facebook.", ""},
		{"?code=abc&state=8765.facebook", "http://127.0.0.1:8765/callback?code=abc&state=8765.facebook"},
	}
	var searches []string
	for _, c := range cases {
		searches = append(searches, c.search)
	}
	for i, got := range runRelayScript(t, searches) {
		if got.Target != cases[i].target {
			t.Errorf("%q: navigated to %q, want %q", cases[i].search, got.Target, cases[i].target)
		}
	}
}

// A relay flow on a provider's own path: the state names it, the page
// forwards there, and an old page's forward to /callback is refused.
func TestRelayFlowProviderPath(t *testing.T) {
	t.Parallel()
	const relay = "https://relay.example/sbctl.html"
	r := start(t, Params{Mode: ModeRelay, RelayURL: relay, CallbackPath: "/callback/facebook"})
	st := r.q.Get("state")
	m := regexp.MustCompile(`^([0-9]+)\.facebook\.[A-Za-z0-9_-]{43}$`).FindStringSubmatch(st)
	if m == nil {
		t.Fatalf("state %q", st)
	}
	search := "?" + url.Values{"code": {"relayed"}, "state": {st}}.Encode()
	target := "http://127.0.0.1:" + m[1] + "/callback/facebook" + search
	if _, ok := findNode(t); ok {
		target = runRelayScript(t, []string{search})[0].Target
	}
	if resp := do(t, "GET", "http://127.0.0.1:"+m[1]+"/callback"+search, ""); resp.status != 404 {
		t.Fatalf("forward to /callback: %d", resp.status)
	}
	r.stillWaiting(t)
	if resp := do(t, "GET", target, ""); resp.status != 200 {
		t.Fatalf("relayed callback to %s: %d", target, resp.status)
	}
	res, err := r.wait(t)
	if err != nil || res.Code != "relayed" || res.RedirectURI != relay {
		t.Fatalf("%v %v", res, err)
	}
}

// Relay mode can carry only /callback or /callback/<name> (letters,
// digits, - and _): anything else is refused before anything listens.
func TestRelayPathRefused(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"/oauth/cb", "/callback/a.b", "/callback/a/b", "/callback/", "/callback/" + strings.Repeat("a", 65), "/callback/%41"} {
		_, err := Run(context.Background(), Params{Mode: ModeRelay, RelayURL: "https://relay.example/r.html", AuthURL: "https://a.example/auth", ClientID: "c", CallbackPath: p, Browser: &fakeBrowser{}, Stderr: &syncBuffer{}, Timeout: time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), "relay") {
			t.Errorf("%q: %v", p, err)
		}
	}
}

// The page from before per-provider paths (its pattern, verbatim) cannot
// read the new state; Run says how to recover on the terminal.
func TestRelayOldPageHint(t *testing.T) {
	t.Parallel()
	old := regexp.MustCompile(`^([0-9]{1,5})\.[A-Za-z0-9_-]+$`)
	r := start(t, Params{Mode: ModeRelay, RelayURL: "https://relay.example/r.html", CallbackPath: "/callback/facebook"})
	if old.MatchString(r.q.Get("state")) {
		t.Fatal("the old page would forward this state to /callback")
	}
	waitFor(t, "the hint", func() bool {
		return strings.Contains(r.stderr.String(), "older copy: host the page from `sbctl providers relay-page` again at https://relay.example/r.html.")
	})
	r = start(t, Params{Mode: ModeRelay, RelayURL: "https://relay.example/r.html"})
	r.cancel()
	r.wait(t) // all of Run's output is written once it returns
	if out := r.stderr.String(); !strings.Contains(out, "Waiting") || strings.Contains(out, "older copy") {
		t.Fatal("hint for a state the old page reads")
	}
}
