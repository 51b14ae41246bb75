// Package testkit holds the few helpers that the tests of several sbctl
// packages share and that belong to none of sbctl's concepts: a buffer that
// goroutines may share, and a stand-in testing.TB that records whether a
// helper skipped or failed the test. Only tests import it.
//
// (It lives under auth/ because the project keeps every package under its
// five top-level folders, and auth is the lowest layer every test can
// import.)
package testkit
