package cmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sbctl/sbctl/profiles"
)

// agentMetrics is the agent's Prometheus endpoint. It has a registry of
// its own (not the process-wide default), so it exports exactly the
// sbctl_* series below.
type agentMetrics struct {
	reg           *prometheus.Registry
	profiles      *prometheus.GaugeVec
	expiry        *prometheus.GaugeVec
	renewals      *prometheus.CounterVec
	verifications *prometheus.CounterVec
	notifications *prometheus.CounterVec
	lastPass      prometheus.Gauge
	active        prometheus.Gauge

	mu       sync.Mutex
	observed time.Time // wall clock of the last pass seen (for /healthz)
	standby  bool
	lastErr  string
}

// staleAfter: /healthz fails when no pass ended for this long (the agent
// passes at least every minute; a pass over thousands of profiles takes
// seconds).
const staleAfter = 5 * time.Minute

func newAgentMetrics() *agentMetrics {
	am := &agentMetrics{
		reg: prometheus.NewRegistry(),
		profiles: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sbctl_profiles",
			Help: "Profiles by status, as of the agent's last pass."}, []string{"status"}),
		expiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sbctl_connection_expiry_timestamp_seconds",
			Help: "When each profile's connection ends without a reauth (Unix time); absent when it is not known to end."}, []string{"profile", "provider"}),
		renewals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sbctl_renewals_total",
			Help: "Renewals by outcome: renewed, fresh, needs_reauth, not_renewable, failed, interrupted."}, []string{"provider", "outcome"}),
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sbctl_verifications_total",
			Help: "Checks with the networks by outcome: valid, needs_reauth, failed, not_connected."}, []string{"provider", "outcome"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sbctl_notifications_total",
			Help: "Notifications by sink and outcome: sent, failed."}, []string{"sink", "outcome"}),
		lastPass: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sbctl_agent_last_pass_timestamp_seconds",
			Help: "When the agent's last pass began (Unix time)."}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sbctl_agent_active",
			Help: "1 while this agent does the work, 0 while it stands by (team mode: another agent is active)."}),
	}
	am.reg.MustRegister(am.profiles, am.expiry, am.renewals, am.verifications, am.notifications, am.lastPass, am.active)
	return am
}

// observePass is AgentOptions.OnPass.
func (am *agentMetrics) observePass(st profiles.PassStats) {
	am.mu.Lock()
	am.observed, am.standby = time.Now(), st.Standby
	am.lastErr = ""
	if st.Err != nil {
		am.lastErr = st.Err.Error()
	}
	am.mu.Unlock()
	am.lastPass.Set(float64(st.At.UnixNano()) / 1e9)
	if st.Standby {
		// The active agent reports the team's profiles; a standby that
		// did too would count them twice in a sum over machines.
		am.active.Set(0)
		am.profiles.Reset()
		am.expiry.Reset()
		return
	}
	am.active.Set(1)
	if st.Err != nil {
		return // keep the last known figures
	}
	provider := make(map[string]string, len(st.Views))
	counts := make(map[profiles.Status]int, len(profiles.Statuses))
	am.expiry.Reset()
	for _, v := range st.Views {
		provider[v.Name] = v.Provider
		counts[v.Status]++
		if v.ConnectionExpiresAt != nil {
			am.expiry.WithLabelValues(v.Name, v.Provider).Set(float64(v.ConnectionExpiresAt.Unix()))
		}
	}
	for _, s := range profiles.Statuses {
		am.profiles.WithLabelValues(string(s)).Set(float64(counts[s]))
	}
	for _, r := range st.Renewals {
		outcome := string(r.Outcome)
		if r.Interrupted {
			outcome = "interrupted"
		}
		am.renewals.WithLabelValues(provider[r.Name], outcome).Inc()
	}
	for _, r := range st.Verifications {
		am.verifications.WithLabelValues(provider[r.Name], checkOutcome(r)).Inc()
	}
	for _, r := range st.Notified.Sent {
		am.notifications.WithLabelValues(r.Sink, "sent").Inc()
	}
	for _, r := range st.Notified.Failed {
		am.notifications.WithLabelValues(r.Sink, "failed").Inc()
	}
}

func checkOutcome(r profiles.VerifyResult) string {
	switch {
	case r.Failed:
		return "failed"
	case r.Valid:
		return "valid"
	case r.Reason != "":
		return string(profiles.OutcomeNeedsReauth)
	}
	return string(profiles.StatusNotConnected)
}

// healthz answers 200 while the agent passes (active or standing by), 503
// before its first pass and when passes stopped.
func (am *agentMetrics) healthz(w http.ResponseWriter, _ *http.Request) {
	am.mu.Lock()
	observed, standby, lastErr := am.observed, am.standby, am.lastErr
	am.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case observed.IsZero():
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "starting: no pass yet")
	case time.Since(observed) > staleAfter:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "stale: the last pass ended %s ago\n", time.Since(observed).Round(time.Second))
	case lastErr != "":
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "failing: the last pass could not list the profiles")
	case standby:
		fmt.Fprintln(w, "ok: standing by (another agent is active for the team)")
	default:
		fmt.Fprintln(w, "ok")
	}
}

// serve listens on addr (see metricsAddr) and serves /metrics and
// /healthz until ctx ends or stop is called.
func (am *agentMetrics) serve(ctx context.Context, addr string, log *slog.Logger) (stop func(), err error) {
	bind, loopback, err := metricsAddr(addr)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr %s: %w", addr, err)
	}
	if !loopback {
		log.Warn("the metrics endpoint is not on loopback: whoever can reach it sees the profile names and their status", "addr", l.Addr().String())
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(am.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", am.healthz)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("the metrics endpoint stopped", "error", err.Error())
		}
	}()
	log.Info("metrics", "url", "http://"+l.Addr().String()+"/metrics")
	var once sync.Once
	stop = func() {
		once.Do(func() {
			sctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		})
	}
	context.AfterFunc(ctx, stop)
	return stop, nil
}

// metricsAddr is the address to listen on for --metrics-addr: loopback
// unless the user names another host. A bare port and ":PORT" listen on
// 127.0.0.1 (not on every interface, as Go would read ":PORT"); "localhost"
// is 127.0.0.1. Another address is used as given, and loopback is false.
func metricsAddr(s string) (bind string, loopback bool, err error) {
	bad := func(why string) (string, bool, error) {
		return "", false, usageErr("--metrics-addr %q: %s; use HOST:PORT such as 127.0.0.1:9464", s, why)
	}
	host, port, splitErr := net.SplitHostPort(s)
	if splitErr != nil {
		if _, err := strconv.ParseUint(s, 10, 16); err != nil {
			return bad("not an address")
		}
		host, port = "", s
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return bad("bad port")
	}
	switch {
	case host == "" || strings.EqualFold(host, "localhost"):
		return net.JoinHostPort("127.0.0.1", port), true, nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return net.JoinHostPort(ip.String(), port), ip.IsLoopback(), nil
	}
	return net.JoinHostPort(host, port), false, nil
}
