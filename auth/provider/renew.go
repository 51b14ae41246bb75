package provider

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sbctl/sbctl/auth"
)

// metaMinAge is how old an Instagram or Threads long-lived token must be
// before the network lets it be refreshed.
const metaMinAge = 24 * time.Hour

// renewal is CanRenew's answer with what Renew needs to build its error.
type renewal struct {
	ok     bool
	why    string // what stands in the way
	action string // what to do about it
	kind   ErrorKind
	reason auth.Reason
	// predicted: our clock says the lifetime that decides the renewal has
	// ended, and why the network will likely refuse. It is only a
	// prediction (the clock may be wrong, or the stored expiry misread), so
	// Renew still asks; it explains a refusal that gives no reason.
	predicted auth.Reason
}

// CanRenew reports whether Renew can work for t at now, and if not, why and
// what to do ("linkedin issues no refresh token to this app: run sbctl
// reauth"). It makes no network call.
//
// A lifetime that ended by our clock (the refresh token's, or a Meta
// long-lived token's) is no reason to say no: a date is a prediction, the
// network decides, and Renew asks it (see Renew).
func (p *Provider) CanRenew(t *auth.Token, now time.Time) (bool, string) {
	r := p.canRenew(t, now)
	if r.ok {
		return true, ""
	}
	return false, r.why + ": " + r.action
}

const reauthAction = "run sbctl reauth"

func (p *Provider) canRenew(t *auth.Token, now time.Time) renewal {
	no := func(kind ErrorKind, reason auth.Reason, why string) renewal {
		return renewal{why: why, action: reauthAction, kind: kind, reason: reason}
	}
	if t == nil || (t.AccessToken == "" && !t.HasRefresh()) {
		return no(KindOther, "", "no token is stored")
	}
	network := p.preset.Name
	// Dates are predictions (the clock may be wrong): they never refuse a
	// renewal, they explain the network's refusal. Asking is safe: a server
	// refuses an ended refresh token without rotating anything, and Meta
	// answers 190/463 for an expired token.
	expired := expiredAt(t.Expiry, now)
	switch p.preset.Renewal {
	case RenewRefreshToken:
		if !t.HasRefresh() {
			return no(KindOther, "", p.noRefreshWhy())
		}
		if p.preset.NeedsSecret && p.set.ClientSecret == "" {
			return renewal{why: network + " needs the app's client secret to renew", action: "store it with `sbctl providers set-secret " + p.name + "`", kind: KindConfig}
		}
		ok := renewal{ok: true}
		if expiredAt(t.RefreshExpiry, now) {
			// SPEC §1: a refresh-token lifetime that ended is consent_expired.
			ok.predicted = auth.ReasonConsentExpired
		}
		return ok
	case RenewFBExchange:
		if p.set.ClientSecret == "" {
			return renewal{why: "facebook needs the app secret to renew", action: "store it with `sbctl providers set-secret " + p.name + "`", kind: KindConfig}
		}
		return renewal{ok: true, predicted: predictIf(expired, auth.ReasonExpired)}
	case RenewIGRefreshToken, RenewTHRefreshToken:
		// The network's own rule on a token's age, not an expiry verdict.
		// An imported token of unknown age is tried: the network decides.
		if !t.ObtainedAt.IsZero() && now.Sub(t.ObtainedAt) < metaMinAge {
			when := t.ObtainedAt.Add(metaMinAge).UTC().Format(time.RFC3339)
			return renewal{why: network + " tokens can be refreshed only when at least 24 h old", action: "try again after " + when, kind: KindOther}
		}
		return renewal{ok: true, predicted: predictIf(expired, auth.ReasonExpired)}
	}
	return no(KindOther, "", network+" tokens cannot be renewed")
}

func predictIf(cond bool, r auth.Reason) auth.Reason {
	if cond {
		return r
	}
	return ""
}

// noRefreshWhy explains a grant without a refresh token. A network's
// hint names the network (whatever the config calls the provider); a
// generic kind's names the configured provider.
func (p *Provider) noRefreshWhy() string {
	if p.preset.NoRefresh == "" {
		return p.name + " issued no refresh token"
	}
	who := p.preset.Name
	if p.preset.generic() {
		who = p.name
	}
	return who + " " + p.preset.NoRefresh
}

// Renew gets a new access token without the browser, by the preset's
// Renewal. It sends one request and never retries: on a rotating provider
// a lost answer is reported as Ambiguous and must not be replayed.
// A refresh answer without a refresh_token keeps the old one (RFC 6749 §6);
// the ID token and scopes are kept when the answer omits them.
//
// Our clock never refuses a renewal: a refresh token whose stored expiry
// has passed, or a Meta token that our clock calls expired, is still sent,
// because the clock or the stored expiry may be wrong (a clock 40 days
// ahead calls every grant ended). The network's answer is the verdict: a
// new token proves the grant alive (an old expiry it overturned is not
// carried over), and a definite refusal that gives no reason of its own
// is explained by the lifetime that ended (consent_expired for a refresh
// token, expired for a Meta token). So every KindDefinite error from Renew
// is the network's word, never our clock's. The refusals Renew still makes
// without a request are not about dates: no refresh token, a network
// without renewal, Instagram's and Threads' "at least 24 h old" rule
// (these wrap ErrCannotRenew, KindOther), and a missing client secret
// (KindConfig, ErrMissingSecret).
func (p *Provider) Renew(ctx context.Context, t *auth.Token) (*auth.Token, error) {
	rn := p.canRenew(t, p.now())
	if !rn.ok {
		e := &Error{Kind: rn.kind, Reason: rn.reason, Provider: p.name, Op: opRefresh, detail: rn.why, advice: rn.action}
		if rn.kind != KindDefinite && rn.kind != KindConfig {
			e.cause = ErrCannotRenew
		} else if rn.kind == KindConfig {
			e.cause = ErrMissingSecret
		}
		return nil, e
	}
	r, err := p.resolve(ctx)
	if err != nil {
		return nil, err
	}
	var out *auth.Token
	switch p.preset.Renewal {
	case RenewFBExchange:
		out, err = p.fbExchange(ctx, r, opRefresh, t, true)
	case RenewIGRefreshToken:
		out, err = p.metaRefresh(ctx, r, t, "ig_refresh_token")
	case RenewTHRefreshToken:
		out, err = p.metaRefresh(ctx, r, t, "th_refresh_token")
	default:
		out, err = p.refreshGrant(ctx, r, t)
	}
	if err != nil {
		return nil, explainByClock(err, rn.predicted)
	}
	return out, nil
}

// explainByClock gives a definite refusal the reason our clock predicted
// when the network said nothing more specific: a bare invalid_grant reads
// as access_revoked, and "expired" in a refresh's description as expired,
// but when the refresh token's lifetime has ended that is why
// (consent_expired). A refusal that names its reason (a revocation, a
// password change, Meta's subcodes) keeps it.
func explainByClock(err error, predicted auth.Reason) error {
	var e *Error
	if predicted == "" || !errors.As(err, &e) || e.Kind != KindDefinite || e.Reason == predicted {
		return err
	}
	switch e.Reason {
	case auth.ReasonInvalid, auth.ReasonExpired:
	case auth.ReasonAccessRevoked:
		// Only invalid_grant's default reading; a description that speaks
		// of revocation and not of expiry is the server's own reason.
		d := strings.ToLower(e.Description)
		if e.Code != "invalid_grant" || (strings.Contains(d, "revok") && !strings.Contains(d, "expir")) {
			return err
		}
	default:
		return err
	}
	e.Reason = predicted
	return err
}

// refreshGrant is RFC 6749 §6.
func (p *Provider) refreshGrant(ctx context.Context, r *resolved, old *auth.Token) (*auth.Token, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old.RefreshToken}}
	req := request{op: opRefresh, role: roleToken, method: http.MethodPost, url: r.ep.TokenURL, form: form,
		secrets: p.secrets(old.RefreshToken, old.AccessToken), unsafe: p.preset.RotatesRefresh}
	t, err := p.authedTokenCall(ctx, r, req)
	if err != nil {
		return nil, refusedRefresh(err)
	}
	if t.RefreshToken == "" {
		t.RefreshToken, t.RefreshExpiry = old.RefreshToken, old.RefreshExpiry
		if expiredAt(old.RefreshExpiry, p.now()) {
			// The server just accepted a refresh token our clock said had
			// ended: that expiry is wrong, and unknown is the truth.
			t.RefreshExpiry = time.Time{}
		}
	}
	if t.IDToken == "" {
		t.IDToken = old.IDToken
	}
	if len(t.Scopes) == 0 {
		t.Scopes = old.Scopes
	}
	return t, nil
}

// metaRefresh is Instagram's and Threads' refresh_access_token: a GET with
// the long-lived token itself in the query, as their API requires.
func (p *Provider) metaRefresh(ctx context.Context, r *resolved, old *auth.Token, grant string) (*auth.Token, error) {
	q := url.Values{"grant_type": {grant}, "access_token": {old.AccessToken}}
	t, err := p.tokenCall(ctx, request{op: opRefresh, role: roleToken, method: http.MethodGet,
		url: withQuery(r.ep.RefreshURL, q), secrets: p.secrets(old.AccessToken)})
	if err != nil {
		return nil, err
	}
	return keepMeta(t, old, true, p.now()), nil
}

// refusedRefresh reads a 400 to a refresh as a definite rejection when
// nothing says otherwise. The request is sbctl's own and well formed, so a
// 400 that is not about the client, a scope or the server's health can only
// be about the refresh token: Dex answers a revoked or replayed one with
// invalid_request ("Refresh token is invalid or has already been claimed by
// another client."), not RFC 6749's invalid_grant (dexidp/dex#2613).
func refusedRefresh(err error) error {
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusBadRequest && e.Kind == KindOther && !e.Ambiguous {
		definite(e, reasonFromText(e.Description, auth.ReasonInvalid))
	}
	return err
}
