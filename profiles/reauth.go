package profiles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/flow"
	"github.com/sbctl/sbctl/auth/provider"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/profiles/team"
)

// ReauthOptions choose how the user signs in (SPEC §5).
type ReauthOptions struct {
	Mode    SignInMode // "" is the provider's own mode
	Timeout time.Duration
	Browser Opener // nil: $SBCTL_BROWSER, $BROWSER, then the system browser
	Stdin   io.Reader
	Stderr  io.Writer
	// OnURL is told the authorization URL (the TUI shows it).
	OnURL func(string)
}

// ReauthResult tells who the profile is now connected as.
type ReauthResult struct {
	Account provider.Account
	// PreviousAccount is set when the profile was connected to another
	// account before: the user signed in as someone else.
	PreviousAccount string
	Mode            string
	View            View
	// CallbackToStored is the time from the authorization response arriving
	// to the token being stored (and read back): exchange, account lookup,
	// keychain write.
	CallbackToStored time.Duration
}

// Reauth connects or reconnects a profile: the browser flow of its
// provider, the code exchange, the account lookup, then the token into the
// token store and the state. Nothing is written unless every step worked,
// so a failed or cancelled reauth leaves the old token in place.
func (m *Manager) Reauth(ctx context.Context, name string, o ReauthOptions) (ReauthResult, error) {
	var res ReauthResult
	if err := o.Mode.Valid(); err != nil {
		return res, err
	}
	if err := m.mayDo(ctx, actReauth, team.RoleAdmin); err != nil {
		return res, err
	}
	p, err := m.Profile(name)
	if err != nil {
		return res, err
	}
	name = p.Name // the config's (NFC) spelling names every item and record
	st, err := m.usableStore(ctx, name)
	if err != nil {
		return res, err
	}
	prov, err := m.providerFor(ctx, p.Provider, p.Scopes)
	if err != nil {
		return res, err
	}
	ep, err := prov.Endpoints(ctx)
	if err != nil {
		return res, err
	}
	mode := flowMode(prov, o.Mode)
	res.Mode = string(mode)
	var tok *auth.Token
	var callbackAt time.Time
	if mode == flow.ModeDevice {
		tok, callbackAt, err = signInDevice(ctx, prov, ep, p.Provider, o)
	} else {
		tok, callbackAt, err = signInBrowser(ctx, prov, ep, p.Provider, mode, o)
	}
	if err != nil {
		return res, err
	}
	if tok.ObtainedAt.IsZero() {
		tok.ObtainedAt = m.now()
	}
	acct, dataAccess := m.describeGrant(ctx, prov, tok)
	res.Account = acct
	// The sign-in took minutes: the profile may have been removed from the
	// config meanwhile (another shell). Its new grant has no profile to
	// live in, so it is revoked (best effort) and nothing is stored.
	if _, err := m.Profile(name); err != nil {
		_ = m.revokeAt(ctx, p.Provider, tok)
		return res, err
	}
	if err := m.storeSignedIn(ctx, st, name, tok); err != nil {
		return res, err
	}
	res.CallbackToStored = time.Since(callbackAt)
	if res.PreviousAccount, err = m.recordSignedIn(ctx, name, tok, acct, dataAccess); err != nil {
		return res, err
	}
	res.View, err = m.Show(ctx, name, 0)
	return res, err
}

// usableStore finds out now, not after the person has signed in, whether
// the token can be stored.
func (m *Manager) usableStore(ctx context.Context, name string) (store.Store, error) {
	st, err := m.Store()
	if err != nil {
		return nil, err
	}
	if _, err := st.Get(ctx, store.ProfileKey(name)); err != nil && !errors.Is(err, store.ErrNotFound) {
		var ue *store.UnavailableError
		if errors.As(err, &ue) {
			return nil, err
		}
	}
	return st, nil
}

// flowMode is the flow for the provider's redirect mode and the mode the
// person asked for: manual pasting keeps relay (the relay page is how
// the code gets out of the browser).
func flowMode(prov *provider.Provider, asked SignInMode) auth.RedirectMode {
	mode := prov.Redirect()
	switch asked {
	case SignInDevice:
		return auth.RedirectDevice
	case SignInManual:
		if mode != auth.RedirectRelay {
			return auth.RedirectManual
		}
	}
	return mode
}

// signInDevice is the RFC 8628 device flow.
func signInDevice(ctx context.Context, prov *provider.Provider, ep provider.Endpoints, providerName string, o ReauthOptions) (*auth.Token, time.Time, error) {
	if ep.DeviceAuthURL == "" {
		return nil, time.Time{}, fmt.Errorf("provider %q offers no device authorization (RFC 8628); use the manual sign-in on a machine without a browser", providerName)
	}
	cfg, err := prov.OAuth2Config(ctx, "")
	if err != nil {
		return nil, time.Time{}, err
	}
	// x/oauth2 polls with the provider's own client: sbctl's user agent,
	// timeout and body limit, and no redirect is followed with the client
	// secret and device code in the body.
	dctx := context.WithValue(ctx, oauth2.HTTPClient, prov.HTTPClient())
	ot, err := flow.DeviceFlow(dctx, cfg, flow.DeviceParams{Stderr: o.Stderr, Timeout: o.Timeout})
	if err != nil {
		return nil, time.Time{}, err
	}
	at := time.Now()
	// The same checks as the code exchange: one printable word, Bearer
	// only, sane lifetimes (SECURITY 29).
	tok, err := prov.AcceptOAuth2Token(ot)
	return tok, at, err
}

// signInBrowser is the authorization-code flow (loopback, manual, relay)
// and the code exchange, which happens once (SECURITY 11).
func signInBrowser(ctx context.Context, prov *provider.Provider, ep provider.Endpoints, providerName string, mode flow.Mode, o ReauthOptions) (*auth.Token, time.Time, error) {
	params := browserParams(prov, ep, mode, o)
	if mode == flow.ModeRelay && params.RelayURL == "" {
		return nil, time.Time{}, fmt.Errorf("provider %q uses relay mode (the network accepts only registered HTTPS redirect URIs): host the relay page (`sbctl providers relay-page`) at an HTTPS address, register that address with the network, and set `relay_url:` in the provider's config", providerName)
	}
	ar, err := flow.Run(ctx, params)
	if err != nil {
		return nil, time.Time{}, err
	}
	at := time.Now()
	tok, err := prov.Exchange(ctx, ar.Code, ar.CodeVerifier, ar.RedirectURI)
	return tok, at, err
}

// browserParams is the authorization request for the provider. iss is
// compared whenever an issuer is known and required when the server
// advertises it (SECURITY 10, 28).
func browserParams(prov *provider.Provider, ep provider.Endpoints, mode flow.Mode, o ReauthOptions) flow.Params {
	pr := prov.Preset()
	params := flow.Params{
		AuthURL:       ep.AuthURL,
		ClientID:      prov.ClientID(),
		Scopes:        prov.Scopes(),
		ScopeSep:      pr.ScopeSep,
		ClientIDParam: pr.ClientIDParam,
		ExtraParams:   url.Values{},
		Mode:          mode,
		Port:          prov.RedirectPort(),
		CallbackPath:  prov.RedirectPath(),
		PKCE:          pr.PKCE,
		Issuer:        ep.Issuer,
		RequireIss:    ep.IssParameterSupported && ep.Issuer != "",
		RelayURL:      prov.RelayURL(),
		Browser:       o.Browser,
		NoBrowser:     o.Mode == SignInNoBrowser,
		Stdin:         o.Stdin,
		Stderr:        o.Stderr,
		Timeout:       o.Timeout,
		OnURL:         o.OnURL,
	}
	for k, v := range pr.ExtraAuthParams {
		params.ExtraParams.Set(k, v)
	}
	return params
}

// describeGrant reads who the new token belongs to and, for Meta, the
// data-access deadline (known only from debug_token).
func (m *Manager) describeGrant(ctx context.Context, prov *provider.Provider, tok *auth.Token) (provider.Account, time.Time) {
	acct, err := prov.Account(ctx, tok)
	if err != nil && !errors.Is(err, provider.ErrNoAccount) {
		fmt.Fprintf(m.warn, "warning: connected, but could not read the account name: %v\n", err)
	}
	var dataAccess time.Time
	if prov.Preset().Check == provider.CheckDebugToken {
		if v, err := prov.Verify(ctx, tok); err == nil && v.Valid {
			dataAccess = v.DataAccessExpiry
		}
	}
	return cleanAccount(acct), dataAccess
}

// storeSignedIn stores the new token under the profile's lock, so a
// concurrent `sbctl token` never spends the old refresh token while the
// new grant is being stored.
func (m *Manager) storeSignedIn(ctx context.Context, st store.Store, name string, tok *auth.Token) error {
	unlock, err := m.lockProfile(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	if err := store.PutToken(withAudit(ctx, auditReauth, "signed in"), st, name, tok); err != nil {
		return fmt.Errorf("signed in, but storing the token failed (the old token, if any, is unchanged): %w", err)
	}
	m.clearMarker(name)
	return nil
}

// recordSignedIn writes the new connection's record; previous names the
// account the profile was connected to before, when it was another one.
func (m *Manager) recordSignedIn(ctx context.Context, name string, tok *auth.Token, acct provider.Account, dataAccess time.Time) (previous string, err error) {
	now := m.now()
	err = m.updateState(context.WithoutCancel(ctx), func(s *State) error {
		if old := s.Profiles[name]; old != nil && old.AccountID != "" && acct.ID != "" && old.AccountID != acct.ID {
			previous = firstNonEmpty(old.Account, old.AccountID)
		}
		rec := RecordFromToken(tok, now)
		rec.Account, rec.AccountID = accountLabel(acct), acct.ID
		if old := s.Profiles[name]; old != nil {
			rec.Notified = old.Notified // so the sign-in's `recovered` is news
		}
		if !dataAccess.IsZero() {
			d := dataAccess.UTC()
			rec.ConsentExpiresAt = &d
		}
		s.Profiles[name] = rec
		return nil
	})
	return previous, err
}
