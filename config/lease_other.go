//go:build !linux

package config

import (
	"errors"
	"os"
)

type leaseState int

const (
	leaseUnsupported leaseState = iota
	leaseHeld
	leaseBusy
)

// takeReadLease: only Linux can tell that another program has a file open
// for writing (see lease_linux.go).
func takeReadLease(*os.File) leaseState { return leaseUnsupported }

func leaseIntact(*os.File) bool { return true }

// SwapFiles exchanges two files in one step where the system can (Linux);
// here it cannot.
func SwapFiles(a, b string) error { return errors.ErrUnsupported }
