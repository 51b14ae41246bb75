package profiles

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
)

// HTTPTimeout bounds each request to a provider.
const HTTPTimeout = 30 * time.Second

// ClientSecretEnv is the variable that gives a provider's client secret in
// CI: SBCTL_CLIENT_SECRET_<PROVIDER>, the name upper-cased with every other
// character than letters and digits turned into '_'.
func ClientSecretEnv(providerName string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(providerName) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return "SBCTL_CLIENT_SECRET_" + b.String()
}

// Settings turns a config entry into the provider package's settings
// (without the client secret).
func Settings(p *config.Provider) provider.Settings {
	return provider.Settings{
		Name: p.Name, Type: p.Type, ClientID: p.ClientID, Issuer: p.Issuer,
		AuthURL: p.AuthURL, TokenURL: p.TokenURL, RevokeURL: p.RevokeURL, IntrospectURL: p.IntrospectURL,
		UserinfoURL: p.UserinfoURL, DeviceAuthURL: p.DeviceAuthURL,
		Scopes: p.Scopes, Redirect: p.Redirect, RedirectPort: p.RedirectPort,
		RelayURL: p.RelayURL, GraphVersion: p.GraphVersion, ClientAuth: p.ClientAuth,
		RedirectPath: p.RedirectPath,
	}
}

// providerClient resolves a configured provider, with its client secret from
// $SBCTL_CLIENT_SECRET_<PROVIDER> or the keychain (`providers set-secret`).
func (m *Manager) providerClient(ctx context.Context, name string) (*provider.Provider, error) {
	return m.providerFor(ctx, name, nil)
}

// providerFor is providerClient with a profile's own scopes (nil: the
// provider's).
//
// Providers are kept for the Manager's life: a `refresh --all` over many
// profiles of one provider reads its client secret and (for oidc) fetches
// its discovery document once, not once per profile.
func (m *Manager) providerFor(ctx context.Context, name string, scopes []string) (*provider.Provider, error) {
	key := name + "\x00" + strings.Join(scopes, " ")
	m.provMu.Lock()
	defer m.provMu.Unlock()
	if p, ok := m.provs[key]; ok {
		return p, nil
	}
	p, err := m.newProvider(ctx, name, scopes)
	if err != nil {
		return nil, err
	}
	if m.provs == nil {
		m.provs = map[string]*provider.Provider{}
	}
	m.provs[key] = p
	return p, nil
}

func (m *Manager) newProvider(ctx context.Context, name string, scopes []string) (*provider.Provider, error) {
	cp, err := m.Provider(name)
	if err != nil {
		return nil, err
	}
	s := Settings(cp)
	if len(scopes) > 0 {
		s.Scopes = scopes
	}
	preset, _ := provider.Lookup(cp.Type)
	if v := m.clientSecretFromOutside(name); v != "" {
		s.ClientSecret = v
	} else if st, err := m.Store(); err == nil {
		v, err := st.Get(ctx, store.ClientKey(name))
		switch {
		case err == nil:
			s.ClientSecret = v
		case errors.Is(err, store.ErrNotFound):
		case preset.NeedsSecret:
			return nil, fmt.Errorf("reading the client secret of %q: %w", name, err)
		}
	}
	if s.ClientID == "" {
		return nil, fmt.Errorf("%s:%d: provider %q has no client_id: register an app with %s and put its client id in the config", m.config().Path, cp.Line, name, preset.Title)
	}
	if preset.NeedsSecret && s.ClientSecret == "" {
		return nil, fmt.Errorf("provider %q needs its app's client secret: run `sbctl providers set-secret %s` (it reads the secret from stdin into the keychain), or set %s", name, name, ClientSecretEnv(name))
	}
	p, err := provider.New(s, &http.Client{Timeout: HTTPTimeout})
	if err != nil {
		// provider.New names the provider itself; say where it is defined.
		msg := strings.TrimPrefix(err.Error(), fmt.Sprintf("provider %q: ", name))
		return nil, fmt.Errorf("%s:%d: provider %q: %s", m.config().Path, cp.Line, name, msg)
	}
	p.SetClock(m.now)
	return p, nil
}

func (m *Manager) clientSecretFromOutside(provider string) string {
	if m.opts.ClientSecret == nil {
		return ""
	}
	return strings.TrimSpace(m.opts.ClientSecret(provider))
}

// revokeAt revokes a token at its provider; `profiles remove` uses it.
func (m *Manager) revokeAt(ctx context.Context, providerName string, t *auth.Token) error {
	p, err := m.providerClient(ctx, providerName)
	if err != nil {
		return err
	}
	err = p.Revoke(ctx, t)
	if errors.Is(err, provider.ErrNoRevocation) {
		return ErrNoRevocation
	}
	return err
}

// ProviderInfo is what `providers show` tells: the preset's rules merged
// with the config, and what to register with the network.
type ProviderInfo struct {
	Name          string   `json:"name" yaml:"name"`
	Type          string   `json:"type" yaml:"type"`
	Title         string   `json:"title" yaml:"title"`
	Configured    bool     `json:"configured" yaml:"configured"`
	ClientID      string   `json:"client_id,omitempty" yaml:"client_id,omitempty"`
	Mode          string   `json:"mode" yaml:"mode"`
	Modes         []string `json:"modes" yaml:"modes"`
	RedirectURI   string   `json:"redirect_uri" yaml:"redirect_uri"`
	RedirectNote  string   `json:"redirect_note,omitempty" yaml:"redirect_note,omitempty"`
	AuthURL       string   `json:"auth_url,omitempty" yaml:"auth_url,omitempty"`
	TokenURL      string   `json:"token_url,omitempty" yaml:"token_url,omitempty"`
	RevokeURL     string   `json:"revoke_url,omitempty" yaml:"revoke_url,omitempty"`
	Issuer        string   `json:"issuer,omitempty" yaml:"issuer,omitempty"`
	Scopes        []string `json:"scopes" yaml:"scopes"`
	PKCE          string   `json:"pkce" yaml:"pkce"`
	ClientAuth    string   `json:"client_auth" yaml:"client_auth"`
	Renewal       string   `json:"renewal" yaml:"renewal"`
	RotatesTokens bool     `json:"rotates_refresh_tokens" yaml:"rotates_refresh_tokens"`
	Check         string   `json:"check" yaml:"check"`
	NeedsSecret   bool     `json:"needs_client_secret" yaml:"needs_client_secret"`
	Notes         string   `json:"notes,omitempty" yaml:"notes,omitempty"`
	Profiles      int      `json:"profiles" yaml:"profiles"`
}

// DescribeProvider explains a configured provider, or a preset by name when
// no provider of that name is configured.
func (m *Manager) DescribeProvider(name string) (ProviderInfo, error) {
	var s provider.Settings
	cp, configured := m.config().Provider(name)
	if configured {
		s = Settings(cp)
	} else if _, ok := provider.Lookup(name); ok {
		s = provider.Settings{Name: name, Type: name}
	} else {
		all := append(m.config().ProviderNames(), PresetNames()...)
		return ProviderInfo{}, &NotFoundError{Kind: "provider", Name: name, Similar: config.Closest(name, all)}
	}
	pr, _ := provider.Lookup(s.Type)
	// Describe with the preset's own URLs when the config gives none (an
	// oidc provider's come from discovery, which is not fetched here).
	if s.ClientID == "" {
		s.ClientID = "unset"
	}
	p, err := provider.New(s, &http.Client{Timeout: HTTPTimeout})
	callback := ""
	if err == nil {
		pr, callback = p.Preset(), p.RedirectPath()
	}
	info := ProviderInfo{
		Name: name, Type: s.Type, Title: pr.Title, Configured: configured,
		Mode: string(pr.Redirect), AuthURL: pr.AuthURL, TokenURL: pr.TokenURL, RevokeURL: pr.RevokeURL,
		Issuer: firstNonEmpty(s.Issuer, pr.Issuer), Scopes: pr.DefaultScopes, PKCE: string(pr.PKCE),
		ClientAuth: describeClientAuth(pr, s), Renewal: string(pr.Renewal), RotatesTokens: pr.RotatesRefresh,
		Check: string(pr.Check), NeedsSecret: pr.NeedsSecret, Notes: pr.Notes,
	}
	if configured {
		info.ClientID = cp.ClientID
		if len(cp.Scopes) > 0 {
			info.Scopes = cp.Scopes
		}
		for _, p := range m.config().Profiles {
			if p.Provider == name {
				info.Profiles++
			}
		}
	}
	if info.Scopes == nil {
		info.Scopes = []string{}
	}
	for _, md := range pr.Modes {
		info.Modes = append(info.Modes, string(md))
	}
	info.RedirectURI, info.RedirectNote = redirectToRegister(pr, s, callback)
	return info, nil
}

// describeClientAuth says how a confidential client authenticates: the
// config's choice, a network's documented method, or for the generic
// kinds HTTP Basic with one fallback to the form (RFC 6749 §2.3.1).
func describeClientAuth(pr provider.Preset, s provider.Settings) string {
	if s.ClientAuth != "" {
		if a, ok := auth.ParseClientAuth(s.ClientAuth); ok {
			return a.String()
		}
		return s.ClientAuth
	}
	if pr.Name == provider.TypeOIDC || pr.Name == provider.TypeOAuth2 {
		return "basic, then body once if the server refuses it"
	}
	return pr.ClientAuth.String()
}

// redirectToRegister is the redirect URI the user registers with the
// network for the provider's mode, and a note on it.
func redirectToRegister(pr provider.Preset, s provider.Settings, path string) (uri, note string) {
	if path == "" {
		path = "/callback/" + url.PathEscape(s.Name)
		if strings.HasSuffix(pr.CallbackPath, "/") {
			path += "/" // TikTok's registered URI ends in a slash
		}
	}
	port := s.RedirectPort
	if port == 0 {
		port = pr.FixedPort
	}
	switch pr.Redirect {
	case auth.RedirectRelay:
		note = "host the page of `sbctl providers relay-page` over HTTPS, register its address, and set relay_url"
		if s.RelayURL != "" {
			return s.RelayURL, note
		}
		return "https://<your relay page>", note
	case auth.RedirectDevice:
		return "", "none: the device flow needs no redirect URI"
	}
	if port == 0 {
		return "http://127.0.0.1:<any port>" + path, "the network accepts any loopback port"
	}
	return fmt.Sprintf("http://127.0.0.1:%d%s", port, path), "register it exactly (127.0.0.1, not localhost); change the port with redirect_port"
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// cleanAccount makes a network's account fit to print.
func cleanAccount(a provider.Account) provider.Account {
	return provider.Account{ID: cleanText(a.ID), Name: cleanText(a.Name)}
}

// accountLabel is how an account is shown everywhere (the connect line,
// list, show, the TUI, JSON "account"): its name, else its id, so a
// server whose ID token carries only `sub` still shows who it is.
func accountLabel(a provider.Account) string { return firstNonEmpty(a.Name, a.ID) }

// cleanText keeps what a provider says about an account (its display
// name) printable: the one terminal-safe policy (SECURITY 30).
func cleanText(s string) string { return auth.CleanText(s, 100) }

// ProviderSpec is a provider for `sbctl providers add`: a preset (or the
// generic oidc / oauth2) with the app's client id and the settings the
// network needs.
type ProviderSpec struct {
	Name   string
	Preset string // "" = Name, which must then be a preset
	config.NewProvider
}

// AddProvider writes a provider into the config, in place, after checking
// it as `reauth` would use it (so a bad URL or a redirect mode the network
// does not allow changes nothing). It returns what `providers show` says,
// including the redirect URI to register.
func (m *Manager) AddProvider(ctx context.Context, s ProviderSpec) (ProviderInfo, error) {
	s.Name = config.NormalizeName(s.Name)
	if err := config.ValidateName("provider", s.Name); err != nil {
		return ProviderInfo{}, &UsageError{Msg: err.Error()}
	}
	typ := s.Preset
	if typ == "" {
		typ = s.Name
	}
	pr, ok := provider.Lookup(typ)
	if !ok {
		msg := fmt.Sprintf("%q is not a built-in preset: give --preset (one of %s)", typ, strings.Join(PresetNames(), ", "))
		if s.Preset != "" {
			msg = fmt.Sprintf("unknown preset %q%s: use one of %s", s.Preset, config.DidYouMean(s.Preset, PresetNames()), strings.Join(PresetNames(), ", "))
		}
		return ProviderInfo{}, &UsageError{Msg: msg}
	}
	if cp, exists := m.config().Provider(s.Name); exists {
		return ProviderInfo{}, &UsageError{Msg: fmt.Sprintf("provider %q already exists (%s:%d); edit it there, or choose another name", s.Name, m.config().Path, cp.Line)}
	}
	if strings.TrimSpace(s.ClientID) == "" {
		return ProviderInfo{}, &UsageError{Msg: fmt.Sprintf("--client-id is required: register an app with %s and give its client id", pr.Title)}
	}
	s.NewProvider.Name, s.NewProvider.Type = s.Name, pr.Name
	set := Settings(&config.Provider{
		Name: s.Name, Type: pr.Name, ClientID: s.ClientID, Issuer: s.Issuer, AuthURL: s.AuthURL, TokenURL: s.TokenURL,
		RevokeURL: s.RevokeURL, IntrospectURL: s.IntrospectURL, UserinfoURL: s.UserinfoURL, DeviceAuthURL: s.DeviceAuthURL,
		Scopes: s.Scopes, Redirect: s.Redirect, RedirectPort: s.RedirectPort, RelayURL: s.RelayURL,
		GraphVersion: s.GraphVersion, ClientAuth: s.ClientAuth, RedirectPath: s.RedirectPath,
	})
	if _, err := provider.New(set, nil); err != nil {
		return ProviderInfo{}, &UsageError{Msg: strings.TrimPrefix(err.Error(), fmt.Sprintf("provider %q: ", s.Name)) + "; nothing was written"}
	}
	if err := m.editConfig(ctx, func(c *config.Config) error { return c.AddProvider(s.NewProvider) }); err != nil {
		return ProviderInfo{}, err
	}
	return m.DescribeProvider(s.Name)
}

// warnSkew tells the user, once per host and run, that the system clock
// disagrees with a provider's: every expiry sbctl predicts rests on it.
func (m *Manager) warnSkew(p *provider.Provider) {
	skew, host, ok := p.ClockSkew()
	if !ok {
		return
	}
	msg := provider.SkewWarning(skew, host)
	if msg == "" {
		return
	}
	if _, seen := m.skewWarned.LoadOrStore(host, true); !seen {
		fmt.Fprintf(m.warn, "warning: %s\n", msg)
	}
}
