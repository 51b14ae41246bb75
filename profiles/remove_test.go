package profiles

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/store"
)

// removeWS is a config with two profiles on a provider whose revocation
// endpoint counts calls and runs duringRevoke (a fault injected while the
// grant is being revoked).
type removeWS struct {
	*editWS
	revokes      atomic.Int32
	duringRevoke func()
}

func newRemoveWS(t *testing.T, cfgName string) *removeWS {
	t.Helper()
	w := &removeWS{}
	fake := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/revoke" {
			http.NotFound(rw, r)
			return
		}
		w.revokes.Add(1)
		if w.duringRevoke != nil {
			w.duringRevoke()
		}
	}))
	t.Cleanup(fake.Close)
	cfg := fmt.Sprintf("# team config\nproviders:\n  legacy:\n    type: oauth2\n    auth_url: %[1]s/a\n    token_url: %[1]s/t\n    revoke_url: %[1]s/revoke\n    client_id: c\nprofiles:\n  p:   # the one to remove\n    provider: legacy\n  q:\n    provider: legacy\n# end\n", fake.URL)
	w.editWS = newEditWS(t, cfg)
	if cfgName != "" {
		// Move the config to the name asked for.
		p := filepath.Join(w.dir, cfgName)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(w.cfg, p); err != nil {
			t.Fatal(err)
		}
		w.cfg = p
	}
	// Both connected, as after `profiles add --with-token`: a token in the
	// store and a record in the state.
	ctx := context.Background()
	st := NewStateFile(w.state)
	for _, n := range []string{"p", "q"} {
		tok := &auth.Token{AccessToken: "AT-" + n, RefreshToken: "RT-" + n}
		if err := store.PutToken(ctx, w.fs, n, tok); err != nil {
			t.Fatal(err)
		}
		if err := st.Update(ctx, func(s *State) error { s.Profiles[n] = RecordFromToken(tok, time.Now()); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// status is p's status as a new command lists it.
func (w *removeWS) status(t *testing.T, name string) Status {
	t.Helper()
	m := w.open(t, nil)
	views, err := m.List(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range views {
		if v.Name == name {
			return v.Status
		}
	}
	return "(not listed)"
}

// A config that cannot be written makes `profiles remove` refuse before it
// revokes or deletes anything: nothing is half done.
func TestRemoveRefusesUnwritableConfigBeforeRevoking(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// cfgName is the config's file name; break makes it unwritable
		// after the command read it.
		cfgName string
		brk     func(t *testing.T, w *removeWS)
		want    string
	}{
		{name: "read-only file", brk: func(t *testing.T, w *removeWS) { chmod(t, w.cfg, 0o444) }, want: "read-only"},
		{name: "read-only directory", brk: func(t *testing.T, w *removeWS) {
			if os.Geteuid() == 0 {
				t.Skip("root writes into a read-only directory; the injected write failures below cover this as root")
			}
			chmod(t, w.dir, 0o555)
			t.Cleanup(func() { _ = os.Chmod(w.dir, 0o755) })
		}, want: "permission denied"},
		// A name so long that the temp file beside it cannot be created:
		// a write failure that root gets too.
		{name: "write fails", cfgName: strings.Repeat("c", 240) + ".yaml", want: "file name too long"},
		{name: "directory replaced by a file", cfgName: filepath.Join("cfgdir", "config.yaml"), brk: func(t *testing.T, w *removeWS) {
			sub := filepath.Dir(w.cfg)
			if err := os.RemoveAll(sub); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(sub, []byte("not a directory\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, want: "not a directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newRemoveWS(t, tc.cfgName)
			if st := w.status(t, "p"); st != StatusOK {
				t.Fatalf("p is %s before the remove, want ok", st)
			}
			m := w.open(t, nil)
			if tc.brk != nil {
				tc.brk(t, w)
			}
			_, err := m.Remove(ctx, "p", RemoveOptions{})
			if err == nil {
				t.Fatal("remove succeeded with a config it cannot write")
			}
			for _, want := range []string{tc.want, "nothing was removed"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "AT-p") || strings.Contains(err.Error(), "RT-p") {
				t.Errorf("error shows a token: %v", err)
			}
			if n := w.revokes.Load(); n != 0 {
				t.Errorf("revoked %d times before finding the config could not be written", n)
			}
			if _, err := store.GetToken(ctx, w.fs, "p"); err != nil {
				t.Errorf("the token is gone: %v", err)
			}
			if _, ok := m.config().Profile("p"); !ok {
				t.Error("the Manager's config lost p")
			}
			if tc.name != "directory replaced by a file" {
				if st := w.status(t, "p"); st != StatusOK {
					t.Errorf("p is %s after the refused remove, want ok", st)
				}
			}
		})
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// The config becomes unwritable while the grant is being revoked: the
// revocation and the token deletion are done, the config edit is not. The
// error says what was done and how to finish; the list does not claim the
// profile is ok.
func TestRemoveReportsWhatWasDoneWhenConfigEditFailsLate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newRemoveWS(t, "")
	w.duringRevoke = func() { _ = os.Chmod(w.cfg, 0o444) }
	m := w.open(t, nil)
	_, err := m.Remove(ctx, "p", RemoveOptions{})
	if err == nil {
		t.Fatal("remove succeeded although the config could not be written")
	}
	for _, want := range []string{"revoked access at legacy", "deleted the token", "removing its entry from", "read-only", "remove the `p:` entry under `profiles:` by hand"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := store.GetToken(ctx, w.fs, "p"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token after a revocation: %v", err)
	}
	if st := w.status(t, "p"); st != StatusNotConnected {
		t.Errorf("p is %s, want not_connected (its grant is revoked and its token deleted)", st)
	}
	if st := w.status(t, "q"); st != StatusOK {
		t.Errorf("q is %s, want ok", st)
	}
}

// An editor that saves while the grant is being revoked keeps its line:
// the config edit prepared before the revocation is applied again to what
// the editor saved.
func TestRemoveKeepsEditorSaveDuringRevocation(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"in place", "atomically"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newRemoveWS(t, "")
			ed := &editorStandIn{path: w.cfg, atomic: mode == "atomically"}
			if ed.atomic {
				skipWithoutSwap(t, w.dir)
			}
			var edErr error
			w.duringRevoke = func() { edErr = ed.save(1) }
			m := w.open(t, nil)
			res, err := m.Remove(ctx, "p", RemoveOptions{})
			if edErr != nil {
				t.Skipf("the stand-in editor could not save here: %v", edErr)
			}
			if err != nil || !res.Revoked {
				t.Fatalf("remove: %+v %v", res, err)
			}
			c := w.parsed(t)
			got := w.read(t)
			if _, ok := c.Profile("p"); ok {
				t.Errorf("p is still in the file:\n%s", got)
			}
			if _, ok := c.Profile("q"); !ok || !strings.Contains(got, "# editor note 1\n") || !strings.Contains(got, "# team config\n") {
				t.Errorf("lost q or a comment:\n%s", got)
			}
		})
	}
}
