package provider

import (
	"context"
	"maps"

	"github.com/sbctl/sbctl/auth"
)

// clientAuth adds the client's identity to a token-endpoint request.
// A confidential client uses the style the network wants (X and Pinterest:
// HTTP Basic; Meta, LinkedIn, TikTok, Google: form parameters). A public
// client has no secret and sends its id in the body, under the network's
// name for it (TikTok: client_key).
func (p *Provider) clientAuth(r *request, style auth.ClientAuth) {
	secret := p.set.ClientSecret
	r.style = style
	if secret != "" && style == auth.ClientAuthBasic {
		r.basic, r.basicUser, r.basicPass = true, p.set.ClientID, secret
		return
	}
	r.form.Set(p.clientIDParam(), p.set.ClientID)
	if secret != "" {
		r.form.Set("client_secret", secret)
	}
}

// authStyle is how the next request authenticates the client, and whether a
// refusal of the client may be answered by trying the other style once.
// Only the generic kinds without an explicit client_auth guess; what worked
// once is kept for the Provider's life, as x/oauth2's AuthStyleAutoDetect
// does.
func (p *Provider) authStyle(r *resolved) (auth.ClientAuth, bool) {
	if s := p.learned.Load(); s != nil {
		return *s, false
	}
	return r.style, p.autoStyle && p.set.ClientSecret != ""
}

// sendAuthed sends a request that carries the client's identity, with the
// style authStyle picks. When the server refuses the client (invalid_client)
// and the style was a guess, it sends the request once more with the other
// style.
//
// That one resend is safe even for a code exchange and a rotating refresh:
// a server authenticates the client before it looks at the grant (RFC 6749
// §3.2.1, §5.2), so a refused client means the code was not redeemed and
// the refresh token not rotated. A request that got no answer is never
// resent.
func (p *Provider) sendAuthed(ctx context.Context, r *resolved, req request) (*response, error) {
	style, guess := p.authStyle(r)
	resp, err := p.send(ctx, p.withClientAuth(req, style))
	if err != nil || !guess {
		return resp, err
	}
	if !refusesClient(resp) {
		p.remember(style, resp)
		return resp, nil
	}
	first := resp
	resp, err = p.send(ctx, p.withClientAuth(req, style.Other()))
	if err != nil {
		return nil, err
	}
	resp.refusedFirst = first
	p.remember(resp.style, resp)
	return resp, nil
}

// withClientAuth is req with the client's identity added, on a copy of the
// form so the other style can start from the original.
func (p *Provider) withClientAuth(req request, style auth.ClientAuth) request {
	req.form = maps.Clone(req.form)
	p.clientAuth(&req, style)
	return req
}

// remember keeps style once a server has let the client past
// authentication: a success, or a 4xx about something else. A 5xx proves
// nothing.
func (p *Provider) remember(style auth.ClientAuth, resp *response) {
	if resp.ok() || (resp.status >= 400 && resp.status < 500 && !refusesClient(resp)) {
		p.learned.CompareAndSwap(nil, &style)
	}
}

// refusesClient reports whether an answer refuses the client's
// authentication rather than the request: invalid_client (RFC 6749 §5.2),
// a bare 401, or an invalid_request about the client's parameters (mockoidc
// answers "missing the required parameter: client_id" to HTTP Basic).
func refusesClient(resp *response) bool {
	if resp.ok() {
		return false
	}
	eb := parseErrorBody(resp.body)
	switch eb.errStr {
	case "invalid_client":
		return true
	case "invalid_request":
		return mentionsClient(eb.desc)
	case "":
		return resp.status == 401 && !eb.meta && eb.objCode == "" && bearerChallenge(resp.header).err == ""
	}
	return false
}

// explainClientError words a refusal of the client for the kind of client
// it is: a public client has no secret to check, and a confidential one may
// be registered for the other authentication method.
func (p *Provider) explainClientError(e *Error, resp *response, secrets []string) {
	if !p.Confidential() {
		e.detail = "the network refused the client " + quote(truncate(p.set.ClientID, 80)) + ", which sbctl uses as a public client (no client secret)"
		e.advice = "check client_id"
		if e.Op == opExchange {
			e.advice += " and the redirect URI registered for the app"
		}
		e.advice += "; if the server registered the app as confidential, store its secret with `sbctl providers set-secret " + p.name + "`"
		return
	}
	e.detail = "the network refused the app's credentials"
	if first := resp.refusedFirst; first != nil {
		// Which answer explains a refusal of both depends on the method the
		// client is registered for, so both are shown.
		e.detail += " sent as " + styleName(first.style)
		if d := sanitizeDescription(parseErrorBody(first.body).desc, secrets); d != "" {
			e.detail += " (the server said " + quote(d) + ")"
		}
		e.detail += " and then as " + styleName(resp.style)
	}
	set := "`sbctl providers set-secret " + p.name + "`"
	if e.Op == opExchange {
		e.advice = "check client_id, the client secret (" + set + ") and the redirect URI registered for the app"
	} else {
		e.advice = "check client_id and the client secret (" + set + ")"
	}
	if resp.style == "" || !refusesClient(resp) {
		return
	}
	switch {
	case resp.refusedFirst != nil:
		e.advice += "; if the server expects one method only, set client_auth: client_secret_basic or client_secret_post for this provider"
	case resp.style == auth.ClientAuthBasic:
		e.advice += "; if the server expects the other method, set client_auth: client_secret_post for this provider"
	default:
		e.advice += "; if the server expects the other method, set client_auth: client_secret_basic for this provider"
	}
}

func styleName(s auth.ClientAuth) string {
	if s == auth.ClientAuthBasic {
		return "HTTP Basic"
	}
	return "form parameters"
}

func (p *Provider) clientIDParam() string {
	if p.preset.ClientIDParam != "" {
		return p.preset.ClientIDParam
	}
	return "client_id"
}

// secrets lists what must never be echoed back in a message.
func (p *Provider) secrets(more ...string) []string {
	out := []string{p.set.ClientSecret}
	for _, s := range more {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
