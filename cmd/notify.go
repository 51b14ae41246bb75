package cmd

import (
	"context"
	"fmt"
	"io"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/config"
	"github.com/sbctl/sbctl/profiles"
)

// newNotifyCmd is `sbctl notify`: the sinks of the config's `notify:`.
func newNotifyCmd(f *Factory) *cobra.Command {
	c := group("notify", "Try the notification sinks of the config (notify:)", newNotifyTestCmd(f, nil), newNotifySetSecretCmd(f, nil))
	c.Long = `The config's notify: list names where sbctl tells people about a profile
whose health changed: a command (run without a shell, the event as JSON on
stdin) or a webhook (JSON, or a Slack/Mattermost payload with format: slack,
signed with X-Sbctl-Signature when secret: names a signing key).

The agent, refresh, profiles check and profiles verify send each change once:
needs_reauth, expired, expiring (once per window), renewal_failed,
recovered, and renewed for the sinks that ask for it.`
	return c
}

type notifyTestOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	Event string
}

func newNotifyTestCmd(f *Factory, runF func(*notifyTestOptions) error) *cobra.Command {
	o := &notifyTestOptions{IO: f.IO, Manager: f.Manager, Event: string(profiles.EventNeedsReauth)}
	c := &cobra.Command{
		Use:   "test [--event E]",
		Short: "Send a sample event to every sink",
		Long: `Send one sample event (marked "test": true, about a profile named
"example") to every sink of the config, whatever events the sink asks for,
and say which received it. Nothing is recorded.

Exit codes: 0 every sink received it, 1 some sink failed.`,
		Example: `  sbctl notify test
  sbctl notify test --event recovered`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if _, err := profiles.ParseEventKind(o.Event); err != nil {
				return usageErr("--event: %v", err)
			}
			return runWith(c.Context(), o, runF, runNotifyTest)
		},
	}
	c.Flags().StringVar(&o.Event, "event", o.Event, "the event to send: "+strings.Join(config.NotifyEvents, ", "))
	_ = c.RegisterFlagCompletionFunc("event", cobra.FixedCompletions(config.NotifyEvents, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func runNotifyTest(ctx context.Context, o *notifyTestOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	rep := m.NotifyTest(ctx, profiles.EventKind(o.Event))
	if rep.Err != nil {
		return rep.Err
	}
	st := newStyles()
	var rows [][]string
	var tones []lipgloss.Style
	for _, r := range rep.Sent {
		rows = append(rows, []string{"", r.Sink, "sent", ""})
		tones = append(tones, st.good)
	}
	for _, r := range rep.Failed {
		rows = append(rows, []string{"", r.Sink, "failed", oneLine(r.Err.Error())})
		tones = append(tones, st.bad)
	}
	fmt.Fprintf(o.IO.ErrOut, "A sample %s event, to %d sinks:\n", o.Event, len(rows))
	_ = renderTable(o.IO.ColorErr(), false, nil, rows, func(row, col int) lipgloss.Style {
		if col == 2 {
			return tones[row]
		}
		return lipgloss.NewStyle()
	})
	if len(rep.Failed) > 0 {
		return withCode(ExitError, nil)
	}
	return nil
}

type notifySetSecretOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	Name string
}

func newNotifySetSecretCmd(f *Factory, runF func(*notifySetSecretOptions) error) *cobra.Command {
	o := &notifySetSecretOptions{IO: f.IO, Manager: f.Manager}
	return &cobra.Command{
		Use:   "set-secret <name>",
		Short: "Store a webhook's signing key in the keychain (read from stdin)",
		Long: `Read a webhook's signing key from stdin and store it in this machine's
keychain (item notify:<name>; in team mode too). A sink with secret: <name>
signs each request with it: X-Sbctl-Signature: sha256=<hex HMAC-SHA256 of
the body>. On a terminal the input is hidden.`,
		Example: `  openssl rand -hex 32 | tee hook.key | sbctl notify set-secret ops-hook`,
		Args:    exactArgs(1, "one name"),
		RunE: func(c *cobra.Command, args []string) error {
			o.Name = args[0]
			return runWith(c.Context(), o, runF, runNotifySetSecret)
		},
	}
}

func runNotifySetSecret(ctx context.Context, o *notifySetSecretOptions) error {
	if err := config.ValidateName("secret", o.Name); err != nil {
		return usageErr("%v", err)
	}
	m, err := o.Manager()
	if err != nil {
		return err
	}
	key := config.NotifySecretKey(config.NormalizeName(o.Name))
	secret, err := readSecret(ctx, o.IO, fmt.Sprintf("Signing key %s: ", key))
	if err != nil {
		return err
	}
	where, err := m.SetNotifySecret(ctx, o.Name, secret)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.IO.ErrOut, "Stored the signing key %s in %s.\n", key, where)
	return nil
}

// notifyAfter sends the notifications of what a command just found
// (`refresh`, `profiles check`, `profiles verify`), as the agent does
// after each pass. A sink that fails is a warning, never the command's
// failure: it is tried again next time. f narrows the profiles (group,
// provider); its window and statuses are ignored, since what was told
// must not depend on a command line's --expiring-within.
func notifyAfter(ctx context.Context, warn io.Writer, m *profiles.Manager, f profiles.Filter, renewals []profiles.RenewResult) {
	if !m.HasSinks() || ctx.Err() != nil {
		return
	}
	views, err := m.List(ctx, profiles.Filter{Group: f.Group, Provider: f.Provider})
	if err != nil {
		fmt.Fprintf(warn, "warning: no notifications sent: %v\n", err)
		return
	}
	rep := m.NotifyTransitions(ctx, views, renewals)
	for _, r := range rep.Failed {
		fmt.Fprintf(warn, "warning: the %s event of %s did not reach %s: %s; it is tried again next time\n", r.Event.Kind, r.Event.Profile, r.Sink, oneLine(r.Err.Error()))
	}
	if rep.Err != nil {
		fmt.Fprintf(warn, "warning: %v\n", rep.Err)
	}
}

// warnUnless is where notifyAfter's warnings go: nowhere under --quiet.
func warnUnless(quiet bool, w io.Writer) io.Writer {
	if quiet {
		return io.Discard
	}
	return w
}
