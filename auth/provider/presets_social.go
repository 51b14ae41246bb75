package provider

// FixedLoopbackPort is the port the presets of networks that match redirect
// URIs exactly (port included) listen on, so that one registered URI,
// http://127.0.0.1:8765/callback/<provider name>, keeps working.
const FixedLoopbackPort = 8765

func linkedinPreset() Preset {
	return Preset{
		Name:          "linkedin",
		Title:         "LinkedIn",
		AuthURL:       "https://www.linkedin.com/oauth/v2/authorization",
		TokenURL:      "https://www.linkedin.com/oauth/v2/accessToken",
		RevokeURL:     "https://www.linkedin.com/oauth/v2/revoke",
		IntrospectURL: "https://www.linkedin.com/oauth/v2/introspectToken",
		UserinfoURL:   "https://api.linkedin.com/v2/userinfo",
		AuthStyle:     AuthBody,
		// Only the "native" flow (enabled per app by LinkedIn) checks PKCE;
		// the standard flow ignores the parameters.
		PKCE:          PKCEOptional,
		ClientIDParam: "client_id",
		ScopeSep:      " ",
		DefaultScopes: []string{"openid", "profile", "w_member_social"},
		Redirect:      RedirectLoopback,
		Modes:         []RedirectMode{RedirectLoopback, RedirectManual, RedirectRelay},
		FixedPort:     FixedLoopbackPort,
		CallbackPath:  "/callback",
		// Refresh tokens only for approved partners; CanRenew says so when
		// none was issued.
		Renewal:     RenewRefreshToken,
		Check:       CheckIntrospection,
		NeedsSecret: true,
		Notes: "Access tokens last 60 days; refresh tokens (approved partners only) last 365 days from the first consent. " +
			"Register http://127.0.0.1:8765/callback/<provider name> exactly (/callback/linkedin for a provider named linkedin; " +
			"`sbctl providers show` prints it), or set redirect_port and redirect_path.",
	}
}

func xPreset() Preset {
	return Preset{
		Name:          "x",
		Title:         "X",
		AuthURL:       "https://x.com/i/oauth2/authorize",
		TokenURL:      "https://api.x.com/2/oauth2/token",
		RevokeURL:     "https://api.x.com/2/oauth2/revoke",
		UserinfoURL:   "https://api.x.com/2/users/me",
		AuthStyle:     AuthBasic,
		PKCE:          PKCERequired,
		ClientIDParam: "client_id",
		ScopeSep:      " ",
		DefaultScopes: []string{"tweet.read", "tweet.write", "users.read", "offline.access", "media.write"},
		Redirect:      RedirectLoopback,
		Modes:         []RedirectMode{RedirectLoopback, RedirectManual, RedirectRelay},
		FixedPort:     FixedLoopbackPort,
		CallbackPath:  "/callback",
		Renewal:       RenewRefreshToken,
		// Refresh tokens are single use: a lost answer loses the grant.
		RotatesRefresh: true,
		Check:          CheckMe,
		Notes: "Register http://127.0.0.1:8765/callback/<provider name> exactly (/callback/x for a provider named x; 127.0.0.1, not localhost). " +
			"Access tokens last 2 h; a refresh token needs the offline.access scope and is single use.",
	}
}

func tiktokPreset() Preset {
	return Preset{
		Name:          "tiktok",
		Title:         "TikTok",
		AuthURL:       "https://www.tiktok.com/v2/auth/authorize/",
		TokenURL:      "https://open.tiktokapis.com/v2/oauth/token/",
		RevokeURL:     "https://open.tiktokapis.com/v2/oauth/revoke/",
		UserinfoURL:   "https://open.tiktokapis.com/v2/user/info/?fields=open_id,union_id,display_name,username",
		AuthStyle:     AuthBody,
		PKCE:          PKCEHex,
		ClientIDParam: "client_key",
		ScopeSep:      ",",
		DefaultScopes: []string{"user.info.basic", "video.publish"},
		Redirect:      RedirectLoopback,
		Modes:         []RedirectMode{RedirectLoopback, RedirectManual},
		// Desktop apps register http://127.0.0.1/callback/<provider name>/
		// with a wildcard port; the trailing slash is part of the match.
		CallbackPath:   "/callback/",
		Renewal:        RenewRefreshToken,
		RotatesRefresh: true,
		Check:          CheckMe,
		NeedsSecret:    true,
		Notes: "Desktop app: register http://127.0.0.1/callback/<provider name>/ with the trailing slash (/callback/tiktok/ for a provider named tiktok; any port). " +
			"Token lifetimes have changed over time (24 h/365 d, now 2 h/180 d): sbctl reads them from each answer.",
	}
}

func pinterestPreset() Preset {
	return Preset{
		Name:        "pinterest",
		Title:       "Pinterest",
		AuthURL:     "https://www.pinterest.com/oauth/",
		TokenURL:    "https://api.pinterest.com/v5/oauth/token",
		UserinfoURL: "https://api.pinterest.com/v5/user_account",
		AuthStyle:   AuthBasic,
		// No RevokeURL: Pinterest documents no revocation endpoint.
		PKCE:           PKCEUnsupported,
		ClientIDParam:  "client_id",
		ScopeSep:       ",",
		DefaultScopes:  []string{"boards:read", "pins:read", "pins:write", "user_accounts:read"},
		Redirect:       RedirectLoopback,
		Modes:          []RedirectMode{RedirectLoopback, RedirectManual, RedirectRelay},
		FixedPort:      FixedLoopbackPort,
		CallbackPath:   "/callback",
		Renewal:        RenewRefreshToken,
		RotatesRefresh: true,
		Check:          CheckMe,
		NeedsSecret:    true,
		Notes: "Access tokens last 30 days; with continuous refresh (default for apps created since 2025-09-25) every refresh returns a new refresh token. " +
			"Register http://127.0.0.1:8765/callback/<provider name> exactly (/callback/pinterest for a provider named pinterest); if Pinterest refuses http, use relay. " +
			"No revocation call: remove the app in the account's settings.",
	}
}
