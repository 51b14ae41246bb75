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
)

// ReauthOptions choose how the user signs in (SPEC §5).
type ReauthOptions struct {
	NoBrowser bool // print the URL instead of opening a browser
	Manual    bool // paste the redirected URL (or code) on stdin
	Device    bool // RFC 8628 device authorization
	Timeout   time.Duration
	Browser   flow.Opener // nil: $SBCTL_BROWSER, $BROWSER, then the system browser
	Stdin     io.Reader
	Stderr    io.Writer
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
	p, err := m.Profile(name)
	if err != nil {
		return res, err
	}
	name = p.Name // the config's (NFC) spelling names every item and record
	// Find out now, not after the user has signed in, whether the token
	// can be stored.
	st, err := m.Store()
	if err != nil {
		return res, err
	}
	if _, err := st.Get(ctx, store.ProfileKey(name)); err != nil && !errors.Is(err, store.ErrNotFound) {
		var ue *store.UnavailableError
		if errors.As(err, &ue) {
			return res, err
		}
	}
	prov, err := m.providerFor(ctx, p.Provider, p.Scopes)
	if err != nil {
		return res, err
	}
	ep, err := prov.Endpoints(ctx)
	if err != nil {
		return res, err
	}
	pr := prov.Preset()
	mode := flow.Mode(prov.Redirect())
	switch {
	case o.Device:
		mode = flow.ModeDevice
	case o.Manual:
		if mode != flow.ModeRelay {
			mode = flow.ModeManual
		}
	}
	res.Mode = string(mode)

	var tok *auth.Token
	var callbackAt time.Time
	if mode == flow.ModeDevice {
		if ep.DeviceAuthURL == "" {
			return res, fmt.Errorf("provider %q offers no device authorization (RFC 8628); use --manual on a machine without a browser", p.Provider)
		}
		cfg, err := prov.OAuth2Config(ctx, "")
		if err != nil {
			return res, err
		}
		// x/oauth2 polls with the provider's own client: sbctl's user
		// agent, timeout and body limit, and no redirect is followed with
		// the client secret and device code in the body.
		dctx := context.WithValue(ctx, oauth2.HTTPClient, prov.HTTPClient())
		ot, err := flow.DeviceFlow(dctx, cfg, flow.DeviceParams{Stderr: o.Stderr, Timeout: o.Timeout})
		if err != nil {
			return res, err
		}
		callbackAt = time.Now()
		// The same checks as the code exchange: one printable word,
		// Bearer only, sane lifetimes (SECURITY 29).
		if tok, err = prov.AcceptOAuth2Token(ot); err != nil {
			return res, err
		}
	} else {
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
			PKCE:          pkceFor(pr.PKCE),
			Issuer:        ep.Issuer,
			RequireIss:    ep.IssParameterSupported && ep.Issuer != "",
			RelayURL:      prov.RelayURL(),
			Browser:       o.Browser,
			NoBrowser:     o.NoBrowser,
			Stdin:         o.Stdin,
			Stderr:        o.Stderr,
			Timeout:       o.Timeout,
			OnURL:         o.OnURL,
		}
		for k, v := range pr.ExtraAuthParams {
			params.ExtraParams.Set(k, v)
		}
		if mode == flow.ModeRelay && params.RelayURL == "" {
			return res, fmt.Errorf("provider %q uses relay mode (the network accepts only registered HTTPS redirect URIs): host the page printed by `sbctl providers relay-page` at an HTTPS address, register that address with the network, and set `relay_url:` in the provider's config", p.Provider)
		}
		ar, err := flow.Run(ctx, params)
		if err != nil {
			return res, err
		}
		callbackAt = time.Now()
		tok, err = prov.Exchange(ctx, ar.Code, ar.CodeVerifier, ar.RedirectURI)
		if err != nil {
			return res, err
		}
	}
	if tok.ObtainedAt.IsZero() {
		tok.ObtainedAt = m.now()
	}
	acct, err := prov.Account(ctx, tok)
	if err != nil && !errors.Is(err, provider.ErrNoAccount) {
		fmt.Fprintf(m.warn, "warning: connected, but could not read the account name: %v\n", err)
	}
	acct = cleanAccount(acct)
	res.Account = acct
	// Meta's data-access deadline is known only from debug_token.
	var dataAccess time.Time
	if pr.Check == provider.CheckDebugToken {
		if v, err := prov.Verify(ctx, tok); err == nil && v.Valid {
			dataAccess = v.DataAccessExpiry
		}
	}
	// Store under the profile's lock, so a concurrent `sbctl token` never
	// spends the old refresh token while the new grant is being stored.
	unlock, err := m.lockProfile(ctx, name)
	if err != nil {
		return res, err
	}
	err = store.PutToken(ctx, st, name, tok)
	if err == nil {
		m.clearMarker(name)
	}
	unlock()
	if err != nil {
		return res, fmt.Errorf("signed in, but storing the token failed (the old token, if any, is unchanged): %w", err)
	}
	res.CallbackToStored = time.Since(callbackAt)
	now := m.now()
	if err := m.updateState(context.WithoutCancel(ctx), func(s *State) error {
		if old := s.Profiles[name]; old != nil && old.AccountID != "" && acct.ID != "" && old.AccountID != acct.ID {
			res.PreviousAccount = firstNonEmpty(old.Account, old.AccountID)
		}
		rec := RecordFromToken(tok, now)
		rec.Account, rec.AccountID = accountLabel(acct), acct.ID
		if !dataAccess.IsZero() {
			d := dataAccess.UTC()
			rec.ConsentExpiresAt = &d
		}
		s.Profiles[name] = rec
		return nil
	}); err != nil {
		return res, err
	}
	res.View, err = m.Show(ctx, name, 0)
	return res, err
}

func pkceFor(mode provider.PKCEMode) flow.PKCE {
	switch mode {
	case provider.PKCEHex:
		return flow.PKCEHexS256
	case provider.PKCEUnsupported:
		return flow.PKCENone
	}
	return flow.PKCES256
}
