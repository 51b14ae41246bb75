package cmd

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sbctl/sbctl/profiles"
)

// agentFlags are the flags of `sbctl agent` that shape its work; `agent
// install` takes the same ones and writes those given into the service.
type agentFlags struct {
	RefreshMargin  time.Duration
	RefreshAtLeast time.Duration
	VerifyEvery    time.Duration
	Concurrency    int
	MetricsAddr    string
	LogFormat      string
	LogLevel       string
}

// agentFlagNames lists them in the order a service's command line gives
// them.
var agentFlagNames = []string{"refresh-margin", "refresh-at-least", "verify-every", "concurrency", "metrics-addr", "log-format", "log-level"}

func defaultAgentFlags() agentFlags {
	return agentFlags{
		RefreshMargin: profiles.DefaultRefreshMargin, RefreshAtLeast: profiles.DefaultRefreshAtLeast,
		VerifyEvery: profiles.DefaultVerifyEvery, Concurrency: profiles.DefaultConcurrency,
		LogFormat: "text", LogLevel: "info",
	}
}

func addAgentFlags(fs *pflag.FlagSet, a *agentFlags) {
	fs.Var(durationFlag{&a.RefreshMargin}, "refresh-margin", "renew when the access token ends within this")
	fs.Var(durationFlag{&a.RefreshAtLeast}, "refresh-at-least", "renew at least this often, whatever the expiry (0: off)")
	fs.Var(durationFlag{&a.VerifyEvery}, "verify-every", "ask each network whether the grant is still good this often (0: off)")
	fs.IntVarP(&a.Concurrency, "concurrency", "c", a.Concurrency, "profiles renewed or checked at once")
	fs.StringVar(&a.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics and /healthz here, such as 127.0.0.1:9464 (a bare port is on loopback)")
	fs.StringVar(&a.LogFormat, "log-format", a.LogFormat, "log lines on stderr: text or json")
	fs.StringVar(&a.LogLevel, "log-level", a.LogLevel, "least important log lines shown: debug, info, warn or error")
}

// check refuses flag values the agent cannot work with.
func (a *agentFlags) check() error {
	if a.RefreshMargin <= 0 {
		return usageErr("--refresh-margin must be more than 0, such as 15m")
	}
	if err := profiles.CheckConcurrency(a.Concurrency); err != nil {
		return err
	}
	if a.LogFormat != "text" && a.LogFormat != formatJSON {
		return usageErr("--log-format %q: use text or json", a.LogFormat)
	}
	if _, err := parseLogLevel(a.LogLevel); err != nil {
		return err
	}
	if a.MetricsAddr != "" {
		if _, _, err := metricsAddr(a.MetricsAddr); err != nil {
			return err
		}
	}
	return nil
}

func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, usageErr("--log-level %q: use debug, info, warn or error", s)
	}
	return l, nil
}

// logger is the agent's structured log on w.
func (a *agentFlags) logger(w io.Writer) *slog.Logger {
	level, _ := parseLogLevel(a.LogLevel)
	ho := &slog.HandlerOptions{Level: level}
	if a.LogFormat == formatJSON {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}

// domain is the flags as the domain's options: 0 means "off" on the
// command line and a negative duration in AgentOptions.
func (a *agentFlags) domain() profiles.AgentOptions {
	off := func(d time.Duration) time.Duration {
		if d == 0 {
			return -1
		}
		return d
	}
	return profiles.AgentOptions{RefreshMargin: a.RefreshMargin, RefreshAtLeast: off(a.RefreshAtLeast), VerifyEvery: off(a.VerifyEvery), Concurrency: a.Concurrency}
}

type agentOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)
	Flags   agentFlags
	Once    bool
	// Log is the agent's log (set by RunE from the flags).
	Log *slog.Logger
}

func newAgentCmd(f *Factory, runF func(*agentOptions) error) *cobra.Command {
	o := &agentOptions{IO: f.IO, Manager: f.Manager, Flags: defaultAgentFlags()}
	c := &cobra.Command{
		Use:   "agent [--once] [--refresh-margin DUR] [--refresh-at-least DUR] [--verify-every DUR] [--metrics-addr ADDR]",
		Short: "Keep every profile alive unattended: renew, verify, notify, export metrics",
		Long: `Run in the foreground (under systemd, launchd, a container) and keep the
fleet alive: renew every renewable profile when its access token is within
--refresh-margin of its end and at least every --refresh-at-least (networks
end grants left unused; Meta's long-lived tokens are exchanged on this
schedule); ask each network every --verify-every whether the grant is still
good; tell the config's notify: sinks once per change. Between passes it
sleeps until something is due (at most a minute, so config edits are seen).

A transient failure backs off (30 s doubling to 1 h, jittered; a network's
Retry-After is honoured); a refused grant is not tried again until it is
re-authenticated. Log lines go to stderr (--log-format text or json), never
a secret. SIGTERM or Ctrl-C lets renewals in flight store their tokens and
exits 0.

With --once it does one pass and exits like 'sbctl refresh': 0 all fine,
4 some need re-authentication, 1 errors. In team mode one agent per team is
active; the others stand by and take over when it stops.

'sbctl agent install' makes it a service of your session; see
docs/automation.md.`,
		Example: `  sbctl agent
  sbctl agent --metrics-addr 127.0.0.1:9464 --log-format json
  sbctl agent --once                     # from cron or a systemd timer
  sbctl agent install                    # a systemd user service, launchd agent or scheduled task`,
		Args: noArgsOrSubcommand,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.Flags.check(); err != nil {
				return err
			}
			o.Log = o.Flags.logger(f.IO.ErrOut)
			// The Manager's warnings become log lines too, so that a json
			// log stays one JSON object per line.
			f.warn = &logWarnings{log: o.Log}
			return runWith(c.Context(), o, runF, runAgent)
		},
	}
	c.Flags().BoolVar(&o.Once, "once", false, "one pass, then exit like refresh (0 / 4 / 1)")
	addAgentFlags(c.Flags(), &o.Flags)
	c.AddCommand(newAgentInstallCmd(f, nil), newAgentUninstallCmd(f, nil), newAgentStatusCmd(f, nil))
	return c
}

func runAgent(ctx context.Context, o *agentOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	ao := o.Flags.domain()
	ao.Once, ao.Log = o.Once, o.Log
	if o.Flags.MetricsAddr != "" {
		metrics := newAgentMetrics()
		stop, err := metrics.serve(ctx, o.Flags.MetricsAddr, o.Log)
		if err != nil {
			return err
		}
		defer stop()
		ao.OnPass = metrics.observePass
	}
	st, err := m.RunAgent(ctx, ao)
	if !o.Once || err != nil {
		return err
	}
	t := tallyRenewals(st.Renewals)
	t.addChecks(st.Verifications)
	return t.exitErr()
}

// addChecks counts a pass's checks as renewals are counted: a refused
// grant needs re-authentication, a check that could not be made failed.
func (t *renewalTally) addChecks(checks []profiles.VerifyResult) {
	for _, r := range checks {
		switch {
		case r.Failed:
			t.failed++
		case r.Reason != "":
			t.reauth++
		}
	}
}

// logWarnings turns the Manager's warning lines into the agent's log
// lines. A warning said again and again (the plain-file store warns at
// every write) is logged once an hour, not at every renewal.
type logWarnings struct {
	log *slog.Logger

	mu      sync.Mutex
	partial []byte
	said    map[string]time.Time
}

// warnEvery is how often the same warning is repeated in the log.
const warnEvery = time.Hour

func (w *logWarnings) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSpace(strings.TrimPrefix(string(w.partial[:i]), "warning: "))
		w.partial = w.partial[i+1:]
		if line == "" {
			continue
		}
		if at, ok := w.said[line]; ok && time.Since(at) < warnEvery {
			continue
		}
		if w.said == nil {
			w.said = map[string]time.Time{}
		}
		w.said[line] = time.Now()
		w.log.Warn(line)
	}
	return len(p), nil
}
