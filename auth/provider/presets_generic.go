package provider

import "github.com/sbctl/sbctl/auth"

// The generic kinds have no endpoints of their own: oidc discovers them from
// the issuer, oauth2 takes them from the config. Whether the server rotates
// refresh tokens cannot be known in advance, so both are treated as rotating:
// a refresh whose answer was lost is reported as ambiguous, never resent.

func oidcPreset() Preset {
	return Preset{
		Name:          TypeOIDC,
		Title:         "OpenID Connect",
		ClientAuth:    auth.ClientAuthBasic, // OIDC's default client_secret_basic; discovery can say otherwise
		PKCE:          auth.PKCERequired,
		ClientIDParam: "client_id",
		ScopeSep:      " ",
		DefaultScopes: []string{"openid", "offline_access"},
		Redirect:      auth.RedirectLoopback,
		Modes:         []auth.RedirectMode{auth.RedirectLoopback, auth.RedirectManual, auth.RedirectRelay, auth.RedirectDevice},
		CallbackPath:  "/callback",
		Renewal:       RenewRefreshToken,
		// Assumed: see above.
		RotatesRefresh: true,
		Check:          CheckIntrospection,
		// The config's name, not "oidc", starts the sentence (noRefreshWhy).
		NoRefresh: "issued no refresh token (the offline_access scope may be needed)",
		Notes:     "Endpoints come from {issuer}/.well-known/openid-configuration. Tokens are checked by introspection when the server offers it, else by userinfo.",
	}
}

func oauth2Preset() Preset {
	return Preset{
		Name:           TypeOAuth2,
		Title:          "OAuth 2.0",
		ClientAuth:     auth.ClientAuthBasic, // the one method RFC 6749 §2.3.1 makes every server support
		PKCE:           auth.PKCERequired,
		ClientIDParam:  "client_id",
		ScopeSep:       " ",
		Redirect:       auth.RedirectLoopback,
		Modes:          []auth.RedirectMode{auth.RedirectLoopback, auth.RedirectManual, auth.RedirectRelay, auth.RedirectDevice},
		CallbackPath:   "/callback",
		Renewal:        RenewRefreshToken,
		RotatesRefresh: true,
		Check:          CheckIntrospection,
		Notes:          "Endpoints come from the config (auth_url, token_url, optional revoke_url, introspect_url, userinfo_url). Tokens are checked by introspection, else by userinfo.",
	}
}
