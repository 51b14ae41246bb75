// Package sandbox is a real, strict OAuth 2.0 authorization server with OIDC
// discovery that runs on loopback. `sbctl sandbox serve` and `sbctl demo` run
// it, and the tests of sbctl's OAuth client run it in-process, so every
// path of the client (PKCE, rotation, reuse detection, revocation, every
// dead-grant reason of SPEC §1) can be exercised without a real network.
//
// All state lives in memory. Tokens are opaque random strings with a prefix
// that says what they are (sbx-at- access, sbx-rt- refresh, sbx-ac- code,
// sbx-dc- device code), so a token pasted in the wrong place is recognisable.
//
// # Endpoints
//
// Relative to the issuer (http://127.0.0.1:PORT):
//
//	GET  /.well-known/openid-configuration   discovery (also /.well-known/oauth-authorization-server)
//	GET  /jwks                               the RS256 key that signs ID tokens
//	GET  /authorize                          authorization endpoint (code flow, PKCE S256)
//	POST /authorize                          the approval page's Approve / Deny form
//	POST /token                              authorization_code, refresh_token, device_code grants
//	POST /revoke                             RFC 7009 revocation
//	POST /introspect                         RFC 7662 introspection
//	GET  /userinfo (or POST)                 OIDC userinfo, Bearer access token
//	POST /device/code                        RFC 8628 device authorization
//	GET  /device, POST /device               the device verification page
//
// # Dead grants carry a reason
//
// As an extension (this is our own sandbox, so we may), every answer about a
// grant the server killed says why, with one of the reasons of SPEC §1:
// "expired", "access_revoked" or "password_changed" (the Reason constants).
//
//	token endpoint:  400 {"error":"invalid_grant","error_description":"...","reason":"access_revoked"}
//	introspection:   200 {"active":false,"reason":"expired"}
//	userinfo:        401, WWW-Authenticate: Bearer error="invalid_token", error_description="..."
//	                 and {"error":"invalid_token","error_description":"...","reason":"password_changed"}
//
// A token the server never issued gets the plain RFC answer without a reason.
// An access token or refresh token past its own lifetime reports "expired".
// Reuse of a rotated refresh token, a second redemption of a code and RFC
// 7009 revocation of a refresh token all kill the grant with "access_revoked".
//
// # How strict it is
//
//   - Redirect URIs must be http on 127.0.0.1, [::1] or localhost (any port);
//     anything else gets an error page, never a redirect.
//   - PKCE: only S256. The authorization endpoint cannot tell a public client
//     from a confidential one, so a request without code_challenge is
//     accepted there and the token endpoint refuses the code unless the
//     client authenticates with a secret. A code_verifier for a code issued
//     without a challenge is refused (PKCE downgrade).
//   - Codes live one minute, are bound to client_id, redirect_uri and the
//     challenge, and burn on the first redemption attempt, failed or not; a
//     second redemption revokes what the first one issued.
//   - Any client_id and any client secret are accepted, but a grant created
//     with a secret demands the same secret on every refresh (401
//     invalid_client otherwise).
//   - Without rotation a refresh answers without a refresh_token (like
//     Google): the client keeps the one it has. refresh_token_expires_in is
//     always sent: the remaining lifetime of the client's refresh token.
//   - Requests must be application/x-www-form-urlencoded POSTs without
//     repeated parameters; errors are RFC 6749 §5.2 JSON with no-store.
//   - Every request must carry the issuer's Host (or localhost:PORT), which
//     shuts out DNS rebinding; forms and admin calls from other sites are
//     refused.
//
// # Admin endpoints
//
// Other processes (a demo, a shell script, a test written in another
// language) control accounts over HTTP; the server only listens on loopback
// and refuses cross-site browser requests, so a web page cannot use them:
//
//	POST /sandbox/accounts/{sub}/expire            every token of the account expires        -> 204
//	POST /sandbox/accounts/{sub}/revoke            the user removed the app                  -> 204
//	POST /sandbox/accounts/{sub}/password-change   the password changed, grants die          -> 204
//	GET  /sandbox/stats                            counters, as JSON (see Stats)             -> 200
//
// An account that has never been used is a 404. Grants created after one of
// these calls work normally: re-authentication is how a user recovers.
//
// # Accounts
//
// Accounts are created on first use. The authorization request's login_hint
// (or the device authorization request's) names the subject; without one it
// is "sandbox-user" ("Sandbox User", sandbox-user@sandbox.test). Any other
// subject s is named s with email s@sandbox.test (s itself when it contains @).
//
// # Signing in without a person
//
// ClickThrough is the browser of `sbctl demo` and of the tests: it follows
// an auto-approving server's redirect to the client's loopback callback
// (loopback addresses only). Tests start servers with the sandboxtest
// subpackage.
package sandbox
