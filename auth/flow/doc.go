// Package flow obtains an OAuth 2.0 authorization code from the user through
// the browser, in the redirect modes of SPEC §5 (loopback, manual, relay), and
// runs the RFC 8628 device flow.
//
// It deliberately stops at the code: exchanging it is the provider layer's job
// because networks differ in how they authenticate the client and shape the
// token response. Run returns the code together with the PKCE verifier and the
// exact redirect_uri that was sent, which the exchange must repeat. What the
// network wants is passed in with auth's vocabulary (auth.RedirectMode as
// Params.Mode, auth.PKCE as Params.PKCE), so the flow keeps no list of
// network settings of its own.
//
// The security properties (SECURITY.md items 1–14, and the flow's part of
// 28–32) are enforced here so that no caller can forget one: loopback-only
// listener on exactly the provider's own callback path, Host check,
// constant-time state check before anything else, RFC 9207 iss check, one
// callback only, a static page that reflects nothing, PKCE S256, no secret
// in any message, server text shown only through auth.CleanText, device
// tokens of printable ASCII only, and browsers started without sbctl's
// secret environment variables.
//
// What it must not do:
//
//   - Redeem the code, or talk to a token endpoint other than the device
//     flow's polling (through the caller's x/oauth2 client).
//   - Listen on anything but loopback, or longer than the flow runs.
//   - Act on a callback, or on its error=, before its state is checked.
//   - Send PKCE method "plain", or let ExtraParams replace a parameter the
//     security checks rely on.
//   - Run a shell, open anything but a printable http(s) URL, or pass the
//     browser sbctl's secret environment variables.
//   - Reflect anything from a request in the callback page, or put a code,
//     verifier, state or token in a message.
package flow
