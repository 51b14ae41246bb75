package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sbctl/sbctl/auth"
)

// SECURITY 29: every token passes one check before it is stored, whatever
// grant it came from; a token with a space, a newline or an escape code
// never reaches the store (so `sbctl token` can never print one).
func TestSecurity29PutTokenRefusesWhatIsNotOneWord(t *testing.T) {
	bad := []*auth.Token{
		{AccessToken: "AT \x1b]0;PWNED\x07\x1b[2J"},
		{AccessToken: "AT-1\nX-Injected: yes"},
		{AccessToken: "AT-ok", RefreshToken: "RT\x1b[31m"},
		{AccessToken: "AT-\u202e-bidi"},
		{AccessToken: ""},
	}
	for _, tok := range bad {
		s := NewFile(t.TempDir(), nil)
		err := PutToken(context.Background(), s, "p", tok)
		if err == nil {
			t.Errorf("stored %q / %q", tok.AccessToken, tok.RefreshToken)
			continue
		}
		if tok.AccessToken != "" && strings.Contains(err.Error(), tok.AccessToken) {
			t.Errorf("the error quotes the token: %v", err)
		}
		if _, gerr := GetToken(context.Background(), s, "p"); !errors.Is(gerr, ErrNotFound) {
			t.Errorf("something was stored: %v", gerr)
		}
	}
	if err := PutToken(context.Background(), NewFile(t.TempDir(), nil), "p", &auth.Token{AccessToken: "AT-good.1~x", RefreshToken: "RT/good+=="}); err != nil {
		t.Errorf("a printable token was refused: %v", err)
	}
}
