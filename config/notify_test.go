package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseNotify(t *testing.T) {
	t.Parallel()
	src := `notify:
  - command: ["/usr/local/bin/page-team", "--channel", social, --retries, 3]
    events: [needs_reauth, expired, expiring, recovered]
  - webhook: https://hooks.example.com/sbctl
    format: slack
    secret: ops-hook
    events: [needs_reauth]
    timeout: 2s
    name: ops
  - webhook: http://127.0.0.1:8080/hook
`
	c, err := Parse("config.yaml", []byte(src), presets)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Notify) != 3 {
		t.Fatalf("Notify = %+v, want 3 sinks", c.Notify)
	}
	cmd, hook, local := c.Notify[0], c.Notify[1], c.Notify[2]
	if !slices.Equal(cmd.Command, []string{"/usr/local/bin/page-team", "--channel", "social", "--retries", "3"}) || cmd.Line != 2 {
		t.Errorf("command sink = %+v", cmd)
	}
	if cmd.Name() != "command page-team" || !cmd.Wants("expiring") || cmd.Wants("renewed") || cmd.DeliveryTimeout() != DefaultNotifyTimeout {
		t.Errorf("command sink: name %q, wants expiring %v, renewed %v, timeout %s", cmd.Name(), cmd.Wants("expiring"), cmd.Wants("renewed"), cmd.DeliveryTimeout())
	}
	if hook.Webhook != "https://hooks.example.com/sbctl" || hook.Format != NotifyFormatSlack || hook.Secret != "ops-hook" ||
		hook.Name() != "ops" || hook.DeliveryTimeout() != 2*time.Second || hook.Wants("expired") || hook.Line != 4 {
		t.Errorf("webhook sink = %+v (name %q)", hook, hook.Name())
	}
	// Without events: every change of health, not the routine renewal;
	// a webhook without format is json.
	if local.Format != NotifyFormatJSON || local.Name() != "webhook 127.0.0.1:8080" || !local.Wants("renewal_failed") || local.Wants("renewed") {
		t.Errorf("default sink = %+v (name %q)", local, local.Name())
	}
	if cmd.ID() == hook.ID() || hook.ID() == local.ID() || len(cmd.ID()) != 12 {
		t.Errorf("IDs %q %q %q are not distinct digests", cmd.ID(), hook.ID(), local.ID())
	}
}

func TestParseNotifyErrorsNameFileAndLine(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, src, want string }{
		{"not a list", "notify:\n  command: [x]\n",
			"config.yaml:2: notify: expected a list of sinks such as"},
		{"scalar item", "notify:\n  - /bin/page\n",
			"config.yaml:2: notify[1]: expected a sink (a mapping with `command:` or `webhook:`), got the text \"/bin/page\""},
		{"no target", "notify:\n  - events: [expired]\n",
			"config.yaml:2: notify[1]: no `command:` or `webhook:`"},
		{"both", "notify:\n  - command: [a]\n    webhook: https://h.example/x\n",
			"config.yaml:3: notify[1]: give either `command:` or `webhook:`, not both"},
		{"command string", "notify:\n  - command: /bin/page --to ops\n",
			`config.yaml:2: notify[1]: command: expected a list of words such as ["/bin/page", "--to", ops] (the program, then its arguments; no shell)`},
		{"empty program", "notify:\n  - command: [\"\", x]\n",
			"config.yaml:2: notify[1]: command: the program (the first word) is empty"},
		{"unknown key", "notify:\n  - command: [a]\n    evnts: [expired]\n",
			"config.yaml:3: notify[1]: unknown key \"evnts\" (did you mean \"events\"?)"},
		{"unknown event", "notify:\n  - command: [a]\n    events: [needs-reauth]\n",
			"config.yaml:3: notify[1]: events: unknown event \"needs-reauth\" (did you mean \"needs_reauth\"?); the events are needs_reauth, expired, expiring, renewal_failed, recovered, renewed"},
		{"empty events", "notify:\n  - command: [a]\n    events: []\n",
			"config.yaml:3: notify[1]: events: the list is empty"},
		{"http elsewhere", "notify:\n  - webhook: http://hooks.example.com/T0/B0/s3cret\n",
			"config.yaml:2: notify[1]: webhook http://hooks.example.com/…: plain http is allowed only to a loopback address"},
		{"not a url", "notify:\n  - webhook: hooks.example.com/s3cret\n",
			"config.yaml:2: notify[1]: webhook (the webhook URL): the address is not an absolute http(s) URL"},
		{"password", "notify:\n  - webhook: https://u:s3cret@hooks.example.com/x\n",
			"the address holds a user name or password"},
		{"format", "notify:\n  - webhook: https://h.example/x\n    format: slak\n",
			"config.yaml:3: notify[1]: format: \"slak\" is not one of json, slack (did you mean \"slack\"?)"},
		{"format on command", "notify:\n  - command: [a]\n    format: slack\n",
			"config.yaml:3: notify[1]: `format:` is for a webhook"},
		{"secret name", "notify:\n  - webhook: https://h.example/x\n    secret: \"a b\"\n",
			"config.yaml:3: notify[1]: secret: secret name \"a b\": use letters"},
		{"timeout", "notify:\n  - command: [a]\n    timeout: 2h\n",
			"config.yaml:3: notify[1]: timeout: 2h is out of range"},
		{"twice", "notify:\n  - command: [a, b]\n  - command: [a, b]\n",
			"config.yaml:3: notify[2]: the same sink is listed twice (first at line 2)"},
		{"second item", "notify:\n  - command: [a]\n  - command: [b]\n    events: [renewd]\n",
			"config.yaml:4: notify[2]: events: unknown event \"renewd\" (did you mean \"renewed\"?)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("config.yaml", []byte(tc.src), presets)
			if err == nil {
				t.Fatal("parsed")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error quotes the webhook's credential: %v", err)
			}
		})
	}
}

func TestParseWithoutNotify(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"defaults:\n  expiring_within: 3d\n", "notify:\n"} {
		c, err := Parse("config.yaml", []byte(src), presets)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Notify) != 0 {
			t.Errorf("%q: Notify = %+v, want none", src, c.Notify)
		}
	}
}

// A file-mode edit keeps `notify:` as written and still reads it.
func TestEditKeepsNotify(t *testing.T) {
	t.Parallel()
	src := "notify:\n  - command: [/bin/page] # pager\nproviders:\n  x:\n    client_id: abc\n"
	c, err := Parse("config.yaml", []byte(src), presets)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddProfile(NewProfile{Name: "acme-x", Provider: "x"}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(c.Bytes()), "notify:\n  - command: [/bin/page] # pager\n") {
		t.Errorf("edit changed notify:\n%s", c.Bytes())
	}
	if len(c.Notify) != 1 || c.Notify[0].Command[0] != "/bin/page" {
		t.Errorf("Notify after edit = %+v", c.Notify)
	}
}

func TestCheckWebhookURL(t *testing.T) {
	t.Parallel()
	for raw, ok := range map[string]bool{
		"https://hooks.example.com/x":    true,
		"http://127.0.0.1:9/x":           true,
		"http://[::1]:9/x":               true,
		"http://localhost/x":             true,
		"http://hooks.example.com/x":     false,
		"ftp://hooks.example.com/x":      false,
		"https://hooks.example.com/\x1b": false,
		"/relative":                      false,
	} {
		if err := CheckWebhookURL(raw); (err == nil) != ok {
			t.Errorf("CheckWebhookURL(%q) = %v, want ok %v", raw, err, ok)
		}
	}
	if got := RedactWebhook("https://hooks.slack.com/services/T0/B0/s3cret?x=1"); got != "https://hooks.slack.com/…" {
		t.Errorf("RedactWebhook = %q", got)
	}
}
