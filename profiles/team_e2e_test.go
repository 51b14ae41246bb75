package profiles

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth/sandbox"
	"github.com/sbctl/sbctl/auth/sandbox/sandboxtest"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
	"github.com/sbctl/sbctl/profiles/team"
	"github.com/sbctl/sbctl/profiles/team/teamtest"
)

// memStore is a machine's own token store (its keychain) in memory.
type memStore struct {
	mu sync.Mutex
	m  map[string]string
}

func newMemStore() *memStore { return &memStore{m: map[string]string{}} }

func (s *memStore) Get(_ context.Context, k string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	if !ok {
		return "", store.ErrNotFound
	}
	return v, nil
}

func (s *memStore) Set(_ context.Context, k, v string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = v
	return nil
}

func (s *memStore) Delete(_ context.Context, k string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
	return nil
}

func (s *memStore) Describe() string { return "test keychain" }

// machine is one member's sbctl: its own home (config with `team:`, state
// directory) and keychain, the team's database.
type machine struct {
	m     *Manager
	local *memStore
}

func openMachine(t *testing.T, db string, local *memStore) *machine {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("team:\n  database: "+yamlString(db)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := OpenContext(t.Context(), Options{ConfigPath: cfg, StateDir: filepath.Join(dir, "state"), Store: local, TeamBackend: OpenTeamBackend})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return &machine{m: m, local: local}
}

// TestTeamTwoMachinesOneRefresh is the heart of team mode: machine A
// creates the team and connects a profile whose network rotates refresh
// tokens; machine B imports the key and sees it; with the access token
// expired, 10 `sbctl token` on each machine at once get the same token
// from exactly one refresh, with no reuse of a rotated refresh token. The
// database never holds the token in plain text.
func TestTeamTwoMachinesOneRefresh(t *testing.T) {
	t.Parallel()
	db := teamtest.Database(t)
	srv := sandboxtest.Start(t, sandbox.Options{AutoApprove: true, RotateRefresh: true, AccessTTL: time.Hour, RefreshTTL: 30 * 24 * time.Hour})
	ctx := t.Context()

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
	a := openMachine(t, db, localA)
	if _, err := a.m.AddProvider(ctx, ProviderSpec{Name: "sbx", Preset: "oidc", NewProvider: config.NewProvider{Issuer: srv.Issuer(), ClientID: "sbctl-cli", Scopes: []string{"openid", "offline_access", "profile"}}}); err != nil {
		t.Fatal(err)
	}
	tr, err := srv.Issue(sandbox.IssueRequest{ClientID: "sbctl-cli", Subject: "alice", Scopes: []string{"openid", "offline_access", "profile"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	expired := &ImportedToken{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, TokenType: "Bearer", IDToken: tr.IDToken,
		Expiry: now.Add(-time.Minute), RefreshExpiry: now.Add(30 * 24 * time.Hour), ObtainedAt: now.Add(-time.Hour)}
	if err := a.m.AddWithToken(ctx, AddSpec{Name: "acme-x", Provider: "sbx"}, expired); err != nil {
		t.Fatal(err)
	}

	// B gets the key from A (team key export | team key import).
	keyA, _ := localA.Get(ctx, TeamKeyItem(res.Info.ID))
	adminB, err := OpenTeamAdmin(ctx, TeamAdminOptions{DatabaseURL: db, Local: localB})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adminB.ImportKey(ctx, keyA); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(adminB.Close)
	b := openMachine(t, db, localB)
	views, err := b.m.List(ctx, Filter{})
	if err != nil || len(views) != 1 || views[0].Name != "acme-x" {
		t.Fatalf("B lists %v, %v", views, err)
	}

	changes := a.m.TeamChanges(ctx) // A's TUI would listen like this
	if changes == nil {
		t.Fatal("no change stream in team mode")
	}
	before := srv.Stats().RefreshRequests
	tokens := make(chan string, 20)
	var wg sync.WaitGroup
	for _, mc := range []*machine{a, b} {
		for range 10 {
			wg.Go(func() {
				tok, err := mc.m.Token(ctx, "acme-x", DefaultMinTTL)
				if err != nil {
					t.Error(err)
				}
				tokens <- tok
			})
		}
	}
	wg.Wait()
	close(tokens)
	seen := map[string]int{}
	for tok := range tokens {
		seen[tok]++
	}
	st := srv.Stats()
	if len(seen) != 1 || st.RefreshRequests-before != 1 || st.ReuseDetections != 0 {
		t.Errorf("%d distinct tokens from %d refreshes (%d reuse detections); want 1 from 1", len(seen), st.RefreshRequests-before, st.ReuseDetections)
	}
	for tok := range seen {
		if !strings.HasPrefix(tok, "sbx-") {
			t.Errorf("token %.8q… is not the sandbox's", tok)
		}
	}
	// The refresh was news for every listener.
	select {
	case <-changes:
	case <-time.After(10 * time.Second):
		t.Error("A heard nothing of the refresh")
	}
	// The audit log names the import and the refresh, with user and host.
	evs, err := adminB.Events(ctx, "acme-x", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action)
		if e.Login == "" || e.Host == "" {
			t.Errorf("event %+v lacks who or where", e)
		}
	}
	if !slices.Contains(actions, "connect") || !slices.Contains(actions, "refresh") {
		t.Errorf("audit actions %v, want connect and refresh", actions)
	}
	assertDumpHasNoToken(t, db, tr.RefreshToken)

	// Should the database go down, B can still hand out the access token
	// it handed out last while it is valid — and holds no refresh token.
	var handed string
	for tok := range seen {
		handed = tok
	}
	if got, err := CachedTeamToken(ctx, Options{Store: localB}, db, "acme-x", DefaultMinTTL); err != nil || got != handed {
		t.Errorf("cached token: %.8q…, %v", got, err)
	}
	if _, err := CachedTeamToken(ctx, Options{Store: localB}, db, "acme-x", 2*time.Hour); err == nil {
		t.Error("a cached token valid for less than --min-ttl was handed out")
	}
	for k, v := range localB.m {
		if strings.Contains(v, "sbx-rt") || strings.Contains(v, "refresh") {
			t.Errorf("B's own store holds a refresh token under %s", k)
		}
	}

	// Once the team knows the grant is dead, B forgets its cached token:
	// a database outage must not hand out a revoked grant's token.
	if err := srv.RevokeAccount("alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.m.Verify(ctx, []string{"acme-x"}, false, 1); err != nil {
		t.Fatal(err)
	}
	var nr *NeedsReauthError
	if _, err := b.m.Token(ctx, "acme-x", DefaultMinTTL); !errors.As(err, &nr) {
		t.Fatalf("token after the revocation: %v", err)
	}
	if _, err := CachedTeamToken(ctx, Options{Store: localB}, db, "acme-x", DefaultMinTTL); err == nil {
		t.Error("the revoked grant's access token is still cached")
	}
}

// assertDumpHasNoToken: pg_dump of the team database holds no sandbox
// token (they all start "sbx-"), nor the refresh token given, in any form.
func assertDumpHasNoToken(t *testing.T, db, refresh string) {
	t.Helper()
	pgDump, err := exec.LookPath("pg_dump")
	if err != nil {
		if os.Getenv("SBCTL_REQUIRE_POSTGRES") == "1" {
			t.Fatal("pg_dump not on PATH (SBCTL_REQUIRE_POSTGRES=1)")
		}
		t.Skip("pg_dump not on PATH")
	}
	dump, err := exec.CommandContext(t.Context(), pgDump, "--dbname="+db).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	if !bytes.Contains(dump, []byte("acme-x")) {
		t.Fatal("the dump does not hold the profile: the check below would prove nothing")
	}
	for _, secret := range []string{"sbx-", refresh, hex.EncodeToString([]byte("sbx-"))} {
		if bytes.Contains(dump, []byte(secret)) {
			t.Errorf("pg_dump holds %.12q…", secret)
		}
	}
}

// TestTeamWithoutKeyIsRefused: a machine without the team key cannot use
// the team (it says how to get the key), and opens nothing else instead.
func TestTeamWithoutKeyIsRefused(t *testing.T) {
	t.Parallel()
	db := teamtest.Database(t)
	ctx := t.Context()
	admin, err := OpenTeamAdmin(ctx, TeamAdminOptions{DatabaseURL: db, Local: newMemStore()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Init(ctx); err != nil {
		t.Fatal(err)
	}
	admin.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	_ = os.WriteFile(cfg, []byte("team:\n  database: "+yamlString(db)+"\n"), 0o600)
	_, err = OpenContext(ctx, Options{ConfigPath: cfg, StateDir: dir, Store: newMemStore(), TeamBackend: OpenTeamBackend})
	if err == nil || !strings.Contains(err.Error(), "sbctl team key import") {
		t.Errorf("open without the key: %v", err)
	}
	if errors.Is(err, store.ErrNotFound) {
		t.Error("the raw store error leaks through")
	}
}

// TestTeamRolesRefuseBeforeActing: a member may get tokens but not
// re-authenticate or remove — refused with who may, before anything
// happens (no browser, no revocation at the network, nothing deleted); a
// viewer may not even read a token.
func TestTeamRolesRefuseBeforeActing(t *testing.T) {
	t.Parallel()
	db := teamtest.Database(t)
	srv := sandboxtest.Start(t, sandbox.Options{AutoApprove: true, AccessTTL: time.Hour, RefreshTTL: 30 * 24 * time.Hour})
	ctx := t.Context()
	ownerKeys := newMemStore()
	admin, err := OpenTeamAdmin(ctx, TeamAdminOptions{DatabaseURL: db, Local: ownerKeys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	res, err := admin.Init(ctx)
	if err != nil {
		t.Fatal(err)
	}
	owner := openMachine(t, db, ownerKeys)
	if _, err := owner.m.AddProvider(ctx, ProviderSpec{Name: "sbx", Preset: "oidc", NewProvider: config.NewProvider{Issuer: srv.Issuer(), ClientID: "sbctl-cli", Scopes: []string{"openid", "offline_access"}}}); err != nil {
		t.Fatal(err)
	}
	if err := owner.m.CreateGroup(ctx, "marketing", ""); err != nil {
		t.Fatal(err)
	}
	if err := owner.m.AddUnconnected(ctx, AddSpec{Name: "grp-holder", Provider: "sbx"}); err != nil {
		t.Fatal(err)
	}
	tr, err := srv.Issue(sandbox.IssueRequest{ClientID: "sbctl-cli", Subject: "alice", Scopes: []string{"openid", "offline_access"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := owner.m.AddWithToken(ctx, AddSpec{Name: "acme-x", Provider: "sbx", Groups: []string{"marketing"}}, &ImportedToken{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, TokenType: "Bearer", Expiry: now.Add(time.Hour), ObtainedAt: now}); err != nil {
		t.Fatal(err)
	}
	key, _ := ownerKeys.Get(ctx, TeamKeyItem(res.Info.ID))
	login := func(role, name string, groups ...string) *machine {
		url := teamtest.Login(t, db, name, "pw-"+name)
		if err := admin.AddMember(ctx, teamMember(name, role, groups), nil); err != nil {
			t.Fatal(err)
		}
		keys := newMemStore()
		_ = keys.Set(ctx, TeamKeyItem(res.Info.ID), key)
		return openMachine(t, url, keys)
	}
	member := login("member", teamtest.Name("alice"), "marketing")
	viewer := login("viewer", teamtest.Name("bob"))

	if tok, err := member.m.Token(ctx, "acme-x", DefaultMinTTL); err != nil || tok != tr.AccessToken {
		t.Errorf("member token: %.8q, %v", tok, err)
	}
	var pe *team.PermissionError
	_, err = member.m.Reauth(ctx, "acme-x", ReauthOptions{Browser: failingOpener{t}})
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), `of group "marketing"; only owners and admins may re-authenticate (ask one, or see sbctl team members list)`) {
		t.Errorf("member reauth: %v", err)
	}
	revocations := srv.Stats().Revocations
	_, err = member.m.Remove(ctx, "acme-x", RemoveOptions{})
	if !errors.As(err, &pe) || srv.Stats().Revocations != revocations {
		t.Errorf("member remove: %v (revocations %d → %d)", err, revocations, srv.Stats().Revocations)
	}
	if tok, err := owner.m.Token(ctx, "acme-x", DefaultMinTTL); err != nil || tok != tr.AccessToken {
		t.Errorf("after the refused remove the token is gone: %v", err)
	}
	if _, err := viewer.m.Token(ctx, "acme-x", DefaultMinTTL); !errors.As(err, &pe) || !strings.Contains(err.Error(), "may read tokens") {
		t.Errorf("viewer token: %v", err)
	}
	if views, err := viewer.m.List(ctx, Filter{}); err != nil || len(views) != 2 {
		t.Errorf("viewer list: %d, %v", len(views), err)
	}
	// A member of marketing does not even see the other profile.
	if views, err := member.m.List(ctx, Filter{}); err != nil || len(views) != 1 || views[0].Name != "acme-x" {
		t.Errorf("member list: %v, %v", views, err)
	}
}

func teamMember(login, role string, groups []string) team.Member {
	return team.Member{Login: login, Role: team.Role(role), Groups: groups}
}

// failingOpener fails the test if a browser is opened.
type failingOpener struct{ t *testing.T }

func (f failingOpener) Open(context.Context, string) error {
	f.t.Error("a browser was opened for a refused sign-in")
	return errors.New("no")
}
