// Package auth holds what every OAuth piece of sbctl shares: the token a
// profile is connected with (Token) and the reasons a connection can die
// (Reason); the words a sign-in is configured with — redirect mode, PKCE
// and client authentication (RedirectMode, PKCE, ClientAuth), defined and
// parsed here once for config, the presets and the flow; the one
// terminal-safe policy for text from outside sbctl (CleanText, CheckURL);
// and the `--with-token` input format with the check every stored token
// passes (ParseImport, CheckTokenText).
//
// Subpackages hold the token stores (store), the browser flows (flow), the
// network presets (provider) and the local authorization server (sandbox).
//
// What it must not do: import any other sbctl package (everything else
// imports it, so it stays a leaf), do I/O of its own beyond reading what
// it is handed, or put a token or secret in an error: a refused token is
// described, never quoted.
package auth
