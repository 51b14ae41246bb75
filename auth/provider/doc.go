// Package provider holds the built-in network presets (SPEC §2) and
// everything network-specific about talking to a token endpoint: the code
// exchange, renewal, revocation, checking a token, reading the account, and
// turning each network's error bodies into auth.Reason values.
//
// The browser part of a sign-in lives in auth/flow; this package starts where
// the flow stops, at the authorization code.
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
package provider
