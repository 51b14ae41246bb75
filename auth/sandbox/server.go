package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a Server. The zero value is a usable sandbox.
type Options struct {
	// Addr is the listen address, default "127.0.0.1:0". The host must be a
	// loopback IP literal or "localhost" (which binds 127.0.0.1): the sandbox
	// accepts any client, so it must never be reachable from the network.
	Addr string
	// AutoApprove answers the authorization endpoint with an immediate 302
	// to the redirect URI, and approves device codes on the first visit of
	// verification_uri_complete, instead of showing an approval page.
	AutoApprove bool
	// AccessTTL is the access token lifetime, default 1h.
	AccessTTL time.Duration
	// RefreshTTL is the refresh token lifetime, default 30 days. Refresh
	// tokens do expire: a rotated token gets a fresh lifetime, a
	// non-rotated one keeps the lifetime it was issued with.
	RefreshTTL time.Duration
	// RotateRefresh makes each refresh issue a new refresh token and
	// invalidate the old one; presenting an old one again is treated as
	// theft and revokes the whole grant (RFC 9700 §4.14.2 reuse detection).
	RotateRefresh bool
	// TokenLatency is slept at the start of every token-endpoint request,
	// to make benchmarks of concurrent refreshes meaningful. A request whose
	// context ends meanwhile is dropped before it changes anything.
	TokenLatency time.Duration
	// AnswerLatency is slept after a token request has been carried out
	// (a code redeemed, a refresh token rotated) and before the answer is
	// written: a client that gives up meanwhile loses what the server
	// issued, as with a real network.
	AnswerLatency time.Duration
	// DevicePollInterval is the polling interval of the device flow, default
	// 5s (RFC 8628's default), rounded up to whole seconds, at least 1s.
	DevicePollInterval time.Duration
	// Now is the clock for every expiry decision, default time.Now. Tests
	// move it instead of sleeping.
	Now func() time.Time
	// Logf, when set, receives one line per request: method, path, status
	// and duration. It never receives tokens, codes, verifiers, secrets or
	// query strings.
	Logf func(format string, args ...any)
	// SigningKey signs ID tokens; by default a 2048-bit RSA key is generated
	// in New. Tests that start many servers may share one key to save time.
	SigningKey *rsa.PrivateKey
}

// Defaults for Options.
const (
	DefaultAddr               = "127.0.0.1:0"
	DefaultAccessTTL          = time.Hour
	DefaultRefreshTTL         = 30 * 24 * time.Hour
	DefaultDevicePollInterval = 5 * time.Second

	// codeTTL bounds an authorization code's life (RFC 6749 §4.1.2
	// recommends at most 10 minutes; real providers use about one).
	codeTTL = time.Minute
	// pendingTTL bounds how long an approval page stays answerable.
	pendingTTL = 10 * time.Minute
	// deviceCodeTTL is how long a device code may be polled and approved.
	deviceCodeTTL = 10 * time.Minute
)

// Server is the sandbox authorization server. Create it with New, then
// Start it (or mount Handler on a loopback server of your own).
type Server struct {
	opts    Options
	key     *rsa.PrivateKey
	keyID   string
	handler http.Handler

	mu    sync.Mutex // guards st and stats
	st    *store
	stats Stats

	lifeMu   sync.Mutex // guards the fields below (start/close), not the OAuth state
	started  bool
	closed   bool
	issuer   string
	hosts    map[string]bool // Host header values accepted once started
	srv      *http.Server
	serveErr chan error
}

// New checks the options and prepares a server. It does not listen yet.
func New(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	addr, err := loopbackAddr(opts.Addr)
	if err != nil {
		return nil, err
	}
	opts.Addr = addr
	if opts.AccessTTL < 0 || opts.RefreshTTL < 0 || opts.TokenLatency < 0 || opts.AnswerLatency < 0 || opts.DevicePollInterval < 0 {
		return nil, errors.New("sandbox: durations in Options must not be negative")
	}
	if opts.AccessTTL == 0 {
		opts.AccessTTL = DefaultAccessTTL
	}
	if opts.RefreshTTL == 0 {
		opts.RefreshTTL = DefaultRefreshTTL
	}
	if opts.DevicePollInterval == 0 {
		opts.DevicePollInterval = DefaultDevicePollInterval
	}
	// The device flow speaks whole seconds; round up so that a client that
	// waits exactly the advertised interval is never told to slow down.
	opts.DevicePollInterval = max(time.Second, (opts.DevicePollInterval+time.Second-1)/time.Second*time.Second)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	key := opts.SigningKey
	if key == nil {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("sandbox: generating the ID token key: %w", err)
		}
	}
	s := &Server{opts: opts, key: key, keyID: keyID(&key.PublicKey), st: newStore()}
	s.stats.RefreshByAccount = map[string]int64{}
	s.handler = s.routes()
	return s, nil
}

// loopbackAddr validates a listen address and returns the one to bind.
func loopbackAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("sandbox: bad listen address %q: %w", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", fmt.Errorf("sandbox: bad port in listen address %q", addr)
	}
	if strings.EqualFold(host, "localhost") {
		// A name may resolve to anything; bind the literal (SECURITY §1).
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() || ip.Zone() != "" {
		return "", fmt.Errorf("sandbox: refusing to listen on %q: the sandbox accepts any client and must only listen on a loopback address such as 127.0.0.1 or [::1]", addr)
	}
	return net.JoinHostPort(ip.Unmap().String(), port), nil
}

// Start listens on Options.Addr and serves in the background until Close.
func (s *Server) Start() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return errors.New("sandbox: server is closed")
	}
	if s.started {
		return errors.New("sandbox: server already started")
	}
	l, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("sandbox: listening on %s: %w", s.opts.Addr, err)
	}
	ap, err := netip.ParseAddrPort(l.Addr().String())
	if err != nil || !ap.Addr().IsLoopback() {
		l.Close()
		return fmt.Errorf("sandbox: listener is not on loopback: %s", l.Addr())
	}
	hostport := l.Addr().String() // 127.0.0.1:PORT or [::1]:PORT
	s.issuer = "http://" + hostport
	port := strconv.Itoa(int(ap.Port()))
	// Accept the issuer's own Host and the localhost alias, nothing else:
	// a DNS-rebinding page arrives with its own host name.
	s.hosts = map[string]bool{hostport: true, "localhost:" + port: true}
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	s.serveErr = make(chan error, 1)
	s.started = true
	go func() { s.serveErr <- s.srv.Serve(l) }()
	return nil
}

// Close stops the listener and every open connection, and waits for the
// serving goroutine to end. Closing twice is harmless.
func (s *Server) Close() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if !s.started {
		return nil
	}
	err := s.srv.Close()
	if serr := <-s.serveErr; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// Issuer is "http://127.0.0.1:PORT" once started, "" before.
func (s *Server) Issuer() string {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	return s.issuer
}

// Handler serves the sandbox's endpoints. After Start it is the handler the
// listener uses; before Start it may be mounted on a loopback server of your
// own (httptest.NewServer), and then the issuer is taken from each request's
// Host, which must be a loopback host.
func (s *Server) Handler() http.Handler { return s.handler }

// issuerFor is the issuer a request is answered for, or "" when the request
// reached us under a Host we do not answer to.
func (s *Server) issuerFor(r *http.Request) string {
	s.lifeMu.Lock()
	issuer, hosts := s.issuer, s.hosts
	s.lifeMu.Unlock()
	if issuer != "" {
		if hosts[strings.ToLower(r.Host)] {
			return issuer
		}
		return ""
	}
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil || port == "" {
		return ""
	}
	if ip, err := netip.ParseAddr(host); (err == nil && ip.IsLoopback() && ip.Zone() == "") || strings.EqualFold(host, "localhost") {
		return "http://" + strings.ToLower(r.Host)
	}
	return ""
}

type issuerKey struct{}

// issuer returns the issuer the request is served for (set by the middleware).
func issuerOf(r *http.Request) string {
	iss, _ := r.Context().Value(issuerKey{}).(string)
	return iss
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", s.handleDiscovery)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.handleDiscovery)
	mux.HandleFunc("GET "+pathJWKS, s.handleJWKS)
	mux.HandleFunc("GET "+pathAuthorize, s.handleAuthorize)
	mux.HandleFunc("POST "+pathAuthorize, s.handleApproval)
	mux.HandleFunc("POST "+pathToken, s.handleToken)
	mux.HandleFunc("POST "+pathRevoke, s.handleRevoke)
	mux.HandleFunc("POST "+pathIntrospect, s.handleIntrospect)
	mux.HandleFunc("GET "+pathUserinfo, s.handleUserinfo)
	mux.HandleFunc("POST "+pathUserinfo, s.handleUserinfo)
	mux.HandleFunc("POST "+pathDeviceCode, s.handleDeviceAuthorization)
	mux.HandleFunc("GET "+pathDevice, s.handleDeviceVerify)
	mux.HandleFunc("POST "+pathDevice, s.handleDeviceDecision)
	mux.HandleFunc("POST /sandbox/accounts/{sub}/{action}", s.handleAdminAccount)
	mux.HandleFunc("GET /sandbox/stats", s.handleAdminStats)
	return s.middleware(mux)
}

// middleware checks the Host header (DNS rebinding), records the issuer for
// the handlers, and writes the request log without any query string.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		iss := s.issuerFor(r)
		if iss == "" {
			http.Error(rec, "sandbox: unexpected Host header", http.StatusMisdirectedRequest)
		} else {
			next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), issuerKey{}, iss)))
		}
		if s.opts.Logf != nil {
			s.opts.Logf("sandbox: %s %s -> %d (%s)", r.Method, r.URL.Path, rec.status, time.Since(start).Round(time.Microsecond))
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// now reads the configured clock.
func (s *Server) now() time.Time { return s.opts.Now() }
