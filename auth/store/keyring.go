package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"crypto/rand"

	"github.com/zalando/go-keyring"
)

// DefaultService is the keychain service name unless $SBCTL_KEYRING_SERVICE
// says otherwise (contract: SPEC §3).
const DefaultService = "sbctl"

// DefaultTimeout bounds every keychain call. A Secret Service that cannot
// start makes go-keyring hang for about two minutes; a locked keychain may
// wait for a password prompt nobody sees.
const DefaultTimeout = 10 * time.Second

// Backend is the keychain API; go-keyring's package functions by default.
type Backend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

type goKeyring struct{}

func (goKeyring) Get(s, u string) (string, error) { return keyring.Get(s, u) }
func (goKeyring) Set(s, u, p string) error        { return keyring.Set(s, u, p) }
func (goKeyring) Delete(s, u string) error        { return keyring.Delete(s, u) }

// Keyring is the OS keychain (macOS Keychain, Windows Credential Manager,
// the freedesktop Secret Service on Linux).
type Keyring struct {
	Service string
	Timeout time.Duration
	// ChunkSize is the largest value stored as one item; longer values are
	// split (keyring_chunks.go). 0 means the platform's limit.
	ChunkSize int
	Backend   Backend
	// Retry is how long a keychain found unavailable (a timeout, a locked
	// collection, no Secret Service) is left alone before one call is let
	// through to see whether it is back; DefaultRetry when 0.
	Retry time.Duration
	// Now is the breaker's clock; time.Now when nil.
	Now func() time.Time

	breaker breaker
}

// NewKeyring returns the system keychain under service.
func NewKeyring(service string) *Keyring {
	if service == "" {
		service = DefaultService
	}
	return &Keyring{Service: service, Timeout: DefaultTimeout, Backend: goKeyring{}}
}

// PlatformLimit is the largest value one keychain item takes safely:
// Windows' credential blob is 2,560 bytes, macOS refuses around 3,000 bytes
// (go-keyring's ErrSetDataTooBig); the Secret Service has no real limit,
// but huge D-Bus messages are slow, so values are split there too.
func PlatformLimit() int {
	switch runtime.GOOS {
	case "windows":
		return 2400
	case "darwin":
		return 2800
	}
	return 16 << 10
}

func (k *Keyring) Describe() string { return fmt.Sprintf("keychain (service %q)", k.Service) }

func (k *Keyring) limit() int {
	if k.ChunkSize > 0 {
		return k.ChunkSize
	}
	return PlatformLimit()
}

func (k *Keyring) Get(ctx context.Context, key string) (string, error) {
	v, err := k.get(ctx, key)
	if err != nil {
		return "", err
	}
	h, ok := parseHeader(v)
	if !ok {
		return v, nil
	}
	var b strings.Builder
	for i := 1; i <= h.n; i++ {
		part, err := k.get(ctx, h.partKey(key, i))
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return "", fmt.Errorf("the %s holds %q in %d parts but part %d is missing; the item is damaged — run `sbctl reauth` to replace it", k.Describe(), key, h.n, i)
			}
			return "", err
		}
		b.WriteString(part)
	}
	sum := sha256.Sum256([]byte(b.String()))
	if hex.EncodeToString(sum[:]) != h.sum {
		return "", fmt.Errorf("the parts of %q in the %s do not add up (checksum mismatch); the item is damaged — run `sbctl reauth` to replace it", key, k.Describe())
	}
	return b.String(), nil
}

// Set writes value under key. Writes of one key must not overlap: callers
// hold the profile's lock when writing a token (SPEC §6), because Set also
// removes the parts that killed earlier writes of the key left behind
// (keyring_chunks.go), and an overlapping writer's parts look the same.
func (k *Keyring) Set(ctx context.Context, key, value string) error {
	old, err := k.get(ctx, key)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	oldHeader, hadChunks := parseHeader(old)
	leftover, had, err := k.sweep(ctx, key, oldHeader.gen)
	if err != nil {
		return err
	}
	limit := k.limit()
	var h header
	var parts []string
	chunked := len(value) > limit || strings.HasPrefix(value, chunkPrefix)
	if chunked {
		parts = split(value, limit)
		h = newHeader(value, len(parts), leftover)
	}
	// What a kill from here on could orphan: this write's parts (killed
	// before the header) or the old value's (after it). The record is
	// written before the first part exists.
	pending := slices.Clone(leftover)
	if chunked {
		pending = append(pending, h)
	}
	if hadChunks {
		pending = append(pending, oldHeader)
	}
	if err := k.writePending(ctx, key, pending, had); err != nil {
		return err
	}
	if !chunked {
		if err := k.set(ctx, key, value); err != nil {
			return err
		}
	} else {
		for i, p := range parts {
			if err := k.set(ctx, h.partKey(key, i+1), p); err != nil {
				return err
			}
		}
		if err := k.set(ctx, key, h.String()); err != nil {
			return err
		}
	}
	if hadChunks && !k.deleteParts(ctx, key, oldHeader) {
		leftover = append(leftover, oldHeader)
	}
	// The value is stored: failing to shrink the record only leaves the
	// next write more to check (a live generation in it is never deleted).
	_ = k.writePending(ctx, key, leftover, formatPending(pending))
	return nil
}

// newHeader picks a generation unlike any still recorded as pending.
func newHeader(value string, n int, pending []header) header {
	sum := sha256.Sum256([]byte(value))
	for {
		var g [4]byte
		_, _ = rand.Read(g[:])
		h := header{gen: hex.EncodeToString(g[:]), n: n, sum: hex.EncodeToString(sum[:])}
		if !slices.ContainsFunc(pending, func(p header) bool { return p.gen == h.gen }) {
			return h
		}
	}
}

// Delete removes key, its parts and whatever killed writes of it left.
// Like Set, it must not overlap another write of the key.
func (k *Keyring) Delete(ctx context.Context, key string) error {
	old, err := k.get(ctx, key)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	// No generation stays live once the header is gone.
	leftover, had, err := k.sweep(ctx, key, "")
	if err != nil {
		return err
	}
	if found {
		h, chunked := parseHeader(old)
		if chunked {
			// Recorded first, so a kill between the header's deletion
			// and the parts' leaves them findable.
			if err := k.writePending(ctx, key, append(slices.Clone(leftover), h), had); err != nil {
				return err
			}
			had = formatPending(append(slices.Clone(leftover), h))
		}
		if err := k.del(ctx, key); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if chunked && !k.deleteParts(ctx, key, h) {
			leftover = append(leftover, h)
		}
	}
	_ = k.writePending(ctx, key, leftover, had)
	return nil
}

func (k *Keyring) get(ctx context.Context, key string) (string, error) {
	return k.call(ctx, "read", func() (string, error) { return k.Backend.Get(k.Service, key) })
}

func (k *Keyring) set(ctx context.Context, key, value string) error {
	_, err := k.call(ctx, "write", func() (string, error) { return "", k.Backend.Set(k.Service, key, value) })
	return err
}

func (k *Keyring) del(ctx context.Context, key string) error {
	_, err := k.call(ctx, "delete", func() (string, error) { return "", k.Backend.Delete(k.Service, key) })
	return err
}

// call runs one keychain operation with the timeout and turns the
// platform's errors into messages that say how to fix them. A keychain
// found unavailable is not asked again for a while (keyring_breaker.go).
func (k *Keyring) call(ctx context.Context, op string, f func() (string, error)) (string, error) {
	probe, err := k.breaker.admit(k.now(), k.retry())
	if err != nil {
		return "", err
	}
	v, err := k.callOnce(ctx, op, f)
	var ue *UnavailableError
	switch {
	case errors.As(err, &ue):
		k.breaker.trip(ue, k.now(), probe)
	case probe:
		// The probe got an answer (a value, "not found", any other
		// error): the keychain is reachable again. A caller's own
		// cancellation proves nothing either way.
		if ctx.Err() == nil || err == nil {
			k.breaker.close()
		} else {
			k.breaker.abandon()
		}
	}
	return v, err
}

func (k *Keyring) callOnce(ctx context.Context, op string, f func() (string, error)) (string, error) {
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errKeychainTimeout)
	defer cancel()
	type result struct {
		v   string
		err error
	}
	ch := make(chan result, 1) // buffered: a hung call's goroutine can still finish and exit
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return "", k.explain(op, r.err)
		}
		return r.v, nil
	case <-ctx.Done():
		// Only this call's own timeout is news about the keychain; the
		// caller's deadline or cancellation is the caller's.
		if errors.Is(context.Cause(ctx), errKeychainTimeout) {
			return "", &UnavailableError{Store: k.Describe(), Cause: fmt.Sprintf("the keychain did not answer a %s within %s", op, timeout),
				Fix: "it may be locked and waiting for a password prompt, or its service is not running; unlock it (on Linux: `gnome-keyring-daemon --unlock`), check `sbctl doctor`, or use `--token-store file` on a machine without a keychain"}
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "", fmt.Errorf("the keychain did not answer a %s before the deadline: %w", op, ctx.Err())
		}
		return "", ctx.Err()
	}
}

var errKeychainTimeout = errors.New("keychain call timed out")

// UnavailableError: the keychain cannot be used right now. Nothing was
// changed.
type UnavailableError struct {
	Store string
	Cause string
	Fix   string
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("cannot use the %s: %s; %s", e.Store, e.Cause, e.Fix)
}

func (k *Keyring) explain(op string, err error) error {
	if errors.Is(err, keyring.ErrNotFound) {
		return ErrNotFound
	}
	msg := err.Error()
	low := strings.ToLower(msg)
	switch {
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("the %s refused a value as too big for one item; lower the part size with SBCTL_KEYRING_CHUNK (now %d bytes)", k.Describe(), k.limit())
	case busDialFailed(err):
		// Before the text matches below: the socket path is free text (it
		// often contains "dbus", as in /tmp/dbus-XXXX), and there is no
		// service to blame when the bus itself is gone.
		return &UnavailableError{Store: k.Describe(), Cause: deadBusCause(err),
			Fix: "the session bus exists only while the user is logged in (or inside `dbus-run-session`); run the job in the user's session (a systemd user timer does), point DBUS_SESSION_BUS_ADDRESS at a running bus, or, on a machine without a keychain, opt in to the plain-file store with `--token-store file` / SBCTL_TOKEN_STORE=file"}
	case strings.Contains(low, "locked") || strings.Contains(low, "unlock") || strings.Contains(low, "prompt") || strings.Contains(low, "dismissed"):
		return &UnavailableError{Store: k.Describe(), Cause: "the keychain is locked",
			Fix: "unlock it (log in to the desktop session, or run `gnome-keyring-daemon --unlock` and type the password) and try again"}
	case strings.HasPrefix(low, "dbus: invalid") && strings.Contains(low, "address"):
		return &UnavailableError{Store: k.Describe(), Cause: fmt.Sprintf("DBUS_SESSION_BUS_ADDRESS (%s) is not a D-Bus address godbus can use: %s", busAddress(), printable(firstLine(msg))),
			Fix: "set it to the session bus of a logged-in user (usually unix:path=/run/user/$UID/bus), or, on a machine without a keychain, opt in to the plain-file store with `--token-store file` / SBCTL_TOKEN_STORE=file"}
	case strings.Contains(low, "org.freedesktop.secrets") || strings.Contains(low, "serviceunknown") ||
		strings.Contains(low, "dbus") || strings.Contains(low, "session bus") || strings.Contains(low, "no such interface"):
		cause := "no Secret Service is running on the D-Bus session bus"
		if runtime.GOOS == "linux" && os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
			cause = "there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset, as under cron or SSH), so the Secret Service cannot be reached"
		}
		return &UnavailableError{Store: k.Describe(), Cause: cause,
			Fix: "start one (gnome-keyring-daemon --unlock, or KeePassXC with Secret Service integration), or, on a machine without a keychain, opt in to the plain-file store with `--token-store file` / SBCTL_TOKEN_STORE=file"}
	}
	return fmt.Errorf("keychain %s failed: %s", op, firstLine(msg))
}

// busDialFailed reports a failure to connect to the D-Bus session bus
// socket: godbus returns the dial's *net.OpError as is ("dial unix
// /run/user/1000/bus: connect: no such file or directory", or "connection
// refused" when the socket file outlived its daemon). The text form is
// matched too, for wrappers that keep only the message.
func busDialFailed(err error) bool {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Op == "dial"
	}
	low := strings.ToLower(err.Error())
	return (strings.HasPrefix(low, "dial unix ") || strings.HasPrefix(low, "dial tcp")) && strings.Contains(low, ": connect: ")
}

// deadBusCause names the bus address and why connect() failed; the address
// is configuration, not a secret, but it comes from the environment, so it
// is cut short and stripped of control characters.
func deadBusCause(err error) string {
	why := err.Error()
	if i := strings.LastIndex(why, ": connect: "); i >= 0 {
		why = why[i+len(": connect: "):]
	}
	return fmt.Sprintf("the D-Bus session bus at %s cannot be reached (is the user logged in?): %s", busAddress(), printable(firstLine(why)))
}

// busAddress is $DBUS_SESSION_BUS_ADDRESS for messages.
func busAddress() string {
	a := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if a == "" {
		return "the default address"
	}
	return printable(firstLine(a))
}

// printable drops control characters (C0, DEL, C1) and bidi controls, so a
// value from the environment cannot rewrite the user's terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return -1
		}
		return r
	}, s)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
