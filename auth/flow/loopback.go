package flow

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// discardLogger silences net/http's own logging: the loopback port is
// reachable by any local process, and whatever junk it sends must not end up
// on the user's terminal.
var discardLogger = log.New(io.Discard, "", 0)

// loopbackHosts lists the addresses tried, in order. IP literals only: a name
// such as "localhost" may resolve elsewhere (or to all interfaces via a
// misconfigured hosts file), and RFC 8252 §8.3 recommends the literal.
func loopbackHosts(allowV6 bool) []string {
	if allowV6 {
		return []string{"127.0.0.1", "::1"}
	}
	return []string{"127.0.0.1"}
}

// PortInUseError says a fixed redirect port is taken. Its message names the
// port and what to do, because the port is registered with the network and
// cannot just be changed on the spot.
type PortInUseError struct {
	Port int
	Host string
	Path string // the callback path, for the redirect URI to register ("" = DefaultCallbackPath)
}

func (e *PortInUseError) Error() string {
	path := e.Path
	if path == "" {
		path = DefaultCallbackPath
	}
	return fmt.Sprintf("port %d on %s is already in use, and this provider's redirect URI is registered with that fixed port: "+
		"finish or cancel the other sign-in (or stop the program listening on %d) and retry; "+
		"to use another port, register http://127.0.0.1:<port>%s with the network and set redirect_port in the config",
		e.Port, e.Host, e.Port, path)
}

// listenLoopback binds the first host of hosts that works. A busy fixed port
// is reported at once rather than retried on the next host: the registered
// redirect URI names 127.0.0.1, so [::1] with the same port would not help.
func listenLoopback(hosts []string, port int) (net.Listener, error) {
	var errs []error
	for _, h := range hosts {
		ln, err := net.Listen("tcp", net.JoinHostPort(h, strconv.Itoa(port)))
		if err == nil {
			// Defence in depth: whatever the list says, refuse to serve on a
			// non-loopback address.
			if a, ok := ln.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
				ln.Close()
				return nil, fmt.Errorf("refusing to listen on non-loopback address %s", ln.Addr())
			}
			return ln, nil
		}
		if port != 0 && isAddrInUse(err) {
			return nil, &PortInUseError{Port: port, Host: h}
		}
		errs = append(errs, err)
	}
	if port != 0 {
		return nil, fmt.Errorf("cannot listen on loopback port %d for the sign-in redirect: %w", port, errors.Join(errs...))
	}
	return nil, fmt.Errorf("cannot listen on a loopback port for the sign-in redirect: %w", errors.Join(errs...))
}

// isAddrInUse recognises EADDRINUSE, and WSAEADDRINUSE (10048), which
// Windows reports under its own number.
func isAddrInUse(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno) && (errno == syscall.EADDRINUSE || errno == 10048)
}

// stopServer closes the listener and every connection at once, and waits
// for the serve goroutine. No graceful wait is needed: the accepted
// callback's page is flushed before Run learns of it (see callback.ServeHTTP).
func stopServer(srv *http.Server, ln net.Listener, serveDone <-chan struct{}) {
	srv.Close()
	// Serve closes ln itself, unless Close won the race against Serve
	// starting; closing twice is harmless.
	ln.Close()
	<-serveDone
}

// newServer hardens the loopback server: short timeouts so a stalled
// connection cannot hold the port open, no keep-alive so shutdown is quick,
// and no log output (it would go to the user's terminal).
func newServer(h http.Handler) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          discardLogger,
	}
	srv.SetKeepAlivesEnabled(false)
	return srv
}
