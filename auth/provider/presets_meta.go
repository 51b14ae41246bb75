package provider

import (
	"encoding/json"
	"strconv"

	"github.com/sbctl/sbctl/auth"
)

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
		ClientAuth:    auth.ClientAuthBody,
		// PKCE exists only in Meta's OIDC flow (in testing); the classic
		// dialog is a confidential-client flow.
		PKCE:          auth.PKCEUnsupported,
		ClientIDParam: "client_id",
		ScopeSep:      ",",
		DefaultScopes: []string{"public_profile", "pages_show_list", "pages_read_engagement", "pages_manage_posts"},
		Redirect:      auth.RedirectRelay,
		Modes:         []auth.RedirectMode{auth.RedirectRelay, auth.RedirectManual, auth.RedirectLoopback},
		CallbackPath:  "/callback",
		Renewal:       RenewFBExchange,
		Check:         CheckDebugToken,
		NeedsSecret:   true,
		// Facebook's debug_token is asked by the app, about the user's token.
		DebugTokenAppToken: true,
		GraphVersioned:     true,
		Exchange:           ExchangeFacebook,
		Revocation:         RevokePermissions,
		Notes: "Long-lived user tokens last about 60 days and are renewed by exchange while still valid; " +
			"data access ends 90 days after the user's last consent (only `sbctl reauth` renews it). " +
			"Register the relay page's HTTPS address as the redirect URI (loopback works only for apps in Development mode).",
	}
}

func instagramPreset() Preset {
	return Preset{
		Name:           "instagram",
		Title:          "Instagram",
		AuthURL:        "https://www.instagram.com/oauth/authorize",
		TokenURL:       "https://api.instagram.com/oauth/access_token",
		ExchangeURL:    "https://graph.instagram.com/access_token",
		RefreshURL:     "https://graph.instagram.com/refresh_access_token",
		UserinfoURL:    "https://graph.instagram.com/" + DefaultGraphVersion + "/me?fields=user_id,username",
		ClientAuth:     auth.ClientAuthBody,
		PKCE:           auth.PKCEUnsupported,
		ClientIDParam:  "client_id",
		ScopeSep:       ",",
		DefaultScopes:  []string{"instagram_business_basic", "instagram_business_content_publish"},
		Redirect:       auth.RedirectRelay,
		Modes:          []auth.RedirectMode{auth.RedirectRelay, auth.RedirectManual},
		CallbackPath:   "/callback",
		Renewal:        RenewIGRefreshToken,
		Check:          CheckMe,
		NeedsSecret:    true,
		GraphVersioned: true,
		Exchange:       ExchangeInstagram,
		CodeSuffix:     "#_",
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
		ClientAuth:    auth.ClientAuthBody,
		PKCE:          auth.PKCEUnsupported,
		ClientIDParam: "client_id",
		ScopeSep:      ",",
		DefaultScopes: []string{"threads_basic", "threads_content_publish"},
		Redirect:      auth.RedirectRelay,
		Modes:         []auth.RedirectMode{auth.RedirectRelay, auth.RedirectManual},
		CallbackPath:  "/callback",
		Renewal:       RenewTHRefreshToken,
		Check:         CheckDebugToken,
		NeedsSecret:   true,
		Exchange:      ExchangeThreads,
		Notes: "Use the Threads app id and secret (not the Meta app's). Long-lived tokens last 60 days and can be refreshed once at least 24 h old and unexpired. " +
			"Threads has no revocation call: remove the app in the account's settings.",
	}
}

// Meta's error rules (see rules in classify.go).

// metaError maps Graph API errors (Facebook, Instagram, Threads):
// {"error":{"type":"OAuthException","code":190,"error_subcode":460}}.
func metaError(e *Error, a *answer) bool {
	if !a.body.meta {
		return false
	}
	classifyMeta(e, a.body)
	return true
}

// classifyMeta maps one Graph API error object; verifyDebugToken uses it
// for the error debug_token reports about the inspected token.
func classifyMeta(e *Error, eb errorBody) {
	code, sub := eb.metaCode, eb.metaSb
	e.Code = strconv.FormatInt(code, 10)
	if sub != 0 {
		e.Code += "/" + strconv.FormatInt(sub, 10)
	}
	switch {
	case code == 190 || code == 102:
		definite(e, metaTokenReason(sub, eb.desc))
	case code == 10 || (code >= 200 && code <= 299):
		configPermission(e)
	case metaRateLimit(code):
		e.Kind = KindTransient
	case code == 1 || code == 2:
		// "An unknown error occurred" / "Service temporarily unavailable",
		// except that a wrong app secret also comes back as code 1.
		if mentionsClient(eb.desc) {
			configClient(e)
		} else {
			e.Kind = KindTransient
		}
	case code == 101 || code == 191:
		configClient(e) // invalid app id / redirect URI not allowed
	case mentionsClient(eb.desc):
		configClient(e)
	default:
		e.Kind = KindOther
	}
}

// metaTokenReason reads the subcode of error 190 (or 102), a dead token.
func metaTokenReason(sub int64, desc string) auth.Reason {
	switch sub {
	case 460:
		return auth.ReasonPasswordChanged
	case 458:
		return auth.ReasonAccessRevoked
	case 463:
		return auth.ReasonExpired
	case 0:
		// Without a subcode the message is all there is; "Session has
		// expired" is the common one.
		return reasonFromText(desc, auth.ReasonInvalid)
	}
	return auth.ReasonInvalid // 459 checkpoint, 464 unconfirmed, 467 logged out / invalid, ...
}

// metaRateLimit: the codes of Meta's rate limits.
func metaRateLimit(code int64) bool {
	switch code {
	case 4, 17, 32, 341, 613:
		return true
	}
	return code >= 80001 && code <= 80014
}

// metaErrorReason is the reason in debug_token's data.error about the
// inspected token: Meta's word when it is a definite one, else invalid.
func metaErrorReason(raw json.RawMessage) auth.Reason {
	var eb errorBody
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		eb.readErrorObject(obj)
	}
	e := &Error{}
	if eb.meta {
		classifyMeta(e, eb)
	}
	if e.Kind == KindDefinite {
		return e.Reason
	}
	return auth.ReasonInvalid
}

// instagramError: Instagram's {"error_type":"OAuthException","code":400,
// "error_message":...}, when nothing before named a code.
func instagramError(e *Error, a *answer) bool {
	eb := a.body
	if eb.igType == "" || e.Code != "" {
		return false
	}
	e.Code = sanitizeCode(eb.igType, a.secrets)
	if eb.igType != "OAuthException" {
		return false
	}
	if mentionsClient(eb.desc) {
		configClient(e)
	} else {
		definite(e, reasonFromText(eb.desc, auth.ReasonInvalid))
	}
	return true
}
