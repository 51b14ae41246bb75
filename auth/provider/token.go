package provider

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sbctl/sbctl/auth"
)

// maxLifetime caps a lifetime a server states, so a silly expires_in cannot
// overflow a time.Duration.
const maxLifetime = 100 * 365 * 24 * time.Hour

// parseToken reads a token answer (RFC 6749 §5.1 and the networks' variants:
// Instagram's {"data":[{...}]}, TikTok's refresh_expires_in, LinkedIn's and
// Pinterest's refresh_token_expires_in, numbers sent as strings, scopes
// separated by commas). A 200 that carries an "error" is classified like any
// error answer (TikTok does that).
func (p *Provider) parseToken(op string, resp *response, secrets []string, unsafe bool) (*auth.Token, error) {
	m, ok := decodeObject(resp.body)
	if !ok {
		return nil, p.badAnswer(op, resp, "the answer is not a JSON token response", unsafe)
	}
	if raw, ok := m["data"]; ok && len(bytes.TrimSpace(raw)) > 0 && bytes.TrimSpace(raw)[0] == '[' {
		var items []map[string]json.RawMessage
		if json.Unmarshal(raw, &items) == nil && len(items) > 0 {
			m = items[0]
		}
	}
	at, _ := jsonString(m["access_token"])
	if at == "" {
		if _, has := m["error"]; has {
			// An explicit error answer: nothing was issued, so nothing was
			// rotated either; not ambiguous.
			e := p.failure(op, roleToken, resp, secrets)
			if e.Kind == KindOther {
				e.detail = "the answer carries an error instead of a token (HTTP " + itoa(resp.status) + " from " + resp.host + ")"
			}
			return nil, e
		}
		return nil, p.badAnswer(op, resp, "the answer carries no access_token", unsafe)
	}
	if rt, _ := jsonString(m["refresh_token"]); auth.CheckTokenText("", at) != nil || auth.CheckTokenText("", rt) != nil {
		// A token `sbctl token` would print must be one word: a newline or
		// an escape code in it would break an Authorization header or the
		// terminal. An answer with one is not used.
		return nil, p.badAnswer(op, resp, "the answer's token contains spaces or control characters", unsafe)
	}
	// Lifetimes are read against both clocks when they disagree (see
	// answerClock); ObtainedAt stays the local receive time, which the
	// age rules compare with the local clock.
	clk := resp.clock
	if clk.local.IsZero() {
		clk = newAnswerClock(p.now(), time.Time{})
	}
	t := &auth.Token{AccessToken: at, ObtainedAt: clk.local}
	t.TokenType, _ = jsonString(m["token_type"])
	if t.TokenType == "" || strings.EqualFold(t.TokenType, "bearer") {
		t.TokenType = "Bearer"
	}
	t.RefreshToken, _ = jsonString(m["refresh_token"])
	t.IDToken, _ = jsonString(m["id_token"])
	if d := lifetime(m["expires_in"]); d > 0 {
		t.Expiry = clk.accessEnd(d)
	}
	if d := lifetime(m["refresh_token_expires_in"]); d > 0 {
		t.RefreshExpiry = clk.grantEnd(d)
	} else if d := lifetime(m["refresh_expires_in"]); d > 0 {
		t.RefreshExpiry = clk.grantEnd(d)
	} else if exp, ok := jsonInt(m["refresh_token_expires_at"]); ok && exp > 0 && exp < 1<<40 {
		// Already a time on the server's clock.
		t.RefreshExpiry = time.Unix(exp, 0)
	}
	t.Scopes = scopeList(m["scope"])
	if len(t.Scopes) == 0 {
		t.Scopes = scopeList(m["permissions"]) // Instagram
	}
	return t, nil
}

// badAnswer is a 2xx we cannot use. On a rotating refresh the server has
// probably already replaced the refresh token, hence Ambiguous.
func (p *Provider) badAnswer(op string, resp *response, what string, unsafe bool) *Error {
	return &Error{Kind: KindOther, Provider: p.name, Op: op, Host: resp.host, Status: resp.status,
		detail: what + " (HTTP " + itoa(resp.status) + " from " + resp.host + ")", Ambiguous: unsafe}
}

func decodeObject(b []byte) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil || m == nil {
		return nil, false
	}
	return m, true
}

func lifetime(raw json.RawMessage) time.Duration {
	n, ok := jsonInt(raw)
	if !ok || n <= 0 {
		return 0
	}
	if n > int64(maxLifetime/time.Second) {
		return maxLifetime
	}
	return time.Duration(n) * time.Second
}

// scopeList reads "a b", "a,b" or ["a","b"].
func scopeList(raw json.RawMessage) []string {
	if s, ok := jsonString(raw); ok {
		return splitScopes(s)
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return cleanScopes(list)
	}
	return nil
}

func splitScopes(s string) []string {
	return cleanScopes(strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }))
}

// withQuery adds q to base's query, keeping what base already has.
func withQuery(base string, q url.Values) string {
	u, err := url.Parse(base)
	if err != nil {
		return base // send reports the bad URL without quoting it
	}
	have := u.Query()
	for k, vs := range q {
		have[k] = vs
	}
	u.RawQuery = have.Encode()
	return u.String()
}

// extraSeconds reads a lifetime from x/oauth2's Token.Extra, which holds
// float64 for JSON numbers and string for strings.
func extraSeconds(v any) time.Duration {
	switch x := v.(type) {
	case float64:
		return lifetime(json.RawMessage(strconv.FormatFloat(x, 'f', 0, 64)))
	case string:
		return lifetime(json.RawMessage(strconv.Quote(x)))
	}
	return 0
}
