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
	if strings.ContainsAny(s, "\r\n") {
		return nil, nil, errors.New("stdin holds several lines: give a bare access token on one line, or a JSON object")
	}
	if err := CheckTokenText("the bare token on stdin", s); err != nil {
		return nil, nil, err
	}
	return &Token{AccessToken: s, TokenType: "Bearer", ObtainedAt: now}, nil, nil
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
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err == nil {
		for k := range all {
			if !slices.Contains(importFields, k) {
				ignored = append(ignored, k)
			}
		}
		sort.Strings(ignored)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var in struct {
		AccessToken      *string      `json:"access_token"`
		RefreshToken     *string      `json:"refresh_token"`
		TokenType        *string      `json:"token_type"`
		Expiry           *string      `json:"expiry"`
		ExpiresIn        *json.Number `json:"expires_in"`
		RefreshExpiry    *string      `json:"refresh_expiry"`
		RefreshExpiresIn *json.Number `json:"refresh_expires_in"`
		RefreshTokenExp  *json.Number `json:"refresh_token_expires_in"`
		IDToken          *string      `json:"id_token"`
		Scope            *string      `json:"scope"`
	}
	if err := dec.Decode(&in); err != nil {
		return nil, nil, fmt.Errorf("the token on stdin is not valid JSON: %s", jsonProblem(err))
	}
	if dec.More() {
		return nil, nil, errors.New("the token on stdin has extra data after the JSON object")
	}
	if in.AccessToken == nil || strings.TrimSpace(*in.AccessToken) == "" {
		return nil, nil, errors.New("the token JSON has no access_token")
	}
	t := &Token{AccessToken: strings.TrimSpace(*in.AccessToken), TokenType: "Bearer", ObtainedAt: now}
	if in.TokenType != nil && *in.TokenType != "" {
		t.TokenType = *in.TokenType
	}
	if in.RefreshToken != nil {
		t.RefreshToken = strings.TrimSpace(*in.RefreshToken)
	}
	if in.IDToken != nil {
		t.IDToken = *in.IDToken
	}
	if in.Scope != nil {
		t.Scopes = strings.Fields(strings.ReplaceAll(*in.Scope, ",", " "))
	}
	if t.Expiry, err = when("expiry", in.Expiry, "expires_in", in.ExpiresIn, now); err != nil {
		return nil, nil, err
	}
	if in.RefreshExpiresIn == nil {
		in.RefreshExpiresIn = in.RefreshTokenExp
	} else if in.RefreshTokenExp != nil {
		return nil, nil, errors.New("the token JSON gives both refresh_expires_in and refresh_token_expires_in; give one")
	}
	if t.RefreshExpiry, err = when("refresh_expiry", in.RefreshExpiry, "refresh_expires_in", in.RefreshExpiresIn, now); err != nil {
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
