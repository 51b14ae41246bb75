// Package tui is sbctl's terminal UI (SPEC §7): the profiles at a glance,
// most urgent first, with re-authentication, refresh and verification in
// place, for one profile or many marked ones. It drives the same
// operations as the CLI, through profiles.Manager, and imports no other
// package of sbctl: what a status means, how rows sort, which columns give
// way, what to advise and how a row or a time reads come from profiles, so
// the two front ends cannot drift apart.
//
// The files hold one part each:
//   - model.go: the root model — Init, Update (dispatch to each area),
//     the layout, and View, the only one that returns a tea.View;
//   - keyhandling.go, keys.go, mouse.go: what each key, wheel and click
//     does, and the keymap the help shows;
//   - filtering.go: sort, group, quick toggles and the text filter;
//   - table.go, detail.go, signin.go, footer.go: the children, each given
//     its box with SetSize and drawing a string into it;
//   - operations.go, batch.go, commands.go: running reauth, refresh and
//     verify (one at a time, the rest queued; marked rows as one batch) in
//     tea.Cmds, so Update never blocks;
//   - signinflow.go, paste.go: what a sign-in shows (the URL whole, the
//     device code, a countdown) and the paste field of manual mode;
//   - outcome.go, messages.go: how results are worded, notes that fade or
//     stay, and the log of results and messages (L);
//   - forms.go: adding (a) and removing (d) profiles in place;
//   - watch.go: the config watcher and the Manager's live warnings;
//   - styles.go, format.go: the styles and cell-width-aware text helpers;
//   - run.go: the program around the model.
package tui
