package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MaxImportSize bounds what `profiles add --with-token` reads from stdin.
const MaxImportSize = 1 << 20

// ParseImport reads a token given on stdin by `profiles add --with-token`:
// JSON with access_token (required), refresh_token, token_type, expiry
// (RFC 3339) or expires_in (seconds), refresh_expiry or refresh_expires_in
// (also refresh_token_expires_in, as LinkedIn and Pinterest name it), or a
// bare access token on one line. Relative lifetimes count from now. Other
// JSON fields are returned as ignored (a typo such as "expire_in" must not
// pass unnoticed). Error messages never contain the token.
func ParseImport(r io.Reader, now time.Time) (tok *Token, ignored []string, err error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxImportSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("reading the token from stdin: %w", err)
	}
	if len(b) > MaxImportSize {
		return nil, nil, errors.New("the token on stdin is larger than 1 MiB")
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil, nil, errors.New("no token on stdin: pipe in JSON such as {\"access_token\":\"…\",\"expires_in\":3600} or a bare access token")
	}
	if strings.HasPrefix(s, "{") {
		return parseImportJSON([]byte(s), now)
	}
	if err := notAnObject(s); err != nil {
		return nil, nil, err
	}
	if strings.ContainsAny(s, "\r\n") {
		return nil, nil, errors.New("stdin holds several lines: give a bare access token on one line, or a JSON object")
	}
	if err := CheckTokenText("the bare token on stdin", s); err != nil {
		return nil, nil, err
	}
	return &Token{AccessToken: s, TokenType: "Bearer", ObtainedAt: now}, nil, nil
}

// notAnObject refuses input that is JSON but not an object: a bare token is
// one printable word that is not valid JSON. `jq .access_token` without -r
// prints the token in quotes, which must not be stored as the token.
func notAnObject(s string) error {
	if !strings.HasPrefix(s, "[") && !strings.HasPrefix(s, `"`) && !json.Valid([]byte(s)) {
		return nil
	}
	var kind string
	switch {
	case strings.HasPrefix(s, `"`):
		kind = "a JSON string, not an object; if it came from jq, use jq -r (raw output) for a bare token, or pass the whole object"
	case strings.HasPrefix(s, "["):
		kind = "a JSON array; give one token object such as {\"access_token\":\"…\"}"
	case s == "null", s == "true", s == "false":
		kind = "JSON " + s + ", not a token"
	default:
		kind = "a JSON number, not a token"
	}
	return errors.New("the token on stdin is " + kind)
}

// CheckTokenText refuses a token that is not one word of printable ASCII:
// `sbctl token` prints it for `Authorization: Bearer $(sbctl token p)`, so
// a newline or an escape sequence in it would break the header or the
// terminal.
func CheckTokenText(what, s string) error {
	for _, r := range s {
		if r <= ' ' || r > '~' {
			return fmt.Errorf("%s contains spaces, control or non-ASCII characters; tokens are one word of printable ASCII — check what was given", what)
		}
	}
	return nil
}

// importFields are the JSON fields ParseImport reads; scope, id_token and
// the refresh_token_expires_in alias included.
var importFields = []string{"access_token", "refresh_token", "token_type", "expiry", "expires_in",
	"refresh_expiry", "refresh_expires_in", "refresh_token_expires_in", "id_token", "scope"}

func parseImportJSON(b []byte, now time.Time) (tok *Token, ignored []string, err error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var all map[string]json.RawMessage
	if err := dec.Decode(&all); err != nil {
		return nil, nil, fmt.Errorf("the token on stdin is not valid JSON: %s", jsonProblem(err))
	}
	if dec.More() {
		return nil, nil, errors.New("the token on stdin has extra data after the JSON object")
	}
	for k := range all {
		if !slices.Contains(importFields, k) {
			ignored = append(ignored, k)
		}
	}
	sort.Strings(ignored)
	f := importObject(all)
	t := &Token{TokenType: "Bearer", ObtainedAt: now}
	var at, tokenType, rt, idToken, scope *string
	for _, field := range []struct {
		name string
		dst  **string
	}{{"access_token", &at}, {"token_type", &tokenType}, {"refresh_token", &rt}, {"id_token", &idToken}, {"scope", &scope}} {
		if *field.dst, err = f.str(field.name); err != nil {
			return nil, nil, err
		}
	}
	if at == nil || strings.TrimSpace(*at) == "" {
		return nil, nil, errors.New("the token JSON has no access_token")
	}
	t.AccessToken = strings.TrimSpace(*at)
	if tokenType != nil && *tokenType != "" {
		t.TokenType = *tokenType
	}
	if rt != nil {
		t.RefreshToken = strings.TrimSpace(*rt)
	}
	if idToken != nil {
		t.IDToken = *idToken
	}
	if scope != nil {
		t.Scopes = strings.Fields(strings.ReplaceAll(*scope, ",", " "))
	}
	if t.Expiry, err = f.when("expiry", "expires_in", now); err != nil {
		return nil, nil, err
	}
	relName := "refresh_expires_in"
	if _, ok := all["refresh_token_expires_in"]; ok {
		if _, both := all[relName]; both {
			return nil, nil, errors.New("the token JSON gives both refresh_expires_in and refresh_token_expires_in; give one")
		}
		relName = "refresh_token_expires_in"
	}
	if t.RefreshExpiry, err = f.when("refresh_expiry", relName, now); err != nil {
		return nil, nil, err
	}
	if !t.RefreshExpiry.IsZero() && t.RefreshToken == "" {
		return nil, nil, errors.New("the token JSON gives a refresh expiry but no refresh_token")
	}
	if err := CheckTokenText("access_token", t.AccessToken); err != nil {
		return nil, nil, err
	}
	if err := CheckTokenText("refresh_token", t.RefreshToken); err != nil {
		return nil, nil, err
	}
	return t, ignored, nil
}

// importObject reads the fields of a --with-token object one by one, so a
// field of the wrong type is named (never quoting a token's value).
type importObject map[string]json.RawMessage

func (o importObject) has(name string) bool {
	raw, ok := o[name]
	return ok && string(bytes.TrimSpace(raw)) != "null"
}

func (o importObject) str(name string) (*string, error) {
	if !o.has(name) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(o[name], &s); err != nil {
		return nil, fmt.Errorf("%s must be a string, not %s", name, jsonKind(o[name]))
	}
	return &s, nil
}

// number reads a lifetime in seconds, written as a number or as a string
// holding one (several networks quote their numbers).
func (o importObject) number(name string) (*json.Number, error) {
	if !o.has(name) {
		return nil, nil
	}
	raw := bytes.TrimSpace(o[name])
	var n json.Number
	switch raw[0] {
	case '"':
		var s string
		_ = json.Unmarshal(raw, &s)
		if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
			return nil, fmt.Errorf("%s %q is not a number of seconds", name, truncateText(s, 40))
		}
		n = json.Number(strings.TrimSpace(s))
	default:
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return nil, fmt.Errorf("%s must be a number of seconds, not %s", name, jsonKind(raw))
		}
		num, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("%s must be a number of seconds, not %s", name, jsonKind(raw))
		}
		n = num
	}
	return &n, nil
}

// when reads an absolute RFC 3339 time or a lifetime in seconds (not
// both).
func (o importObject) when(absName, relName string, now time.Time) (time.Time, error) {
	abs, err := o.str(absName)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s must be an RFC 3339 time such as 2026-12-31T23:59:00Z, not %s", absName, jsonKind(o[absName]))
	}
	rel, err := o.number(relName)
	if err != nil {
		return time.Time{}, err
	}
	return when(absName, abs, relName, rel, now)
}

func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "a list"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// truncateText cuts a value the user gave (never a token field) for a
// message.
func truncateText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// when reads an absolute RFC 3339 time or a lifetime in seconds (not both).
func when(absName string, abs *string, relName string, rel *json.Number, now time.Time) (time.Time, error) {
	if abs != nil && rel != nil {
		return time.Time{}, fmt.Errorf("the token JSON gives both %s and %s; give one", absName, relName)
	}
	if abs != nil {
		if *abs == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.RFC3339, *abs)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s %q is not an RFC 3339 time such as 2026-12-31T23:59:00Z", absName, *abs)
		}
		return t.UTC(), nil
	}
	if rel != nil {
		f, err := rel.Float64()
		if err != nil || f < 0 || math.IsInf(f, 0) || f > 100*365*24*3600 {
			return time.Time{}, fmt.Errorf("%s %q is not a number of seconds between 0 and 100 years", relName, rel.String())
		}
		if f == 0 {
			// Several networks send expires_in: 0 for "does not expire".
			return time.Time{}, nil
		}
		return now.Add(time.Duration(f * float64(time.Second))).UTC().Truncate(time.Second), nil
	}
	return time.Time{}, nil
}

// jsonProblem describes a decoding error without quoting the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q must be a %s, not a %s", te.Field, te.Type.String(), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends early"
	}
	return "unreadable"
}
