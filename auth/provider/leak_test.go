package provider

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider/providertest"
)

const marker = "MARKER-SECRET-1234"

// SECURITY 14: whatever the server answers, no error message contains a
// token, code, verifier or client secret, nor the raw body.
func TestNoSecretInErrors(t *testing.T) {
	answers := map[string]func(w http.ResponseWriter, r *http.Request, s seen){
		"non-JSON 400": func(w http.ResponseWriter, r *http.Request, s seen) {
			w.WriteHeader(400)
			fmt.Fprintf(w, "<html>%s access_token=%s-at refresh=%s-rt</html>", marker, marker, marker)
		},
		"JSON echoing what was sent": func(w http.ResponseWriter, r *http.Request, s seen) {
			providertest.WriteJSON(w, 400, `{"error":"invalid_grant","error_description":"refresh token `+marker+`-rt is not valid for client secret `+marker+`-cs (code `+marker+`-code)","access_token":"`+marker+`-at","refresh_token":"`+marker+`-rt","detail":"`+marker+`"}`)
		},
		"marker as the error code": func(w http.ResponseWriter, r *http.Request, s seen) {
			providertest.WriteJSON(w, 400, `{"error":"`+marker+`","error_description":"`+marker+`"}`)
		},
		"meta message": func(w http.ResponseWriter, r *http.Request, s seen) {
			providertest.WriteJSON(w, 400, `{"error":{"message":"Error validating access token `+marker+`-at: session invalid `+marker+`","type":"OAuthException","code":190,"error_subcode":460,"fbtrace_id":"`+marker+`"}}`)
		},
		"bearer challenge": func(w http.ResponseWriter, r *http.Request, s seen) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="token `+marker+`-at is bad"`)
			w.WriteHeader(401)
			fmt.Fprint(w, marker)
		},
		"500 with tokens": func(w http.ResponseWriter, r *http.Request, s seen) {
			providertest.WriteJSON(w, 500, `{"error":"server_error","error_description":"`+marker+`","access_token":"`+marker+`-at"}`)
		},
		"200 garbage": func(w http.ResponseWriter, r *http.Request, s seen) {
			providertest.WriteJSON(w, 200, `not json `+marker+` {"access_token":"`+marker+`-at"`)
		},
		"200 with error": func(w http.ResponseWriter, r *http.Request, s seen) {
			providertest.WriteJSON(w, 200, `{"error":"invalid_request","error_description":"`+marker+`-cs","log_id":"`+marker+`"}`)
		},
		// Refused as a client both ways (the oauth2 kind tries Basic, then
		// the form), each answer echoing what was sent.
		"invalid_client echoing": func(w http.ResponseWriter, r *http.Request, s seen) {
			providertest.WriteJSON(w, 401, `{"error":"invalid_client","error_description":"secret `+s.BasicPass+s.Form.Get("client_secret")+` does not match for code `+marker+`-code"}`)
		},
		"dropped": providertest.DropAfterRead,
		"redirect with token": func(w http.ResponseWriter, r *http.Request, s seen) {
			http.Redirect(w, r, "http://127.0.0.1:1/?access_token="+marker+"-at", http.StatusFound)
		},
	}
	for _, typ := range []string{"x", "facebook", "instagram", "threads", "linkedin", "tiktok", "pinterest", "google", "oauth2"} {
		for name, answer := range answers {
			t.Run(typ+"/"+name, func(t *testing.T) {
				f := newFake(t)
				f.SetFallback(answer)
				p := newProvider(t, Settings{Name: typ, Type: typ, ClientID: "client-id", ClientSecret: marker + "-cs",
					AuthURL: f.Endpoint("/authorize"), TokenURL: f.Endpoint("/token"), RevokeURL: f.Endpoint("/revoke"),
					IntrospectURL: f.Endpoint("/introspect"), UserinfoURL: f.Endpoint("/me"),
					ExchangeURL: f.Endpoint("/exchange"), RefreshURL: f.Endpoint("/refresh")})
				tok := &auth.Token{AccessToken: marker + "-at", RefreshToken: marker + "-rt", ObtainedAt: fixedNow.Add(-48 * 3600e9)}
				var errs []error
				_, err := p.Exchange(ctx(t), marker+"-code", marker+"-verifier", "http://127.0.0.1:8765/callback")
				errs = append(errs, err)
				_, err = p.Renew(ctx(t), tok)
				errs = append(errs, err)
				errs = append(errs, p.Revoke(ctx(t), tok))
				_, err = p.Verify(ctx(t), tok)
				errs = append(errs, err)
				_, err = p.Account(ctx(t), tok)
				errs = append(errs, err)
				for _, err := range errs {
					if err == nil {
						continue
					}
					for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err)} {
						if strings.Contains(s, "MARKER") || strings.Contains(s, "<html>") {
							t.Errorf("leak: %s", s)
						}
					}
				}
			})
		}
	}
}

// Meta puts tokens in URLs; a transport failure must not print the URL.
func TestNoURLInTransportErrors(t *testing.T) {
	f := newFake(t)
	u := f.URL
	f.Close()
	p := newProvider(t, Settings{Type: "instagram", ClientID: "c", ClientSecret: marker + "-cs",
		TokenURL: u + "/token", ExchangeURL: u + "/exchange", RefreshURL: u + "/refresh", UserinfoURL: u + "/me"})
	_, err := p.Renew(ctx(t), &auth.Token{AccessToken: marker + "-at", ObtainedAt: fixedNow.Add(-48 * 3600e9)})
	if err == nil || strings.Contains(err.Error(), marker) || strings.Contains(err.Error(), "/refresh") {
		t.Fatalf("%v", err)
	}
	fb := newProvider(t, Settings{Type: "facebook", ClientID: "c", ClientSecret: marker + "-cs", TokenURL: u + "/token", IntrospectURL: u + "/debug"})
	_, err = fb.Exchange(ctx(t), marker+"-code", "", "https://relay.example/")
	if err == nil || strings.Contains(err.Error(), marker) {
		t.Fatalf("%v", err)
	}
	_, err = fb.Verify(ctx(t), &auth.Token{AccessToken: marker + "-at"})
	if err == nil || strings.Contains(err.Error(), marker) {
		t.Fatalf("%v", err)
	}
}
