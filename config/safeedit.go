package config

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sbctl/sbctl/auth/fsx"
)

// A command edits the config it read when it started, but the file may
// have changed since: another sbctl wrote it (fine: the edit is applied to
// what it wrote), or an editor is saving it. An editor that saves in place
// truncates the file and writes it again; read at the wrong moment the
// file is empty or half there, and an edit computed from that and written
// back wipes the user's config. One that saves atomically renames its file
// over the config; a rename of sbctl's own file just after would delete
// the editor's save. Edit guards against both: it re-reads the file (after
// any save under way), refuses to start from a file that shrank, broke or
// lost entries, never writes a result that lost entries the edit did not
// mean to remove, and writes only over the very file it computed the edit
// from — re-applying the edit to a newer file a bounded number of times.

// Sections of the file whose entries are compared.
const (
	SectionProviders = "providers"
	SectionGroups    = "groups"
	SectionProfiles  = "profiles"
)

// Entry names one entry of a section.
type Entry struct{ Section, Name string }

func (e Entry) String() string {
	return fmt.Sprintf("%s %q", strings.TrimSuffix(e.Section, "s"), e.Name)
}

// Entries lists every provider, group and profile, in file order.
func (c *Config) Entries() []Entry {
	var out []Entry
	for _, p := range c.Providers {
		out = append(out, Entry{SectionProviders, p.Name})
	}
	for _, g := range c.Groups {
		out = append(out, Entry{SectionGroups, g.Name})
	}
	for _, p := range c.Profiles {
		out = append(out, Entry{SectionProfiles, p.Name})
	}
	return out
}

// Removed lists the entries this Config's Remove calls (RemoveProfile,
// RemoveGroup) took out since it was read.
func (c *Config) Removed() []Entry { return slices.Clone(c.removed) }

// ErrChanged matches a *ChangedError.
var ErrChanged = errors.New("config changed while sbctl was editing it")

// ChangedError is an edit refused because the file changed under it in a
// way sbctl cannot build on: nothing was written.
type ChangedError struct {
	Path string
	Why  string
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("%s changed while sbctl was editing it (%s); nothing written: retry once the editor has saved it", e.Path, e.Why)
}

func (e *ChangedError) Is(target error) bool { return target == ErrChanged }

// ReadOnlyError is a config file nobody may write (mode 0444): sbctl
// takes that as the user's wish, even when running as root.
type ReadOnlyError struct {
	Path string
	Mode fs.FileMode
}

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("%s is read-only (mode %04o); nothing written: make it writable (chmod u+w %s) and retry, or edit it by hand", e.Path, e.Mode.Perm(), e.Path)
}

// EditOptions tune Edit and PrepareEdit.
type EditOptions struct {
	// Removes declares the entries the edit means to remove: any other
	// entry missing from the result refuses the edit. nil means the
	// entries the edit's own Remove calls took out (Config.Removed).
	Removes []Entry
	// Trusted reports a digest of text that sbctl itself wrote whole
	// (another command's edit): a re-read file with that digest is no
	// half-saved file, and what it lacks was removed on purpose.
	Trusted func(sum [sha256.Size]byte) bool
	// Sleep waits between polls for another program's save to end (nil:
	// a timer).
	Sleep func(ctx context.Context, d time.Duration) error
	// BusyWait bounds that wait (default DefaultBusyWait).
	BusyWait time.Duration
	// Attempts bounds how often the edit is computed again when the file
	// changes between the re-read and the rename (default 3).
	Attempts int

	// Tests: called before each attempt to write, and between the last
	// check of the file and the rename; noLease behaves as where there
	// are no file leases.
	beforeCommit func(attempt int)
	beforeSwap   func()
	noLease      bool
}

func (o EditOptions) withDefaults() EditOptions {
	if o.Sleep == nil {
		o.Sleep = sleepFor
	}
	if o.BusyWait <= 0 {
		o.BusyWait = DefaultBusyWait
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	return o
}

func (o EditOptions) quiet() quiet {
	return quiet{polls: max(1, int(o.BusyWait/writerPoll)), sleep: o.Sleep, noLease: o.noLease}
}

// Pending is an edit computed from the file as it is now, and checked to
// be writable, but not yet written (PrepareEdit): a command that must do
// something irreversible (revoke a grant) between knowing the edit can be
// made and making it.
type Pending struct {
	start *Config
	opts  EditOptions
	edit  func(*Config) error
	real  string // the file written: the config path with symlinks resolved

	// keep is every entry the result must still have: those of the
	// config the command started from and of each re-read, unless a
	// re-read was text sbctl wrote itself.
	keep    map[Entry]bool
	maxSize int64

	source Source // of the re-read the result was computed from
	read   []byte // its text
	result *Config
}

// Edit applies edit to the file the config start was read from, as it is
// now, and writes the result (see the comment at the top of this file).
// The caller holds the config lock. edit may run more than once, each time
// on a fresh copy of the file. It returns the new config.
func Edit(ctx context.Context, start *Config, o EditOptions, edit func(*Config) error) (*Config, error) {
	p := newPending(start, o, edit)
	if err := p.compute(ctx); err != nil {
		return nil, err
	}
	return p.Commit(ctx)
}

// PrepareEdit is Edit without the write, under the config lock: the file
// is re-read, the edit applied in memory, and the file and its directory
// checked writable (a copy of the result is written next to it and
// removed). Commit writes it.
func PrepareEdit(ctx context.Context, start *Config, o EditOptions, edit func(*Config) error) (*Pending, error) {
	p := newPending(start, o, edit)
	if err := p.compute(ctx); err != nil {
		return nil, err
	}
	if err := p.probe(); err != nil {
		return nil, err
	}
	return p, nil
}

func newPending(start *Config, o EditOptions, edit func(*Config) error) *Pending {
	p := &Pending{start: start, opts: o.withDefaults(), edit: edit, real: realPath(start.Path), keep: map[Entry]bool{}, maxSize: start.source.Size}
	for _, e := range start.Entries() {
		p.keep[e] = true
	}
	return p
}

// Commit writes the result over the file, provided the file is still the
// one the result was computed from; else it computes the edit again on
// the new file, up to Attempts times. The caller holds the config lock
// (it need not have held it since PrepareEdit).
func (p *Pending) Commit(ctx context.Context) (*Config, error) {
	for attempt := 1; ; attempt++ {
		if p.opts.beforeCommit != nil {
			p.opts.beforeCommit(attempt)
		}
		done, err := p.writeOnce(ctx)
		if err != nil {
			return nil, err
		}
		if done {
			return p.result, nil
		}
		if attempt == p.opts.Attempts {
			return nil, &ChangedError{Path: p.start.Path, Why: fmt.Sprintf("it was saved again each of the %d times sbctl computed its edit", attempt)}
		}
		if err := p.compute(ctx); err != nil {
			return nil, err
		}
	}
}

// compute re-reads the file and applies the edit to it.
func (p *Pending) compute(ctx context.Context) error {
	cur, src, source, err := p.reread(ctx)
	if err != nil {
		return err
	}
	if err := checkWritable(p.start.Path, source); err != nil {
		return err
	}
	trusted := source.Exists && p.opts.Trusted != nil && p.opts.Trusted(source.SHA256)
	switch {
	case trusted:
		// Another sbctl wrote exactly this: whatever it lacks of what this
		// command read was removed on purpose.
		p.keep, p.maxSize = map[Entry]bool{}, 0
	case bytes.Equal(src, p.start.src) && source.Exists == p.start.Exists:
	default:
		if err := p.checkNotShrunk(cur, src, source); err != nil {
			return err
		}
	}
	p.maxSize = max(p.maxSize, source.Size)
	for _, e := range cur.Entries() {
		p.keep[e] = true
	}
	if err := p.edit(cur); err != nil {
		return err
	}
	if err := p.checkNothingLost(cur); err != nil {
		return err
	}
	p.source, p.read, p.result = source, src, cur
	return nil
}

// reread reads the file after any save under way, and parses it.
func (p *Pending) reread(ctx context.Context) (*Config, []byte, Source, error) {
	src, source, err := p.readSettled(ctx)
	if errors.Is(err, fs.ErrNotExist) {
		c, _ := Parse(p.start.Path, nil, p.start.opts)
		c.source = Source{known: true}
		return c, nil, c.source, nil
	}
	if err != nil {
		return nil, nil, Source{}, err
	}
	cur, err := Parse(p.start.Path, src, p.start.opts)
	if err != nil {
		return nil, nil, Source{}, &ChangedError{Path: p.start.Path, Why: "it no longer reads as a config: " + strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	cur.Exists, cur.source = true, source
	return cur, src, source, nil
}

// readSettled reads the file once no save is under way (readQuiet).
func (p *Pending) readSettled(ctx context.Context) ([]byte, Source, error) {
	src, source, err := readQuiet(ctx, p.real, p.opts.quiet())
	var busy *BusyError
	switch {
	case errors.As(err, &busy):
		busy.Path = p.start.Path
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		err = fmt.Errorf("reading config: %w; nothing written", err)
	}
	return src, source, err
}

// checkNotShrunk refuses a re-read that is empty, gone or smaller than a
// version this command read: most likely an editor's save caught half
// done, and not something to build on (a deliberate deletion is refused
// too; the retry reads the file afresh).
func (p *Pending) checkNotShrunk(cur *Config, src []byte, source Source) error {
	switch {
	case p.start.Exists && !source.Exists:
		return &ChangedError{Path: p.start.Path, Why: "it was deleted"}
	case len(bytes.TrimSpace(p.start.src)) > 0 && len(bytes.TrimSpace(src)) == 0:
		return &ChangedError{Path: p.start.Path, Why: "it is empty now: an editor may be saving it"}
	case source.Size < p.maxSize:
		return &ChangedError{Path: p.start.Path, Why: fmt.Sprintf("it is smaller than when sbctl read it (%d bytes, was %d): an editor may be saving it", source.Size, p.maxSize)}
	}
	var gone []string
	for _, e := range sortedEntries(p.keep) {
		if !hasEntry(cur, e.Section, e.Name) && !slices.Contains(p.opts.Removes, e) {
			gone = append(gone, e.String())
		}
	}
	if len(gone) > 0 {
		return &ChangedError{Path: p.start.Path, Why: strings.Join(gone, ", ") + " is no longer in it: an editor may be saving it"}
	}
	return nil
}

// checkNothingLost refuses a result that lacks an entry the edit was not
// meant to remove.
func (p *Pending) checkNothingLost(result *Config) error {
	allowed := p.opts.Removes
	if allowed == nil {
		allowed = result.Removed()
	}
	var lost []string
	for _, e := range sortedEntries(p.keep) {
		if !slices.Contains(allowed, e) && !hasEntry(result, e.Section, e.Name) {
			lost = append(lost, e.String())
		}
	}
	if len(lost) > 0 {
		return fmt.Errorf("%s: the edit would also remove %s, which it was not meant to; nothing written", p.start.Path, strings.Join(lost, ", "))
	}
	return nil
}

func sortedEntries(m map[Entry]bool) []Entry {
	out := make([]Entry, 0, len(m))
	for e := range m {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Section+"\x00"+a.Name, b.Section+"\x00"+b.Name) })
	return out
}

func checkWritable(path string, s Source) error {
	if s.Exists && s.info != nil && s.info.Mode().Perm()&0o222 == 0 {
		return &ReadOnlyError{Path: path, Mode: s.info.Mode()}
	}
	return nil
}

// probe writes the result next to the file and removes it: the directory
// takes new files, the disk has room, and the name is not too long.
func (p *Pending) probe() error {
	tmp, _, err := p.writeTemp()
	if err != nil {
		return fmt.Errorf("cannot write %s: %w; nothing written", p.start.Path, err)
	}
	return os.Remove(tmp)
}

// writeTemp writes the result to a new file beside the config, with the
// config's permissions, synced.
func (p *Pending) writeTemp() (string, os.FileInfo, error) {
	dir := filepath.Dir(p.real)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	perm := fs.FileMode(0o644)
	if p.source.info != nil {
		perm = p.source.info.Mode().Perm()
	}
	return fsx.WriteTemp(dir, fsx.TempPrefix(p.real), p.result.src, perm)
}

// writeOnce writes the result if the file is still what it was computed
// from; false (and nothing written) if it is not.
func (p *Pending) writeOnce(ctx context.Context) (bool, error) {
	if p.source.Exists && bytes.Equal(p.result.src, p.read) {
		return true, nil // nothing to change (what was to be removed is gone already)
	}
	dir := filepath.Dir(p.real)
	// Callers hold the config lock: temp files found here were left by a
	// writer that died between creating and renaming one.
	fsx.RemoveTempFiles(dir, fsx.TempPrefix(p.real))
	tmp, ours, err := p.writeTemp()
	if err != nil {
		return false, fmt.Errorf("cannot write %s: %w; nothing written", p.start.Path, err)
	}
	defer os.Remove(tmp) // after a rename: a no-op; after a swap: the old file
	written, err := p.replace(ctx, tmp, ours)
	if err != nil || !written {
		return false, err
	}
	_ = fsx.SyncDir(dir) // best effort: the file itself is synced
	p.result.Exists = true
	p.result.source = Source{Exists: true, Size: ours.Size(), ModTime: ours.ModTime(), SHA256: sha256.Sum256(p.result.src), info: ours, known: true}
	return true, nil
}

// replace puts tmp in place of the file, checking just before that the
// file is the one the edit was computed from: same file, size, time and
// bytes, and (with a lease) nobody writing it.
func (p *Pending) replace(ctx context.Context, tmp string, ours os.FileInfo) (bool, error) {
	h, err := openRead(ctx, p.real, p.opts.quiet())
	if errors.Is(err, fs.ErrNotExist) {
		if p.source.Exists {
			return false, nil // deleted meanwhile: compute again (and refuse)
		}
		return p.create(tmp)
	}
	var busy *BusyError
	if errors.As(err, &busy) {
		busy.Path = p.start.Path
		return false, busy
	}
	if err != nil {
		return false, fmt.Errorf("reading config: %w; nothing written", err)
	}
	defer h.Close() // the lease is held until the new file is in place
	_, now, err := h.snapshot()
	if err != nil {
		return false, fmt.Errorf("reading config: %w; nothing written", err)
	}
	if !now.Same(p.source) {
		return false, nil
	}
	if err := checkWritable(p.start.Path, now); err != nil {
		return false, err
	}
	if p.opts.beforeSwap != nil {
		p.opts.beforeSwap()
	}
	if !h.intact() {
		return false, nil // an editor started to save it: let it finish
	}
	return p.swapIn(tmp, ours, now)
}

// swapIn exchanges tmp with the file and checks that what it displaced is
// the file it checked; if another program renamed its file over the config
// in between, that file is put back and the edit computed again. Without
// an exchange (other systems, some filesystems) it renames.
func (p *Pending) swapIn(tmp string, ours os.FileInfo, checked Source) (bool, error) {
	err := SwapFiles(tmp, p.real)
	if errors.Is(err, errors.ErrUnsupported) {
		if err := os.Rename(tmp, p.real); err != nil {
			return false, fmt.Errorf("cannot write %s: %w; nothing written", p.start.Path, err)
		}
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot write %s: %w; nothing written", p.start.Path, err)
	}
	displaced, err := os.Stat(tmp)
	if err == nil && os.SameFile(displaced, checked.info) {
		return true, nil
	}
	if err := SwapFiles(tmp, p.real); err != nil {
		return false, fmt.Errorf("%s was replaced while sbctl was writing it, and putting the other program's version back failed (%w); it is kept as %s", p.start.Path, err, tmp)
	}
	if back, err := os.Stat(tmp); err != nil || !os.SameFile(back, ours) {
		keep := tmp + ".displaced"
		_ = os.Rename(tmp, keep)
		return false, fmt.Errorf("%s was replaced by other programs several times while sbctl was writing it; sbctl's edit is not in it, and a version it displaced is kept as %s: compare the two", p.start.Path, keep)
	}
	return false, nil
}

// create puts tmp at the path of a config that did not exist, unless one
// has appeared meanwhile (a hard link fails if the name is taken).
func (p *Pending) create(tmp string) (bool, error) {
	err := os.Link(tmp, p.real)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrExist):
		return false, nil
	}
	// No hard links here (some filesystems): rename.
	if err := os.Rename(tmp, p.real); err != nil {
		return false, fmt.Errorf("cannot write %s: %w; nothing written", p.start.Path, err)
	}
	return true, nil
}
