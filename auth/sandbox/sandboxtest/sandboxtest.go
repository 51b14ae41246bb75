package sandboxtest

import (
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth/sandbox"
)

// signingKey is made once per test binary; it only signs ID tokens of
// throwaway servers.
var signingKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

// Start starts a sandbox that approves every sign-in at once and closes it
// when the test ends. opts are the server's options otherwise: Addr defaults
// to 127.0.0.1:0 and SigningKey to the test binary's shared key.
func Start(t testing.TB, opts sandbox.Options) *sandbox.Server {
	t.Helper()
	opts.AutoApprove = true
	return start(t, opts)
}

// StartWithApprovalPage is Start for a test that wants the approval page: a
// sign-in waits until someone presses Approve or Deny.
func StartWithApprovalPage(t testing.TB, opts sandbox.Options) *sandbox.Server {
	t.Helper()
	opts.AutoApprove = false
	return start(t, opts)
}

func start(t testing.TB, opts sandbox.Options) *sandbox.Server {
	t.Helper()
	srv, err := Listen(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("closing the sandbox: %v", err)
		}
	})
	return srv
}

// Listen starts a sandbox with opts as given (AutoApprove included) and
// the defaults of Start, and leaves closing it to the caller: for harnesses
// without a testing.TB, such as testscript's custom commands (ts.Defer).
func Listen(opts sandbox.Options) (*sandbox.Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.SigningKey == nil {
		key, err := signingKey()
		if err != nil {
			return nil, err
		}
		opts.SigningKey = key
	}
	srv, err := sandbox.New(opts)
	if err != nil {
		return nil, err
	}
	if err := srv.Start(); err != nil {
		return nil, err
	}
	return srv, nil
}

// ClickThrough is the browser of a test's sign-in: it follows the
// authorization URL through the (auto-approving) server's redirect to the
// client's loopback callback, like a person clicking through, and returns
// once the callback page has loaded. It satisfies the sign-in opener
// interface (auth/flow.Opener, profiles.Opener). It works with any
// authorization server on loopback that redirects at once, not only the
// sandbox (mockoidc does too).
func ClickThrough() sandbox.ClickThrough {
	return sandbox.ClickThrough{Timeout: 10 * time.Second}
}
