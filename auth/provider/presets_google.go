package provider

// Google "Desktop app" clients accept http://127.0.0.1 on any port, so the
// loopback listener can take whatever port the OS gives.

func googlePreset() Preset {
	return Preset{
		Name:          "google",
		Title:         "Google",
		AuthURL:       "https://accounts.google.com/o/oauth2/v2/auth",
		TokenURL:      "https://oauth2.googleapis.com/token",
		RevokeURL:     "https://oauth2.googleapis.com/revoke",
		IntrospectURL: "https://oauth2.googleapis.com/tokeninfo",
		UserinfoURL:   "https://openidconnect.googleapis.com/v1/userinfo",
		DeviceAuthURL: "https://oauth2.googleapis.com/device/code",
		Issuer:        "https://accounts.google.com",
		AuthStyle:     AuthBody,
		PKCE:          PKCERequired,
		ClientIDParam: "client_id",
		ScopeSep:      " ",
		DefaultScopes: []string{"openid", "email", "profile"},
		// Without both, Google issues no refresh token on a second consent,
		// and the profile would die with its first access token.
		ExtraAuthParams: map[string]string{"access_type": "offline", "prompt": "consent"},
		Redirect:        RedirectLoopback,
		Modes:           []RedirectMode{RedirectLoopback, RedirectManual, RedirectDevice},
		CallbackPath:    "/callback",
		Renewal:         RenewRefreshToken,
		Check:           CheckTokeninfo,
		Notes: "Refresh tokens die after 7 days while the OAuth consent screen is in \"Testing\", and after 6 months unused. " +
			"Desktop-app clients still get a client secret that Google asks for: store it with `sbctl providers set-secret`.",
	}
}

// youtubePreset is google with YouTube scopes; the account is the channel.
func youtubePreset() Preset {
	p := googlePreset()
	p.Name, p.Title = "youtube", "YouTube"
	p.DefaultScopes = []string{
		"https://www.googleapis.com/auth/youtube.upload",
		"https://www.googleapis.com/auth/youtube.readonly",
	}
	p.UserinfoURL = "https://www.googleapis.com/youtube/v3/channels?part=snippet&mine=true"
	return p
}
