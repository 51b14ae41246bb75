package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sbctl/sbctl/auth/fsx"
)

// Moving from tokens.json (every item in one file, before sbctl 0.x) to
// one file per item:
//   - reads look in tokens.json first while it exists: until the move is
//     complete it holds every item, and nothing writes an item file
//     before the move is complete;
//   - the first write (Set or Delete) takes the lock the old store took,
//     copies every item into its own file (fsynced), fsyncs the directory,
//     and only then removes tokens.json. A move killed half-way leaves
//     tokens.json in place, still the truth, and the next write does it
//     again from the start: nothing is lost, and no item is changed by it.

// legacyTempPrefix names the old store's temporary files.
const legacyTempPrefix = ".tokens-"

// legacyLockTimeout bounds the wait for an older sbctl still writing
// tokens.json.
const legacyLockTimeout = 30 * time.Second

// legacyGet reads key from tokens.json; ok is false when there is no such
// file or it lacks the key.
func (f *File) legacyGet(key string) (string, bool, error) {
	m, err := f.readLegacy()
	if err != nil || m == nil {
		return "", false, err
	}
	v, ok := m[key]
	return v, ok, nil
}

// readLegacy returns tokens.json's items, nil when the file does not
// exist. The map is shared: callers do not change it.
func (f *File) readLegacy() (map[string]string, error) {
	path := f.legacyPath()
	r, err := openFile(path, "token file")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	st, err := r.Stat()
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.legacySeen; f.legacy != nil && s != nil && os.SameFile(s, st) && s.Size() == st.Size() && s.ModTime().Equal(st.ModTime()) {
		return f.legacy, nil
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	m := map[string]string{}
	if len(b) > 0 && json.Unmarshal(b, &m) != nil {
		return nil, fmt.Errorf("the token file %s is not valid JSON; fix or remove it (profiles stored there will need `sbctl reauth`)", path)
	}
	f.legacy, f.legacySeen = m, st
	return m, nil
}

// migrate moves tokens.json's items into item files, if there is a
// tokens.json, and removes the old store's dead temporary files.
func (f *File) migrate(ctx context.Context) error {
	if !f.legacyLeftovers() {
		return nil
	}
	// The old store's lock: an older sbctl still running cannot rewrite
	// tokens.json while its items are being moved.
	unlock, err := storeDir.Lock(ctx, f.legacyPath()+".lock", legacyLockTimeout)
	if errors.Is(err, fsx.ErrLockTimeout) {
		return fmt.Errorf("another sbctl holds the lock on %s; try again", f.legacyPath())
	}
	if err != nil {
		return err
	}
	defer unlock()
	// Under the lock, an old writer's temporary file is a dead writer's.
	f.removeLegacyTemps()
	m, err := f.readLegacy()
	if err != nil || m == nil {
		// A tokens.json that cannot be read is neither moved nor
		// removed: the error says what to do with it.
		return err
	}
	if err := f.moveItems(ctx, m); err != nil {
		return fmt.Errorf("moving the items of %s into %s (nothing is lost: it stays until all are moved): %w", f.legacyPath(), f.itemDir(), err)
	}
	if f.migrateHook != nil {
		if err := f.migrateHook(len(m)); err != nil {
			return err
		}
	}
	if err := os.Remove(f.legacyPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f.mu.Lock()
	f.legacy, f.legacySeen = nil, nil
	f.mu.Unlock()
	return fsx.SyncDir(f.Dir)
}

// legacyLeftovers reports whether Dir holds tokens.json or an old
// writer's temporary file (one small directory read).
func (f *File) legacyLeftovers() bool {
	entries, err := os.ReadDir(f.Dir)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(entries, func(e fs.DirEntry) bool {
		return e.Name() == filepath.Base(f.legacyPath()) || strings.HasPrefix(e.Name(), legacyTempPrefix)
	})
}

func (f *File) removeLegacyTemps() {
	entries, _ := os.ReadDir(f.Dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), legacyTempPrefix) && !e.IsDir() {
			_ = os.Remove(filepath.Join(f.Dir, e.Name()))
		}
	}
}

// moveItems writes every item of m to its own file, a few at a time (each
// write waits for its fsync; the disk takes several at once), then makes
// the renames durable with one fsync of the directory.
func (f *File) moveItems(ctx context.Context, m map[string]string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var done atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	if f.migrateHook != nil {
		g.SetLimit(1) // one at a time, so the hook's count is exact
	}
	for _, k := range keys {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			if f.migrateHook != nil {
				if err := f.migrateHook(int(done.Load())); err != nil {
					return err
				}
			}
			if err := f.writeItem(k, m[k], false); err != nil {
				return err
			}
			done.Add(1)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return fsx.SyncDir(f.itemDir())
}
