// Package providertest is the fake network of sbctl's tests: an HTTP server
// on 127.0.0.1 that plays a provider's token, introspection, revocation or
// API endpoints, answers what the test tells it to (the networks' real
// bodies, a dropped connection, a wrong clock) and records every request.
// Only tests import it; the provider package's tests and the domain's fault
// tests share it.
package providertest
