// Package profiles is sbctl's domain: profiles and groups as the config
// describes them, what is known about each connection (the state file), the
// status model, and the operations the CLI and the TUI share — list,
// check, show, add, remove, reauth, refresh, token, verify, doctor — with
// the presentation rules both follow (present.go: the detail view, the
// advice, the emphasis of a row, how times read).
//
// It is the front ends' only door: cmd and tui import no other sbctl
// package (what they need of the sign-in flow, the token import format
// and the terminal-safe text policy is re-exported here). It reads no
// environment variable: the front end resolves paths, the token store and
// client secrets and passes them in Options. Its errors and messages say
// what happened; the front ends phrase how to act on it for their medium.
//
// Files: manager.go (Options, Open), store.go (the token store),
// list.go and view.go (evaluating profiles), status.go (the status
// model), state.go and rebuild.go (the state file), renew.go, refresh.go,
// token.go, verify.go, reauth.go, add.go, remove.go (the operations),
// recovery.go and grace.go (nothing lost: recovery files, interruptions),
// editconfig.go (config edits), doctor.go, present.go.
package profiles
