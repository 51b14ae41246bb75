package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sbctl/sbctl/auth/fsx"
)

// File is the explicit plain-file store for machines without a keychain
// (`--token-store file`, SBCTL_TOKEN_STORE=file). Every item is a file of
// its own, mode 0600, under Dir/tokens (Dir is $XDG_DATA_HOME/sbctl; both
// directories 0700), so a token write costs the same at 10 profiles and at
// 10,000: before, one tokens.json held every item and each write rewrote
// and fsynced all of them. Every write warns, because anyone who can read
// the files as this user can use the tokens.
//
// A tokens.json left by an earlier sbctl is read as it is and moved into
// item files by the next write (file_migrate.go).
type File struct {
	Dir string
	// Warn receives the warning printed on every write; nil discards it.
	Warn io.Writer

	// The parse of tokens.json, reused while its identity, size and
	// modification time are unchanged (a refresh of many profiles reads
	// the store several times per profile).
	mu         sync.Mutex
	legacy     map[string]string
	legacySeen os.FileInfo

	// writing holds this process's temporary files still being written,
	// which removeDeadTemps need not ask about (a refresh writes 16 at
	// once).
	writingMu sync.Mutex
	writing   map[string]bool

	// migrateHook, when set (tests), is called before each item is moved
	// out of tokens.json with the number already moved, and once more
	// before tokens.json is removed; an error stops the migration there,
	// as a kill would.
	migrateHook func(done int) error
}

// NewFile returns the file store in dir ($XDG_DATA_HOME/sbctl).
func NewFile(dir string, warn io.Writer) *File {
	return &File{Dir: dir, Warn: warn}
}

func (f *File) Describe() string { return fmt.Sprintf("token file store %s", f.itemDir()) }

func (f *File) itemDir() string    { return filepath.Join(f.Dir, "tokens") }
func (f *File) tempDir() string    { return filepath.Join(f.itemDir(), ".tmp") }
func (f *File) legacyPath() string { return filepath.Join(f.Dir, "tokens.json") }

func (f *File) itemPath(key string) string { return filepath.Join(f.itemDir(), itemName(key)) }

// itemFile is the content of an item's file. The key is kept so that a
// file is never taken for another item's (a long key's name is a hash).
type itemFile struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// maxItem bounds what is read from an item file; tokens are a few KiB.
const maxItem = 1 << 20

func (f *File) Get(_ context.Context, key string) (string, error) {
	if err := storeDir.Check(f.Dir); err != nil {
		return "", notFoundIfMissing(err)
	}
	// While tokens.json exists (no write since it was found), it is the
	// truth: a migration interrupted half-way has copied some items, never
	// changed them.
	if v, ok, err := f.legacyGet(key); err != nil || ok {
		return v, err
	}
	if err := storeDir.Check(f.itemDir()); err != nil {
		return "", notFoundIfMissing(err)
	}
	return f.readItem(key)
}

func (f *File) Set(ctx context.Context, key, value string) error {
	if err := f.prepare(ctx); err != nil {
		return err
	}
	if err := f.writeItem(key, value, true); err != nil {
		return err
	}
	if f.Warn != nil {
		fmt.Fprintf(f.Warn, "warning: secrets are stored in plain text in %s (--token-store file); anyone who can read it as you can use them\n", f.itemDir())
	}
	return nil
}

func (f *File) Delete(ctx context.Context, key string) error {
	if err := storeDir.Check(f.Dir); errors.Is(err, fs.ErrNotExist) {
		return nil // nothing was ever stored
	}
	if err := f.prepare(ctx); err != nil {
		return err
	}
	path := f.itemPath(key)
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("removing %s: %w", path, err)
	}
	// Durable before the caller moves on (`profiles remove` edits the
	// config next).
	return fsx.SyncDir(f.itemDir())
}

// prepare makes the directories (0700, never through a symlink), finishes
// moving tokens.json into item files, and removes what dead writers left.
func (f *File) prepare(ctx context.Context) error {
	for _, d := range []string{f.Dir, f.itemDir(), f.tempDir()} {
		if err := storeDir.Make(d); err != nil {
			return err
		}
	}
	if err := f.migrate(ctx); err != nil {
		return err
	}
	f.removeDeadTemps()
	return nil
}

func (f *File) readItem(key string) (string, error) {
	path := f.itemPath(key)
	r, err := openFile(path, "token file")
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxItem+1))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	var it itemFile
	if len(b) > maxItem || json.Unmarshal(b, &it) != nil || it.Key != key {
		// Say where, never what: the content is a secret.
		return "", fmt.Errorf("the token file %s is damaged; remove it (`rm %s`) and run `sbctl reauth` for the profile it held", path, path)
	}
	return it.Value, nil
}

// writeItem replaces key's file atomically: a temporary file, fsync,
// rename, and (with syncDirToo) an fsync of the directory, so the value is
// durable when it returns (a renewal clears its crash marker next).
func (f *File) writeItem(key, value string, syncDirToo bool) error {
	path := f.itemPath(key)
	// What is there must pass the same checks as for a read: a file
	// others could read, or a link, is reported, not silently replaced.
	if st, err := os.Lstat(path); err == nil {
		if err := checkFile(path, "token file", st); err != nil {
			return err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	b, err := json.Marshal(itemFile{Key: key, Value: value})
	if err != nil {
		return err
	}
	tmp, err := f.createTemp(itemName(key))
	if err != nil {
		return err
	}
	// The descriptor, and with it the writer's lock, is closed only after
	// the rename: until then a concurrent cleaner sees a live writer.
	defer tmp.Close()
	f.markWriting(tmp.Name(), true)
	defer f.markWriting(tmp.Name(), false)
	renamed := false
	defer func() {
		if !renamed {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	renamed = true
	if syncDirToo {
		return fsx.SyncDir(f.itemDir())
	}
	return nil
}

// createTemp creates a temporary file for the item named name in the
// temporary directory, 0600, and takes its writer's lock (lockTemp).
func (f *File) createTemp(name string) (*os.File, error) {
	for range 5 {
		var r [6]byte
		_, _ = rand.Read(r[:])
		p := filepath.Join(f.tempDir(), name+"."+hex.EncodeToString(r[:]))
		t, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|openFlags, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		// A cleaner may have locked and removed the file between the
		// open and the lock: then it is no longer at p, so start over.
		if lockTemp(t) == nil && samePath(t, p) {
			if err := t.Chmod(0o600); err != nil { // whatever the umask
				t.Close()
				return nil, err
			}
			return t, nil
		}
		t.Close()
	}
	return nil, fmt.Errorf("could not create a temporary file in %s", f.tempDir())
}

// removeDeadTemps removes the temporary files no live writer holds: a
// writer killed before its rename leaves one, with a token in it.
func (f *File) removeDeadTemps() {
	entries, err := os.ReadDir(f.tempDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(f.tempDir(), e.Name())
		if f.isWriting(p) {
			continue
		}
		if !e.Type().IsRegular() {
			if e.Type()&fs.ModeSymlink != 0 {
				_ = os.Remove(p) // not sbctl's; removing a link does not follow it
			}
			continue
		}
		t, err := os.OpenFile(p, os.O_RDONLY|openFlags, 0)
		if err != nil {
			continue
		}
		if st, err := t.Stat(); err == nil && deadTemp(t, st) && samePath(t, p) {
			_ = os.Remove(p)
		}
		t.Close()
	}
}

func (f *File) markWriting(p string, on bool) {
	f.writingMu.Lock()
	defer f.writingMu.Unlock()
	if f.writing == nil {
		f.writing = map[string]bool{}
	}
	if on {
		f.writing[p] = true
	} else {
		delete(f.writing, p)
	}
}

func (f *File) isWriting(p string) bool {
	f.writingMu.Lock()
	defer f.writingMu.Unlock()
	return f.writing[p]
}

// samePath reports whether p still names the open file t.
func samePath(t *os.File, p string) bool {
	a, err1 := t.Stat()
	b, err2 := os.Lstat(p)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

func notFoundIfMissing(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	return err
}

// itemName is the file name of key: injective, the same whatever the file
// system's case or Unicode folding (letters other than a–z and every
// non-ASCII byte are escaped as %xx, ':' is '+'), never hidden, and short
// enough for any file system (a long key keeps a readable prefix and a
// hash of the whole key).
func itemName(key string) string {
	if key == "" {
		return "%.json"
	}
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '@', c == '.' && i > 0:
			b.WriteByte(c)
		case c == ':':
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02x", c)
		}
	}
	name := b.String()
	const maxName, keep = 160, 100
	if len(name) > maxName {
		cut := keep
		for cut > 0 && strings.LastIndexByte(name[:cut], '%') >= cut-2 {
			cut-- // not inside an escape
		}
		sum := sha256.Sum256([]byte(key))
		name = name[:cut] + "~" + hex.EncodeToString(sum[:16])
	}
	return name + ".json"
}
