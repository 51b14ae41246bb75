package profiles

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sbctl/sbctl/config"
)

// Filter narrows a list. Empty fields match everything; ExpiringWithin 0
// means the config's window.
type Filter struct {
	Group          string
	Provider       string
	Statuses       []Status
	ExpiringWithin time.Duration
}

// Window is the `expiring` window for a filter.
func (m *Manager) Window(f Filter) time.Duration {
	if f.ExpiringWithin > 0 {
		return f.ExpiringWithin
	}
	return m.config().Defaults.ExpiringWithin
}

// ParseStatus checks a status name given on the command line.
func ParseStatus(s string) (Status, error) {
	for _, st := range Statuses {
		if string(st) == s {
			return st, nil
		}
	}
	names := make([]string, len(Statuses))
	for i, st := range Statuses {
		names[i] = string(st)
	}
	return "", &UsageError{Msg: fmt.Sprintf("unknown status %q: use one of %s%s", s, strings.Join(names, ", "), config.DidYouMean(s, names))}
}

// List evaluates every profile that matches the filter, in config order,
// as the config file says now: it is reloaded first if it changed (a
// stat tells), so a long-running front end lists what another shell added
// or removed. A file that cannot be used is warned about and the last good
// config listed.
func (m *Manager) List(ctx context.Context, f Filter) ([]View, error) {
	m.refreshConfig()
	if f.Group != "" {
		if _, err := m.Group(f.Group); err != nil {
			return nil, err
		}
	}
	if f.Provider != "" {
		if _, err := m.Provider(f.Provider); err != nil {
			return nil, err
		}
	}
	st, err := m.loadState(ctx)
	if err != nil {
		return nil, err
	}
	now, window := m.now(), m.Window(f)
	out := make([]View, 0, len(m.config().Profiles))
	for _, p := range m.config().Profiles {
		if f.Provider != "" && p.Provider != f.Provider {
			continue
		}
		if f.Group != "" && !slices.Contains(p.Groups, f.Group) {
			continue
		}
		v := m.view(p, st.Profiles[p.Name], now, window)
		if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, v.Status) {
			continue
		}
		out = append(out, v)
	}
	return out, nil
}

// Show evaluates one profile.
func (m *Manager) Show(ctx context.Context, name string, window time.Duration) (View, error) {
	p, err := m.Profile(name)
	if err != nil {
		return View{}, err
	}
	st, err := m.loadState(ctx)
	if err != nil {
		return View{}, err
	}
	if window <= 0 {
		window = m.config().Defaults.ExpiringWithin
	}
	return m.view(p, st.Profiles[p.Name], m.now(), window), nil
}

// CheckResult sums a list up for `profiles check` and `verify`.
type CheckResult struct {
	NeedAction []View
	Expiring   []View
	Unknown    []View
	Total      int
}

// Summarize sorts views by what they need, in one place for every front
// end.
func Summarize(views []View) CheckResult {
	r := CheckResult{Total: len(views)}
	for _, v := range views {
		switch {
		case v.Status.NeedsAction():
			r.NeedAction = append(r.NeedAction, v)
		case v.Status == StatusExpiring:
			r.Expiring = append(r.Expiring, v)
		case v.Status == StatusUnknown:
			r.Unknown = append(r.Unknown, v)
		}
	}
	return r
}

// Healthy reports whether every profile is known to be fine: nothing
// needs action, nothing expires within the window, nothing is unknown.
func (r CheckResult) Healthy() bool {
	return len(r.NeedAction) == 0 && len(r.Expiring) == 0 && len(r.Unknown) == 0
}

// ExitCode is the process exit code of `profiles check` and `verify`
// (contract: SPEC §4): 3 when a profile needs action now, else 4 when some
// expire within the window, else 1 when some could not be checked
// (unknown), else 0. unchecked counts profiles a verify could not ask.
func (r CheckResult) ExitCode(unchecked int) int {
	switch {
	case len(r.NeedAction) > 0:
		return 3
	case len(r.Expiring) > 0:
		return 4
	case len(r.Unknown) > 0 || unchecked > 0:
		return 1
	}
	return 0
}

// Check evaluates every profile.
func (m *Manager) Check(ctx context.Context, f Filter) (CheckResult, error) {
	views, err := m.List(ctx, f)
	if err != nil {
		return CheckResult{}, err
	}
	return Summarize(views), nil
}
