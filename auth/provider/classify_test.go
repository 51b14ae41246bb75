package provider

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sbctl/sbctl/auth"
)

// The documented error bodies of each network, and what they mean.
func TestClassifyTable(t *testing.T) {
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	cases := []struct {
		name   string
		status int
		header http.Header
		body   string
		kind   ErrorKind
		reason auth.Reason
		code   string
	}{
		// RFC 6749 §5.2 / Google
		{"google invalid_grant", 400, nil, `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`, KindDefinite, auth.ReasonAccessRevoked, "invalid_grant"},
		{"invalid_grant expired", 400, nil, `{"error":"invalid_grant","error_description":"The refresh token has expired"}`, KindDefinite, auth.ReasonExpired, "invalid_grant"},
		{"invalid_grant bare", 400, nil, `{"error":"invalid_grant"}`, KindDefinite, auth.ReasonAccessRevoked, "invalid_grant"},
		{"invalid_client", 401, nil, `{"error":"invalid_client","error_description":"Client authentication failed"}`, KindConfig, "", "invalid_client"},
		{"unauthorized_client", 400, nil, `{"error":"unauthorized_client"}`, KindConfig, "", "unauthorized_client"},
		{"invalid_scope", 400, nil, `{"error":"invalid_scope"}`, KindConfig, "", "invalid_scope"},
		{"unsupported_grant_type", 400, nil, `{"error":"unsupported_grant_type"}`, KindConfig, "", "unsupported_grant_type"},
		{"invalid_request", 400, nil, `{"error":"invalid_request","error_description":"Missing parameter"}`, KindOther, "", "invalid_request"},
		{"server_error in 400", 400, nil, `{"error":"temporarily_unavailable"}`, KindTransient, "", "temporarily_unavailable"},
		{"device expired_token", 400, nil, `{"error":"expired_token"}`, KindDefinite, auth.ReasonExpired, "expired_token"},
		// sandbox extension: any provider type
		{"reason extension", 400, nil, `{"error":"invalid_grant","error_description":"x","reason":"password_changed"}`, KindDefinite, auth.ReasonPasswordChanged, "invalid_grant"},
		{"reason consent_expired", 400, nil, `{"error":"invalid_grant","reason":"consent_expired"}`, KindDefinite, auth.ReasonConsentExpired, "invalid_grant"},
		{"reason on userinfo", 401, nil, `{"error":"invalid_token","reason":"expired"}`, KindDefinite, auth.ReasonExpired, "invalid_token"},
		{"unknown reason ignored", 400, nil, `{"error":"invalid_grant","reason":"hacked"}`, KindDefinite, auth.ReasonAccessRevoked, "invalid_grant"},
		{"reason does not hide a config error", 401, nil, `{"error":"invalid_client","reason":"expired"}`, KindConfig, "", "invalid_client"},
		// Meta
		{"meta 190/460", 400, nil, `{"error":{"message":"Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.","type":"OAuthException","code":190,"error_subcode":460,"fbtrace_id":"Ax"}}`, KindDefinite, auth.ReasonPasswordChanged, "190/460"},
		{"meta 190/458", 400, nil, `{"error":{"message":"Error validating access token: The user has not authorized application 123.","type":"OAuthException","code":190,"error_subcode":458}}`, KindDefinite, auth.ReasonAccessRevoked, "190/458"},
		{"meta 190/463", 400, nil, `{"error":{"message":"Error validating access token: Session has expired on Tuesday.","type":"OAuthException","code":190,"error_subcode":463}}`, KindDefinite, auth.ReasonExpired, "190/463"},
		{"meta 190/459", 400, nil, `{"error":{"message":"checkpoint","type":"OAuthException","code":190,"error_subcode":459}}`, KindDefinite, auth.ReasonInvalid, "190/459"},
		{"meta 190/464", 400, nil, `{"error":{"message":"unconfirmed","type":"OAuthException","code":190,"error_subcode":464}}`, KindDefinite, auth.ReasonInvalid, "190/464"},
		{"meta 190/467", 400, nil, `{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190,"error_subcode":467}}`, KindDefinite, auth.ReasonInvalid, "190/467"},
		{"meta 190 no subcode", 400, nil, `{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190}}`, KindDefinite, auth.ReasonInvalid, "190"},
		{"meta 190 subcode as string", 400, nil, `{"error":{"message":"x","type":"OAuthException","code":"190","error_subcode":"460"}}`, KindDefinite, auth.ReasonPasswordChanged, "190/460"},
		{"meta 10 permission", 403, nil, `{"error":{"message":"(#10) Application does not have permission for this action","type":"OAuthException","code":10}}`, KindConfig, "", "10"},
		{"meta 200 permission", 400, nil, `{"error":{"message":"(#200) Requires pages_manage_posts permission","type":"OAuthException","code":200}}`, KindConfig, "", "200"},
		{"meta 299 permission", 400, nil, `{"error":{"message":"(#299) Requires extended permission","type":"OAuthException","code":299}}`, KindConfig, "", "299"},
		{"meta rate limit 4", 400, nil, `{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4}}`, KindTransient, "", "4"},
		{"meta rate limit 17", 400, nil, `{"error":{"message":"(#17) User request limit reached","type":"OAuthException","code":17}}`, KindTransient, "", "17"},
		{"meta wrong secret", 400, nil, `{"error":{"message":"Error validating client secret.","type":"OAuthException","code":1}}`, KindConfig, "", "1"},
		{"meta used code", 400, nil, `{"error":{"message":"This authorization code has been used.","type":"OAuthException","code":100,"error_subcode":36009}}`, KindOther, "", "100/36009"},
		{"instagram basic shape", 400, nil, `{"error_type":"OAuthException","code":400,"error_message":"Matching code was not found or was already used"}`, KindDefinite, auth.ReasonInvalid, "OAuthException"},
		{"instagram bad secret", 400, nil, `{"error_type":"OAuthException","code":400,"error_message":"Invalid client secret"}`, KindConfig, "", "OAuthException"},
		// LinkedIn
		{"linkedin 65600", 401, nil, `{"serviceErrorCode":65600,"message":"Invalid access token","status":401}`, KindDefinite, auth.ReasonInvalid, "65600"},
		{"linkedin 65601", 401, nil, `{"serviceErrorCode":65601,"message":"The token used in the request has been revoked by the user","status":401}`, KindDefinite, auth.ReasonAccessRevoked, "65601"},
		{"linkedin 403", 403, nil, `{"serviceErrorCode":100,"message":"Not enough permissions to access: me.GET.NO_VERSION","status":403}`, KindConfig, "", "100"},
		{"linkedin introspect revoked", 200, nil, `{"active":false,"status":"revoked"}`, KindDefinite, auth.ReasonAccessRevoked, ""},
		{"linkedin introspect expired", 200, nil, `{"active":false,"status":"expired"}`, KindDefinite, auth.ReasonExpired, ""},
		// X
		{"x dead refresh token", 400, nil, `{"error":"invalid_request","error_description":"Value passed for the token was invalid."}`, KindDefinite, auth.ReasonAccessRevoked, "invalid_request"},
		{"x unauthorized problem", 401, nil, `{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}`, KindDefinite, auth.ReasonInvalid, ""},
		{"x client not enrolled", 403, nil, `{"client_id":"1","required_enrollment":"Appropriate Level of API Access","title":"Client Forbidden","reason":"client-not-enrolled","type":"https://api.x.com/2/problems/client-forbidden"}`, KindConfig, "", ""},
		// TikTok
		{"tiktok invalid_grant", 400, nil, `{"error":"invalid_grant","error_description":"Authorization code is expired.","log_id":"202206221854370101130062072500FFA2"}`, KindDefinite, auth.ReasonExpired, "invalid_grant"},
		{"tiktok api token invalid", 401, nil, `{"data":{},"error":{"code":"access_token_invalid","message":"The access token is invalid or not found in the request.","log_id":"x"}}`, KindDefinite, auth.ReasonInvalid, "access_token_invalid"},
		{"tiktok scope", 401, nil, `{"error":{"code":"scope_not_authorized","message":"The user did not authorize the scope required for completing this request.","log_id":"x"}}`, KindConfig, "", "scope_not_authorized"},
		{"tiktok rate", 429, nil, `{"error":{"code":"rate_limit_exceeded","message":"","log_id":"x"}}`, KindTransient, "", "rate_limit_exceeded"},
		// Google APIs
		{"google api 401", 401, nil, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`, KindDefinite, auth.ReasonInvalid, "UNAUTHENTICATED"},
		{"youtube quota", 403, nil, `{"error":{"code":403,"message":"quota","errors":[{"reason":"quotaExceeded"}],"status":"PERMISSION_DENIED"}}`, KindTransient, "", "PERMISSION_DENIED"},
		// Pinterest and unknown shapes
		{"pinterest dead refresh", 400, nil, `{"code":1,"message":"Invalid refresh token"}`, KindDefinite, auth.ReasonAccessRevoked, ""},
		// RFC 6750 challenge, no body
		{"bearer invalid_token", 401, hdr("WWW-Authenticate", `Bearer realm="api", error="invalid_token", error_description="The access token expired"`), ``, KindDefinite, auth.ReasonExpired, "invalid_token"},
		{"bearer insufficient_scope", 403, hdr("WWW-Authenticate", `Bearer error="insufficient_scope"`), ``, KindConfig, "", "insufficient_scope"},
		// status alone
		{"bare 401", 401, nil, `Unauthorized`, KindDefinite, auth.ReasonInvalid, ""},
		{"bare 403", 403, nil, ``, KindConfig, "", ""},
		{"bare 400", 400, nil, `<html>bad</html>`, KindOther, "", ""},
		{"bare 404", 404, nil, ``, KindOther, "", ""},
		{"500", 500, nil, `{"error":"invalid_grant"}`, KindTransient, "", "invalid_grant"},
		{"502 html", 502, nil, `<html>Bad Gateway</html>`, KindTransient, "", ""},
		{"503", 503, hdr("Retry-After", "7"), ``, KindTransient, "", ""},
		{"429", 429, hdr("Retry-After", "60"), `{"error":"slow_down"}`, KindTransient, "", "slow_down"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := c.header
			if h == nil {
				h = http.Header{}
			}
			e := Classify(c.status, h, []byte(c.body), "net")
			if e.Kind != c.kind || e.Reason != c.reason || e.Code != c.code || e.Status != c.status {
				t.Fatalf("got %v/%q code %q status %d (%v); want %v/%q code %q", e.Kind, e.Reason, e.Code, e.Status, e, c.kind, c.reason, c.code)
			}
			if e.Kind == KindTransient && e.Reason != "" {
				t.Fatal("a transient error carries a reason")
			}
			if msg := e.Error(); !strings.HasPrefix(msg, "net: ") || (e.Kind == KindDefinite && !strings.Contains(msg, string(e.Reason))) {
				t.Errorf("message %q", msg)
			}
		})
	}
	if e := Classify(429, http.Header{"Retry-After": {"60"}}, nil, "x"); e.RetryAfter != time.Minute {
		t.Errorf("Retry-After: %v", e.RetryAfter)
	}
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	if e := Classify(503, http.Header{"Retry-After": {date}}, nil, "x"); e.RetryAfter < 80*time.Second || e.RetryAfter > 90*time.Second {
		t.Errorf("Retry-After date: %v", e.RetryAfter)
	}
	if e := Classify(429, http.Header{"Retry-After": {"99999999999"}}, nil, "x"); e.RetryAfter != maxRetryAfter {
		t.Errorf("Retry-After cap: %v", e.RetryAfter)
	}
}

func TestSanitizeDescription(t *testing.T) {
	cases := map[string]string{
		"Token has been expired or revoked.":                    "Token has been expired or revoked.",
		"line1\r\nline2\x1b[31m red":                            "line1 line2[31m red",
		"bidi \u202etxet":                                       "bidi txet",
		"token EAABwzLixnjYBAOZBZBZBZCZAZAZAZAZD123 is invalid": "token [redacted] is invalid",
		"jwt eyJhbGciOi.eyJzdWIiOiIx.c2ln":                      "jwt [redacted]",
		"code MARKER-SECRET-1234 used":                          "code [redacted] used",
		"user 123456789012345 not authorized":                   "user 123456789012345 not authorized",
		"日本語のエラー":                                               "日本語のエラー",
	}
	for in, want := range cases {
		if got := sanitizeDescription(in, nil); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("word ", 500)
	if got := sanitizeDescription(long, nil); utf8.RuneCountInString(got) > maxDescription+1 || !strings.HasSuffix(got, "…") {
		t.Errorf("not cut: %d runes", utf8.RuneCountInString(got))
	}
	if got := sanitizeDescription("bad secret hunter2-x!", []string{"hunter2-x"}); got != "bad secret [redacted]!" {
		t.Errorf("known secret: %q", got)
	}
	if sanitizeCode("invalid_grant", nil) != "invalid_grant" || sanitizeCode("<script>", nil) != "" || sanitizeCode("abc123def456ghi789", nil) != "" {
		t.Error("sanitizeCode")
	}
}
