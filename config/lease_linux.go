package config

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

type leaseState int

const (
	leaseUnsupported leaseState = iota
	leaseHeld
	leaseBusy // another program has the file open for writing
)

// takeReadLease asks Linux for a read lease on f (fcntl F_SETLEASE): it is
// refused while any program has the file open for writing — an editor
// saving in place, mid-save — and, once held, any open for writing or
// truncation waits until it is dropped (and breaks it, see leaseIntact).
// sbctl holds one only for the few system calls of a read or of the
// check-and-rename. A lease is refused as unsupported on files owned by
// someone else and on some filesystems; then sbctl does without.
func takeReadLease(f *os.File) leaseState {
	rc, err := f.SyscallConn()
	if err != nil {
		return leaseUnsupported
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) { _, lerr = unix.FcntlInt(fd, unix.F_SETLEASE, unix.F_RDLCK) }); err != nil {
		return leaseUnsupported
	}
	switch {
	case lerr == nil:
		return leaseHeld
	case errors.Is(lerr, unix.EAGAIN):
		return leaseBusy
	}
	return leaseUnsupported
}

// leaseIntact reports that the read lease on f is still whole: a program
// that opened the file for writing since is blocked, waiting for it, and
// the lease reads as being given up (F_UNLCK).
func leaseIntact(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	typ := -1
	if err := rc.Control(func(fd uintptr) { typ, _ = unix.FcntlInt(fd, unix.F_GETLEASE, 0) }); err != nil {
		return false
	}
	return typ == unix.F_RDLCK
}

// SwapFiles exchanges the files at a and b in one step (renameat2
// RENAME_EXCHANGE): each name then holds the other's file. sbctl swaps its
// new config in and looks at what came out, so an editor's save that
// landed between sbctl's last check and its rename is noticed and put
// back instead of being deleted. errors.ErrUnsupported where the
// filesystem cannot.
func SwapFiles(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return fmt.Errorf("swapping %s and %s: %w", a, b, errors.ErrUnsupported)
	}
	if err != nil {
		return &os.LinkError{Op: "swap", Old: a, New: b, Err: err}
	}
	return nil
}
