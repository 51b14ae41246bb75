package provider

import (
	"strings"

	"github.com/sbctl/sbctl/auth"
)

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
		ClientAuth:    auth.ClientAuthBody,
		PKCE:          auth.PKCERequired,
		ClientIDParam: "client_id",
		ScopeSep:      " ",
		DefaultScopes: []string{"openid", "email", "profile"},
		// Without both, Google issues no refresh token on a second consent,
		// and the profile would die with its first access token.
		ExtraAuthParams: map[string]string{"access_type": "offline", "prompt": "consent"},
		Redirect:        auth.RedirectLoopback,
		Modes:           []auth.RedirectMode{auth.RedirectLoopback, auth.RedirectManual, auth.RedirectDevice},
		CallbackPath:    "/callback",
		Renewal:         RenewRefreshToken,
		Check:           CheckTokeninfo,
		NoRefresh:       "issued no refresh token (the sign-in needs access_type=offline and prompt=consent)",
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
	p.AccountFromUserinfo = true // the ID token names the Google account, not the channel
	p.NoAccount = "the Google account has no YouTube channel"
	return p
}

// googleAPIError: Google's API errors, {"error":{"code":401,"status":
// "UNAUTHENTICATED","errors":[{"reason":...}]}}. The status becomes the
// code even when it decides nothing (see rules in classify.go).
func googleAPIError(e *Error, a *answer) bool {
	eb := a.body
	if eb.googleStatus == "" {
		return false
	}
	e.Code = sanitizeCode(eb.googleStatus, nil)
	for _, r := range eb.googleReasons {
		if strings.Contains(strings.ToLower(r), "ratelimit") || strings.Contains(strings.ToLower(r), "quota") {
			e.Kind = KindTransient
			return true
		}
	}
	switch eb.googleStatus {
	case "UNAUTHENTICATED":
		definite(e, reasonFromText(eb.desc, auth.ReasonInvalid))
	case "PERMISSION_DENIED":
		configPermission(e)
	case "RESOURCE_EXHAUSTED", "UNAVAILABLE":
		e.Kind = KindTransient
	default:
		return false
	}
	return true
}
