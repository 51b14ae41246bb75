package profiles

import (
	"crypto/rand"
	"errors"

	"golang.org/x/sys/unix"
)

// osRecoveryKey is the AES-256 key of this user's recovery files, kept in
// the Linux kernel's user keyring: readable only by this user's processes,
// never written to disk (so a backup of the state directory holds no
// usable token), gone at reboot. create makes one when there is none.
func osRecoveryKey(name string, create bool) (key []byte, ref string, err error) {
	id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", name, 0)
	if err == nil {
		buf := make([]byte, 64)
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
		if err == nil && n == 32 {
			return buf[:32], "linux-user-keyring:" + name, nil
		}
		if err == nil {
			err = errors.New("the kernel keyring holds a key of the wrong size")
		}
		return nil, "", err
	}
	if !create {
		return nil, "", err
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, "", err
	}
	if _, err := unix.AddKey("user", name, key, unix.KEY_SPEC_USER_KEYRING); err != nil {
		return nil, "", err
	}
	return key, "linux-user-keyring:" + name, nil
}
