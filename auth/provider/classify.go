package provider

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sbctl/sbctl/auth"
)

// Classify maps an error answer to a kind and a reason: the table of
// SPEC §1 and SECURITY 21. preset is the provider name shown in the message.
//
//	429, 5xx, Meta rate limits                      -> Transient (RetryAfter from Retry-After)
//	{"reason": one of auth.Reasons} (any provider)  -> Definite with that reason
//	invalid_grant                                   -> Definite access_revoked ("expired" if the description says only that)
//	invalid_token, Bearer error="invalid_token"     -> Definite invalid (or expired)
//	invalid_client, unauthorized_client, unsupported_grant_type -> Config (client credentials)
//	invalid_scope                                   -> Config (scope); insufficient_scope -> Config (permission)
//	Meta {"error":{"code":190,"error_subcode":N}}   -> Definite: 460 password_changed, 458 access_revoked,
//	                                                   463 expired, others and none invalid
//	Meta codes 10, 200-299                          -> Config (permission missing)
//	LinkedIn serviceErrorCode 65600 / 65601         -> Definite invalid / access_revoked
//	X invalid_request "Value passed for the token was invalid." -> Definite access_revoked
//	TikTok {"error":{"code":"access_token_invalid"}} -> Definite invalid
//	introspection {"active":false}                  -> Definite access_revoked (LinkedIn status "expired" -> expired)
//	bare 401                                        -> Definite invalid
//	bare 403                                        -> Config (permission missing)
//	anything else                                   -> Other
func Classify(status int, header http.Header, body []byte, preset string) *Error {
	e := classify(status, header, body, roleOther, nil)
	e.Provider = preset
	return e
}

// failure classifies a non-2xx answer to one of our requests.
func (p *Provider) failure(op string, rl role, resp *response, secrets []string) *Error {
	e := classify(resp.status, resp.header, resp.body, rl, secrets)
	e.Provider, e.Op, e.Host = p.name, op, resp.host
	if op == opExchange && e.Kind == KindDefinite {
		// A refused code says nothing about an existing grant.
		e.Reason = auth.ReasonInvalid
	}
	if e.clientErr {
		p.explainClientError(e, resp, secrets)
	}
	return e
}

// errorBody is what the error bodies of every network have in common, read
// tolerantly: a field of an unexpected type is simply absent.
type errorBody struct {
	json bool

	errStr string // RFC 6749 "error": "invalid_grant"
	desc   string // error_description, error.message, error_message, message, detail
	reason auth.Reason

	// Meta: {"error":{"type":"OAuthException","code":190,"error_subcode":460}}
	// (debug_token says "subcode").
	meta             bool
	metaCode, metaSb int64
	metaType         string

	// TikTok's API errors: {"error":{"code":"access_token_invalid",...}}.
	objCode string
	// Google's API errors: {"error":{"code":401,"status":"UNAUTHENTICATED","errors":[{"reason":...}]}}.
	googleStatus  string
	googleReasons []string

	serviceCode int64 // LinkedIn serviceErrorCode
	hasService  bool
	igType      string // Instagram's {"error_type":"OAuthException","code":400,"error_message":...}

	active    *bool  // RFC 7662
	liStatus  string // LinkedIn introspection "status": active, expired, revoked
	hasActive bool
}

func parseErrorBody(body []byte) errorBody {
	var eb errorBody
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return eb
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return eb
	}
	eb.json = true
	if raw, ok := m["error"]; ok {
		if s, ok := jsonString(raw); ok {
			eb.errStr = s
		} else {
			var obj map[string]json.RawMessage
			if json.Unmarshal(raw, &obj) == nil {
				eb.readErrorObject(obj)
			}
		}
	}
	for _, k := range []string{"error_description", "error_message", "message", "detail"} {
		if eb.desc != "" {
			break
		}
		eb.desc, _ = jsonString(m[k])
	}
	if s, ok := jsonString(m["reason"]); ok && slices.Contains(auth.Reasons, auth.Reason(s)) {
		eb.reason = auth.Reason(s)
	}
	if n, ok := jsonInt(m["serviceErrorCode"]); ok {
		eb.serviceCode, eb.hasService = n, true
	}
	eb.igType, _ = jsonString(m["error_type"])
	if raw, ok := m["active"]; ok {
		var b bool
		if json.Unmarshal(raw, &b) == nil {
			eb.active, eb.hasActive = &b, true
		}
	}
	eb.liStatus, _ = jsonString(m["status"])
	return eb
}

func (eb *errorBody) readErrorObject(obj map[string]json.RawMessage) {
	eb.desc, _ = jsonString(obj["message"])
	if s, ok := jsonString(obj["code"]); ok {
		if _, err := strconv.Atoi(s); err != nil {
			eb.objCode = s // TikTok
			return
		}
	}
	code, ok := jsonInt(obj["code"])
	if !ok {
		return
	}
	if st, ok := jsonString(obj["status"]); ok {
		eb.googleStatus = st
		var errs []struct {
			Reason string `json:"reason"`
		}
		if json.Unmarshal(obj["errors"], &errs) == nil {
			for _, e := range errs {
				eb.googleReasons = append(eb.googleReasons, e.Reason)
			}
		}
		return
	}
	eb.meta, eb.metaCode = true, code
	eb.metaType, _ = jsonString(obj["type"])
	if n, ok := jsonInt(obj["error_subcode"]); ok {
		eb.metaSb = n
	} else if n, ok := jsonInt(obj["subcode"]); ok {
		eb.metaSb = n
	}
}

// answer is an error answer as the classification rules read it.
type answer struct {
	status  int
	header  http.Header
	body    errorBody
	role    role
	secrets []string
}

// rule decides an error answer, or leaves it to the rules after it: it
// reports whether it decided. A rule that does not decide may still fill
// in e.Code or e.Description for the rules after it.
type rule func(e *Error, a *answer) bool

// rules are tried in order, and the first that decides wins; an answer no
// rule decides is KindOther. The order is the table of Classify: the
// server's word that it is overloaded first, then an explicit reason,
// then the shape of each network's body, then what the standard fields,
// the headers and the status say. A network's rules live next to its
// preset (presets_meta.go, presets_social.go, presets_google.go); the
// body shapes they test cannot occur together, so their order among
// themselves changes nothing.
var rules = []rule{
	overloaded,
	explicitReason,
	metaError,         // Facebook, Instagram, Threads: {"error":{"code":190,...}}
	tiktokError,       // {"error":{"code":"access_token_invalid"}}
	googleAPIError,    // {"error":{"status":"UNAUTHENTICATED",...}}
	xDeadRefreshToken, // invalid_request "Value passed for the token was invalid."
	oauthError,        // RFC 6749 §5.2 and RFC 8628 error codes
	linkedinServiceError,
	instagramError,
	inactiveToken,
	bearerError,
	pinterestDeadToken,
	bareStatus,
}

func classify(status int, header http.Header, body []byte, rl role, secrets []string) *Error {
	a := &answer{status: status, header: header, body: parseErrorBody(body), role: rl, secrets: secrets}
	e := &Error{Status: status}
	e.Code = sanitizeCode(a.body.errStr, secrets)
	if e.Code == "" && a.body.objCode != "" {
		e.Code = sanitizeCode(a.body.objCode, secrets)
	}
	e.Description = sanitizeDescription(a.body.desc, secrets)
	for _, decide := range rules {
		if decide(e, a) {
			return e
		}
	}
	e.Kind = KindOther
	return e
}

// overloaded: whatever else the body says, nothing is known to be wrong
// with the grant when the server says it is overloaded.
func overloaded(e *Error, a *answer) bool {
	if a.status != http.StatusTooManyRequests && a.status < 500 {
		return false
	}
	e.Kind, e.RetryAfter = KindTransient, retryAfter(a.header)
	return true
}

// explicitReason: {"reason": one of auth.Reasons}, from any server (the
// sandbox says why), unless the error is about the client.
func explicitReason(e *Error, a *answer) bool {
	if a.body.reason == "" || isConfigCode(a.body.errStr) {
		return false
	}
	definite(e, a.body.reason)
	return true
}

func oauthError(e *Error, a *answer) bool {
	eb := a.body
	if eb.errStr == "" {
		return false
	}
	switch eb.errStr {
	case "invalid_grant":
		definite(e, reasonFromText(eb.desc, auth.ReasonAccessRevoked))
	case "invalid_token":
		definite(e, reasonFromText(eb.desc, auth.ReasonInvalid))
	case "access_denied":
		definite(e, auth.ReasonAccessRevoked)
	case "expired_token": // RFC 8628: the device code expired
		definite(e, auth.ReasonExpired)
	case "invalid_client", "unauthorized_client", "unsupported_grant_type", "unsupported_response_type":
		configClient(e)
	case "invalid_scope":
		e.Kind = KindConfig
		e.detail = "a requested scope was refused"
		e.advice = "check the profile's scopes against what the app may request"
	case "insufficient_scope":
		configPermission(e)
	case "server_error", "temporarily_unavailable", "authorization_pending", "slow_down":
		e.Kind = KindTransient
	case "invalid_request":
		if mentionsClient(eb.desc) {
			configClient(e)
			return true
		}
		e.Kind = KindOther
	default:
		return false
	}
	return true
}

// inactiveToken: RFC 7662 {"active": false}. LinkedIn's introspection adds
// a status, which tells an expired token from a revoked one.
func inactiveToken(e *Error, a *answer) bool {
	if !a.body.hasActive || *a.body.active {
		return false
	}
	if strings.ToLower(a.body.liStatus) == "expired" {
		definite(e, auth.ReasonExpired)
	} else {
		definite(e, auth.ReasonAccessRevoked)
	}
	return true
}

// bearerError reads RFC 6750 §3's WWW-Authenticate error, filling in the
// code and description the body did not give.
func bearerError(e *Error, a *answer) bool {
	if a.status != http.StatusUnauthorized && a.status != http.StatusForbidden && a.status != http.StatusBadRequest {
		return false
	}
	ch := bearerChallenge(a.header)
	if ch.err == "" {
		return false
	}
	if e.Code == "" {
		e.Code = sanitizeCode(ch.err, a.secrets)
	}
	if e.Description == "" {
		e.Description = sanitizeDescription(ch.desc, a.secrets)
	}
	switch ch.err {
	case "invalid_token":
		definite(e, reasonFromText(ch.desc, auth.ReasonInvalid))
		return true
	case "insufficient_scope":
		configPermission(e)
		return true
	}
	return false
}

// bareStatus is what a 401 or 403 says when nothing else did.
func bareStatus(e *Error, a *answer) bool {
	switch a.status {
	case http.StatusUnauthorized:
		// RFC 6749 §5.2 and RFC 7009 §2.2.1: at these endpoints a 401 is
		// about the client's credentials, not the user's token.
		if a.role == roleToken || a.role == roleRevoke {
			configClient(e)
		} else {
			definite(e, reasonFromText(a.body.desc, auth.ReasonInvalid))
		}
		return true
	case http.StatusForbidden:
		configPermission(e)
		return true
	}
	return false
}

func definite(e *Error, r auth.Reason) *Error {
	e.Kind, e.Reason = KindDefinite, r
	return e
}

func configClient(e *Error) *Error {
	e.Kind, e.clientErr = KindConfig, true
	e.detail = "the network refused the app's credentials"
	e.advice = "check client_id, the client secret (`sbctl providers set-secret`) and the registered redirect URI"
	return e
}

func configPermission(e *Error) *Error {
	e.Kind = KindConfig
	e.detail = "a permission is missing"
	e.advice = "add the scope to the profile (and get it approved for the app if the network requires), then run `sbctl reauth`"
	return e
}

func isConfigCode(code string) bool {
	switch code {
	case "invalid_client", "unauthorized_client", "invalid_scope", "unsupported_grant_type", "unsupported_response_type":
		return true
	}
	return false
}

// reasonFromText picks "expired" when the description says the token
// expired and nothing else; "Token has been expired or revoked." stays dflt.
func reasonFromText(desc string, dflt auth.Reason) auth.Reason {
	d := strings.ToLower(desc)
	if strings.Contains(d, "expired") && !strings.Contains(d, "revoked") && !strings.Contains(d, " or ") {
		return auth.ReasonExpired
	}
	return dflt
}

func mentionsClient(desc string) bool {
	d := strings.ToLower(desc)
	for _, w := range []string{"client secret", "client_secret", "app secret", "client_id", "client id", "invalid client", "redirect_uri", "redirect uri", "application id", "app id"} {
		if strings.Contains(d, w) {
			return true
		}
	}
	return false
}

var deadTokenRE = regexp.MustCompile(`(?i)(refresh|access)[ _]?token.*\b(invalid|expired|revoked|not found)\b|\b(invalid|expired|revoked)\b.*(refresh|access)[ _]?token`)

func saysTokenIsDead(desc string) bool { return desc != "" && deadTokenRE.MatchString(desc) }

type challenge struct{ err, desc string }

var authParamRE = regexp.MustCompile(`([A-Za-z_]+)\s*=\s*(?:"([^"]*)"|([^\s,]*))`)

// bearerChallenge reads RFC 6750 §3 error attributes from WWW-Authenticate.
func bearerChallenge(h http.Header) challenge {
	var c challenge
	for _, v := range h.Values("WWW-Authenticate") {
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "bearer") {
			continue
		}
		for _, m := range authParamRE.FindAllStringSubmatch(v, -1) {
			val := m[2]
			if val == "" {
				val = m[3]
			}
			switch strings.ToLower(m[1]) {
			case "error":
				c.err = val
			case "error_description":
				c.desc = val
			}
		}
	}
	return c
}

// maxRetryAfter caps what a server can make the caller wait.
const maxRetryAfter = 24 * time.Hour

func retryAfter(h http.Header) time.Duration {
	clamp := func(d time.Duration) time.Duration { return min(max(d, 0), maxRetryAfter) }
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			if n > int64(maxRetryAfter/time.Second) {
				return maxRetryAfter
			}
			return clamp(time.Duration(n) * time.Second)
		}
		if t, err := http.ParseTime(v); err == nil {
			return clamp(time.Until(t))
		}
	}
	// X says when its window resets instead.
	if v := strings.TrimSpace(h.Get("X-Rate-Limit-Reset")); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 && n < 1<<40 {
			return clamp(time.Until(time.Unix(n, 0)))
		}
	}
	return 0
}

func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// jsonInt reads a number that some networks send as a string.
func jsonInt(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		n = json.Number(strings.TrimSpace(s))
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	if f, err := n.Float64(); err == nil && f > -1e15 && f < 1e15 {
		return int64(f), true
	}
	return 0, false
}
