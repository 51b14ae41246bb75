package profiles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
)

// teamConfig is a hand-written config of about 400 bytes, comments and all:
// the kind of file the issue saw wiped.
const teamConfig = `# Acme social team — hand-edited, keep tidy.
defaults:
  expiring_within: 7d   # a week's warning

providers:
  acme:    # our OAuth app
    type: oauth2
    auth_url: http://127.0.0.1:9/a
    token_url: http://127.0.0.1:9/t
    client_id: c

# Groups by brand
groups:
  marketing:
    description: Brand accounts

profiles:
  # keep this one first
  acme-x:
    provider: acme
    groups: [marketing]
  acme-fb:
    provider: acme

# end of file
`

// editWS is a config file, a state directory and a token store that several
// Managers (several "sbctl processes") share.
type editWS struct {
	dir, cfg, state string
	fs              *store.File
}

func newEditWS(t *testing.T, content string) *editWS {
	t.Helper()
	dir := t.TempDir()
	w := &editWS{dir: dir, cfg: filepath.Join(dir, "config.yaml"), state: filepath.Join(dir, "state"), fs: store.NewFile(filepath.Join(dir, "data"), nil)}
	if err := os.WriteFile(w.cfg, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

// open is one sbctl command starting: it reads the config.
func (w *editWS) open(t *testing.T, sleep func(context.Context, time.Duration) error) *Manager {
	t.Helper()
	m, err := Open(Options{ConfigPath: w.cfg, StateDir: w.state, Store: w.fs, Sleep: sleep})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (w *editWS) read(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// parsed checks the file parses and returns it.
func (w *editWS) parsed(t *testing.T) *config.Config {
	t.Helper()
	c, err := config.Parse(w.cfg, []byte(w.read(t)), config.Options{Presets: PresetNames()})
	if err != nil {
		t.Fatalf("the config no longer parses: %v\n%s", err, w.read(t))
	}
	return c
}

// sbctlEdits are the edits the issue ran against editors, as in-process
// Manager calls.
var sbctlEdits = map[string]func(ctx context.Context, m *Manager, name string) error{
	"groups create": func(ctx context.Context, m *Manager, name string) error { return m.CreateGroup(ctx, name, "") },
	"profiles add": func(ctx context.Context, m *Manager, name string) error {
		return m.AddUnconnected(ctx, AddSpec{Name: name, Provider: "acme", Groups: []string{"marketing"}})
	},
}

func hasEntry(c *config.Config, edit, name string) bool {
	if edit == "groups create" {
		_, ok := c.Group(name)
		return ok
	}
	_, ok := c.Profile(name)
	return ok
}

// An editor that saves in place truncates the file and writes it again; a
// command that re-reads it meanwhile sees an empty or half-written file. No
// edit may start from that: it is refused, and the file is left as it is.
func TestEditRefusesConfigThatShrankOrBrokeMeanwhile(t *testing.T) {
	t.Parallel()
	cut := func(s, at string) string { return s[:strings.Index(s, at)] }
	cases := map[string]string{
		"truncated":             "",
		"blank":                 "\n\n",
		"cut mid-line":          cut(teamConfig, "pe: oauth2"),
		"cut between entries":   cut(teamConfig, "# Groups by brand"),
		"cut inside profiles":   cut(teamConfig, "  acme-fb:"),
		"entry deleted by hand": strings.Replace(teamConfig, "  acme-fb:\n    provider: acme\n", "", 1),
	}
	for name, content := range cases {
		for editName, edit := range sbctlEdits {
			t.Run(name+"/"+editName, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				w := newEditWS(t, teamConfig)
				m := w.open(t, nil)
				// The editor's save is under way: the file holds part of it.
				if err := os.WriteFile(w.cfg, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				err := edit(ctx, m, "newthing")
				if err == nil {
					t.Fatalf("the edit was made on a file that changed under it; the file is now:\n%s", w.read(t))
				}
				for _, want := range []string{"config.yaml changed while sbctl was editing it", "nothing written", "retry"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				if got := w.read(t); got != content {
					t.Errorf("a refused edit wrote the file:\n%s", got)
				}
				// The editor finishes its save; the same command tried again
				// keeps what the editor wrote and adds its entry.
				saved := teamConfig + "# editor: saved\n"
				if name == "entry deleted by hand" {
					saved = content + "# editor: saved\n"
					m = w.open(t, nil) // a deliberate deletion: a new command reads it
				}
				if err := os.WriteFile(w.cfg, []byte(saved), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := edit(ctx, m, "newthing"); err != nil {
					t.Fatalf("retry after the editor saved: %v", err)
				}
				c := w.parsed(t)
				if !hasEntry(c, editName, "newthing") || !strings.Contains(w.read(t), "# editor: saved\n") {
					t.Errorf("retry lost the entry or the editor's line:\n%s", w.read(t))
				}
			})
		}
	}
}

// inPlaceSave is an editor saving in place: it opens the file for writing
// (the file is truncated), writes part of new, then waits on cont before
// writing the rest. It closes wrote once the first part is on disk and done
// when the save is over.
func inPlaceSave(t *testing.T, path, new string, cont <-chan struct{}) (wrote, done chan struct{}) {
	wrote, done = make(chan struct{}), make(chan struct{})
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(done)
		defer f.Close()
		half := len(new) / 2
		if _, err := f.WriteString(new[:half]); err != nil {
			t.Error(err)
		}
		close(wrote)
		<-cont
		if _, err := f.WriteString(new[half:]); err != nil {
			t.Error(err)
		}
	}()
	<-wrote
	return wrote, done
}

func skipWithoutWriterDetection(t *testing.T, path string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("telling that another program is writing the config needs Linux file leases")
	}
	if !config.DetectsWriters(path) {
		t.Skipf("this filesystem refuses file leases (%s): sbctl cannot tell that an editor is mid-save", filepath.Dir(path))
	}
}

func skipWithoutSwap(t *testing.T, dir string) {
	t.Helper()
	a, b := filepath.Join(dir, "swap-a"), filepath.Join(dir, "swap-b")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(p)
	}
	if err := config.SwapFiles(a, b); errors.Is(err, errors.ErrUnsupported) {
		t.Skip("the stand-in editor needs an atomic swap of two files (Linux renameat2)")
	}
}

// A command that finds an editor mid-save waits for the save to end, then
// edits what the editor saved: both the editor's line and the new entry are
// in the file.
func TestEditWaitsForEditorMidSave(t *testing.T) {
	t.Parallel()
	for editName, edit := range sbctlEdits {
		t.Run(editName, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newEditWS(t, teamConfig)
			skipWithoutWriterDetection(t, w.cfg)
			cont := make(chan struct{})
			var once sync.Once
			finish := func() { once.Do(func() { close(cont) }) }
			var done chan struct{}
			waited := 0
			// sbctl polls while the file is open for writing: the first
			// wait lets the editor finish its save.
			m := w.open(t, func(ctx context.Context, d time.Duration) error {
				waited++
				finish()
				<-done
				return nil
			})
			saved := "# editor: first line\n" + teamConfig + "# editor: last line\n"
			_, done = inPlaceSave(t, w.cfg, saved, cont)
			err := edit(ctx, m, "newthing")
			finish()
			<-done
			if err != nil {
				t.Fatalf("edit while the editor saves: %v", err)
			}
			if waited == 0 {
				t.Error("sbctl did not notice the editor's save under way")
			}
			c := w.parsed(t)
			got := w.read(t)
			if !hasEntry(c, editName, "newthing") {
				t.Errorf("the edit that returned nil is not in the file:\n%s", got)
			}
			for _, line := range []string{"# editor: first line\n", "# editor: last line\n", "  acme-fb:\n"} {
				if !strings.Contains(got, line) {
					t.Errorf("lost %q:\n%s", line, got)
				}
			}
		})
	}
}

// A file that stays open for writing (an editor stuck mid-save) makes the
// edit give up after a bounded wait, saying so, without writing.
func TestEditGivesUpOnEditorThatNeverFinishes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newEditWS(t, teamConfig)
	skipWithoutWriterDetection(t, w.cfg)
	waits := 0
	m := w.open(t, func(ctx context.Context, d time.Duration) error { waits++; return nil })
	cont := make(chan struct{})
	_, done := inPlaceSave(t, w.cfg, teamConfig+"# editor\n", cont)
	defer func() { close(cont); <-done }()
	before := w.read(t)
	err := m.CreateGroup(ctx, "newgroup", "")
	if err == nil || !strings.Contains(err.Error(), "being written by another program") || !strings.Contains(err.Error(), "nothing written") {
		t.Fatalf("edit of a file an editor is writing: %v\nfile:\n%s", err, w.read(t))
	}
	if got := w.read(t); got != before {
		t.Errorf("the refused edit wrote the file:\n%s", got)
	}
	if waits == 0 || waits > 1000 {
		t.Errorf("waited %d times; want a bounded, non-zero number", waits)
	}
}

// editorStandIn is a well-behaved editor apart from how it saves: before
// each save it re-reads the file, adds a comment line, and makes sure it
// writes over what it read (an in-place writer checks that the file it
// opened is still the one at the path and unchanged; an atomic one swaps its
// file in and swaps back if what it displaced is not what it read). So any
// line or entry that goes missing was lost by sbctl.
type editorStandIn struct {
	path   string
	atomic bool
	saved  []string // comment lines saved
}

// read returns the file's content and identity, read from one open file.
func readIdentity(path string) (string, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", nil, err
	}
	b, err := io.ReadAll(f)
	return string(b), fi, err
}

func (e *editorStandIn) save(n int) error {
	line := fmt.Sprintf("# editor note %d\n", n)
	for range 100 {
		cur, fi, err := readIdentity(e.path)
		if err != nil {
			return err
		}
		next := cur + line
		if n%2 == 0 {
			next = line + cur
		}
		var ok bool
		if e.atomic {
			ok, err = e.saveAtomic(next, fi)
		} else {
			ok, err = e.saveInPlace(next, fi)
		}
		if err != nil {
			return err
		}
		if ok {
			e.saved = append(e.saved, line)
			return nil
		}
	}
	return fmt.Errorf("editor: the file kept changing under the save of note %d", n)
}

// saveInPlace writes into the file itself, in chunks, syncing each (the
// syncs are what make the save slow enough to be seen half-done).
func (e *editorStandIn) saveInPlace(next string, read os.FileInfo) (bool, error) {
	f, err := os.OpenFile(e.path, os.O_WRONLY, 0)
	if err != nil {
		return false, err
	}
	defer f.Close()
	opened, err := f.Stat()
	if err != nil {
		return false, err
	}
	atPath, err := os.Stat(e.path)
	if err != nil || !os.SameFile(opened, read) || !os.SameFile(atPath, read) || opened.Size() != read.Size() {
		return false, nil // replaced since it was read: read again
	}
	if err := f.Truncate(0); err != nil {
		return false, err
	}
	for i := 0; i < len(next); i += len(next)/4 + 1 {
		if _, err := f.WriteString(next[i:min(len(next), i+len(next)/4+1)]); err != nil {
			return false, err
		}
		if err := f.Sync(); err != nil {
			return false, err
		}
	}
	return true, nil
}

func (e *editorStandIn) saveAtomic(next string, read os.FileInfo) (bool, error) {
	tmp := e.path + ".editor~"
	if err := os.WriteFile(tmp, []byte(next), 0o644); err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	ours, err := os.Stat(tmp)
	if err != nil {
		return false, err
	}
	if err := config.SwapFiles(tmp, e.path); err != nil {
		return false, err
	}
	displaced, err := os.Stat(tmp)
	if err != nil {
		return false, err
	}
	if os.SameFile(displaced, read) {
		return true, nil
	}
	// Someone wrote the file between our read and our swap: put theirs
	// back and start over.
	if err := config.SwapFiles(tmp, e.path); err != nil {
		return false, err
	}
	if back, err := os.Stat(tmp); err != nil || !os.SameFile(back, ours) {
		return false, fmt.Errorf("editor: could not put back the file it displaced")
	}
	return false, nil
}

// sbctl edits (two "processes" at once, each edit a new command) run while
// an editor keeps saving the file. At the end: the file parses; every edit
// that returned nil is in it; every refused edit said so and is not; every
// comment the editor saved and every entry of the original file is there.
func TestConfigEditsWhileEditorSaves(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"in place", "atomically"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newEditWS(t, teamConfig)
			skipWithoutWriterDetection(t, w.cfg)
			if mode == "atomically" {
				skipWithoutSwap(t, w.dir)
			}
			ed := &editorStandIn{path: w.cfg, atomic: mode == "atomically"}

			// Pacing without sleeps: the editor saves again once an sbctl
			// edit has finished since its last save, so both sides make
			// progress and most edits overlap a save.
			var mu sync.Mutex
			cond := sync.NewCond(&mu)
			finished, stop := 0, false
			var edErr error
			edDone := make(chan struct{})
			go func() {
				defer close(edDone)
				for n, seen := 1, 0; ; n++ {
					mu.Lock()
					for finished == seen && !stop {
						cond.Wait()
					}
					quit := stop
					seen = finished
					mu.Unlock()
					if quit {
						return
					}
					if err := ed.save(n); err != nil {
						edErr = err
						return
					}
				}
			}()

			type result struct {
				edit, name string
				err        error
			}
			var results []result
			var rmu sync.Mutex
			var wg sync.WaitGroup
			for p := range 2 {
				wg.Go(func() {
					for i := range 12 {
						editName := "groups create"
						if i%2 == 1 {
							editName = "profiles add"
						}
						name := fmt.Sprintf("s%d-%d", p, i)
						m, err := Open(Options{ConfigPath: w.cfg, StateDir: w.state, Store: w.fs})
						if err == nil {
							err = sbctlEdits[editName](ctx, m, name)
						}
						rmu.Lock()
						results = append(results, result{editName, name, err})
						rmu.Unlock()
						mu.Lock()
						finished++
						cond.Broadcast()
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			mu.Lock()
			stop = true
			cond.Broadcast()
			mu.Unlock()
			<-edDone
			if edErr != nil {
				t.Fatal(edErr)
			}

			c := w.parsed(t)
			got := w.read(t)
			landed := 0
			for _, r := range results {
				switch {
				case r.err == nil && !hasEntry(c, r.edit, r.name):
					t.Errorf("%s %s returned nil but is not in the file", r.edit, r.name)
				case r.err == nil:
					landed++
				case !strings.Contains(r.err.Error(), "nothing written"):
					t.Errorf("%s %s failed without saying nothing was written: %v", r.edit, r.name, r.err)
				case hasEntry(c, r.edit, r.name):
					t.Errorf("%s %s was refused (%v) but is in the file", r.edit, r.name, r.err)
				}
			}
			for _, line := range ed.saved {
				if !strings.Contains(got, line) {
					t.Errorf("sbctl overwrote the editor's %q", strings.TrimSpace(line))
				}
			}
			for _, orig := range []string{"acme-x", "acme-fb"} {
				if _, ok := c.Profile(orig); !ok {
					t.Errorf("profile %s of the original file is gone", orig)
				}
			}
			if _, ok := c.Group("marketing"); !ok || !strings.Contains(got, "# keep this one first") {
				t.Error("the original file's group or comments are gone")
			}
			if landed < len(results)/2 {
				t.Errorf("only %d of %d edits landed", landed, len(results))
			}
			t.Logf("%d of %d sbctl edits landed, %d editor saves", landed, len(results), len(ed.saved))
			if t.Failed() {
				t.Logf("final file:\n%s", got)
			}
		})
	}
}

// Two sbctl commands at once, adding and removing, all land: the config
// lock serialises them, and a file another sbctl wrote is no "editor
// mid-save" even though it lost the entry that command removed.
func TestConcurrentSbctlEditsAllLand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newEditWS(t, teamConfig)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	managers := make([]*Manager, 9)
	for i := range managers {
		managers[i] = w.open(t, nil) // every command read the file before any wrote
	}
	wg.Go(func() {
		_, err := managers[8].Remove(ctx, "acme-fb", RemoveOptions{KeepRemote: true})
		errs <- err
	})
	for i := range 8 {
		wg.Go(func() { errs <- sbctlEdits["profiles add"](ctx, managers[i], fmt.Sprintf("p%d", i)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	c := w.parsed(t)
	var names []string
	for _, p := range c.Profiles {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	want := []string{"acme-x", "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"}
	if !slices.Equal(names, want) {
		t.Errorf("profiles = %v, want %v", names, want)
	}
}
