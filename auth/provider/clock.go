package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ClockSkewThreshold is how far the local clock may differ from a server's
// Date header before sbctl treats it as wrong: beyond it, token lifetimes
// are read against both clocks (see answerClock) and the skew is worth a
// warning. Date has a resolution of one second and an answer takes a while
// to arrive, so a smaller difference says nothing.
const ClockSkewThreshold = 5 * time.Minute

// ErrNoDate is wrapped by MeasureClock's error when the server's answer
// carries no usable Date header.
var ErrNoDate = errors.New("the server's answer carries no Date header")

// answerClock is when one answer arrived, by the local clock and, when the
// two differ by more than ClockSkewThreshold, by the server's Date.
//
// A lifetime (expires_in) is relative, but it is stored as an absolute
// time and compared later with the local clock, which may be put right
// meanwhile. Which reading will hold when the token is used cannot be
// known, so each lifetime takes the side that cannot lie:
//   - an access token ends at the earlier reading: it is renewed early
//     rather than handed out dead (`sbctl token` must never print an
//     expired token);
//   - a refresh token (the grant) ends at the later reading: the end is a
//     prediction, and the server refuses a refresh token that really
//     ended, so a grant is never called dead early.
//
// With the local clock 2 h ahead, a one-hour access token is due at once by
// the local clock (it is renewed on each use until the clock is fixed) and
// right when the clock is; with the clock 31 days behind, a 30-day refresh
// token ends 30 days after the server's Date, not a day before the true
// time.
type answerClock struct {
	local  time.Time
	server time.Time // zero when there was no Date or the clocks agree
}

func newAnswerClock(local, server time.Time) answerClock {
	c := answerClock{local: local}
	if !server.IsZero() && skewed(local.Sub(server)) {
		c.server = server
	}
	return c
}

func skewed(d time.Duration) bool { return d > ClockSkewThreshold || d < -ClockSkewThreshold }

// accessEnd is when an access token with lifetime d ends (the earlier
// reading).
func (c answerClock) accessEnd(d time.Duration) time.Time {
	if c.server.IsZero() {
		return c.local.Add(d)
	}
	return minTime(c.local.Add(d), c.server.Add(d))
}

// grantEnd is when a refresh token with lifetime d ends (the later reading).
func (c answerClock) grantEnd(d time.Duration) time.Time {
	if c.server.IsZero() {
		return c.local.Add(d)
	}
	return maxTime(c.local.Add(d), c.server.Add(d))
}

// accessAt and grantAt read an absolute time the server stated (an
// introspection's exp, debug_token's expires_at) the way accessEnd and
// grantEnd read a lifetime: by the local clock that time is server time
// plus the skew, and each takes the side that cannot lie. Zero stays zero.
func (c answerClock) accessAt(t time.Time) time.Time {
	if t.IsZero() || c.server.IsZero() {
		return t
	}
	return minTime(t, t.Add(c.local.Sub(c.server)))
}

func (c answerClock) grantAt(t time.Time) time.Time {
	if t.IsZero() || c.server.IsZero() {
		return t
	}
	return maxTime(t, t.Add(c.local.Sub(c.server)))
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// serverNow is the time to compare the server's own absolute times with
// (debug_token's expires_at, data_access_expires_at): its Date when the
// clocks disagree, else the local receive time.
func (c answerClock) serverNow() time.Time {
	if !c.server.IsZero() {
		return c.server
	}
	return c.local
}

// parseDate reads the server's clock from an answer: its Date header, plus
// its Age when a cache served it (a cache keeps the origin's Date, so a
// discovery document cached for an hour would otherwise look like a clock
// an hour behind; RFC 9111 §5.1). Zero when there is no valid Date.
func parseDate(h http.Header) time.Time {
	v := h.Get("Date")
	if v == "" {
		return time.Time{}
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return time.Time{}
	}
	if age, err := strconv.ParseInt(strings.TrimSpace(h.Get("Age")), 10, 64); err == nil && age > 0 && age < 1<<31 {
		t = t.Add(time.Duration(age) * time.Second)
	}
	return t
}

// clockMeter keeps the latest comparison of the local clock with a
// server's Date. Every answer through the Provider's transport updates it,
// whoever sent the request (send, or x/oauth2 through HTTPClient).
type clockMeter struct {
	now func() time.Time

	mu   sync.Mutex
	last skewReading
}

type skewReading struct {
	skew time.Duration // local minus server: > 0 when the local clock is ahead
	host string
	at   time.Time // local time of the answer
	ok   bool
}

func (m *clockMeter) record(host string, h http.Header) {
	if m == nil {
		return
	}
	date := parseDate(h)
	if date.IsZero() {
		return
	}
	local := m.now()
	m.mu.Lock()
	m.last = skewReading{skew: local.Sub(date), host: host, at: local, ok: true}
	m.mu.Unlock()
}

func (m *clockMeter) latest() skewReading {
	if m == nil {
		return skewReading{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

// ClockSkew is the latest comparison of the local clock with a server of
// this Provider: skew is local minus the server's Date (positive when the
// local clock is ahead), host the server that answered. ok is false until
// an answer with a Date arrived. A skew beyond ClockSkewThreshold is worth
// telling the user (see SkewWarning): expiry predictions then rest on a
// wrong clock.
func (p *Provider) ClockSkew() (skew time.Duration, host string, ok bool) {
	r := p.meter.latest()
	return r.skew, r.host, r.ok
}

// opClock names MeasureClock's request in errors.
const opClock = "clock"

// MeasureClock sends one harmless request and compares the answer's Date
// with the local clock: for oidc a GET of the discovery document, else a
// HEAD of the token endpoint (or, without one, of the userinfo or
// authorization endpoint), without its query. The request carries no
// secret and follows no redirect (a 3xx has a Date too). skew is local
// minus server, as in ClockSkew, which it also updates. A failure to
// connect is a KindTransient *Error (offline, or the host is down); an
// answer without a Date wraps ErrNoDate.
func (p *Provider) MeasureClock(ctx context.Context) (skew time.Duration, host string, err error) {
	target, method := p.clockURL()
	if target == "" {
		return 0, "", p.configError(opClock, "", "the provider has no endpoint to ask", "set its URLs in the config")
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return 0, "", p.configError(opClock, "", "an endpoint URL is not valid", "check the provider's URLs in the config")
	}
	u.RawQuery, u.Fragment = "", ""
	host = u.Host
	// No query, no credentials: the request carries no secret, so its
	// answer may be a redirect, whose own Date is all that is wanted.
	req, err := http.NewRequestWithContext(withNoSecret(ctx), method, u.String(), nil)
	if err != nil {
		return 0, host, p.configError(opClock, host, "the request could not be built", "check the provider's URLs in the config")
	}
	hc := *p.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		return 0, host, p.networkError(request{op: opClock}, host, err, false)
	}
	local := p.now()
	resp.Body.Close()
	date := parseDate(resp.Header)
	if date.IsZero() {
		return 0, host, &Error{Kind: KindOther, Provider: p.name, Op: opClock, Host: host, Status: resp.StatusCode, cause: ErrNoDate,
			detail: "the answer from " + host + " carries no Date header", advice: "nothing to fix here: the clock cannot be compared with this server"}
	}
	return local.Sub(date), host, nil
}

// clockURL is what MeasureClock asks. Only the configured or preset URLs
// are used, so an oidc provider's discovery is the request itself.
func (p *Provider) clockURL() (string, string) {
	pr := p.preset
	if pr.Name == TypeOIDC && pr.Issuer != "" {
		return strings.TrimSuffix(pr.Issuer, "/") + "/.well-known/openid-configuration", http.MethodGet
	}
	return firstNonEmpty(pr.TokenURL, pr.UserinfoURL, pr.AuthURL, pr.IntrospectURL, pr.RevokeURL), http.MethodHead
}

// SkewWarning is the sentence for a skew beyond ClockSkewThreshold, for
// every front end to say the same: "the system clock is 2h ahead of
// api.x.com: expiry times are misjudged until it is right; fix the system
// clock (timedatectl set-ntp true)". It returns "" for a smaller skew.
func SkewWarning(skew time.Duration, host string) string {
	if !skewed(skew) {
		return ""
	}
	dir := "ahead of"
	if skew < 0 {
		dir, skew = "behind", -skew
	}
	return fmt.Sprintf("the system clock is %s %s %s: expiry times are misjudged until it is right; %s",
		HumanDuration(skew), dir, host, ClockFix())
}

// ClockFix says how to set the system clock right on this system.
func ClockFix() string {
	switch runtime.GOOS {
	case "darwin":
		return "fix the system clock (System Settings > General > Date & Time: Set time and date automatically)"
	case "windows":
		return "fix the system clock (Settings > Time & language > Date & time: Set time automatically, or `w32tm /resync`)"
	}
	return "fix the system clock (timedatectl set-ntp true)"
}

// HumanDuration writes a skew the way a person says it: "31 days", "2h",
// "2h30m", "12m", "1m30s", "40s". Its sign is dropped (the caller says
// ahead or behind).
func HumanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int((d+12*time.Hour)/(24*time.Hour)))
	case d >= 10*time.Minute:
		d = d.Round(time.Minute)
		h, m := d/time.Hour, (d%time.Hour)/time.Minute
		switch {
		case h == 0:
			return fmt.Sprintf("%dm", m)
		case m == 0:
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
	d = d.Round(time.Second)
	m, sec := d/time.Minute, (d%time.Minute)/time.Second
	switch {
	case m == 0:
		return fmt.Sprintf("%ds", sec)
	case sec == 0:
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%dm%ds", m, sec)
}
