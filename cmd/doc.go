// Package cmd is sbctl's command-line front end: the Cobra command tree,
// output formatting and exit codes, and the composition root that reads
// flags and the environment (SPEC §3's variables, XDG paths) and opens the
// domain (package profiles) with them.
//
// Commands follow GitHub CLI's shape: newXCmd(f, runF) builds a command
// whose RunE parses flags and arguments into an options struct that
// carries its dependencies (opts.IO, opts.Manager), then calls runF when a
// test gave one (to check flag parsing) or the command's run function.
// The Factory's dependencies are function-valued fields, so a test can
// hand a command a fake. Rules about profiles (statuses, advice, detail
// fields, tallies, exit codes 3 and 4) live in profiles; cmd only lays
// them out and phrases the actions as commands.
package cmd
