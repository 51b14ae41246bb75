package provider

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/sbctl/sbctl/auth"
)

// Verdict is a network's answer about a token.
type Verdict struct {
	Valid  bool
	Reason auth.Reason // why not, when !Valid
	// Expiry is when the access token expires, as the network says (else as
	// stored); DataAccessExpiry is Meta's 90-day data-access deadline.
	// RefreshExpiry is when the refresh token expires, when the network
	// said so (introspection's exp about an active refresh token); zero
	// when it did not. Valid with a refresh token means the grant is alive,
	// whatever a stored RefreshExpiry predicted.
	//
	// When the local clock and the server's Date disagree by more than
	// ClockSkewThreshold, these are read like token lifetimes: the access
	// token's end is the earlier of its two readings, the others' the later
	// (see answerClock).
	Expiry, DataAccessExpiry time.Time
	RefreshExpiry            time.Time
	Scopes                   []string
	Check                    TokenCheck // which check answered
}

// Verify asks the network whether the grant is still good, by the preset's
// Check: RFC 7662 introspection (only "active": true counts; where there is
// a refresh token it is asked about, as it is the grant: see
// verifyIntrospect), Meta's debug_token (is_valid, expires_at,
// data_access_expires_at, scopes), Google's tokeninfo, or a userinfo / "me"
// call with the access token. A public client at a server whose
// introspection needs client authentication (discovery's
// introspection_endpoint_auth_methods_supported without "none", or a 401
// invalid_client) is checked through userinfo instead.
//
// A definite answer is a Verdict (Valid false with a Reason); an error means
// the question could not be answered (transient, config or other). An error
// wrapping ErrCheckByRenewal means only a renewal can answer it; see there.
// Checks other than introspection look at the access token only: with a
// lapsed access token and a refresh token they give ErrCheckByRenewal, and
// without a refresh token the verdict is "expired".
func (p *Provider) Verify(ctx context.Context, t *auth.Token) (*Verdict, error) {
	if t == nil || (t.AccessToken == "" && !t.HasRefresh()) {
		return nil, &Error{Kind: KindOther, Provider: p.name, Op: opVerify, detail: "no token is stored", advice: reauthAction}
	}
	r, err := p.resolve(ctx)
	if err != nil {
		return nil, err
	}
	switch p.preset.Check {
	case CheckIntrospection:
		if r.ep.IntrospectURL != "" && (p.Confidential() || !r.introspectNeedsAuth) {
			v, err := p.verifyIntrospect(ctx, r, t)
			if !p.refusedPublicClient(err) {
				return v, err
			}
			return p.verifyWithoutIntrospection(ctx, r, t, true)
		}
		return p.verifyWithoutIntrospection(ctx, r, t, r.ep.IntrospectURL != "")
	case CheckDebugToken:
		if r.ep.IntrospectURL != "" && t.AccessToken != "" {
			return p.verifyDebugToken(ctx, r, t)
		}
	case CheckTokeninfo:
		if r.ep.IntrospectURL != "" && t.AccessToken != "" {
			return p.verifyTokeninfo(ctx, r, t)
		}
	}
	return p.verifyWithoutIntrospection(ctx, r, t, false)
}

// verifyWithoutIntrospection asks the userinfo or "me" endpoint, which
// speaks for the access token only. refused: the server has introspection
// but not for this (public) client.
func (p *Provider) verifyWithoutIntrospection(ctx context.Context, r *resolved, t *auth.Token, refused bool) (*Verdict, error) {
	check := CheckMe
	if p.preset.Check == CheckIntrospection || p.preset.Check == CheckUserinfo {
		check = CheckUserinfo
	}
	accessLive := t.AccessToken != "" && !expiredAt(t.Expiry, p.now())
	switch {
	case r.ep.UserinfoURL != "" && accessLive:
		v, err := p.verifyAPI(ctx, r, t, check)
		if t.HasRefresh() && unexplainedRefusal(err) {
			return nil, p.checkByRenewal("userinfo refused the access token (HTTP 403) without saying why")
		}
		return v, err
	case t.HasRefresh():
		why := "the access token has lapsed, and the server offers no other check"
		if r.ep.UserinfoURL == "" {
			why = "the server offers no check of the grant"
		}
		if refused {
			why += " to a public client (its introspection needs client authentication)"
		}
		return nil, p.checkByRenewal(why)
	case r.ep.UserinfoURL != "":
		return p.verifyAPI(ctx, r, t, check)
	case refused:
		e := p.configError(opVerify, "", "the server lets only authenticated clients introspect tokens and has no userinfo endpoint",
			"this is a public client (no secret): set userinfo_url in the config, or register the app as confidential and store its secret with `sbctl providers set-secret "+p.name+"`")
		e.cause = ErrNoCheck
		return nil, e
	}
	return nil, ErrNoCheck
}

// unexplainedRefusal: a bare 403, no error code or description. Servers
// answer a token whose grant is gone that way (zitadel/oidc's userinfo), so
// it is no evidence of a missing permission.
func unexplainedRefusal(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == KindConfig && e.Status == http.StatusForbidden && e.Code == "" && e.Description == ""
}

// checkByRenewal is the error that asks the caller to prove the grant by
// renewing it (ErrCheckByRenewal).
func (p *Provider) checkByRenewal(why string) *Error {
	return &Error{Kind: KindOther, Provider: p.name, Op: opVerify, cause: ErrCheckByRenewal,
		detail: "only a renewal with the refresh token can tell whether the grant is alive: " + why,
		advice: "renew it (`sbctl refresh`): a refused renewal means the grant is gone"}
}

// refusedPublicClient: introspection said no to a client without a secret,
// which only says the server wants client authentication there.
func (p *Provider) refusedPublicClient(err error) bool {
	var e *Error
	return !p.Confidential() && errors.As(err, &e) && e.clientErr
}

// verifyDebugToken asks Meta's debug_token about the token. Facebook takes
// the app token {app-id}|{app-secret} as the caller
// (Preset.DebugTokenAppToken); Threads takes a user token of the same app,
// so the token inspects itself. Both go in the query, as Meta requires.
func (p *Provider) verifyDebugToken(ctx context.Context, r *resolved, t *auth.Token) (*Verdict, error) {
	appToken := p.preset.DebugTokenAppToken
	caller := t.AccessToken
	if appToken {
		if err := p.requireSecret(opVerify); err != nil {
			return nil, err
		}
		caller = p.set.ClientID + "|" + p.set.ClientSecret
	}
	q := url.Values{"input_token": {t.AccessToken}, "access_token": {caller}}
	req := request{op: opVerify, role: roleResource, method: http.MethodGet, url: withQuery(r.ep.IntrospectURL, q),
		secrets: p.secrets(t.AccessToken, caller)}
	resp, err := p.send(ctx, req)
	if err != nil {
		return nil, err
	}
	if !resp.ok() {
		return p.debugTokenRefused(ctx, r, t, resp, req.secrets)
	}
	d, ok := parseDebugToken(resp.body)
	if !ok {
		return nil, p.badAnswer(opVerify, resp, "the debug_token answer has no data", false)
	}
	return p.debugTokenVerdict(d, resp.clock, t), nil
}

// debugTokenRefused reads a debug_token request that was refused.
func (p *Provider) debugTokenRefused(ctx context.Context, r *resolved, t *auth.Token, resp *response, secrets []string) (*Verdict, error) {
	e := p.failure(opVerify, roleResource, resp, secrets)
	appToken := p.preset.DebugTokenAppToken
	switch {
	case appToken && e.Kind == KindDefinite:
		// The only token Facebook can reject here is the app token.
		e.Kind, e.Reason = KindConfig, ""
		e.detail = "debug_token refused the app token (client id and secret)"
		e.advice = "check client_id and the app secret (`sbctl providers set-secret " + p.name + "`)"
		return nil, e
	case !appToken && e.Kind == KindConfig && r.ep.UserinfoURL != "":
		// Threads lets only testers' tokens call debug_token; /me still
		// tells a live token from a dead one.
		return p.verifyAPI(ctx, r, t, CheckMe)
	case e.Kind == KindDefinite:
		return p.deadVerdict(e, t, CheckDebugToken), nil
	}
	return nil, e
}

// debugTokenData is the "data" of a debug_token answer.
type debugTokenData struct {
	AppID             string          `json:"app_id"`
	IsValid           bool            `json:"is_valid"`
	ExpiresAt         json.RawMessage `json:"expires_at"`
	DataAccessExpires json.RawMessage `json:"data_access_expires_at"`
	Scopes            []string        `json:"scopes"`
	Error             json.RawMessage `json:"error"`
}

func parseDebugToken(body []byte) (debugTokenData, bool) {
	var out struct {
		Data debugTokenData `json:"data"`
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil || len(m["data"]) == 0 || json.Unmarshal(body, &out) != nil {
		return debugTokenData{}, false
	}
	return out.Data, true
}

// debugTokenVerdict turns debug_token's data into a verdict.
// expires_at and data_access_expires_at are the server's times: they are
// compared with its Date, so a wrong local clock does not end a grant,
// and the caller, who stores them and compares them with the local clock,
// gets them read as token lifetimes are (answerClock).
func (p *Provider) debugTokenVerdict(d debugTokenData, clock answerClock, t *auth.Token) *Verdict {
	v := &Verdict{Check: CheckDebugToken, Expiry: t.Expiry, Scopes: grantedScopes(d.Scopes)}
	n, stated := jsonInt(d.ExpiresAt)
	if stated {
		v.Expiry = time.Time{} // 0 = never expires (page tokens)
		if n > 0 {
			v.Expiry = time.Unix(n, 0)
		}
	}
	if n, ok := jsonInt(d.DataAccessExpires); ok && n > 0 {
		v.DataAccessExpiry = time.Unix(n, 0)
	}
	if len(v.Scopes) == 0 {
		v.Scopes = t.Scopes
	}
	v.Valid, v.Reason = p.debugTokenReason(d, v, clock.serverNow())
	if stated {
		v.Expiry = clock.accessAt(v.Expiry)
	}
	v.DataAccessExpiry = clock.grantAt(v.DataAccessExpiry)
	return v
}

// debugTokenReason is whether the token is good and, if not, why, at the
// server's time now.
func (p *Provider) debugTokenReason(d debugTokenData, v *Verdict, now time.Time) (bool, auth.Reason) {
	switch {
	case p.preset.DebugTokenAppToken && d.AppID != "" && d.AppID != p.set.ClientID:
		return false, auth.ReasonInvalid // a token of another app: a mix-up, not ours to use
	case d.IsValid && !expiredAt(v.DataAccessExpiry, now):
		return true, ""
	case len(d.Error) > 0:
		return false, metaErrorReason(d.Error)
	case expiredAt(v.Expiry, now):
		return false, auth.ReasonExpired
	case expiredAt(v.DataAccessExpiry, now):
		return false, auth.ReasonConsentExpired
	}
	return false, auth.ReasonInvalid
}

// verifyTokeninfo asks Google about the access token. It is POSTed so the
// token stays out of the URL.
func (p *Provider) verifyTokeninfo(ctx context.Context, r *resolved, t *auth.Token) (*Verdict, error) {
	req := request{op: opVerify, role: roleResource, method: http.MethodPost, url: r.ep.IntrospectURL,
		form: url.Values{"access_token": {t.AccessToken}}, secrets: p.secrets(t.AccessToken, t.RefreshToken)}
	resp, err := p.send(ctx, req)
	if err != nil {
		return nil, err
	}
	if !resp.ok() {
		return p.verdictFromFailure(resp, req.secrets, t, CheckTokeninfo)
	}
	m, ok := decodeObject(resp.body)
	if !ok {
		return nil, p.badAnswer(opVerify, resp, "the tokeninfo answer is not JSON", false)
	}
	v := &Verdict{Valid: true, Check: CheckTokeninfo, Expiry: t.Expiry, Scopes: t.Scopes}
	if exp := unixField(m, "exp"); !exp.IsZero() {
		v.Expiry = resp.clock.accessAt(exp)
	}
	if s := scopeList(m["scope"]); len(s) > 0 {
		v.Scopes = s
	}
	// A token issued to another client must not be used as ours (the
	// "confused deputy" of RFC 6819 §4.4.1.13).
	if aud, _ := jsonString(m["aud"]); aud != "" && p.set.ClientID != "" {
		if azp, _ := jsonString(m["azp"]); aud != p.set.ClientID && azp != p.set.ClientID {
			v.Valid, v.Reason = false, auth.ReasonInvalid
		}
	}
	return v, nil
}

// verifyAPI calls the userinfo or "me" endpoint with the access token.
func (p *Provider) verifyAPI(ctx context.Context, r *resolved, t *auth.Token, check TokenCheck) (*Verdict, error) {
	if t.AccessToken == "" {
		return &Verdict{Reason: auth.ReasonExpired, Check: check}, nil
	}
	if _, err := p.apiGet(ctx, r.ep.UserinfoURL, opVerify, t); err != nil {
		var e *Error
		if errors.As(err, &e) && e.Kind == KindDefinite {
			return p.deadVerdict(e, t, check), nil
		}
		return nil, err
	}
	return &Verdict{Valid: true, Check: check, Expiry: t.Expiry, Scopes: t.Scopes}, nil
}

// apiGet is a GET with the bearer token that also treats a 2xx carrying an
// API error (TikTok's {"error":{"code":"access_token_invalid"}}) as a failure.
func (p *Provider) apiGet(ctx context.Context, u, op string, t *auth.Token) (*response, error) {
	req := request{op: op, role: roleResource, method: http.MethodGet, url: u, bearer: t.AccessToken,
		secrets: p.secrets(t.AccessToken, t.RefreshToken)}
	resp, err := p.send(ctx, req)
	if err != nil {
		return nil, err
	}
	if !resp.ok() || errorIn2xx(resp.body) {
		e := p.failure(op, roleResource, resp, req.secrets)
		if resp.ok() && e.Kind == KindOther && e.Status == http.StatusOK {
			e.detail = "the answer carries an error"
		}
		return nil, e
	}
	return resp, nil
}

func errorIn2xx(body []byte) bool {
	eb := parseErrorBody(body)
	return eb.meta || (eb.objCode != "" && eb.objCode != "ok") || eb.errStr != ""
}

// verdictFromFailure turns a definite rejection into a verdict and anything
// else into an error.
func (p *Provider) verdictFromFailure(resp *response, secrets []string, t *auth.Token, check TokenCheck) (*Verdict, error) {
	rl := roleResource
	if check == CheckIntrospection {
		rl = roleToken // a 401 there is about our client credentials
	}
	e := p.failure(opVerify, rl, resp, secrets)
	if e.Kind == KindDefinite {
		return p.deadVerdict(e, t, check), nil
	}
	return nil, e
}

// deadVerdict: a bare "invalid" for a token our clock says has lapsed is
// better explained as "expired".
func (p *Provider) deadVerdict(e *Error, t *auth.Token, check TokenCheck) *Verdict {
	reason := e.Reason
	if reason == auth.ReasonInvalid && expiredAt(t.Expiry, p.now()) {
		reason = auth.ReasonExpired
	}
	return &Verdict{Reason: reason, Check: check, Expiry: t.Expiry, Scopes: t.Scopes}
}

func expiredAt(when, now time.Time) bool { return !when.IsZero() && !now.Before(when) }

// unixField reads the first of keys that holds a plausible Unix time.
func unixField(m map[string]json.RawMessage, keys ...string) time.Time {
	for _, k := range keys {
		if n, ok := jsonInt(m[k]); ok && n > 0 && n < 1<<40 {
			return time.Unix(n, 0)
		}
	}
	return time.Time{}
}
