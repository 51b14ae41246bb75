package config

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Source is what a Config was read from: the file's identity (which file,
// how big, when last modified) and a digest of the bytes read. An edit is
// written only over the very file it was computed from: an editor may have
// saved over it meanwhile, in place or by renaming its own file over it.
type Source struct {
	Exists  bool
	Size    int64
	ModTime time.Time
	SHA256  [sha256.Size]byte

	info  os.FileInfo // for os.SameFile (device and inode, or the Windows file index)
	known bool        // false for a Config made by Parse: nothing to compare with
}

// Same reports whether s and o are the same file with the same bytes, or
// both no file. A Source that was never read (Parse) is the same as
// nothing.
func (s Source) Same(o Source) bool {
	if !s.known || !o.known || s.Exists != o.Exists {
		return false
	}
	if !s.Exists {
		return true
	}
	return os.SameFile(s.info, o.info) && s.Size == o.Size && s.ModTime.Equal(o.ModTime) && s.SHA256 == o.SHA256
}

// Source says what the config was read from (or last written to).
func (c *Config) Source() Source { return c.source }

// Polling while another program has the file open for writing.
const (
	writerPoll = 20 * time.Millisecond
	// loadWait bounds how long Load waits for an editor's save to end:
	// reading the file half-written would report entries as missing.
	loadWait = time.Second
	// DefaultBusyWait bounds how long an edit waits for it.
	DefaultBusyWait = 3 * time.Second
)

// BusyError is a config file that another program kept open for writing
// (an editor saving it, in place) for longer than sbctl waits.
type BusyError struct {
	Path string
	Wait time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("%s is being written by another program (an editor saving it?) and was still open for writing after %s; nothing written: retry once it has saved", e.Path, e.Wait)
}

// readHandle is the config file open for reading, with a read lease where
// the system has them (see takeReadLease): while it is held, no other
// program can open the file for writing or truncate it, and if one tries,
// the lease is broken and intact reports it.
type readHandle struct {
	f      *os.File
	leased bool
}

// quiet says how long to wait for another program's save to end: polls
// pauses of writerPoll, taken with sleep.
type quiet struct {
	polls   int
	sleep   func(context.Context, time.Duration) error
	noLease bool // tests: behave as where there are no leases
}

// openRead opens path once no other program has it open for writing.
// Without leases (other systems, some filesystems, a file owned by someone
// else) it opens the file at once.
func openRead(ctx context.Context, path string, q quiet) (*readHandle, error) {
	for i := 0; ; i++ {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		state := leaseUnsupported
		if !q.noLease {
			state = takeReadLease(f)
		}
		switch state {
		case leaseHeld:
			return &readHandle{f: f, leased: true}, nil
		case leaseUnsupported:
			return &readHandle{f: f}, nil
		}
		f.Close()
		if i >= q.polls {
			return nil, &BusyError{Path: path, Wait: time.Duration(q.polls) * writerPoll}
		}
		if err := q.sleep(ctx, writerPoll); err != nil {
			return nil, err
		}
	}
}

// snapshot reads the whole file and what it is. Without a lease a writer
// may be at work: the file is read again while its size or modification
// time moved during the read.
func (h *readHandle) snapshot() ([]byte, Source, error) {
	for attempt := 0; ; attempt++ {
		before, err := h.f.Stat()
		if err != nil {
			return nil, Source{}, err
		}
		if _, err := h.f.Seek(0, io.SeekStart); err != nil {
			return nil, Source{}, err
		}
		b, err := io.ReadAll(h.f)
		if err != nil {
			return nil, Source{}, err
		}
		after, err := h.f.Stat()
		if err != nil {
			return nil, Source{}, err
		}
		if h.leased || attempt == 2 || (before.Size() == after.Size() && before.ModTime().Equal(after.ModTime())) {
			// A read that raced a writer three times still has the right
			// digest: every later comparison finds the file changed.
			return b, Source{Exists: true, Size: after.Size(), ModTime: after.ModTime(), SHA256: sha256.Sum256(b), info: after, known: true}, nil
		}
	}
}

// intact reports that no program has asked to write the file since the
// lease was taken (always true without a lease).
func (h *readHandle) intact() bool { return !h.leased || leaseIntact(h.f) }

// Close drops the lease: a writer waiting for it goes ahead.
func (h *readHandle) Close() { h.f.Close() }

func sleepFor(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// settleWindow: without a lease, a file modified this recently may be an
// editor's save under way.
const settleWindow = time.Second

// readQuiet reads the file once no save is under way. With a lease that is
// known exactly. Without one a save under way shows only as a file that
// keeps changing: one modified within settleWindow is read again after
// each pause until it holds still. q bounds the wait (*BusyError).
func readQuiet(ctx context.Context, path string, q quiet) ([]byte, Source, error) {
	for i := 0; ; i++ {
		h, err := openRead(ctx, path, q)
		if err != nil {
			return nil, Source{}, err
		}
		src, source, err := h.snapshot()
		leased := h.leased
		h.Close()
		if err != nil {
			return nil, Source{}, err
		}
		if leased || time.Since(source.ModTime) >= settleWindow {
			return src, source, nil
		}
		if i >= q.polls {
			return nil, Source{}, &BusyError{Path: path, Wait: time.Duration(i) * writerPoll}
		}
		if err := q.sleep(ctx, writerPoll); err != nil {
			return nil, Source{}, err
		}
		if fi, err := os.Stat(path); err == nil && os.SameFile(fi, source.info) && fi.Size() == source.Size && fi.ModTime().Equal(source.ModTime) {
			return src, source, nil
		}
	}
}

// readSource reads the file at path as Load does: after waiting (briefly)
// for a save under way to end. A missing file is a known, absent source.
func readSource(path string) ([]byte, Source, error) {
	src, source, err := readQuiet(context.Background(), path, quiet{polls: int(loadWait / writerPoll), sleep: sleepFor})
	var busy *BusyError
	if errors.As(err, &busy) {
		// Still being written: read it anyway. A half-saved file may not
		// parse, and an edit re-reads it before changing anything.
		var f *os.File
		if f, err = os.Open(path); err == nil {
			defer f.Close()
			return (&readHandle{f: f}).snapshot()
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Source{known: true}, err
	}
	return src, source, err
}

// realPath is the file a config path names: edits write through a symlink
// (dotfile managers link the config), not over it. A path that does not
// resolve (no file yet) is used as it is.
func realPath(path string) string {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return real
	}
	return path
}

// DetectsWriters reports whether sbctl can tell, for the file at path,
// that another program has it open for writing (Linux file leases on a
// file the user owns). Where it cannot, an editor saving in place can only
// be caught by what its half-written file lacks.
func DetectsWriters(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return takeReadLease(f) != leaseUnsupported
}
