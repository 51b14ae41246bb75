// Package oidctest is a test fixture, imported only by tests: it runs the
// zitadel/oidc v3 example OpenID Provider (exampleop with the example's
// in-memory storage) on 127.0.0.1 so that sbctl is tested against a
// standards server this project did not write.
//
// Each Start gives a separate OP with its own storage, signing key, port
// and clients, so tests using it can run in parallel. The OP registers:
//
//   - PublicClient: a native app (no secret, PKCE required).
//   - BasicClient: a confidential client registered for client_secret_basic.
//   - PostClient: a confidential client registered for client_secret_post.
//
// All three accept any loopback redirect http://127.0.0.1:PORT/callback or
// http://127.0.0.1:PORT/callback/NAME (RFC 8252 §7.3: the port is chosen at
// run time) and may use refresh tokens; a refresh token is issued when the
// scope includes offline_access.
//
// Two things are added to the example, both outside its OP code:
//
//   - The clients: the example's constructors fix a web client's
//     authentication method to client_secret_basic and match its redirect
//     URIs exactly, so the clients are wrapped (in the storage's
//     GetClientByClientID) to give each its method and the loopback
//     patterns above. Secrets are still checked by the example's storage.
//   - At the token endpoint a confidential client must authenticate with the
//     method it is registered for, as RFC 7591's token_endpoint_auth_method
//     means and as ORY Hydra enforces; the example alone accepts Basic and
//     the form from any confidential client, which would hide which one sbctl
//     chose. A mismatch gets 401 invalid_client. The methods used are
//     recorded (TokenAuth).
//
// Discovery, login, tokens, introspection, userinfo and revocation are the
// example's own. Behaviour worth knowing when reading test failures: the ID
// token carries only sub (profile claims come from userinfo); access tokens
// are opaque (encrypted) and last 5 minutes, refresh tokens 5 hours (not
// announced); introspection takes only client_secret_basic (or
// private_key_jwt) and answers 401 with a plain-text body otherwise, and
// {"active":false} for any refresh token, live or not; a refresh rotates
// the refresh token and ends the previous access token; userinfo answers
// 403 "{}" for an access token that was revoked or replaced.
//
// ClickThrough is the browser: it signs in as the example's test user.
package oidctest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The clients every OP registers, and their secret.
const (
	PublicClient = "sbctl-public"
	BasicClient  = "sbctl-basic"
	PostClient   = "sbctl-post"
	ClientSecret = "sbctl-oidctest-secret"
)

// The example storage's test user (storage.NewUserStore): its user name is
// "test-user@" + the issuer's host name, see OP.Username.
const (
	UserID   = "id1"
	Password = "verysecure"
)

// Client authentication methods as RFC 7591 names them; TokenAuth reports
// these.
const (
	AuthNone  = "none"
	AuthBasic = "client_secret_basic"
	AuthPost  = "client_secret_post"
)

// loopbackRedirects are the redirect URI patterns (doublestar globs, as
// zitadel matches them) that every client accepts: any port, the callback
// path alone or with one more segment (sbctl's /callback/<provider>).
var loopbackRedirects = []string{
	"http://127.0.0.1:*/callback",
	"http://127.0.0.1:*/callback/*",
}

// OP is one running example OpenID Provider.
type OP struct {
	// Issuer is the OP's issuer URL, http://127.0.0.1:PORT; discovery is at
	// Issuer + "/.well-known/openid-configuration".
	Issuer string

	srv     *httptest.Server
	storage *storage.Storage
	methods map[string]string // client id -> registered auth method (confidential clients)

	mu   sync.Mutex
	seen map[string][]string // client id -> auth methods used at the token endpoint, in order
}

// Start runs a new OP on 127.0.0.1 (an OS-chosen port) until the test ends.
//
// The example's SetupServer replaces the process's default slog logger with
// the one it is given; a discarding logger keeps the OP (which logs every
// request through the default logger) quiet. That setting is process-wide,
// which is harmless in a test binary: sbctl does not log through slog.
func Start(tb testing.TB) *OP {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("oidctest: listen: %v", err)
	}
	srv := httptest.NewUnstartedServer(nil)
	// httptest may fall back to [::1]; the OP must be on 127.0.0.1 only.
	srv.Listener.Close()
	srv.Listener = ln
	issuer := "http://" + ln.Addr().String()

	// Registered by id in the storage's own map, which the example uses to
	// check secrets; the wrappers below are what the OP sees as the client.
	native := storage.NativeClient(PublicClient, "http://127.0.0.1/callback")
	basic := storage.WebClient(BasicClient, ClientSecret, "http://127.0.0.1/callback")
	post := storage.WebClient(PostClient, ClientSecret, "http://127.0.0.1/callback")
	st := storage.NewStorageWithClients(storage.NewUserStore(issuer), map[string]*storage.Client{
		PublicClient: native, BasicClient: basic, PostClient: post,
	})
	s := &clientStore{Storage: st, clients: map[string]op.Client{
		PublicClient: loopbackClient{Client: native, method: oidc.AuthMethodNone},
		BasicClient:  loopbackClient{Client: basic, method: oidc.AuthMethodBasic},
		PostClient:   loopbackClient{Client: post, method: oidc.AuthMethodPost},
	}}

	o := &OP{
		Issuer:  issuer,
		srv:     srv,
		storage: st,
		methods: map[string]string{BasicClient: AuthBasic, PostClient: AuthPost},
		seen:    map[string][]string{},
	}
	router := exampleop.SetupServer(issuer, s, slog.New(slog.DiscardHandler), false)
	srv.Config.Handler = o.checkClientAuth(router)
	srv.Start()
	tb.Cleanup(srv.Close)
	return o
}

// Username is the test user's login name at this OP, which is also the
// preferred_username claim userinfo returns with the profile scope.
func (o *OP) Username() string {
	u, _ := url.Parse(o.Issuer)
	return "test-user@" + u.Hostname()
}

// DisplayName is the test user's name claim (profile scope).
const DisplayName = "Test User"

// Browser returns a ClickThrough that signs in as the test user. fail, if
// not nil, is told why a sign-in could not be completed; pass the cancel
// function of context.WithCancelCause so that flow.Run ends at once with
// the reason instead of waiting for its timeout.
func (o *OP) Browser(fail func(error)) *ClickThrough {
	return &ClickThrough{Username: o.Username(), Password: Password, Fail: fail}
}

// RevokeGrants ends every grant the test user gave clientID: all its access
// and refresh tokens stop working at once, as when a user removes an app's
// access in the provider's settings. It goes through the example storage's
// TerminateSession (what the OP does at sign-out), not through sbctl.
func (o *OP) RevokeGrants(ctx context.Context, clientID string) error {
	return o.storage.TerminateSession(ctx, UserID, clientID)
}

// TokenAuth lists, in order, how clientID authenticated at the token
// endpoint so far: AuthNone, AuthBasic or AuthPost per request.
func (o *OP) TokenAuth(clientID string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.seen[clientID]...)
}

// checkClientAuth records how each token request authenticates the client
// and refuses a confidential client that uses another method than the one it
// is registered for (see the package doc).
func (o *OP) checkClientAuth(next http.Handler) http.Handler {
	tokenPath := op.DefaultEndpoints.Token.Relative()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != tokenPath {
			next.ServeHTTP(w, r)
			return
		}
		// ParseForm keeps the parsed body on r, so the OP still sees it.
		if err := r.ParseForm(); err != nil {
			next.ServeHTTP(w, r)
			return
		}
		id, used := r.PostForm.Get("client_id"), AuthNone
		if user, _, ok := r.BasicAuth(); ok {
			used = AuthBasic
			if u, err := url.QueryUnescape(user); err == nil { // RFC 6749 §2.3.1 form-encodes the id
				id = u
			}
		} else if r.PostForm.Get("client_secret") != "" {
			used = AuthPost
		}
		o.mu.Lock()
		o.seen[id] = append(o.seen[id], used)
		o.mu.Unlock()
		if want, ok := o.methods[id]; ok && used != want {
			if used == AuthBasic {
				w.Header().Set("WWW-Authenticate", `Basic realm="oidctest"`)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{
				"error": "invalid_client",
				"error_description": fmt.Sprintf("client authentication failed: the client is registered for %s, but %s was used",
					want, used),
			})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clientStore is the example storage with the clients replaced by
// loopbackClient: the example's own client constructors fix the
// authentication method and match redirect URIs only exactly (web clients)
// or on a registered path (native ones).
type clientStore struct {
	*storage.Storage
	clients map[string]op.Client // read-only after Start
}

func (s *clientStore) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	if c, ok := s.clients[id]; ok {
		return c, nil
	}
	return s.Storage.GetClientByClientID(ctx, id)
}

// loopbackClient is an example client with its registered authentication
// method and the loopback redirect patterns.
type loopbackClient struct {
	*storage.Client
	method oidc.AuthMethod
}

func (c loopbackClient) AuthMethod() oidc.AuthMethod { return c.method }

// RedirectURIGlobs implements op.HasRedirectGlobs.
func (c loopbackClient) RedirectURIGlobs() []string { return loopbackRedirects }

// PostLogoutRedirectURIGlobs implements op.HasRedirectGlobs.
func (c loopbackClient) PostLogoutRedirectURIGlobs() []string { return nil }

// String keeps a %v of the OP short in test failures.
func (o *OP) String() string { return "oidctest.OP(" + strings.TrimPrefix(o.Issuer, "http://") + ")" }
