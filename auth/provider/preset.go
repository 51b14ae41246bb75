package provider

import (
	"maps"
	"slices"
	"strings"

	"github.com/sbctl/sbctl/auth"
)

// Renewal is how access is renewed without the browser.
type Renewal string

const (
	RenewRefreshToken   Renewal = "refresh_token"     // RFC 6749 §6
	RenewFBExchange     Renewal = "fb_exchange_token" // Facebook: swap the token for a new long-lived one
	RenewIGRefreshToken Renewal = "ig_refresh_token"  // Instagram refresh_access_token endpoint
	RenewTHRefreshToken Renewal = "th_refresh_token"  // Threads refresh_access_token endpoint
	RenewNone           Renewal = "none"
)

// CodeExchange is how an authorization code becomes the token that is
// kept (Preset.Exchange). Meta's values are the grant of the second step.
type CodeExchange string

const (
	ExchangeCode CodeExchange = "" // RFC 6749 §4.1.3 (+ RFC 7636): one POST
	// ExchangeFacebook redeems the code with a GET, as Meta documents it,
	// then swaps the one-hour token for a long-lived one (fb_exchange_token).
	ExchangeFacebook CodeExchange = "fb_exchange_token"
	// ExchangeInstagram and ExchangeThreads POST the code for a one-hour
	// token, then GET a 60-day one with this grant.
	ExchangeInstagram CodeExchange = "ig_exchange_token"
	ExchangeThreads   CodeExchange = "th_exchange_token"
)

// Revocation is how a grant is ended at the network (Preset.Revocation).
type Revocation string

const (
	// RevokeRFC7009 posts the refresh token, then the access token, with
	// token_type_hint.
	RevokeRFC7009 Revocation = ""
	// RevokePermissions is Facebook's DELETE /me/permissions, which
	// de-authorises the app; the token goes in the Authorization header.
	RevokePermissions Revocation = "permissions"
	// RevokeAccessToken posts the access token alone, without a hint
	// (TikTok's API has no such parameter), and needs the client secret.
	RevokeAccessToken Revocation = "access_token"
)

// TokenCheck names how a network tells whether a token still works
// (Preset.Check, Verdict.Check).
type TokenCheck string

// The token checks sbctl knows.
const (
	CheckIntrospection TokenCheck = "introspection" // RFC 7662
	CheckDebugToken    TokenCheck = "debug_token"   // Meta's debug_token
	CheckUserinfo      TokenCheck = "userinfo"      // OIDC userinfo with the access token
	CheckMe            TokenCheck = "me"            // the network's "who am I" call
	CheckTokeninfo     TokenCheck = "tokeninfo"     // Google's tokeninfo
)

// Preset is a network's OAuth rules. The URLs are the production ones; every
// one of them can be overridden in the config (Settings).
type Preset struct {
	Name, Title string // "facebook", "Facebook"

	AuthURL, TokenURL, RevokeURL string
	// IntrospectURL is where a token is checked: an RFC 7662 endpoint, or the
	// network's equivalent (Meta's debug_token, Google's tokeninfo).
	IntrospectURL string
	// UserinfoURL is where the account is read: OIDC userinfo or the
	// network's "me" call (with the fields it needs in the query).
	UserinfoURL   string
	DeviceAuthURL string
	// ExchangeURL is Meta's short-lived to long-lived swap (fb_exchange_token,
	// ig_exchange_token, th_exchange_token); RefreshURL is Instagram's and
	// Threads' refresh_access_token endpoint.
	ExchangeURL, RefreshURL string
	// Issuer is the OIDC issuer where the network is one (google); the flow
	// compares an RFC 9207 iss against it.
	Issuer string

	ClientAuth    auth.ClientAuth // how a confidential client authenticates
	PKCE          auth.PKCE
	ClientIDParam string // "client_id" or "client_key" (TikTok)
	ScopeSep      string // " " or ","
	DefaultScopes []string
	// ExtraAuthParams go on the authorization URL (google: access_type=offline
	// and prompt=consent, without which no refresh token is issued).
	ExtraAuthParams map[string]string
	Redirect        auth.RedirectMode   // the default that works in production
	Modes           []auth.RedirectMode // every mode the network allows
	FixedPort       int                 // loopback port the network needs registered (x: 8765); 0 = any
	// CallbackPath is, in the built-in table, the base of the loopback
	// redirect path: "/callback", or "/callback/" for TikTok, whose
	// redirect URIs end in a slash. A Provider adds its name
	// ("/callback/acme", "/callback/tiktok/") unless redirect_path says
	// otherwise, and its Preset() holds the result (see RedirectPath).
	CallbackPath string

	Renewal        Renewal
	RotatesRefresh bool // a refresh answer carries a new refresh token and the old one dies
	Check          TokenCheck
	NeedsSecret    bool   // the network only has confidential clients
	Notes          string // shown by `sbctl providers show`

	// What sets a network apart, as capabilities rather than checks of its
	// name, so that a new network is one preset. The zero value of each is
	// the standard behaviour.

	// GraphVersioned: the URLs carry the Graph API version, which
	// graph_version moves (Facebook, Instagram).
	GraphVersioned bool
	// Exchange is how a code is redeemed (ExchangeCode by default).
	Exchange CodeExchange
	// CodeSuffix is cut from a code before it is redeemed: Instagram's
	// redirect appends "#_".
	CodeSuffix string
	// AccountFromUserinfo: the account is what the userinfo URL names, not
	// the ID token's subject (YouTube: the channel). NoAccount says what an
	// answer that names none means ("" = it names no account).
	AccountFromUserinfo bool
	NoAccount           string
	// DebugTokenAppToken: debug_token is asked with the app token
	// {app-id}|{app-secret}, so a refusal there is about the app's
	// credentials and an answer about another app's token is a mix-up
	// (Facebook). Otherwise the token inspects itself (Threads).
	DebugTokenAppToken bool
	// Revocation is how Revoke ends the grant (RevokeRFC7009 by default).
	Revocation Revocation
	// NoTypeHint: introspection requests carry no token_type_hint (LinkedIn
	// documents exactly client_id, client_secret and token).
	NoTypeHint bool
	// NoRefresh completes "<network> …" when a sign-in gave no refresh
	// token: "issued no refresh token (the offline.access scope is
	// needed)". "" says only that none was issued.
	NoRefresh string
}

// Generic provider types (SPEC §2).
const (
	TypeOIDC   = "oidc"
	TypeOAuth2 = "oauth2"
)

// DefaultGraphVersion is the Meta Graph API version the facebook and
// instagram presets use unless Settings.GraphVersion says otherwise.
const DefaultGraphVersion = "v23.0"

// Presets returns every built-in preset, networks first, then the generic
// "oidc" and "oauth2" kinds. The result is a fresh copy.
func Presets() []Preset {
	out := []Preset{
		facebookPreset(), instagramPreset(), threadsPreset(),
		linkedinPreset(), xPreset(), googlePreset(), youtubePreset(),
		tiktokPreset(), pinterestPreset(),
		oidcPreset(), oauth2Preset(),
	}
	for i := range out {
		out[i] = out[i].clone()
	}
	return out
}

// Lookup finds a preset by name, case-insensitively ("X" is "x").
func Lookup(name string) (Preset, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, p := range Presets() {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}

// AllowsMode reports whether the network accepts redirect mode m.
func (p Preset) AllowsMode(m auth.RedirectMode) bool { return slices.Contains(p.Modes, m) }

// generic reports whether p is one of the generic kinds (oidc, oauth2),
// whose server is not known in advance.
func (p Preset) generic() bool { return p.Name == TypeOIDC || p.Name == TypeOAuth2 }

// clone copies the slices and the map so a caller cannot change the table.
func (p Preset) clone() Preset {
	p.DefaultScopes = slices.Clone(p.DefaultScopes)
	p.Modes = slices.Clone(p.Modes)
	p.ExtraAuthParams = maps.Clone(p.ExtraAuthParams)
	return p
}
