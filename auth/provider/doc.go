// Package provider holds the built-in network presets (SPEC §2) and
// everything network-specific about talking to a token endpoint: the code
// exchange, renewal, revocation, checking a token, reading the account, and
// turning each network's error bodies into auth.Reason values.
//
// The browser part of a sign-in lives in auth/flow; this package starts where
// the flow stops, at the authorization code.
//
// A network is one Preset (presets_*.go): its endpoints, its settings in
// auth's vocabulary (auth.RedirectMode, auth.PKCE, auth.ClientAuth) and its
// capabilities (how a code is exchanged and a grant revoked, whether the
// account is the ID token's subject, how debug_token is asked, ...), with
// the rules that read its error bodies declared next to it and ordered in
// one table (rules, classify.go). Code outside the presets asks a preset
// what it can do, never which network it is, so adding a network means
// adding a preset and its rules, not editing the operations.
//
// Three rules shape the code:
//
//   - Nothing here retries. A rotating refresh token that may have reached
//     the server must never be sent again blindly (SECURITY 22), and only the
//     caller, holding the profile lock, knows what is safe. Errors say what
//     kind of failure happened (Error.Kind) and whether the request may have
//     been processed (Error.Ambiguous).
//   - No token, code, verifier or client secret ever appears in an error
//     (SECURITY 14). Response bodies are never quoted; only an OAuth error code
//     and a sanitized, length-limited description are, and request URLs
//     (which carry tokens for some Meta endpoints) are never printed.
//   - A date is a prediction, the network's answer a verdict. Lifetimes are
//     read against both the local clock and the server's Date header when
//     they disagree (answerClock), every answer measures the skew
//     (ClockSkew), and no renewal is refused because our clock says a
//     lifetime ended: the network is asked, and only its refusal is
//     KindDefinite.
//
// What it must not do: quote a server's body, a request URL or a secret in
// any message; retry or replay a request; follow a redirect with a secret
// or send a Referer (SECURITY 27); accept a token that fails
// auth.CheckTokenText (SECURITY 29); open a browser or listen for a
// callback (that is auth/flow); or read the config, the keychain or the
// environment (the caller resolves Settings and the client secret).
package provider
