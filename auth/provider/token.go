package provider

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sbctl/sbctl/auth"
)

// maxLifetime is the longest lifetime a server may state and be believed.
// Some servers write ten years for "does not expire"; anything longer (or
// negative, or unreadable) is nonsense (lifetimeNonsense).
const maxLifetime = 10 * 365 * 24 * time.Hour

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
	tt, err := p.tokenType(op, resp, m["token_type"], unsafe)
	if err != nil {
		return nil, err
	}
	t := &auth.Token{AccessToken: at, TokenType: tt, ObtainedAt: clk.local}
	t.RefreshToken, _ = jsonString(m["refresh_token"])
	t.IDToken, _ = jsonString(m["id_token"])
	// A refresh that brings no refresh token keeps the old one (RFC 6749
	// §6), so the result can be renewed all the same.
	renewable := t.RefreshToken != "" || (op == opRefresh && p.preset.Renewal == RenewRefreshToken)
	switch d, st := readLifetime(m["expires_in"]); {
	case st == lifetimeStated:
		t.Expiry = clk.accessEnd(d)
	case st == lifetimeNonsense && renewable:
		// Unknown but short: lapsed at once, so the token is renewed on
		// its next use instead of never. Without a way to renew, a date
		// made up here would make the profile read expired while the
		// token may work, so the expiry stays unknown and Verify asks.
		t.Expiry = clk.local
	}
	t.RefreshExpiry = refreshEnd(m, clk)
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

// refreshEnd is when the refresh token ends, as the answer says
// (refresh_token_expires_in, refresh_expires_in, refresh_token_expires_at:
// the first that is usable); zero when it says nothing usable. A refresh
// lifetime out of range is ignored, so unknown: a short one would mark a
// live grant expired.
func refreshEnd(m map[string]json.RawMessage, clk answerClock) time.Time {
	for _, k := range []string{"refresh_token_expires_in", "refresh_expires_in"} {
		if d, st := readLifetime(m[k]); st == lifetimeStated {
			return clk.grantEnd(d)
		}
	}
	if exp, ok := jsonInt(m["refresh_token_expires_at"]); ok && exp > 0 && exp < 1<<40 {
		// Already a time on the server's clock.
		return time.Unix(exp, 0)
	}
	return time.Time{}
}

// lifetimeState is what a stated lifetime means.
type lifetimeState int

const (
	// lifetimeAbsent: no lifetime given (missing, null, or 0, which
	// servers write for "does not expire": Keycloak's offline tokens).
	lifetimeAbsent lifetimeState = iota
	lifetimeStated
	// lifetimeNonsense: negative, beyond maxLifetime or unreadable.
	lifetimeNonsense
)

// readLifetime reads a lifetime in seconds (a number, or a number in a
// string).
func readLifetime(raw json.RawMessage) (time.Duration, lifetimeState) {
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return 0, lifetimeAbsent
	}
	n, ok := jsonInt(raw)
	return secondsLifetime(n, ok)
}

func secondsLifetime(n int64, ok bool) (time.Duration, lifetimeState) {
	switch {
	case !ok, n < 0, n > int64(maxLifetime/time.Second):
		return 0, lifetimeNonsense
	case n == 0:
		return 0, lifetimeAbsent
	}
	return time.Duration(n) * time.Second, lifetimeStated
}

// tokenType reads token_type. Bearer (RFC 6750), in any case, is stored
// as "Bearer"; a missing one is Bearer too, since real networks omit it
// (LinkedIn) although RFC 6749 §5.1 requires it. Any other type is
// refused: a DPoP-bound token (RFC 9449) works only with proofs signed by
// a key sbctl does not have, and a token of an unknown type would be sent
// as a bearer token where it is not one.
func (p *Provider) tokenType(op string, resp *response, raw json.RawMessage, unsafe bool) (string, error) {
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return "Bearer", nil
	}
	s, ok := jsonString(raw)
	tt, what, advice := checkTokenType(s, ok)
	if what != "" {
		e := p.badAnswer(op, resp, what, unsafe)
		e.advice = advice
		return "", e
	}
	return tt, nil
}

// checkTokenType is the token_type rule of tokenType (ok: the value is a
// string): the type to store, or what is wrong and what to do.
func checkTokenType(s string, ok bool) (tt, what, advice string) {
	s = strings.TrimSpace(s)
	switch {
	case !ok:
		return "", "the answer's token_type is not a string", "report it to the network; sbctl supports Bearer tokens only"
	case s == "" || strings.EqualFold(s, "bearer"):
		return "Bearer", "", ""
	case strings.EqualFold(s, "dpop"):
		return "", "the network issued a DPoP-bound token (token_type DPoP), which sbctl does not support",
			"register the app so that it gets Bearer tokens (without DPoP binding)"
	}
	return "", "the answer's token_type " + quote(auth.CleanText(s, 40)) + " is not Bearer", "sbctl supports Bearer tokens only"
}

// scopeList reads granted scopes: "a b", "a,b" or ["a","b"].
func scopeList(raw json.RawMessage) []string {
	if s, ok := jsonString(raw); ok {
		return splitScopes(s)
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return grantedScopes(list)
	}
	return nil
}

func splitScopes(s string) []string {
	return grantedScopes(strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }))
}

// maxScope bounds one granted scope (Google's are URLs of about 60).
const maxScope = 256

// grantedScopes keeps the scopes a server says it granted that are plain
// words: a scope that auth.CleanText would change (a control or format
// character, whitespace, an escape sequence) is dropped, not repaired,
// because a repaired scope names a permission the server never spoke of
// (SECURITY 30).
func grantedScopes(in []string) []string {
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" || strings.ContainsRune(s, ' ') || auth.CleanText(s, maxScope) != s || slices.Contains(out, s) {
			continue
		}
		out = append(out, s)
	}
	return out
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

// extraLifetime reads a lifetime from x/oauth2's Token.Extra, which holds
// float64 for JSON numbers and string for strings.
func extraLifetime(v any) (time.Duration, lifetimeState) {
	switch x := v.(type) {
	case nil:
		return 0, lifetimeAbsent
	case float64:
		if x != x || x < -1e15 || x > 1e15 { // NaN or beyond int64 seconds
			return 0, lifetimeNonsense
		}
		return secondsLifetime(int64(x), true)
	case string:
		return readLifetime(json.RawMessage(strconv.Quote(x)))
	}
	return 0, lifetimeNonsense
}
