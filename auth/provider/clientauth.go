package provider

// clientAuth adds the client's identity to a token-endpoint request.
// A confidential client uses the style the network wants (X and Pinterest:
// HTTP Basic; Meta, LinkedIn, TikTok, Google: form parameters). A public
// client has no secret and sends its id in the body, under the network's
// name for it (TikTok: client_key).
func (p *Provider) clientAuth(r *request, style AuthStyle) {
	secret := p.set.ClientSecret
	if secret != "" && style == AuthBasic {
		r.basic, r.basicUser, r.basicPass = true, p.set.ClientID, secret
		return
	}
	r.form.Set(p.clientIDParam(), p.set.ClientID)
	if secret != "" {
		r.form.Set("client_secret", secret)
	}
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
