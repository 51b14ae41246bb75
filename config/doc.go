// Package config reads and edits sbctl's hand-written configuration file
// (SPEC §3): the model (Config, Provider, Group, Profile), Load and Parse
// with a validator that reports every problem at its file:line, and the
// in-place edits of `profiles add`, `groups …` and `providers add`, which
// change the file's lines rather than re-encode it so the user's comments,
// order and spelling survive.
//
// Where the file is (XDG paths, $SBCTL_CONFIG) is the CLI's business:
// package cmd works it out and passes the path in. What a provider entry
// may say about redirect modes and client authentication is auth's
// vocabulary (auth.RedirectModeNames, auth.ClientAuthNames), and which
// presets exist is told through Options.Presets, so this package keeps no
// list of its own that could disagree with the presets or the flow.
//
// What it must not do:
//
//   - Hold a secret. A client_secret line is refused with the way to store
//     it in the keychain; tokens never come near this package.
//   - Drop what the user wrote. An edit is re-parsed before it is written,
//     written atomically, and refused whole (the file unchanged) when the
//     file changed underneath it or the result would not be valid.
//   - Read a setting leniently. A value of the wrong YAML type, an unknown
//     key or a name that is not in the vocabulary is an error naming its
//     line, never a silent default.
//   - Talk to the network, the keychain or the token store.
package config
