// Package sandboxtest starts the sandbox authorization server for tests and
// plays the browser that signs in at it. Only tests import it.
//
// Every server started here listens on 127.0.0.1 with an OS-chosen port,
// approves sign-ins at once (unless the test asks for the approval page) and
// shares one ID-token signing key with the other servers of the test binary:
// generating a 2048-bit RSA key per server would dominate a test run, above
// all under -race.
package sandboxtest
