package config

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const small = "# team\nproviders:\n  x:\n    client_id: abc\ngroups:\n  g: {}\nprofiles:\n  a:\n    provider: x\n    groups: [g]\n  b:\n    provider: x\n# end\n"

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// saveAtomically is an editor that writes its own file and renames it over
// the config.
func saveAtomically(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".editor~"
	writeFile(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func loadSmall(t *testing.T) (string, *Config) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, small)
	c, err := Load(path, presets)
	if err != nil {
		t.Fatal(err)
	}
	return path, c
}

func addGroup(name string) func(*Config) error {
	return func(c *Config) error { return c.AddGroup(name, "") }
}

// immediate is a Sleep that does not wait: the tests decide what happens
// between polls.
func immediate(context.Context, time.Duration) error { return nil }

func TestLoadRemembersWhatItRead(t *testing.T) {
	t.Parallel()
	path, c := loadSmall(t)
	s := c.Source()
	if !s.Exists || s.Size != int64(len(small)) || s.SHA256 != sha256.Sum256([]byte(small)) || s.ModTime.IsZero() {
		t.Errorf("source = %+v", s)
	}
	again, err := Load(path, presets)
	if err != nil || !again.Source().Same(s) {
		t.Errorf("the same file read twice is not the same source: %v", err)
	}
	saveAtomically(t, path, small)
	again, _ = Load(path, presets)
	if again.Source().Same(s) {
		t.Error("a file renamed over the config (same bytes) is the same source")
	}
	missing, err := Load(filepath.Join(t.TempDir(), "none.yaml"), presets)
	if err != nil || missing.Source().Exists || !missing.Source().Same(Source{known: true}) {
		t.Errorf("missing file: %+v %v", missing.Source(), err)
	}
}

// Save writes only over the file the config was read from, unchanged.
func TestSaveRefusesFileSavedSinceLoad(t *testing.T) {
	t.Parallel()
	for name, change := range map[string]func(t *testing.T, path string) string{
		"renamed over": func(t *testing.T, path string) string {
			saveAtomically(t, path, small+"# editor\n")
			return small + "# editor\n"
		},
		"rewritten in place, same size and time": func(t *testing.T, path string) string {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			edited := strings.Replace(small, "# team", "# TEAM", 1)
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(edited); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
				t.Fatal(err)
			}
			return edited
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path, c := loadSmall(t)
			if err := c.AddGroup("new", ""); err != nil {
				t.Fatal(err)
			}
			want := change(t, path)
			err := c.Save()
			if !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), "nothing written") {
				t.Fatalf("Save over a changed file: %v", err)
			}
			if got := readFile(t, path); got != want {
				t.Errorf("file:\n%s", got)
			}
		})
	}
}

// Edits write through a symlinked config (dotfile managers), not over it.
func TestEditWritesThroughSymlink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles", "sbctl.yaml")
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, real, small)
	link := filepath.Join(dir, "config.yaml")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	c, err := Load(link, presets)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := Edit(context.Background(), c, EditOptions{Sleep: immediate}, addGroup("new"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced: %v", err)
	}
	if got := readFile(t, real); !strings.Contains(got, "  new: {}\n") {
		t.Errorf("target:\n%s", got)
	}
	// The config remembers what it wrote: a second edit needs no re-read
	// to find it unchanged, and another Save works.
	if err := nc.AddGroup("newer", ""); err != nil {
		t.Fatal(err)
	}
	if err := nc.Save(); err != nil {
		t.Fatalf("Save after Edit: %v", err)
	}
}

// An editor saves between the re-read and the write: the edit is computed
// again on what it saved.
func TestEditReappliedAfterSaveBeforeWrite(t *testing.T) {
	t.Parallel()
	path, c := loadSmall(t)
	o := EditOptions{Sleep: immediate, beforeCommit: func(attempt int) {
		if attempt == 1 {
			saveAtomically(t, path, small+"# editor: saved\n")
		}
	}}
	runs := 0
	_, err := Edit(context.Background(), c, o, func(c *Config) error { runs++; return c.AddGroup("new", "") })
	if err != nil {
		t.Fatal(err)
	}
	got := readFile(t, path)
	if !strings.Contains(got, "# editor: saved\n") || !strings.Contains(got, "  new: {}\n") || runs != 2 {
		t.Errorf("runs = %d, file:\n%s", runs, got)
	}
}

// An editor renames its file over the config between sbctl's last check
// and its rename: sbctl's swap brings the editor's file out, sees it is not
// the one it checked, puts it back and edits it.
func TestEditPutsBackSaveBetweenCheckAndRename(t *testing.T) {
	t.Parallel()
	path, c := loadSmall(t)
	probe := filepath.Join(filepath.Dir(path), "probe")
	writeFile(t, probe, "")
	if err := SwapFiles(probe, path); errors.Is(err, errors.ErrUnsupported) {
		t.Skip("no atomic exchange of files here: the last microseconds before the rename stay unguarded")
	} else if err != nil {
		t.Fatal(err)
	}
	if err := SwapFiles(probe, path); err != nil {
		t.Fatal(err)
	}
	os.Remove(probe)
	swaps := 0
	o := EditOptions{Sleep: immediate, beforeSwap: func() {
		if swaps++; swaps == 1 {
			saveAtomically(t, path, "# editor: saved\n"+small)
		}
	}}
	if _, err := Edit(context.Background(), c, o, addGroup("new")); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, path)
	if !strings.Contains(got, "# editor: saved\n") || !strings.Contains(got, "  new: {}\n") {
		t.Errorf("file:\n%s", got)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".config.yaml.tmp-*")); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}

// A file saved again before every write: after the bounded attempts the
// edit gives up, and the file is the editor's.
func TestEditGivesUpWhenFileKeepsChanging(t *testing.T) {
	t.Parallel()
	path, c := loadSmall(t)
	last := ""
	o := EditOptions{Sleep: immediate, beforeCommit: func(attempt int) {
		last = small + strings.Repeat("# editor\n", attempt)
		saveAtomically(t, path, last)
	}}
	_, err := Edit(context.Background(), c, o, addGroup("new"))
	if !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), "3 times") {
		t.Fatalf("edit of a file saved before every write: %v", err)
	}
	if got := readFile(t, path); got != last {
		t.Errorf("file:\n%s", got)
	}
}

// The result may lack only what the edit declares it removes.
func TestEditRefusesToDropEntriesItDoesNotDeclare(t *testing.T) {
	t.Parallel()
	path, c := loadSmall(t)
	ctx := context.Background()
	removeBoth := func(c *Config) error {
		if err := c.RemoveProfile("b"); err != nil {
			return err
		}
		return c.RemoveGroup("g")
	}
	_, err := Edit(ctx, c, EditOptions{Sleep: immediate, Removes: []Entry{{SectionProfiles, "b"}}}, removeBoth)
	if err == nil || !strings.Contains(err.Error(), `would also remove group "g"`) || !strings.Contains(err.Error(), "nothing written") {
		t.Fatalf("undeclared removal: %v", err)
	}
	if got := readFile(t, path); got != small {
		t.Errorf("file changed:\n%s", got)
	}
	// Undeclared, the edit's own Remove calls are what it means to remove.
	nc, err := Edit(ctx, c, EditOptions{Sleep: immediate}, removeBoth)
	if err != nil {
		t.Fatal(err)
	}
	if len(nc.Entries()) != 2 || len(nc.Removed()) != 2 {
		t.Errorf("entries %v, removed %v", nc.Entries(), nc.Removed())
	}
}

// A file with no write permission is left alone, even by root.
func TestEditRefusesReadOnlyFile(t *testing.T) {
	t.Parallel()
	path, c := loadSmall(t)
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	_, err := PrepareEdit(context.Background(), c, EditOptions{Sleep: immediate}, addGroup("new"))
	var ro *ReadOnlyError
	if !errors.As(err, &ro) || !strings.Contains(err.Error(), "chmod u+w") {
		t.Fatalf("edit of a 0444 config: %v", err)
	}
	if err := c.AddGroup("new", ""); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(); !errors.As(err, &ro) {
		t.Fatalf("Save of a 0444 config: %v", err)
	}
	if got := readFile(t, path); got != small {
		t.Errorf("file changed:\n%s", got)
	}
}

// Where a save under way cannot be seen (no leases), a file modified just
// now is read again until it holds still: a command whose own first read
// caught an editor's save half done builds on the whole file, not on the
// half it read.
func TestEditWithoutLeasesWaitsForFileToSettle(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	half := small[:strings.Index(small, "groups:")] // parses: the provider only
	saved := small + "# editor: saved\n"
	writeFile(t, path, half)
	c, err := Load(path, presets)
	if err != nil {
		t.Fatal(err)
	}
	polls := 0
	o := EditOptions{noLease: true, Sleep: func(context.Context, time.Duration) error {
		if polls++; polls == 1 {
			// The editor writes the rest of its save.
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString(saved[len(half):]); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	}}
	if _, err := Edit(context.Background(), c, o, addGroup("new")); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, path)
	if polls < 2 || !strings.Contains(got, "# editor: saved\n") || !strings.Contains(got, "  b:\n") || !strings.Contains(got, "  new: {}\n") {
		t.Errorf("polls = %d, file:\n%s", polls, got)
	}
}

// A config that did not exist when the command started but was created
// before it wrote: the edit is applied to the new file.
func TestEditOfMissingFileCreatedMeanwhile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	c, err := Load(path, presets)
	if err != nil {
		t.Fatal(err)
	}
	o := EditOptions{Sleep: immediate, beforeCommit: func(attempt int) {
		if attempt == 1 {
			writeFile(t, path, small)
		}
	}}
	if _, err := Edit(context.Background(), c, o, addGroup("new")); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, path)
	if !strings.HasPrefix(got, "# team\n") || !strings.Contains(got, "  new: {}\n") {
		t.Errorf("file:\n%s", got)
	}
}
