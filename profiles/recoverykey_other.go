//go:build !linux

package profiles

import "errors"

// osRecoveryKey: on this platform sbctl keeps no key outside the keychain
// (which is what failed), so recovery files are plain 0600 files.
func osRecoveryKey(string, bool) ([]byte, string, error) {
	return nil, "", errors.New("no OS key store outside the keychain on this platform")
}
