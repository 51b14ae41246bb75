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
	"strconv"
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
	// split (see chunk format below). 0 means the platform's limit.
	ChunkSize int
	Backend   Backend
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

// A value longer than the limit is stored as parts under "<key>#<gen>.<i>"
// and a header under the key itself: "sbctl-chunked:v1:<gen>:<n>:<sha256>".
// Parts are written first and the header last, and every write uses a new
// generation, so a crash mid-write leaves the old value readable (plus
// orphan parts), never a mix of old and new parts.
const chunkPrefix = "sbctl-chunked:v1:"

func (k *Keyring) Get(ctx context.Context, key string) (string, error) {
	v, err := k.call(ctx, "read", func() (string, error) { return k.Backend.Get(k.Service, key) })
	if err != nil {
		return "", err
	}
	h, ok := parseHeader(v)
	if !ok {
		return v, nil
	}
	var b strings.Builder
	for i := 1; i <= h.n; i++ {
		part, err := k.call(ctx, "read", func() (string, error) { return k.Backend.Get(k.Service, h.partKey(key, i)) })
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

func (k *Keyring) Set(ctx context.Context, key, value string) error {
	old, err := k.call(ctx, "read", func() (string, error) { return k.Backend.Get(k.Service, key) })
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	oldHeader, hadChunks := parseHeader(old)
	limit := k.limit()
	if len(value) <= limit && !strings.HasPrefix(value, chunkPrefix) {
		if _, err := k.call(ctx, "write", func() (string, error) { return "", k.Backend.Set(k.Service, key, value) }); err != nil {
			return err
		}
	} else {
		var g [4]byte
		_, _ = rand.Read(g[:])
		sum := sha256.Sum256([]byte(value))
		h := header{gen: hex.EncodeToString(g[:]), sum: hex.EncodeToString(sum[:])}
		parts := split(value, limit)
		h.n = len(parts)
		for i, p := range parts {
			if _, err := k.call(ctx, "write", func() (string, error) { return "", k.Backend.Set(k.Service, h.partKey(key, i+1), p) }); err != nil {
				return err
			}
		}
		if _, err := k.call(ctx, "write", func() (string, error) { return "", k.Backend.Set(k.Service, key, h.String()) }); err != nil {
			return err
		}
	}
	if hadChunks {
		k.deleteParts(ctx, key, oldHeader)
	}
	return nil
}

func (k *Keyring) Delete(ctx context.Context, key string) error {
	old, err := k.call(ctx, "read", func() (string, error) { return k.Backend.Get(k.Service, key) })
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := k.call(ctx, "delete", func() (string, error) { return "", k.Backend.Delete(k.Service, key) }); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if h, ok := parseHeader(old); ok {
		k.deleteParts(ctx, key, h)
	}
	return nil
}

// deleteParts is best effort: a leftover part holds no usable value on its
// own and is overwritten by no later write (generations differ).
func (k *Keyring) deleteParts(ctx context.Context, key string, h header) {
	for i := 1; i <= h.n; i++ {
		_, _ = k.call(ctx, "delete", func() (string, error) { return "", k.Backend.Delete(k.Service, h.partKey(key, i)) })
	}
}

// call runs one keychain operation with the timeout and turns the
// platform's errors into messages that say how to fix them.
func (k *Keyring) call(ctx context.Context, op string, f func() (string, error)) (string, error) {
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
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
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "", &UnavailableError{Store: k.Describe(), Cause: fmt.Sprintf("the keychain did not answer a %s within %s", op, timeout),
				Fix: "it may be locked and waiting for a password prompt, or its service is not running; unlock it (on Linux: `gnome-keyring-daemon --unlock`), check `sbctl doctor`, or use `--token-store file` on a machine without a keychain"}
		}
		return "", ctx.Err()
	}
}

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

type header struct {
	gen string
	n   int
	sum string
}

func (h header) String() string {
	return chunkPrefix + h.gen + ":" + strconv.Itoa(h.n) + ":" + h.sum
}

func (h header) partKey(key string, i int) string {
	return key + "#" + h.gen + "." + strconv.Itoa(i)
}

func parseHeader(v string) (header, bool) {
	if !strings.HasPrefix(v, chunkPrefix) {
		return header{}, false
	}
	f := strings.Split(strings.TrimPrefix(v, chunkPrefix), ":")
	if len(f) != 3 {
		return header{}, false
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || n < 1 || n > 1000 {
		return header{}, false
	}
	return header{gen: f[0], n: n, sum: f[2]}, true
}

// split cuts s into pieces of at most n bytes without splitting a UTF-8
// sequence (keychains store text).
func split(s string, n int) []string {
	var out []string
	for len(s) > n {
		cut := n
		for cut > 0 && cut < len(s) && s[cut]&0xC0 == 0x80 {
			cut--
		}
		if cut == 0 {
			cut = n
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	return append(out, s)
}
