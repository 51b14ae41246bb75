package profiles

import (
	"context"
	"fmt"
	"strings"

	"github.com/sbctl/sbctl/auth/provider"
	"github.com/sbctl/sbctl/config"
)

// First-run setup (`sbctl init`, and the TUI's add form): which providers
// to offer, the checks a form runs as the user types, and one call that
// writes what the form asked for, through the same edits as `providers
// add` and `profiles add`.

// SetupChoices are the providers a first-run form offers, each with the
// redirect URI to register: the configured providers (file order), then
// the network presets not configured yet. The generic kinds (oidc,
// oauth2) are left out: they need endpoints a short form does not ask
// for (`sbctl providers add <name> --preset oidc …`).
func (m *Manager) SetupChoices() []ProviderInfo {
	var out []ProviderInfo
	for _, name := range m.ProviderNames() {
		if info, err := m.DescribeProvider(name); err == nil {
			out = append(out, info)
		}
	}
	for _, p := range provider.Presets() {
		if p.Name == provider.TypeOIDC || p.Name == provider.TypeOAuth2 {
			continue
		}
		if _, configured := m.config().Provider(p.Name); configured {
			continue
		}
		if info, err := m.DescribeProvider(p.Name); err == nil {
			out = append(out, info)
		}
	}
	return out
}

// CheckProfileName says whether name can name a new profile: a valid name
// (config.ValidateName) that the config does not use yet. Forms call it
// as the user types; AddUnconnected and AddWithToken apply the same rule.
func (m *Manager) CheckProfileName(name string) error {
	name = config.NormalizeName(name)
	if err := config.ValidateName("profile", name); err != nil {
		return &UsageError{Msg: err.Error()}
	}
	if p, ok := m.config().Profile(name); ok {
		return &UsageError{Msg: fmt.Sprintf("profile %q already exists (%s:%d); pick another name, or run `sbctl reauth %s` to reconnect it", name, m.config().Path, p.Line, name)}
	}
	return nil
}

// CheckClientSecret is the form a client secret must have to be stored:
// one word, surrounding blanks (a pasted newline) trimmed. It returns the
// secret to store. The errors never quote it.
func CheckClientSecret(secret string) (string, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return "", &UsageError{Msg: "the client secret is empty"}
	}
	if strings.ContainsAny(secret, "\r\n\t ") {
		return "", &UsageError{Msg: "the client secret contains spaces or several lines; give the secret alone"}
	}
	return secret, nil
}

// CheckClientIDAnswer checks a form's client id field: an app's client
// id is required to set a network up.
func CheckClientIDAnswer(id string) error {
	if strings.TrimSpace(id) == "" {
		return &UsageError{Msg: "enter the client id of the app you registered"}
	}
	return nil
}

// CheckClientSecretAnswer checks a form's client secret field: empty (none
// stored now, `sbctl providers set-secret` adds it later) or a secret
// CheckClientSecret accepts.
func CheckClientSecretAnswer(secret string) error {
	if strings.TrimSpace(secret) == "" {
		return nil
	}
	_, err := CheckClientSecret(secret)
	return err
}

// RegisterText is what to register with the network before a sign-in can
// work, as a form shows it next to the client id it asks for.
func (p ProviderInfo) RegisterText() string {
	s := "Register an app with " + p.Title + "."
	if p.RedirectURI != "" {
		s += "\nIts redirect URI: " + p.RedirectURI
	}
	if p.RedirectNote != "" {
		s += "\n(" + p.RedirectNote + ")"
	}
	return s
}

// ProviderSetup is a network preset to configure: the provider takes the
// preset's name, with the client id (and, for a confidential app, the
// client secret) of the app the user registered with the network.
type ProviderSetup struct {
	Preset   string
	ClientID string
	// ClientSecret goes to the token store, never to the config; "" stores
	// none (`sbctl providers set-secret` can add it later).
	ClientSecret string
}

// SetupSpec is what a first-run form asked for: providers to add, and
// optionally a first profile (on one of them, or on a provider already
// configured).
type SetupSpec struct {
	Providers []ProviderSetup
	Profile   *AddSpec
}

// SetupResult is what SetUp wrote, in order. After an error it holds what
// was written before it, so a front end can say what is done (and show
// the redirect URIs to register) as well as what failed.
type SetupResult struct {
	Providers []ProviderInfo // as `providers show` describes them
	Secrets   []string       // providers whose client secret was stored
	Profile   string         // the profile added, unconnected ("" for none)
}

// SetUp writes a first-run form's answers: each provider as `providers
// add` writes it (in place, checked as sign-in would use it, an existing
// provider refused by name), its client secret into the token store, then
// the profile as `profiles add --no-connect` writes it. The secrets' form
// and the profile's name are checked before anything is written, so a typo
// changes nothing; a failure after that stops there, and the result says
// what was already done.
func (m *Manager) SetUp(ctx context.Context, s SetupSpec) (SetupResult, error) {
	var res SetupResult
	secrets := make([]string, len(s.Providers))
	for i, p := range s.Providers {
		if p.ClientSecret == "" {
			continue
		}
		v, err := CheckClientSecret(p.ClientSecret)
		if err != nil {
			return res, &UsageError{Msg: fmt.Sprintf("%s: %v; nothing was written", p.Preset, err)}
		}
		secrets[i] = v
	}
	if s.Profile != nil {
		if err := m.CheckProfileName(s.Profile.Name); err != nil {
			return res, err
		}
	}
	for i, p := range s.Providers {
		info, err := m.AddProvider(ctx, ProviderSpec{Name: p.Preset, NewProvider: config.NewProvider{ClientID: strings.TrimSpace(p.ClientID)}})
		if err != nil {
			return res, err
		}
		res.Providers = append(res.Providers, info)
		if secrets[i] == "" {
			continue
		}
		if err := m.SetClientSecret(ctx, info.Name, secrets[i]); err != nil {
			return res, fmt.Errorf("provider %q is in the config, but its client secret was not stored: %w; store it with `sbctl providers set-secret %s`", info.Name, err, info.Name)
		}
		res.Secrets = append(res.Secrets, info.Name)
	}
	if s.Profile != nil {
		spec := s.Profile.normalized()
		if err := m.AddUnconnected(ctx, spec); err != nil {
			return res, err
		}
		res.Profile = spec.Name
	}
	return res, nil
}
