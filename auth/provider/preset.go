package provider

import (
	"maps"
	"slices"
	"strings"
)

// RedirectMode is how the authorization response reaches sbctl (SPEC §5).
type RedirectMode string

const (
	RedirectLoopback RedirectMode = "loopback"
	RedirectRelay    RedirectMode = "relay"
	RedirectManual   RedirectMode = "manual"
	RedirectDevice   RedirectMode = "device"
)

// PKCEMode says whether a network takes a PKCE challenge, and in which form.
type PKCEMode string

const (
	PKCERequired    PKCEMode = "required"
	PKCEOptional    PKCEMode = "optional"
	PKCEUnsupported PKCEMode = "unsupported"
	// PKCEHex is TikTok's variant: the S256 challenge is the lowercase hex of
	// SHA-256(verifier) instead of base64url.
	PKCEHex PKCEMode = "hex"
)

// AuthStyle is how a confidential client authenticates at the token endpoint.
// Public clients (no secret) always send their client id in the body.
type AuthStyle string

const (
	AuthBody  AuthStyle = "body"  // client_id and client_secret as form parameters
	AuthBasic AuthStyle = "basic" // HTTP Basic, RFC 6749 §2.3.1
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

// How a token is checked (Preset.Check).
const (
	CheckIntrospection = "introspection" // RFC 7662
	CheckDebugToken    = "debug_token"   // Meta's debug_token
	CheckUserinfo      = "userinfo"      // OIDC userinfo with the access token
	CheckMe            = "me"            // the network's "who am I" call
	CheckTokeninfo     = "tokeninfo"     // Google's tokeninfo
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

	AuthStyle     AuthStyle
	PKCE          PKCEMode
	ClientIDParam string // "client_id" or "client_key" (TikTok)
	ScopeSep      string // " " or ","
	DefaultScopes []string
	// ExtraAuthParams go on the authorization URL (google: access_type=offline
	// and prompt=consent, without which no refresh token is issued).
	ExtraAuthParams map[string]string
	Redirect        RedirectMode   // the default that works in production
	Modes           []RedirectMode // every mode the network allows
	FixedPort       int            // loopback port the network needs registered (x: 8765); 0 = any
	// CallbackPath is, in the built-in table, the base of the loopback
	// redirect path: "/callback", or "/callback/" for TikTok, whose
	// redirect URIs end in a slash. A Provider adds its name
	// ("/callback/acme", "/callback/tiktok/") unless redirect_path says
	// otherwise, and its Preset() holds the result (see RedirectPath).
	CallbackPath string

	Renewal        Renewal
	RotatesRefresh bool   // a refresh answer carries a new refresh token and the old one dies
	Check          string // CheckIntrospection, CheckDebugToken, ...
	NeedsSecret    bool   // the network only has confidential clients
	Notes          string // shown by `sbctl providers show`
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
func (p Preset) AllowsMode(m RedirectMode) bool { return slices.Contains(p.Modes, m) }

// clone copies the slices and the map so a caller cannot change the table.
func (p Preset) clone() Preset {
	p.DefaultScopes = slices.Clone(p.DefaultScopes)
	p.Modes = slices.Clone(p.Modes)
	p.ExtraAuthParams = maps.Clone(p.ExtraAuthParams)
	return p
}
