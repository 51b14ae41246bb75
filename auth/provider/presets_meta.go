package provider

// Meta's networks only accept registered HTTPS redirect URIs in production
// (http://localhost works only for apps in Development mode), so they default
// to the relay page. None of them issues refresh tokens: access is renewed by
// swapping or refreshing the long-lived token itself, which is why these
// endpoints take the token in the query (their API requires it).

const graphFacebook = "https://graph.facebook.com/" + DefaultGraphVersion

func facebookPreset() Preset {
	return Preset{
		Name:          "facebook",
		Title:         "Facebook",
		AuthURL:       "https://www.facebook.com/" + DefaultGraphVersion + "/dialog/oauth",
		TokenURL:      graphFacebook + "/oauth/access_token",
		ExchangeURL:   graphFacebook + "/oauth/access_token",
		RevokeURL:     graphFacebook + "/me/permissions",
		IntrospectURL: graphFacebook + "/debug_token",
		UserinfoURL:   graphFacebook + "/me?fields=id,name",
		AuthStyle:     AuthBody,
		// PKCE exists only in Meta's OIDC flow (in testing); the classic
		// dialog is a confidential-client flow.
		PKCE:          PKCEUnsupported,
		ClientIDParam: "client_id",
		ScopeSep:      ",",
		DefaultScopes: []string{"public_profile", "pages_show_list", "pages_read_engagement", "pages_manage_posts"},
		Redirect:      RedirectRelay,
		Modes:         []RedirectMode{RedirectRelay, RedirectManual, RedirectLoopback},
		CallbackPath:  "/callback",
		Renewal:       RenewFBExchange,
		Check:         CheckDebugToken,
		NeedsSecret:   true,
		Notes: "Long-lived user tokens last about 60 days and are renewed by exchange while still valid; " +
			"data access ends 90 days after the user's last consent (only `sbctl reauth` renews it). " +
			"Register the relay page's HTTPS address as the redirect URI (loopback works only for apps in Development mode).",
	}
}

func instagramPreset() Preset {
	return Preset{
		Name:          "instagram",
		Title:         "Instagram",
		AuthURL:       "https://www.instagram.com/oauth/authorize",
		TokenURL:      "https://api.instagram.com/oauth/access_token",
		ExchangeURL:   "https://graph.instagram.com/access_token",
		RefreshURL:    "https://graph.instagram.com/refresh_access_token",
		UserinfoURL:   "https://graph.instagram.com/" + DefaultGraphVersion + "/me?fields=user_id,username",
		AuthStyle:     AuthBody,
		PKCE:          PKCEUnsupported,
		ClientIDParam: "client_id",
		ScopeSep:      ",",
		DefaultScopes: []string{"instagram_business_basic", "instagram_business_content_publish"},
		Redirect:      RedirectRelay,
		Modes:         []RedirectMode{RedirectRelay, RedirectManual},
		CallbackPath:  "/callback",
		Renewal:       RenewIGRefreshToken,
		Check:         CheckMe,
		NeedsSecret:   true,
		Notes: "Instagram Login for professional accounts: long-lived tokens last 60 days and can be refreshed once at least 24 h old and unexpired. " +
			"Instagram has no revocation call: remove the app in the account's settings.",
	}
}

func threadsPreset() Preset {
	return Preset{
		Name:  "threads",
		Title: "Threads",
		// threads.net redirects to threads.com and can drop parameters on the way.
		AuthURL:     "https://www.threads.com/oauth/authorize",
		TokenURL:    "https://graph.threads.net/oauth/access_token",
		ExchangeURL: "https://graph.threads.net/access_token",
		RefreshURL:  "https://graph.threads.net/refresh_access_token",
		// Threads' debug_token takes a user token of the same app as the
		// caller's access_token; the token itself is used.
		IntrospectURL: "https://graph.threads.com/v1.0/debug_token",
		UserinfoURL:   "https://graph.threads.net/v1.0/me?fields=id,username,name",
		AuthStyle:     AuthBody,
		PKCE:          PKCEUnsupported,
		ClientIDParam: "client_id",
		ScopeSep:      ",",
		DefaultScopes: []string{"threads_basic", "threads_content_publish"},
		Redirect:      RedirectRelay,
		Modes:         []RedirectMode{RedirectRelay, RedirectManual},
		CallbackPath:  "/callback",
		Renewal:       RenewTHRefreshToken,
		Check:         CheckDebugToken,
		NeedsSecret:   true,
		Notes: "Use the Threads app id and secret (not the Meta app's). Long-lived tokens last 60 days and can be refreshed once at least 24 h old and unexpired. " +
			"Threads has no revocation call: remove the app in the account's settings.",
	}
}
