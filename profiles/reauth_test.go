package profiles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/flow"
	"github.com/sbctl/sbctl/auth/sandbox"
	"github.com/sbctl/sbctl/auth/sandbox/sandboxtest"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/auth/testkit"
)

// newWorkspace writes a config and opens a Manager on a plain-file store.
func newWorkspace(t testing.TB, cfg string) (*Manager, *store.File) {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	fs := store.NewFile(filepath.Join(dir, "data"), nil)
	m, err := Open(Options{ConfigPath: cfgPath, StateDir: filepath.Join(dir, "state"), Store: fs})
	if err != nil {
		t.Fatal(err)
	}
	return m, fs
}

func sandboxConfig(issuer string) string {
	return fmt.Sprintf("providers:\n  sbx:\n    type: oidc\n    issuer: %s\n    client_id: test-cli\n    scopes: [openid, offline_access, profile]\nprofiles:\n  p1:\n    provider: sbx\n", issuer)
}

func TestReauthAgainstSandbox(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Options{})
	m, fs := newWorkspace(t, sandboxConfig(srv.Issuer()))
	ctx := context.Background()
	var stderr testkit.Buffer
	res, err := m.Reauth(ctx, "p1", ReauthOptions{Browser: sandboxtest.ClickThrough(), Stderr: &stderr, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("reauth: %v\n%s", err, stderr.String())
	}
	if res.Account.Name == "" || res.View.Status != StatusOK || res.Mode != "loopback" {
		t.Errorf("result %+v", res)
	}
	tok, err := store.GetToken(ctx, fs, "p1")
	if err != nil || !strings.HasPrefix(tok.AccessToken, "sbx-at-") || !tok.HasRefresh() {
		t.Fatalf("stored token: %+v, %v", tok, err)
	}
	st, _ := m.State.Load()
	if rec := st.Profiles["p1"]; rec == nil || rec.Account == "" || !rec.HasRefresh || rec.ExpiresAt == nil {
		t.Errorf("state record %+v", rec)
	}
	if s := srv.Stats(); s.CodeExchanges != 1 {
		t.Errorf("code exchanges = %d", s.CodeExchanges)
	}
	if strings.Contains(stderr.String(), tok.AccessToken) || strings.Contains(stderr.String(), "sbx-") {
		t.Errorf("a token reached the output:\n%s", stderr.String())
	}
}

// TestReauthAgainstIndependentOIDCServer runs the same flow against
// mockoidc, an OIDC server this project did not write: discovery, PKCE,
// the exchange (confidential client) and the account from the ID token.
func TestReauthAgainstIndependentOIDCServer(t *testing.T) {
	mo, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = mo.Shutdown() }()
	mo.QueueUser(&mockoidc.MockUser{Subject: "u-42", Email: "kaori@example.com", PreferredUsername: "kaori", Groups: []string{}})
	cfg := mo.Config()
	m, fs := newWorkspace(t, fmt.Sprintf("providers:\n  mock:\n    type: oidc\n    issuer: %s\n    client_id: %s\n    scopes: [openid, email, profile]\nprofiles:\n  kaori:\n    provider: mock\n", mo.Issuer(), cfg.ClientID))
	if err := m.SetClientSecret(context.Background(), "mock", cfg.ClientSecret); err != nil {
		t.Fatal(err)
	}
	var stderr testkit.Buffer
	res, err := m.Reauth(context.Background(), "kaori", ReauthOptions{Browser: sandboxtest.ClickThrough(), Stderr: &stderr, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("reauth against mockoidc: %v\n%s", err, stderr.String())
	}
	if res.Account.ID != "u-42" {
		t.Errorf("account %+v", res.Account)
	}
	tok, err := store.GetToken(context.Background(), fs, "kaori")
	if err != nil || tok.AccessToken == "" || tok.IDToken == "" {
		t.Fatalf("token %+v, %v", tok, err)
	}
}

// TestReauthManualPaste: --manual over SSH: the user opens the URL
// elsewhere and pastes the address the browser ended on.
func TestReauthManualPaste(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Options{})
	m, fs := newWorkspace(t, sandboxConfig(srv.Issuer()))
	pr, pw := io.Pipe()
	defer pw.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
	onURL := func(u string) {
		go func() {
			resp, err := noRedirect.Get(u) // the sandbox answers with the redirect to the callback
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			fmt.Fprintf(pw, "  %s  \n", resp.Header.Get("Location"))
		}()
	}
	var stderr testkit.Buffer
	res, err := m.Reauth(context.Background(), "p1", ReauthOptions{Mode: SignInManual, Stdin: pr, Stderr: &stderr, OnURL: onURL, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("manual reauth: %v\n%s", err, stderr.String())
	}
	if res.Mode != "manual" {
		t.Errorf("mode %s", res.Mode)
	}
	if _, err := store.GetToken(context.Background(), fs, "p1"); err != nil {
		t.Fatal(err)
	}
}

// TestReauthFailureKeepsOldToken: a flow that ends without a callback
// changes nothing.
func TestReauthFailureKeepsOldToken(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Options{})
	m, fs := newWorkspace(t, sandboxConfig(srv.Issuer()))
	ctx := context.Background()
	old := &auth.Token{AccessToken: "old-token", RefreshToken: "old-refresh"}
	if err := store.PutToken(ctx, fs, "p1", old); err != nil {
		t.Fatal(err)
	}
	_, err := m.Reauth(ctx, "p1", ReauthOptions{Mode: SignInNoBrowser, Stderr: io.Discard, Timeout: 200 * time.Millisecond})
	if !errors.Is(err, flow.ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
	tok, _ := store.GetToken(ctx, fs, "p1")
	if tok.AccessToken != "old-token" {
		t.Error("old token replaced after a failed reauth")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Reauth(cctx, "p1", ReauthOptions{Mode: SignInNoBrowser, Stderr: io.Discard}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled reauth: %v", err)
	}
}

func TestRemoveRevokesAndKeepsTokenWhenRevocationFails(t *testing.T) {
	var revokes int
	status := http.StatusServiceUnavailable
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		revokes++
		w.WriteHeader(status)
	}))
	defer fake.Close()
	cfg := fmt.Sprintf("providers:\n  legacy:\n    type: oauth2\n    auth_url: %[1]s/a\n    token_url: %[1]s/t\n    revoke_url: %[1]s/revoke\n    client_id: c\nprofiles:\n  p:\n    provider: legacy\n  q:\n    provider: legacy\n", fake.URL)
	m, fs := newWorkspace(t, cfg)
	ctx := context.Background()
	for _, n := range []string{"p", "q"} {
		if err := store.PutToken(ctx, fs, n, &auth.Token{AccessToken: "AT-" + n}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := m.Remove(ctx, "p", RemoveOptions{})
	var refused *RemoveRefusedError
	if !errors.As(err, &refused) || !refused.Forceable || !refused.KeepRemote {
		t.Fatalf("remove with a 503 revocation: %v; want a refusal that --force or --keep-remote would get past", err)
	}
	if _, err := store.GetToken(ctx, fs, "p"); err != nil {
		t.Error("token deleted although the revocation failed")
	}
	if _, ok := m.config().Profile("p"); !ok {
		t.Error("config entry removed although the revocation failed")
	}
	res, err := m.Remove(ctx, "p", RemoveOptions{Force: true})
	if err != nil || res.RevokeErr == nil {
		t.Fatalf("forced remove: %+v %v", res, err)
	}
	if _, err := store.GetToken(ctx, fs, "p"); !errors.Is(err, store.ErrNotFound) {
		t.Error("forced remove kept the token")
	}
	status = http.StatusOK
	res, err = m.Remove(ctx, "q", RemoveOptions{})
	if err != nil || !res.Revoked {
		t.Fatalf("remove q: %+v %v", res, err)
	}
	if revokes != 3 {
		t.Errorf("revocation requests = %d, want 3", revokes)
	}
}

// BenchmarkReauthCallbackToStored measures the time from the callback
// arriving to the token being stored and read back (exchange, account,
// store), against the in-process sandbox, and reports the median; with the
// plain-file store and, where one is usable, the real keychain.
//
//	go test -run '^$' -bench ReauthCallbackToStored -benchtime 20x ./profiles/
func BenchmarkReauthCallbackToStored(b *testing.B) {
	srv := sandboxtest.Start(b, sandbox.Options{})
	for _, kind := range []string{"file", "keychain"} {
		b.Run(kind, func(b *testing.B) {
			m, _ := newWorkspace(b, sandboxConfig(srv.Issuer()))
			if kind == "keychain" {
				k := store.NewKeyring(fmt.Sprintf("sbctl-bench-%d", time.Now().UnixNano()))
				if err := k.Set(context.Background(), "probe", "x"); err != nil {
					b.Skipf("no usable keychain: %v", err)
				}
				b.Cleanup(func() {
					_ = k.Delete(context.Background(), "probe")
					_ = k.Delete(context.Background(), store.ProfileKey("p1"))
				})
				m.opts.Store = k
				m.storeOnce = sync.Once{}
			}
			var samples []time.Duration
			for b.Loop() {
				res, err := m.Reauth(context.Background(), "p1", ReauthOptions{Browser: sandboxtest.ClickThrough(), Stderr: io.Discard, Timeout: 20 * time.Second})
				if err != nil {
					b.Fatal(err)
				}
				samples = append(samples, res.CallbackToStored)
			}
			sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
			b.ReportMetric(float64(samples[len(samples)/2].Microseconds())/1000, "ms-median-callback-to-stored")
		})
	}
}
