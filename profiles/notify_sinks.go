package profiles

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/sbctl/sbctl/auth/flow"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
)

// sink is one `notify:` entry ready to deliver.
type sink struct {
	cfg     config.NotifySink
	id      string
	name    string
	timeout time.Duration
	deliver func(ctx context.Context, ev Event) error
}

// killGrace is how long a killed command's output may still drain
// (exec.Cmd.WaitDelay) before sbctl stops waiting for it.
const killGrace = time.Second

// errSinkTimeout: the sink did not finish within its timeout.
var errSinkTimeout = errors.New("timed out")

func (m *Manager) newSink(c config.NotifySink) *sink {
	s := &sink{cfg: c, id: c.ID(), name: c.Name(), timeout: c.DeliveryTimeout()}
	if len(c.Command) > 0 {
		argv := c.Command
		s.deliver = func(ctx context.Context, ev Event) error {
			return runCommandSink(ctx, argv, ev, os.Environ())
		}
		return s
	}
	h := &webhookSink{url: c.Webhook, format: c.Format, client: notifyClient}
	if c.Secret != "" {
		name := c.Secret
		h.key = sync.OnceValues(func() (string, error) { return m.notifySecret(name) })
	}
	s.deliver = h.post
	return s
}

// deliverWithin runs one delivery under the sink's timeout.
func (s *sink) deliverWithin(ctx context.Context, ev Event) error {
	dctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err := s.deliver(dctx, ev)
	switch {
	case err == nil:
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return errors.New("interrupted before the sink finished; it is tried again next time")
	case errors.Is(dctx.Err(), context.DeadlineExceeded):
		what := "no answer"
		if len(s.cfg.Command) > 0 {
			what = "it did not finish, and was killed with its process group,"
		}
		return fmt.Errorf("%w: %s within %s", errSinkTimeout, what, config.FormatDuration(s.timeout))
	}
	return err
}

// The environment of a notification command is built up, not filtered
// down: the few variables a program needs to run and to reach the user's
// desktop (notify-send) or mail system, and the event's SBCTL_* — never
// sbctl's secrets (SECURITY 32) nor anything else of the caller's, which
// may hold credentials sbctl knows nothing of (AWS_SECRET_ACCESS_KEY).
var commandEnvNames = []string{
	"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR",
	"DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS",
	// Windows: what programs need to start at all.
	"SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "TEMP", "TMP",
	"USERPROFILE", "USERNAME", "APPDATA", "LOCALAPPDATA", "HOMEDRIVE", "HOMEPATH",
}

// commandEnv is the child's environment: the allowed variables of
// environ, then the event's.
func commandEnv(environ []string, ev Event) []string {
	out := []string{}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		upper := strings.ToUpper(name)
		allowed := strings.HasPrefix(upper, "LC_") || containsFold(commandEnvNames, name)
		if name == "" || !allowed || flow.SecretEnv(name) {
			continue
		}
		out = append(out, kv)
	}
	return append(out,
		"SBCTL_EVENT="+string(ev.Kind),
		"SBCTL_PROFILE="+ev.Profile,
		"SBCTL_PROVIDER="+ev.Provider,
		"SBCTL_STATUS="+string(ev.Status),
		"SBCTL_REASON="+ev.Reason,
	)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// runCommandSink runs argv (no shell) with the event as one line of JSON
// on stdin. Cancelling ctx kills it with its whole process group: a shell
// script's children must not outlive a timeout either.
func runCommandSink(ctx context.Context, argv []string, ev Event, environ []string) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = commandEnv(environ, ev)
	cmd.Stdin = bytes.NewReader(append(body, '\n'))
	var errOut tailBuffer
	cmd.Stderr = &errOut // stdout: /dev/null
	cmd.WaitDelay = killGrace
	killGroupOnCancel(cmd)
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &exit):
		msg := fmt.Sprintf("%s exited with status %d", commandName(argv), exit.ExitCode())
		if said := CleanText(errOut.String(), 300); said != "" {
			msg += ": " + said
		}
		return errors.New(msg)
	case errors.Is(err, exec.ErrWaitDelay):
		return nil // it finished; a child of it still holds stderr open
	}
	return fmt.Errorf("%s could not be started: %s", commandName(argv), CleanText(unwrapPath(err), 300))
}

func commandName(argv []string) string { return CleanText(argv[0], 200) }

// unwrapPath drops the os and exec wrappers that repeat the program's path.
func unwrapPath(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ee.Err.Error()
	}
	return err.Error()
}

// tailBuffer keeps the last few KiB a command wrote: enough to say why it
// failed, never a flood in memory.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const tailMax = 4 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailMax {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailMax:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// notifyClient posts webhooks: no redirect is followed (the event would
// go, signed, wherever the answer points), no cookie is kept; the
// request's context bounds each delivery.
var notifyClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Transport:     http.DefaultTransport.(*http.Transport).Clone(),
}

// SignatureHeader carries the webhook body's HMAC: "sha256=<hex>".
const SignatureHeader = "X-Sbctl-Signature"

// Sign is the X-Sbctl-Signature of body under key: "sha256=" and the hex
// HMAC-SHA256. A receiver recomputes it over the raw body and compares in
// constant time (hmac.Equal).
func Sign(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

type webhookSink struct {
	url, format string
	key         func() (string, error) // nil: unsigned
	client      *http.Client
}

func (w *webhookSink) post(ctx context.Context, ev Event) error {
	if err := config.CheckWebhookURL(w.url); err != nil {
		return fmt.Errorf("webhook %s: %w", config.RedactWebhook(w.url), err)
	}
	body, err := webhookBody(ev, w.format)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %s", config.RedactWebhook(w.url), w.clean(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sbctl-notify")
	req.Header.Set("X-Sbctl-Event", string(ev.Kind))
	if w.key != nil {
		key, err := w.key()
		if err != nil {
			return err
		}
		req.Header.Set(SignatureHeader, Sign([]byte(key), body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %s", config.RedactWebhook(w.url), w.clean(err))
	}
	defer resp.Body.Close()
	said, _ := io.ReadAll(io.LimitReader(resp.Body, 2<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return fmt.Errorf("webhook %s answered with a redirect (%d), which sbctl does not follow: give the final URL", config.RedactWebhook(w.url), resp.StatusCode)
	}
	msg := fmt.Sprintf("webhook %s answered %s", config.RedactWebhook(w.url), resp.Status)
	if s := CleanText(string(said), 200); s != "" {
		msg += ": " + s
	}
	return errors.New(CleanText(msg, 400))
}

// clean is a transport error without the URL (its path may be the hook's
// credential) and fit to print.
func (w *webhookSink) clean(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return CleanText(strings.ReplaceAll(err.Error(), w.url, config.RedactWebhook(w.url)), 300)
}

// webhookBody is the event as JSON, or a Slack/Mattermost incoming-webhook
// payload.
func webhookBody(ev Event, format string) ([]byte, error) {
	if format == config.NotifyFormatSlack {
		return json.Marshal(map[string]string{"text": slackEscape(EventText(ev))})
	}
	return json.Marshal(ev)
}

// slackEscape escapes the three characters Slack's mrkdwn gives a meaning
// (&, <, >): an account name cannot turn into a link or a mention.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// EventText says an event in one line for people (the slack format).
func EventText(ev Event) string {
	who := ev.Profile + " (" + ev.Provider
	if ev.Account != "" {
		who += ", " + ev.Account
	}
	who += ")"
	var what string
	switch ev.Kind {
	case EventNeedsReauth:
		what = who + " needs re-authentication"
	case EventExpired:
		what = who + " has expired"
	case EventExpiring:
		what = who + " expires " + formatWhen(ev.ConnectionExpiresAt)
	case EventRenewalFailed:
		what = "renewing " + who + " failed; sbctl keeps trying"
	case EventRecovered:
		what = who + " is ok again"
	case EventRenewed:
		what = who + " was renewed"
	default:
		what = who + ": " + string(ev.Kind)
	}
	if ev.Reason != "" {
		what += " (" + ev.Reason + ")"
	}
	if ev.Detail != "" && ev.Kind == EventRenewalFailed {
		what += ": " + ev.Detail
	}
	if ev.Fix != "" {
		what += "; fix: `" + ev.Fix + "`"
	}
	prefix := "sbctl"
	if ev.Host != "" {
		prefix += " on " + ev.Host
	}
	if ev.Test {
		prefix = "[test] " + prefix
	}
	return prefix + ": " + what
}

// notifySecret reads a webhook's HMAC key from the token store: this
// machine's own, in team mode too (the team database keeps tokens and
// client secrets only).
func (m *Manager) notifySecret(name string) (string, error) {
	st, err := m.notifyStore()
	if err != nil {
		return "", fmt.Errorf("the signing key %s cannot be read: %w", config.NotifySecretKey(name), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := st.Get(ctx, config.NotifySecretKey(name))
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("the signing key %s is not in %s: store it with `sbctl notify set-secret %s` (nothing was sent unsigned)", config.NotifySecretKey(name), st.Describe(), name)
	}
	if err != nil {
		return "", fmt.Errorf("reading the signing key %s from %s: %w", config.NotifySecretKey(name), st.Describe(), err)
	}
	return v, nil
}

func (m *Manager) notifyStore() (store.Store, error) {
	if m.backend != nil {
		var local store.Store
		if m.backend.local != nil {
			local = m.backend.local()
		}
		if local == nil {
			return nil, errors.New("this machine's token store cannot be opened")
		}
		return local, nil
	}
	return m.Store()
}

// SetNotifySecret stores a webhook's signing key (`sbctl notify
// set-secret`) in this machine's token store, never in the config.
func (m *Manager) SetNotifySecret(ctx context.Context, name, secret string) (where string, err error) {
	if err := config.ValidateName("secret", name); err != nil {
		return "", &UsageError{Msg: err.Error()}
	}
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return "", &UsageError{Msg: "the signing key is empty"}
	}
	if strings.ContainsAny(secret, "\r\n") {
		return "", &UsageError{Msg: "the signing key holds several lines; give the key alone"}
	}
	st, err := m.notifyStore()
	if err != nil {
		return "", err
	}
	name = config.NormalizeName(name)
	if err := st.Set(ctx, config.NotifySecretKey(name), secret); err != nil {
		return "", fmt.Errorf("storing the signing key %s: %w", config.NotifySecretKey(name), err)
	}
	return st.Describe(), nil
}
