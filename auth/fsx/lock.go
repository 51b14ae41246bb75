package fsx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/gofrs/flock"
)

// ErrLockTimeout: the wait for a lock ran out (another process holds it).
var ErrLockTimeout = errors.New("timed out waiting for a lock")

type lockTimeoutError struct {
	path   string
	waited time.Duration
}

func (e *lockTimeoutError) Error() string {
	return fmt.Sprintf("waited %s for the lock %s held by another sbctl; if none is running, try again", e.waited, e.path)
}

func (e *lockTimeoutError) Is(target error) bool { return target == ErrLockTimeout }

// lockPoll is how often a held lock is tried again.
const lockPoll = 10 * time.Millisecond

// Lock takes an exclusive cross-process lock on the file at path (created
// 0600, in a directory of this kind), waiting at most timeout; ctx cancels
// the wait, and its error is returned then. The lock file is permanent:
// deleting it while another process waits on it would let two processes in
// at once. A lock file swapped for a symlink is refused, never followed
// (SECURITY 31): following it would lock some other file while the real
// holder keeps its own.
func (d PrivateDir) Lock(ctx context.Context, path string, timeout time.Duration) (unlock func(), err error) {
	lk := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR|lockFlags), flock.SetPermissions(0o600))
	wait, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ok, err := lk.TryLockContext(wait, lockPoll)
	if err == nil && ok {
		return func() { _ = lk.Unlock() }, nil
	}
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case wait.Err() != nil:
		return nil, &lockTimeoutError{path: path, waited: timeout}
	case IsLinkErr(err):
		return nil, fmt.Errorf("the lock file %s is a symbolic link; sbctl does not follow links in its %s: remove it (`rm %s`) and retry", path, d.What, path)
	}
	return nil, fmt.Errorf("locking %s: %w", path, err)
}
