package provider

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/sbctl/sbctl/auth"
)

// Account is who a token belongs to, as the network names them, fit to
// print (SECURITY 30): both are as auth.CleanText leaves them.
type Account struct {
	ID   string // the network's stable id (sub, user id, open_id, channel id); at most 256 characters
	Name string // a handle or display name for people; at most 100 characters (and a "…")
}

// Account reads who the token belongs to: from the ID token's claims when
// there is one (and from userinfo for the name when the ID token carries
// only sub), else from the network's userinfo or "me"
// call: OIDC userinfo, Facebook /me, Instagram /me, X /2/users/me, TikTok
// /v2/user/info/, Pinterest /v5/user_account, YouTube's own channel.
//
// The ID token's signature is not checked here: it came straight from the
// token endpoint over TLS (OIDC Core §3.1.3.7 allows relying on that) and
// was stored by us; it only labels the profile.
func (p *Provider) Account(ctx context.Context, t *auth.Token) (Account, error) {
	if t == nil {
		return Account{}, &Error{Kind: KindOther, Provider: p.name, Op: opAccount, detail: "no token is stored", advice: reauthAction}
	}
	// Where the account is not the ID token's subject (YouTube's channel),
	// only the userinfo URL names it.
	if t.IDToken != "" && !p.preset.AccountFromUserinfo {
		if a, ok := accountFromIDToken(t.IDToken); ok {
			if a.Name == "" {
				a.Name = p.nameFromUserinfo(ctx, t, a.ID)
			}
			return a, nil
		}
	}
	r, err := p.resolve(ctx)
	if err != nil {
		return Account{}, err
	}
	if r.ep.UserinfoURL == "" {
		return Account{}, ErrNoAccount
	}
	resp, err := p.apiGet(ctx, r.ep.UserinfoURL, opAccount, t)
	if err != nil {
		return Account{}, err
	}
	a, ok := accountFromJSON(resp.body)
	if !ok {
		return Account{}, p.badAnswer(opAccount, resp, firstNonEmpty(p.preset.NoAccount, "the answer names no account"), false)
	}
	return a, nil
}

// nameFromUserinfo asks userinfo for the name of the ID token's subject:
// servers may keep the profile claims out of the ID token when an access
// token is issued (OIDC Core §5.4; zitadel/oidc, Okta and oauth2-mock-server
// do). The name only labels the profile, so any failure gives "" and the
// ID token's account stands. An answer about another subject is not used
// (OIDC Core §5.3.2).
func (p *Provider) nameFromUserinfo(ctx context.Context, t *auth.Token, sub string) string {
	if t.AccessToken == "" {
		return ""
	}
	r, err := p.resolve(ctx)
	if err != nil || r.ep.UserinfoURL == "" {
		return ""
	}
	resp, err := p.apiGet(ctx, r.ep.UserinfoURL, opAccount, t)
	if err != nil {
		return ""
	}
	if a, ok := accountFromJSON(resp.body); ok && a.ID == sub {
		return a.Name
	}
	return ""
}

func accountFromIDToken(idToken string) (Account, bool) {
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		return Account{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Account{}, false
	}
	return accountFromJSON(payload)
}

// accountFromJSON reads the shapes the networks use:
//
//	OIDC userinfo / ID token  {"sub","name","preferred_username","email"}
//	Facebook, Threads         {"id","name"} / {"id","username"}
//	Instagram                 {"user_id","username","id"}
//	X                         {"data":{"id","name","username"}}
//	TikTok                    {"data":{"user":{"open_id","display_name","username"}}}
//	Pinterest                 {"id","username"}
//	YouTube channels          {"items":[{"id","snippet":{"title"}}]}
func accountFromJSON(body []byte) (Account, bool) {
	m, ok := decodeObject(body)
	if !ok {
		return Account{}, false
	}
	if raw := bytes.TrimSpace(m["data"]); len(raw) > 0 && raw[0] == '{' {
		if inner, ok := decodeObject(raw); ok {
			m = inner
			if raw := bytes.TrimSpace(m["user"]); len(raw) > 0 && raw[0] == '{' {
				if user, ok := decodeObject(raw); ok {
					m = user
				}
			}
		}
	}
	if raw := bytes.TrimSpace(m["items"]); len(raw) > 0 && raw[0] == '[' {
		var items []struct {
			ID      string `json:"id"`
			Snippet struct {
				Title     string `json:"title"`
				CustomURL string `json:"customUrl"`
			} `json:"snippet"`
		}
		if json.Unmarshal(raw, &items) != nil || len(items) == 0 || items[0].ID == "" {
			return Account{}, false
		}
		it := items[0]
		return cleanAccount(Account{ID: it.ID, Name: firstNonEmpty(it.Snippet.Title, it.Snippet.CustomURL)})
	}
	return cleanAccount(Account{
		ID:   firstField(m, "sub", "open_id", "user_id", "id"),
		Name: firstField(m, "username", "preferred_username", "name", "display_name", "email"),
	})
}

// Bounds on what a network says about an account.
const (
	maxAccountID   = 256
	maxAccountName = 100
)

// cleanAccount makes what the network said fit to print (SECURITY 30).
// The name is prose and is cleaned by auth.CleanText. The id is a key that
// is stored and compared (nameFromUserinfo matches it with the ID token's
// sub): one that cleaning would change is not a plain id, and is not used,
// rather than turned into another id.
func cleanAccount(a Account) (Account, bool) {
	id := strings.TrimSpace(a.ID)
	if id == "" || auth.CleanText(id, maxAccountID) != id {
		return Account{}, false
	}
	return Account{ID: id, Name: auth.CleanText(a.Name, maxAccountName)}, true
}

// firstField returns the first key holding a non-empty string or number
// (Instagram's user_id is sometimes a number).
func firstField(m map[string]json.RawMessage, keys ...string) string {
	for _, k := range keys {
		raw := m[k]
		if s, ok := jsonString(raw); ok && strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
		var n json.Number
		if len(raw) > 0 && raw[0] != '"' && json.Unmarshal(raw, &n) == nil {
			if _, err := strconv.ParseFloat(n.String(), 64); err == nil {
				return n.String()
			}
		}
	}
	return ""
}
