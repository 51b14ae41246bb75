package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sbctl/sbctl/auth"
)

// NotifySink is one entry of `notify:`: where events go (a command run
// without a shell, or a webhook) and which events it wants.
//
//	notify:
//	  - command: ["/usr/local/bin/page-team", "--channel", "social"]
//	    events: [needs_reauth, expired, expiring, recovered]
//	  - webhook: https://hooks.example.com/sbctl
//	    format: json            # or slack
//	    secret: ops-hook        # the token-store item notify:ops-hook keys the HMAC
//	    events: [needs_reauth, expired]
type NotifySink struct {
	// Label is the optional `name:`, how reports and metrics call the
	// sink; "" names it after its program or host (Name).
	Label string
	// Command is the argv of a program that gets the event as JSON on
	// stdin (no shell). Exactly one of Command and Webhook is set.
	Command []string
	// Webhook is the URL the event is POSTed to: https, or http to a
	// loopback address (CheckWebhookURL). It may carry a credential in its
	// path (Slack's incoming webhooks do): show it only through
	// RedactWebhook.
	Webhook string
	// Format is the webhook body: "json" (the event) or "slack" (a
	// Slack/Mattermost incoming-webhook payload, {"text": …}).
	Format string
	// Secret names the token-store item (NotifySecretKey) whose value keys
	// the webhook's X-Sbctl-Signature HMAC; "" sends it unsigned.
	Secret string
	// Events are the event kinds the sink wants (DefaultNotifyEvents when
	// the entry names none).
	Events []string
	// Timeout bounds one delivery; 0 is DefaultNotifyTimeout.
	Timeout time.Duration
	Line    int
}

// Notify formats of a webhook.
const (
	NotifyFormatJSON  = "json"
	NotifyFormatSlack = "slack"
)

// NotifyEvents are the event kinds a sink may ask for.
var NotifyEvents = []string{"needs_reauth", "expired", "expiring", "renewal_failed", "recovered", "renewed"}

// DefaultNotifyEvents are what a sink without `events:` gets: every
// change of health, not the routine `renewed`.
var DefaultNotifyEvents = []string{"needs_reauth", "expired", "expiring", "renewal_failed", "recovered"}

// DefaultNotifyTimeout bounds one delivery when the sink sets no
// `timeout:`; MaxNotifyTimeout is the longest a sink may ask for (the
// agent waits for its sinks after each pass).
const (
	DefaultNotifyTimeout = 10 * time.Second
	MaxNotifyTimeout     = time.Minute
)

// NotifySecretKey is the token-store item that holds a webhook's HMAC
// key: `secret: ops-hook` reads notify:ops-hook.
func NotifySecretKey(name string) string { return "notify:" + name }

// Name is how reports and metrics name the sink: its `name:`, else
// "command <program>" or "webhook <host>" — never the webhook's path or
// query, which may be its credential.
func (s *NotifySink) Name() string {
	switch {
	case s.Label != "":
		return s.Label
	case len(s.Command) > 0:
		return "command " + filepath.Base(s.Command[0])
	}
	host := "?"
	if u, err := url.Parse(s.Webhook); err == nil && u.Host != "" {
		host = u.Host
	}
	return "webhook " + host
}

// ID identifies the sink across runs and machines (the record of what each
// sink was told): a digest of where it delivers, so reordering the list or
// renaming it does not resend, and the state holds no webhook URL.
func (s *NotifySink) ID() string {
	h := sha256.New()
	if len(s.Command) > 0 {
		h.Write([]byte("command"))
		for _, a := range s.Command {
			h.Write([]byte{0})
			h.Write([]byte(a))
		}
	} else {
		h.Write([]byte("webhook\x00" + s.Webhook + "\x00" + s.Format))
	}
	return hex.EncodeToString(h.Sum(nil)[:6])
}

// Wants says whether the sink asked for events of kind.
func (s *NotifySink) Wants(kind string) bool {
	events := s.Events
	if events == nil {
		events = DefaultNotifyEvents
	}
	return slices.Contains(events, kind)
}

// DeliveryTimeout is the sink's timeout, the default filled in.
func (s *NotifySink) DeliveryTimeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultNotifyTimeout
}

// CheckWebhookURL accepts where an event may be POSTed: an absolute URL
// of printable ASCII without a user name or password (auth.CheckURL), over
// https — or http to a loopback address, which never leaves the machine.
// The error never quotes the URL: its path may be a credential.
func CheckWebhookURL(raw string) error {
	if err := auth.CheckURL(raw); err != nil {
		return err
	}
	u, _ := url.Parse(raw)
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		return errors.New("plain http is allowed only to a loopback address (127.0.0.1, ::1, localhost); use https")
	}
	return nil
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RedactWebhook shows a webhook URL without its path and query (which may
// be its credential): "https://hooks.slack.com/…".
func RedactWebhook(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(the webhook URL)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

var notifyKeys = []string{"command", "webhook", "format", "secret", "events", "name", "timeout"}

const notifyExample = "`notify: [{command: [\"/usr/local/bin/page-team\"], events: [needs_reauth]}]`"

// notify reads the `notify:` list of sinks.
func (v *validator) notify(n *yaml.Node) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		v.errf(n, "notify: expected a list of sinks such as %s, got %s", notifyExample, describe(n))
		return
	}
	seen := map[string]int{}
	for i, it := range n.Content {
		it = resolve(it)
		where := fmt.Sprintf("notify[%d]", i+1)
		if it.Kind != yaml.MappingNode {
			v.errf(it, "%s: expected a sink (a mapping with `command:` or `webhook:`), got %s", where, describe(it))
			continue
		}
		s, ok := v.notifySink(it, where)
		if !ok {
			continue
		}
		if first, dup := seen[s.ID()]; dup {
			v.errf(it, "%s: the same sink is listed twice (first at line %d); remove one", where, first)
			continue
		}
		seen[s.ID()] = s.Line
		v.c.Notify = append(v.c.Notify, s)
	}
}

// notifySink reads one sink; ok is false when it has a problem (reported).
func (v *validator) notifySink(n *yaml.Node, where string) (NotifySink, bool) {
	s := NotifySink{Line: n.Line}
	before := len(v.errs)
	present := map[string]*yaml.Node{}
	for _, e := range v.entries(n, where) {
		present[e.name] = e.val
		switch e.name {
		case "command":
			s.Command = v.argv(e.val, where+": command")
		case "webhook":
			s.Webhook = v.webhookURL(e.val, where+": webhook")
		case "format":
			s.Format = v.oneOf(e.val, where+": format", []string{NotifyFormatJSON, NotifyFormatSlack})
		case "secret":
			s.Secret = v.secretName(e.val, where+": secret")
		case "events":
			s.Events = v.notifyEvents(e.val, where+": events")
		case "name":
			s.Label, _ = v.text(e.val, where+": name")
		case "timeout":
			s.Timeout = v.notifyTimeout(e.val, where+": timeout")
		default:
			v.unknownKey(e.key, where, notifyKeys)
		}
	}
	v.notifyShape(n, where, present)
	if s.Webhook != "" && s.Format == "" {
		s.Format = NotifyFormatJSON
	}
	return s, len(v.errs) == before
}

// notifyShape checks the keys that go together: exactly one of command
// and webhook; format and secret only with a webhook.
func (v *validator) notifyShape(n *yaml.Node, where string, present map[string]*yaml.Node) {
	cmd, hook := present["command"], present["webhook"]
	switch {
	case cmd == nil && hook == nil:
		v.errf(n, "%s: no `command:` or `webhook:`: say where the events go, such as `command: [\"/usr/local/bin/page-team\"]` or `webhook: https://hooks.example.com/sbctl`", where)
	case cmd != nil && hook != nil:
		v.errf(hook, "%s: give either `command:` or `webhook:`, not both; write two sinks to use both", where)
	case cmd != nil:
		for _, k := range []string{"format", "secret"} {
			if present[k] != nil {
				v.errf(present[k], "%s: `%s:` is for a webhook; a command gets the event as JSON on stdin", where, k)
			}
		}
	}
}

// argv reads a command line as a list of words: the program, then its
// arguments. Numbers are words as written (`--retries, 3`).
func (v *validator) argv(n *yaml.Node, where string) []string {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && n.Value != "" {
		v.errf(n, "%s: expected a list of words such as %s (the program, then its arguments; no shell), got %q", where, flowList(strings.Fields(n.Value)), n.Value)
		return nil
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		v.errf(n, "%s: expected a list of words such as [\"/usr/local/bin/page-team\", \"--channel\", \"social\"], got %s", where, describe(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, it := range n.Content {
		it = resolve(it)
		s, ok := v.text(it, where)
		if !ok {
			return nil
		}
		if strings.ContainsRune(s, 0) {
			v.errf(it, "%s: a word holds a NUL character", where)
			return nil
		}
		out = append(out, s)
	}
	if strings.TrimSpace(out[0]) == "" {
		v.errf(n.Content[0], "%s: the program (the first word) is empty", where)
		return nil
	}
	return out
}

func (v *validator) webhookURL(n *yaml.Node, where string) string {
	s, ok := v.text(n, where)
	if !ok {
		return ""
	}
	if err := CheckWebhookURL(s); err != nil {
		// Only the host is shown: the rest may be the hook's credential.
		v.errf(n, "%s %s: %v", where, RedactWebhook(s), err)
		return ""
	}
	return s
}

func (v *validator) oneOf(n *yaml.Node, where string, allowed []string) string {
	s, ok := v.text(n, where)
	if !ok {
		return ""
	}
	if !slices.Contains(allowed, s) {
		v.errf(n, "%s: %q is not one of %s%s", where, s, strings.Join(allowed, ", "), DidYouMean(s, allowed))
		return ""
	}
	return s
}

// secretName reads the name of a token-store item: one word, as a
// profile name is, since it becomes part of the item's key.
func (v *validator) secretName(n *yaml.Node, where string) string {
	s, ok := v.text(n, where)
	if !ok {
		return ""
	}
	if err := ValidateName("secret", s); err != nil {
		v.errf(n, "%s: %v; store the key with `sbctl notify set-secret <name>` and name it here", where, err)
		return ""
	}
	return NormalizeName(s)
}

func (v *validator) notifyEvents(n *yaml.Node, where string) []string {
	items := v.listItems(n, where, "needs_reauth, expired")
	if items == nil {
		return nil
	}
	out := []string{}
	for _, it := range items {
		if !slices.Contains(NotifyEvents, it.Value) {
			v.errf(it, "%s: unknown event %q%s; the events are %s", where, it.Value, DidYouMean(it.Value, NotifyEvents), strings.Join(NotifyEvents, ", "))
			continue
		}
		if !slices.Contains(out, it.Value) {
			out = append(out, it.Value)
		}
	}
	if len(out) == 0 && len(items) == 0 {
		v.errf(n, "%s: the list is empty, so the sink would get nothing; name events such as [needs_reauth, expired] or remove the sink", where)
	}
	return out
}

func (v *validator) notifyTimeout(n *yaml.Node, where string) time.Duration {
	d, ok := v.duration(n, where)
	if !ok {
		return 0
	}
	if d <= 0 || d > MaxNotifyTimeout {
		v.errf(n, "%s: %s is out of range; give a duration above 0 and at most %s, such as 10s", where, n.Value, FormatDuration(MaxNotifyTimeout))
		return 0
	}
	return d
}
