package provider

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sbctl/sbctl/auth"
)

// Exchange redeems an authorization code, once (SECURITY 11): any failure
// after the request was sent is final, and the sign-in must start again.
// verifier is the PKCE verifier ("" when none was used); redirectURI must be
// exactly the one sent in the authorization request.
//
// Network quirks: Facebook redeems the code with a GET and then swaps the
// short-lived token for a long-lived one (fb_exchange_token); Instagram
// strips the "#_" its redirect appends to the code and swaps through
// ig_exchange_token; Threads through th_exchange_token; TikTok names the
// client "client_key"; X and Pinterest authenticate confidential clients with
// HTTP Basic. Lifetimes are read from the answer (expires_in,
// refresh_token_expires_in, refresh_expires_in); ObtainedAt is set.
func (p *Provider) Exchange(ctx context.Context, code, verifier, redirectURI string) (*auth.Token, error) {
	code = strings.TrimSpace(code)
	if p.preset.CodeSuffix != "" {
		code = strings.TrimSuffix(code, p.preset.CodeSuffix)
	}
	if code == "" {
		return nil, &Error{Kind: KindOther, Provider: p.name, Op: opExchange, detail: "no authorization code was given", advice: "start the sign-in again"}
	}
	if p.preset.NeedsSecret {
		if err := p.requireSecret(opExchange); err != nil {
			return nil, err
		}
	}
	r, err := p.resolve(ctx)
	if err != nil {
		return nil, err
	}
	var t *auth.Token
	switch ex := p.preset.Exchange; ex {
	case ExchangeFacebook:
		t, err = p.exchangeFacebook(ctx, r, code, redirectURI)
	case ExchangeInstagram, ExchangeThreads:
		t, err = p.exchangeMeta(ctx, r, code, redirectURI, string(ex))
	default:
		t, err = p.exchangeCode(ctx, r, code, verifier, redirectURI)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// exchangeCode is RFC 6749 §4.1.3 (+ RFC 7636).
func (p *Provider) exchangeCode(ctx context.Context, r *resolved, code, verifier, redirectURI string) (*auth.Token, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
	if verifier != "" && p.preset.PKCE.Challenge() {
		form.Set("code_verifier", verifier)
	}
	req := request{op: opExchange, role: roleToken, method: http.MethodPost, url: r.ep.TokenURL, form: form,
		secrets: p.secrets(code, verifier), unsafe: true}
	t, err := p.authedTokenCall(ctx, r, req)
	if err != nil {
		return nil, err
	}
	if len(t.Scopes) == 0 {
		// RFC 6749 §5.1: no scope in the answer means the requested ones.
		t.Scopes = p.Scopes()
	}
	return t, nil
}

// exchangeFacebook redeems the code (GET, as Meta documents it) and swaps
// the one-hour token for a long-lived one.
func (p *Provider) exchangeFacebook(ctx context.Context, r *resolved, code, redirectURI string) (*auth.Token, error) {
	q := url.Values{"client_id": {p.set.ClientID}, "client_secret": {p.set.ClientSecret}, "redirect_uri": {redirectURI}, "code": {code}}
	short, err := p.tokenCall(ctx, request{op: opExchange, role: roleToken, method: http.MethodGet,
		url: withQuery(r.ep.TokenURL, q), secrets: p.secrets(code), unsafe: true})
	if err != nil {
		return nil, err
	}
	return p.fbExchange(ctx, r, opExchange, short, false)
}

// fbExchange swaps a valid Facebook user token for a long-lived one; it is
// also how a long-lived token is renewed.
func (p *Provider) fbExchange(ctx context.Context, r *resolved, op string, old *auth.Token, keepExpiry bool) (*auth.Token, error) {
	q := url.Values{"grant_type": {"fb_exchange_token"}, "client_id": {p.set.ClientID},
		"client_secret": {p.set.ClientSecret}, "fb_exchange_token": {old.AccessToken}}
	t, err := p.tokenCall(ctx, request{op: op, role: roleToken, method: http.MethodGet,
		url: withQuery(firstNonEmpty(r.ep.ExchangeURL, r.ep.TokenURL), q), secrets: p.secrets(old.AccessToken)})
	if err != nil {
		return nil, err
	}
	return keepMeta(t, old, keepExpiry, p.now()), nil
}

// exchangeMeta is Instagram's and Threads' two steps: a form POST for a
// one-hour token, then a GET that swaps it for a 60-day one.
func (p *Provider) exchangeMeta(ctx context.Context, r *resolved, code, redirectURI, grant string) (*auth.Token, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
	req := request{op: opExchange, role: roleToken, method: http.MethodPost, url: r.ep.TokenURL, form: form,
		secrets: p.secrets(code), unsafe: true}
	p.clientAuth(&req, auth.ClientAuthBody)
	short, err := p.tokenCall(ctx, req)
	if err != nil {
		return nil, err
	}
	q := url.Values{"grant_type": {grant}, "client_secret": {p.set.ClientSecret}, "access_token": {short.AccessToken}}
	long, err := p.tokenCall(ctx, request{op: opExchange, role: roleToken, method: http.MethodGet,
		url: withQuery(r.ep.ExchangeURL, q), secrets: p.secrets(short.AccessToken)})
	if err != nil {
		return nil, err
	}
	return keepMeta(long, short, false, p.now()), nil
}

// keepMeta carries over what a Meta swap or refresh answer leaves out: the
// granted permissions and, on renewal, the old expiry when no expires_in came
// (an earlier expiry than the truth is safer than none; verify corrects it).
// After the first swap the short token's hour would be far too pessimistic,
// so there the expiry stays unknown; so it does when the old expiry had
// passed by our clock at now, which the renewal just proved wrong.
func keepMeta(t, old *auth.Token, keepExpiry bool, now time.Time) *auth.Token {
	if len(t.Scopes) == 0 {
		t.Scopes = old.Scopes
	}
	if keepExpiry && t.Expiry.IsZero() && !expiredAt(old.Expiry, now) {
		t.Expiry = old.Expiry
	}
	return t
}

// tokenCall sends a token-endpoint request as built and reads the token
// answer.
func (p *Provider) tokenCall(ctx context.Context, req request) (*auth.Token, error) {
	resp, err := p.send(ctx, req)
	return p.tokenAnswer(req, resp, err)
}

// authedTokenCall is tokenCall for a POST that identifies the client as
// sendAuthed decides.
func (p *Provider) authedTokenCall(ctx context.Context, r *resolved, req request) (*auth.Token, error) {
	resp, err := p.sendAuthed(ctx, r, req)
	return p.tokenAnswer(req, resp, err)
}

func (p *Provider) tokenAnswer(req request, resp *response, err error) (*auth.Token, error) {
	if err != nil {
		return nil, err
	}
	if !resp.ok() {
		return nil, p.failure(req.op, roleToken, resp, req.secrets)
	}
	return p.parseToken(req.op, resp, req.secrets, req.unsafe)
}
