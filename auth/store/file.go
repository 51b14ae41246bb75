package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/sbctl/sbctl/config"
)

// File is the explicit plain-file store for machines without a keychain
// (`--token-store file`, SBCTL_TOKEN_STORE=file): one JSON file, mode 0600,
// in a directory of mode 0700. Every write warns, because anyone who can
// read the file as this user can use the tokens.
type File struct {
	Path string
	// Warn receives the warning printed on every write; nil discards it.
	Warn io.Writer

	// cache is the last parse of the file, reused while the file's
	// identity, size and modification time are unchanged: a refresh of
	// many profiles reads the file several times per profile.
	mu    sync.Mutex
	cache map[string]string
	seen  os.FileInfo
}

// NewFile returns the file store at dir/tokens.json.
func NewFile(dir string, warn io.Writer) *File {
	return &File{Path: filepath.Join(dir, "tokens.json"), Warn: warn}
}

func (f *File) Describe() string { return fmt.Sprintf("token file %s", f.Path) }

func (f *File) Get(_ context.Context, key string) (string, error) {
	m, err := f.read()
	if err != nil {
		return "", err
	}
	v, ok := m[key]
	if !ok {
		return "", ErrNotFound
	}
	return v, nil
}

func (f *File) Set(ctx context.Context, key, value string) error {
	err := f.update(ctx, func(m map[string]string) { m[key] = value })
	if err == nil && f.Warn != nil {
		fmt.Fprintf(f.Warn, "warning: secrets are stored in plain text in %s (--token-store file); anyone who can read it as you can use them\n", f.Path)
	}
	return err
}

func (f *File) Delete(ctx context.Context, key string) error {
	return f.update(ctx, func(m map[string]string) { delete(m, key) })
}

// read returns a copy of the file's content.
func (f *File) read() (map[string]string, error) {
	st, err := os.Stat(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the %s: %w", f.Describe(), err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the %s is readable by other users (mode %04o); run `chmod 600 %s`", f.Describe(), st.Mode().Perm(), f.Path)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cache == nil || f.seen == nil || !os.SameFile(f.seen, st) || f.seen.Size() != st.Size() || !f.seen.ModTime().Equal(st.ModTime()) {
		b, err := os.ReadFile(f.Path)
		if err != nil {
			return nil, fmt.Errorf("reading the %s: %w", f.Describe(), err)
		}
		m := map[string]string{}
		if len(b) > 0 {
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("the %s is not valid JSON; fix or remove it (profiles stored there will need `sbctl reauth`)", f.Describe())
			}
		}
		f.cache, f.seen = m, st
	}
	return maps.Clone(f.cache), nil
}

// update is read-modify-write under a lock file, written atomically.
func (f *File) update(ctx context.Context, change func(map[string]string)) error {
	dir := filepath.Dir(f.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	lk := flock.New(f.Path + ".lock")
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ok, err := lk.TryLockContext(ctx, 20*time.Millisecond)
	if err != nil || !ok {
		return fmt.Errorf("another sbctl holds the lock on %s; try again", f.Path)
	}
	defer lk.Unlock()
	// Under the lock, a temp file is a dead writer's (killed between
	// create and rename): it may hold tokens, so it goes.
	config.RemoveTempFiles(dir, ".tokens-")
	m, err := f.read()
	if err != nil {
		return err
	}
	change(m)
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tokens-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return err
	}
	// The rename must be durable before the caller moves on (a renewal
	// clears its crash marker next).
	config.SyncDir(dir)
	// Remember what was just written, so the next read needs no parse.
	if st, err := os.Stat(f.Path); err == nil {
		f.mu.Lock()
		f.cache, f.seen = m, st
		f.mu.Unlock()
	}
	return nil
}
