// Package fsx holds, once, the small filesystem rules every sbctl file
// follows: an atomic write (a temporary file in the same directory,
// written, fsynced, renamed over the old file, the directory fsynced), the
// removal of a dead writer's temporary files, a cross-process lock taken
// with a timeout, a private directory (created 0700, never through a
// symlink, refused when it belongs to another user or others may write to
// it: SECURITY 24 and 31), and a read of a regular file only.
//
// It sits under auth/ because the top level is fixed (cmd, tui, auth,
// profiles, config) and it must sit below every package that uses it:
// config (the config file), auth/store (the plain-file token store) and
// profiles (the state file, locks, markers, recovery files). So it imports
// no sbctl package, and nothing in it knows what the files hold: callers
// say how a refusal names their directory (PrivateDir) and which mode a
// file gets (Perm).
//
// The plain-file token store keeps its own temporary-file protocol (each
// temporary file locked by its writer, so writers of different items need
// no shared lock to clean up after a dead one); it uses the pieces here
// for everything else.
package fsx
