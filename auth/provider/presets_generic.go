package provider

// The generic kinds have no endpoints of their own: oidc discovers them from
// the issuer, oauth2 takes them from the config. Whether the server rotates
// refresh tokens cannot be known in advance, so both are treated as rotating:
// a refresh whose answer was lost is reported as ambiguous, never resent.

func oidcPreset() Preset {
	return Preset{
		Name:          TypeOIDC,
		Title:         "OpenID Connect",
		AuthStyle:     AuthBasic, // OIDC's default client_secret_basic; discovery can say otherwise
		PKCE:          PKCERequired,
		ClientIDParam: "client_id",
		ScopeSep:      " ",
		DefaultScopes: []string{"openid", "offline_access"},
		Redirect:      RedirectLoopback,
		Modes:         []RedirectMode{RedirectLoopback, RedirectManual, RedirectRelay, RedirectDevice},
		CallbackPath:  "/callback",
		Renewal:       RenewRefreshToken,
		// Assumed: see above.
		RotatesRefresh: true,
		Check:          CheckIntrospection,
		Notes:          "Endpoints come from {issuer}/.well-known/openid-configuration. Tokens are checked by introspection when the server offers it, else by userinfo.",
	}
}

func oauth2Preset() Preset {
	return Preset{
		Name:           TypeOAuth2,
		Title:          "OAuth 2.0",
		AuthStyle:      AuthBasic, // the one method RFC 6749 §2.3.1 makes every server support
		PKCE:           PKCERequired,
		ClientIDParam:  "client_id",
		ScopeSep:       " ",
		Redirect:       RedirectLoopback,
		Modes:          []RedirectMode{RedirectLoopback, RedirectManual, RedirectRelay, RedirectDevice},
		CallbackPath:   "/callback",
		Renewal:        RenewRefreshToken,
		RotatesRefresh: true,
		Check:          CheckIntrospection,
		Notes:          "Endpoints come from the config (auth_url, token_url, optional revoke_url, introspect_url, userinfo_url). Tokens are checked by introspection, else by userinfo.",
	}
}
