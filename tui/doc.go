// Package tui is sbctl's terminal UI (SPEC §7): the profiles at a glance,
// with re-authentication, refresh and verification in place. It drives the
// same operations as the CLI, through profiles.Manager, and imports no other
// package of sbctl: what a status means, what to advise and how a row or a
// time reads come from profiles, so the two front ends cannot drift apart.
//
// The files hold one part each:
//   - model.go: the root model — Init, Update (key dispatch), the layout,
//     and View, the only one that returns a tea.View;
//   - table.go, detail.go, signin.go, footer.go: the children, each given
//     its box with SetSize and drawing a string into it;
//   - outcome.go: how an operation's result is worded;
//   - commands.go: the tea.Cmds that do the I/O, so Update never blocks;
//   - keys.go, styles.go: the keymap and the styles, one struct each;
//   - format.go: cell-width-aware text helpers;
//   - run.go: the program around the model.
package tui
