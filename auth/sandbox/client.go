package sandbox

import (
	"net/http"
	"net/url"
)

// client is who made a token, revocation or introspection request.
type client struct {
	id, secret string
	hasSecret  bool // authenticated with a secret (client_secret_basic or _post)
}

// digest is what a grant remembers of the client's secret.
func (c client) digest() []byte {
	if !c.hasSecret {
		return nil
	}
	return secretDigest(c.secret)
}

// clientFrom reads the client's identity: HTTP Basic (client_secret_basic),
// client_id + client_secret in the body (client_secret_post), or client_id
// alone (none, a public client). Any secret is accepted; what a grant later
// demands is the same secret again. required=false lets revocation and
// introspection be called without identifying the client.
func clientFrom(r *http.Request, form url.Values, required bool) (client, *oauthError) {
	if r.Header.Get("Authorization") != "" {
		id, secret, ok := r.BasicAuth()
		if !ok {
			return client{}, errInvalidClient("only HTTP Basic client authentication is accepted in the Authorization header")
		}
		// RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
		uid, err1 := url.QueryUnescape(id)
		usecret, err2 := url.QueryUnescape(secret)
		if err1 != nil || err2 != nil || uid == "" {
			return client{}, errInvalidClient("malformed HTTP Basic client credentials")
		}
		if form.Has("client_secret") {
			return client{}, errInvalidRequest("use one client authentication method, not HTTP Basic and client_secret together")
		}
		if fid := form.Get("client_id"); fid != "" && fid != uid {
			return client{}, errInvalidClient("client_id in the body differs from the HTTP Basic credentials")
		}
		// oauth2 clients send an empty secret for public clients: that is
		// "none", not a secret.
		return client{id: uid, secret: usecret, hasSecret: usecret != ""}, nil
	}
	id := form.Get("client_id")
	if id == "" {
		if required || form.Has("client_secret") {
			return client{}, errInvalidClient("client_id is missing")
		}
		return client{}, nil
	}
	if !validClientID(id) {
		return client{}, errInvalidClient("client_id is not valid")
	}
	secret := form.Get("client_secret")
	return client{id: id, secret: secret, hasSecret: secret != ""}, nil
}
