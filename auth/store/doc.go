// Package store keeps secrets (profile tokens, client secrets): in the OS
// keychain by default (keyring.go: every call bounded by a timeout, a
// breaker after the first failure, long values split with a checksum), or
// in a plain file store only when the user explicitly asks for it
// (file.go: one 0600 file per item in a 0700 directory, never through a
// symlink, never another user's). There is never a silent fallback from
// one to the other. Every token is checked before it is stored (PutToken:
// one word of printable ASCII, SECURITY 29).
package store
