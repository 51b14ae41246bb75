package profiles

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sbctl/sbctl/auth/provider"
	"github.com/sbctl/sbctl/config"
)

// UsageError is a bad argument from the user (exit code 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// NotFoundError names an unknown profile, group or provider and the close
// names that exist.
type NotFoundError struct {
	Kind, Name string
	Similar    []string
	// Hint replaces the suggestions when there is a better next step (a
	// preset that is not configured yet).
	Hint string
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("no %s named %q", e.Kind, e.Name)
	if e.Hint != "" {
		return msg + "; " + e.Hint
	}
	if len(e.Similar) > 0 {
		q := make([]string, len(e.Similar))
		for i, s := range e.Similar {
			q[i] = strconv.Quote(s)
		}
		msg += "; did you mean " + strings.Join(q, " or ") + "?"
	} else {
		switch e.Kind {
		case "profile":
			msg += "; see `sbctl profiles list`"
		case "group":
			msg += "; see `sbctl groups list`"
		case "provider":
			msg += "; see `sbctl providers list`"
		}
	}
	return msg
}

// Profile looks a profile up, or returns a NotFoundError with suggestions.
func (m *Manager) Profile(name string) (*config.Profile, error) { return m.lookupProfile(name) }

// Group looks a group up, or returns a NotFoundError with suggestions.
func (m *Manager) Group(name string) (*config.Group, error) {
	if g, ok := m.config().Group(name); ok {
		return g, nil
	}
	return nil, &NotFoundError{Kind: "group", Name: name, Similar: config.Closest(name, m.config().GroupNames())}
}

// Provider looks a configured provider up, or returns a NotFoundError. A
// preset's name that is not configured yet says how to configure it.
func (m *Manager) Provider(name string) (*config.Provider, error) {
	if p, ok := m.config().Provider(name); ok {
		return p, nil
	}
	nf := &NotFoundError{Kind: "provider", Name: name, Similar: config.Closest(name, m.config().ProviderNames())}
	if pr, ok := provider.Lookup(name); ok && pr.Name != provider.TypeOIDC && pr.Name != provider.TypeOAuth2 {
		nf.Hint = fmt.Sprintf("%s is a built-in preset that is not configured yet: add it with `sbctl providers add %s --client-id <your %s app's client id>`", pr.Name, pr.Name, pr.Title)
	}
	return nil, nf
}
