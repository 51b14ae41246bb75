package provider

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/sbctl/sbctl/auth"
)

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
		ClientAuth:    auth.ClientAuthBody,
		// Only the "native" flow (enabled per app by LinkedIn) checks PKCE;
		// the standard flow ignores the parameters.
		PKCE:          auth.PKCEOptional,
		ClientIDParam: "client_id",
		ScopeSep:      " ",
		DefaultScopes: []string{"openid", "profile", "w_member_social"},
		Redirect:      auth.RedirectLoopback,
		Modes:         []auth.RedirectMode{auth.RedirectLoopback, auth.RedirectManual, auth.RedirectRelay},
		FixedPort:     FixedLoopbackPort,
		CallbackPath:  "/callback",
		// Refresh tokens only for approved partners; CanRenew says so when
		// none was issued.
		Renewal:     RenewRefreshToken,
		Check:       CheckIntrospection,
		NeedsSecret: true,
		NoTypeHint:  true,
		NoRefresh:   "issues no refresh token to this app (refresh tokens are for approved partners)",
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
		ClientAuth:    auth.ClientAuthBasic,
		PKCE:          auth.PKCERequired,
		ClientIDParam: "client_id",
		ScopeSep:      " ",
		DefaultScopes: []string{"tweet.read", "tweet.write", "users.read", "offline.access", "media.write"},
		Redirect:      auth.RedirectLoopback,
		Modes:         []auth.RedirectMode{auth.RedirectLoopback, auth.RedirectManual, auth.RedirectRelay},
		FixedPort:     FixedLoopbackPort,
		CallbackPath:  "/callback",
		Renewal:       RenewRefreshToken,
		// Refresh tokens are single use: a lost answer loses the grant.
		RotatesRefresh: true,
		Check:          CheckMe,
		NoRefresh:      "issued no refresh token (the offline.access scope is needed)",
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
		ClientAuth:    auth.ClientAuthBody,
		PKCE:          auth.PKCEHex,
		ClientIDParam: "client_key",
		ScopeSep:      ",",
		DefaultScopes: []string{"user.info.basic", "video.publish"},
		Redirect:      auth.RedirectLoopback,
		Modes:         []auth.RedirectMode{auth.RedirectLoopback, auth.RedirectManual},
		// Desktop apps register http://127.0.0.1/callback/<provider name>/
		// with a wildcard port; the trailing slash is part of the match.
		CallbackPath:   "/callback/",
		Renewal:        RenewRefreshToken,
		RotatesRefresh: true,
		Check:          CheckMe,
		NeedsSecret:    true,
		Revocation:     RevokeAccessToken,
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
		ClientAuth:  auth.ClientAuthBasic,
		// No RevokeURL: Pinterest documents no revocation endpoint.
		PKCE:           auth.PKCEUnsupported,
		ClientIDParam:  "client_id",
		ScopeSep:       ",",
		DefaultScopes:  []string{"boards:read", "pins:read", "pins:write", "user_accounts:read"},
		Redirect:       auth.RedirectLoopback,
		Modes:          []auth.RedirectMode{auth.RedirectLoopback, auth.RedirectManual, auth.RedirectRelay},
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

// The error rules of LinkedIn, X, TikTok and Pinterest (see rules in
// classify.go).

// linkedinServiceError: LinkedIn's serviceErrorCode 65600 (invalid),
// 65601 (revoked) and 65602 (expired). Another code is kept as the code
// for the rules after it.
func linkedinServiceError(e *Error, a *answer) bool {
	if !a.body.hasService {
		return false
	}
	e.Code = strconv.FormatInt(a.body.serviceCode, 10)
	switch a.body.serviceCode {
	case 65600:
		definite(e, auth.ReasonInvalid)
	case 65601:
		definite(e, auth.ReasonAccessRevoked)
	case 65602:
		definite(e, auth.ReasonExpired)
	default:
		return false
	}
	return true
}

// xDeadRefreshToken: X answers a dead or already-used refresh token with
// invalid_request and this description.
func xDeadRefreshToken(e *Error, a *answer) bool {
	if a.body.errStr != "invalid_request" || !strings.Contains(strings.ToLower(a.body.desc), "value passed for the token was invalid") {
		return false
	}
	definite(e, auth.ReasonAccessRevoked)
	return true
}

// tiktokError: TikTok's API errors, {"error":{"code":"access_token_invalid",...}}.
func tiktokError(e *Error, a *answer) bool {
	switch a.body.objCode {
	case "":
		return false
	case "access_token_invalid":
		definite(e, reasonFromText(a.body.desc, auth.ReasonInvalid))
	case "scope_not_authorized", "scope_permission_missed":
		configPermission(e)
	case "rate_limit_exceeded", "internal_error":
		e.Kind = KindTransient
	default:
		return false
	}
	return true
}

// pinterestDeadToken: a 4xx that describes the token it was given as dead,
// in a shape no rule before knew (Pinterest's {"code":N,"message":"Invalid
// refresh token"}).
func pinterestDeadToken(e *Error, a *answer) bool {
	if a.status < 400 || a.status >= http.StatusInternalServerError || e.Code != "" || !saysTokenIsDead(a.body.desc) {
		return false
	}
	definite(e, reasonFromText(a.body.desc, auth.ReasonAccessRevoked))
	return true
}
