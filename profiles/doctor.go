package profiles

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sbctl/sbctl/auth/flow"
	"github.com/sbctl/sbctl/auth/provider"
	"github.com/sbctl/sbctl/auth/store"
)

// DoctorCheck is one line of `sbctl doctor`.
type DoctorCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Warn   bool   `json:"warning,omitempty"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Doctor checks what sbctl needs: the config (already loaded by Open), the
// state directory, the token store, a browser and the clock.
func (m *Manager) Doctor(ctx context.Context) []DoctorCheck {
	var out []DoctorCheck
	cfgDetail := fmt.Sprintf("%s: %d providers, %d groups, %d profiles", m.config().Path, len(m.config().Providers), len(m.config().Groups), len(m.config().Profiles))
	if !m.config().Exists {
		out = append(out, DoctorCheck{Name: "config", OK: true, Warn: true, Detail: m.config().Path + " does not exist yet",
			Fix: "create it with a `providers:` section (see README.md), or run `sbctl profiles add`"})
	} else {
		out = append(out, DoctorCheck{Name: "config", OK: true, Detail: cfgDetail})
	}
	out = append(out, m.checkStateDir(ctx))
	out = append(out, m.checkStore(ctx))
	if c, ok := m.checkRecovery(ctx); ok {
		out = append(out, c)
	}
	out = append(out, checkBrowser())
	out = append(out, m.checkClock(ctx))
	return out
}

func (m *Manager) checkStateDir(ctx context.Context) DoctorCheck {
	c := DoctorCheck{Name: "state", Detail: m.State.Path}
	if m.TeamMode() {
		c.Detail = "in " + m.backend.where
	}
	_, err := m.State.Load()
	switch {
	case errors.Is(err, ErrStateCorrupt):
		c.OK, c.Warn = true, true
		c.Detail += " is corrupt; it will be rebuilt from the token store on the next run"
		return c
	case err != nil && !errors.Is(err, errStateMissing):
		c.Detail = err.Error()
		c.Fix = "check the permissions of " + filepath.Dir(m.State.Path)
		return c
	}
	if err := m.State.Update(ctx, func(*State) error { return nil }); err != nil {
		c.Detail = err.Error()
		c.Fix = "make " + filepath.Dir(m.State.Path) + " writable, or set XDG_STATE_HOME"
		return c
	}
	c.OK = true
	return c
}

// checkStore writes, reads and deletes a probe item.
func (m *Manager) checkStore(ctx context.Context) DoctorCheck {
	c := DoctorCheck{Name: "token store"}
	s, err := m.Store()
	if err != nil {
		c.Detail = err.Error()
		return c
	}
	c.Detail = s.Describe()
	if err := ProbeStore(ctx, s); err != nil {
		c.Detail, c.Fix = err.Error(), storeFix()
		return c
	}
	c.OK = true
	c.Detail += ": read and write work"
	if _, ok := s.(*store.File); ok {
		c.Warn = true
		c.Detail += " (plain-file store: tokens are readable by anyone who can read the file)"
	}
	return c
}

func storeFix() string {
	if runtime.GOOS == "linux" {
		return "start and unlock a Secret Service (e.g. `gnome-keyring-daemon --unlock`), or opt in to the plain-file store with --token-store file"
	}
	return "unlock the keychain, or opt in to the plain-file store with --token-store file"
}

// checkBrowser says what `sbctl reauth` would open (flow.ResolveBrowser,
// the resolution the sign-in itself uses).
func checkBrowser() DoctorCheck {
	c := DoctorCheck{Name: "browser"}
	b, err := flow.ResolveBrowser()
	switch {
	case err == nil:
		c.OK, c.Detail = true, b.Program
		if b.Source != "system" {
			c.Detail = b.Source + ": " + b.Program
		}
	case errors.Is(err, flow.ErrNoBrowser):
		c.OK, c.Warn = true, true
		c.Detail = "no browser found (" + strings.Join(b.Candidates, ", ") + ")"
		c.Fix = "sign-ins will print the URL to open elsewhere; on a headless machine use the manual or device sign-in"
	default:
		c.Detail = err.Error()
		c.Fix = "fix " + b.Source + ", or sign in with the printed URL (no browser) and open it yourself"
	}
	return c
}

// clockCheckTimeout bounds the clock check's requests, all providers
// together: doctor must stay quick offline.
const clockCheckTimeout = 5 * time.Second

// clockProbes bounds how many providers are asked at once.
const clockProbes = 8

// checkClock catches a wrong clock, which misjudges every expiry. A year
// before sbctl existed is proof enough without the network; otherwise the
// clock is compared with each configured provider's Date header, and the
// largest skew is reported with its host. Providers that cannot be asked
// (offline, no Date) are named, and are no failure.
func (m *Manager) checkClock(ctx context.Context) DoctorCheck {
	now := m.now()
	c := DoctorCheck{Name: "clock", Detail: now.UTC().Format(time.RFC3339)}
	if now.Year() < 2025 {
		c.Fix = "set the system clock (timedatectl set-ntp true): token expiry depends on it"
		c.Detail += " is before 2025"
		return c
	}
	c.OK = true
	if len(m.config().Providers) == 0 {
		return c
	}
	readings := m.measureClocks(ctx)
	var worst *clockReading
	var unasked []string
	compared := 0
	for i := range readings {
		r := &readings[i]
		if r.note != "" {
			unasked = append(unasked, r.provider+" "+r.note)
			continue
		}
		compared++
		if worst == nil || abs(r.skew) > abs(worst.skew) {
			worst = r
		}
	}
	switch {
	case worst == nil:
		c.Detail += "; not compared with any provider"
	case abs(worst.skew) > provider.ClockSkewThreshold:
		dir := "ahead of"
		if worst.skew < 0 {
			dir = "behind"
		}
		c.OK = false
		c.Detail += fmt.Sprintf(" is %s %s %s (provider %s)", provider.HumanDuration(worst.skew), dir, worst.host, worst.provider)
		c.Fix = provider.ClockFix() + ": sbctl judges token lifetimes by it, the servers by theirs"
	default:
		c.Detail += fmt.Sprintf("; within %s of %s", provider.HumanDuration(worst.skew), worst.host)
		if compared > 1 {
			c.Detail += fmt.Sprintf(" (the largest difference of %d providers)", compared)
		}
	}
	if len(unasked) > 0 {
		c.Detail += "; " + strings.Join(unasked, ", ")
	}
	return c
}

// clockReading is one provider's answer to MeasureClock; note says why
// there is none.
type clockReading struct {
	provider string
	skew     time.Duration
	host     string
	note     string
}

// clockNote says, in a few words, why a provider could not be compared.
func clockNote(err error) string {
	var pe *provider.Error
	switch {
	case errors.Is(err, provider.ErrNoDate):
		return "sent no Date header"
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("did not answer within %s (offline?)", clockCheckTimeout)
	case errors.As(err, &pe) && pe.Kind == provider.KindTransient:
		return "did not answer (offline?)"
	}
	return "has no endpoint to ask"
}

// measureClocks asks every configured provider for its Date, at most
// clockProbes at once, within clockCheckTimeout overall. No client secret
// is needed, so none is read from the keychain; a provider whose settings
// do not make a Provider is skipped with a note.
func (m *Manager) measureClocks(ctx context.Context) []clockReading {
	ctx, cancel := context.WithTimeout(ctx, clockCheckTimeout)
	defer cancel()
	out := make([]clockReading, len(m.config().Providers))
	sem := make(chan struct{}, clockProbes)
	var wg sync.WaitGroup
	for i, cp := range m.config().Providers {
		out[i].provider = cp.Name
		p, err := provider.New(Settings(cp), &http.Client{Timeout: clockCheckTimeout})
		if err != nil {
			out[i].note = "is not fully configured"
			continue
		}
		p.SetClock(m.now)
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				out[i].note = clockNote(ctx.Err())
				return
			}
			skew, host, err := p.MeasureClock(ctx)
			if err != nil {
				out[i].note = clockNote(err)
				return
			}
			out[i].skew, out[i].host = skew, host
		})
	}
	wg.Wait()
	return out
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// checkRecovery moves renewed tokens waiting in recovery files into the
// token store (see recovery.go); ok is false when none were waiting.
func (m *Manager) checkRecovery(ctx context.Context) (DoctorCheck, bool) {
	restored, waiting := m.RestoreRecovered(ctx)
	if len(restored) == 0 && len(waiting) == 0 {
		return DoctorCheck{}, false
	}
	c := DoctorCheck{Name: "recovery", OK: len(waiting) == 0}
	var parts []string
	if len(restored) > 0 {
		parts = append(parts, fmt.Sprintf("moved the renewed tokens of %s from recovery files into the token store", strings.Join(restored, ", ")))
	}
	for _, name := range sortedNames(waiting) {
		parts = append(parts, fmt.Sprintf("the renewed token of %q still waits in %s: %v", name, m.recoveryPath(name), waiting[name]))
	}
	c.Detail = strings.Join(parts, "; ")
	if !c.OK {
		c.Fix = "make the token store usable (see the token store line), then run `sbctl doctor` again; until then the file is the only copy of those grants"
	}
	return c, true
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
