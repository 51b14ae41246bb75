package sandbox

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"
)

type deviceState int

const (
	devicePending deviceState = iota
	deviceApproved
	deviceDenied
	deviceRedeemed
)

// deviceAuth is one RFC 8628 device authorization.
type deviceAuth struct {
	deviceCode, userCode string
	clientID             string
	secret               []byte
	scopes               []string
	sub                  string
	expiresAt            time.Time
	interval             time.Duration
	lastPoll             time.Time
	state                deviceState
	epoch                int // the account's epoch at approval
	// nonce binds the approval page's form to this device code: a
	// cross-site form cannot know it (CSRF).
	nonce string
}

// deviceAuthResponse is RFC 8628 §3.2's body.
type deviceAuthResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// userCodeAlphabet has no vowels (no words) and no look-alikes, as RFC 8628
// §6.1 suggests; 20^8 codes are plenty for a short-lived local server.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

func newUserCode() string {
	var b [8]byte
	rand.Read(b[:])
	out := make([]byte, 0, 9)
	for i, c := range b {
		if i == 4 {
			out = append(out, '-')
		}
		// 256 % 20 != 0 skews the choice slightly; irrelevant for a sandbox.
		out = append(out, userCodeAlphabet[int(c)%len(userCodeAlphabet)])
	}
	return string(out)
}

// normalizeUserCode forgives case, spaces and dashes in what a person typed.
func normalizeUserCode(s string) string {
	s = strings.ToUpper(s)
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, s)
}

// handleDeviceAuthorization is RFC 8628 §3.1. As an extension it accepts
// login_hint to pick the account, like the authorization endpoint.
func (s *Server) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	form, oe := formValues(w, r)
	if oe != nil {
		writeOAuthError(w, oe)
		return
	}
	c, oe := clientFrom(r, form, true)
	if oe != nil {
		writeOAuthError(w, oe)
		return
	}
	scopes, ok := parseScopes(form.Get("scope"))
	if !ok {
		writeOAuthError(w, errOAuth("invalid_scope", "scope is not a space-separated list of valid scope tokens"))
		return
	}
	sub := DefaultSubject
	if h := form.Get("login_hint"); h != "" {
		if !subjectPattern.MatchString(h) {
			writeOAuthError(w, errInvalidRequest("login_hint is not a valid sandbox account name"))
			return
		}
		sub = h
	}
	d := &deviceAuth{
		deviceCode: randomToken(prefixDeviceCode), clientID: c.id, secret: c.digest(),
		scopes: scopes, sub: sub, interval: s.opts.DevicePollInterval, nonce: randomToken(""),
	}
	s.mu.Lock()
	s.stats.DeviceAuthorizations++
	now := s.now()
	s.st.sweepLocked(now)
	d.expiresAt = now.Add(deviceCodeTTL)
	for {
		d.userCode = newUserCode()
		if s.st.userCodes[normalizeUserCode(d.userCode)] == nil {
			break
		}
	}
	s.st.devices[d.deviceCode] = d
	s.st.userCodes[normalizeUserCode(d.userCode)] = d
	s.mu.Unlock()

	verify := issuerOf(r) + pathDevice
	writeJSON(w, http.StatusOK, deviceAuthResponse{
		DeviceCode:              d.deviceCode,
		UserCode:                d.userCode,
		VerificationURI:         verify,
		VerificationURIComplete: verify + "?" + url.Values{"user_code": {d.userCode}}.Encode(),
		ExpiresIn:               seconds(deviceCodeTTL),
		Interval:                seconds(d.interval),
	})
}

// handleDeviceVerify is the verification page. With AutoApprove, visiting
// verification_uri_complete approves at once; otherwise it shows Approve /
// Deny. Without a user_code it asks for one.
func (s *Server) handleDeviceVerify(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("user_code")
	if code == "" {
		writePage(w, http.StatusOK, page{
			Title: "Connect a device",
			Lines: []string{"Enter the code shown on your device."},
			Form:  &pageForm{Method: "get", Action: pathDevice, AskCode: true},
		})
		return
	}
	s.mu.Lock()
	d, msg := s.lookupUserCodeLocked(code)
	var nonce, clientID, name, email string
	var scopes []string
	if d != nil {
		acct := s.st.accountLocked(d.sub)
		if s.opts.AutoApprove {
			d.state, d.epoch = deviceApproved, acct.epoch
		}
		nonce, clientID, name, email, scopes = d.nonce, d.clientID, acct.name, acct.email, d.scopes
	}
	s.mu.Unlock()
	switch {
	case d == nil:
		errorPage(w, http.StatusBadRequest, msg)
	case s.opts.AutoApprove:
		writePage(w, http.StatusOK, page{Title: "Device approved", Lines: []string{"You can return to your device."}})
	default:
		writePage(w, http.StatusOK, page{
			Title: "Approve access?",
			Lines: []string{
				"A device running " + clientID + " asks for access to the sandbox account " + name + " <" + email + ">.",
				"Scopes: " + orNone(strings.Join(scopes, " ")),
			},
			Form: &pageForm{Method: "post", Action: pathDevice, Hidden: map[string]string{"user_code": code, "nonce": nonce}},
		})
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// lookupUserCodeLocked finds a device authorization still waiting for the
// user, or says why there is none.
func (s *Server) lookupUserCodeLocked(code string) (*deviceAuth, string) {
	d := s.st.userCodes[normalizeUserCode(code)]
	switch {
	case d == nil:
		return nil, "This code is not known. Check it and try again."
	case !s.now().Before(d.expiresAt):
		return nil, "This code has expired. Start again on your device."
	case d.state != devicePending:
		return nil, "This code has already been used."
	}
	return d, ""
}

// handleDeviceDecision takes the device approval page's answer.
func (s *Server) handleDeviceDecision(w http.ResponseWriter, r *http.Request) {
	form, ok := decisionForm(w, r)
	if !ok {
		return
	}
	decision := form.Get("decision")
	if decision != "approve" && decision != "deny" {
		errorPage(w, http.StatusBadRequest, "The form must say approve or deny.")
		return
	}
	s.mu.Lock()
	d, msg := s.lookupUserCodeLocked(form.Get("user_code"))
	if d != nil && subtle.ConstantTimeCompare([]byte(d.nonce), []byte(form.Get("nonce"))) != 1 {
		d, msg = nil, "This form is not valid. Open the link from your device again."
	}
	if d != nil {
		if decision == "approve" {
			d.state, d.epoch = deviceApproved, s.st.accountLocked(d.sub).epoch
		} else {
			d.state = deviceDenied
		}
	}
	s.mu.Unlock()
	switch {
	case d == nil:
		errorPage(w, http.StatusBadRequest, msg)
	case decision == "approve":
		writePage(w, http.StatusOK, page{Title: "Device approved", Lines: []string{"You can return to your device."}})
	default:
		writePage(w, http.StatusOK, page{Title: "Access denied", Lines: []string{"The device was not given access."}})
	}
}

// redeemDevice answers a device_code poll (RFC 8628 §3.4, §3.5).
func (s *Server) redeemDevice(code string, c client) (issued, *oauthError) {
	if code == "" {
		return issued{}, errInvalidRequest("device_code is missing")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	d := s.st.devices[code]
	switch {
	case d == nil:
		return issued{}, errInvalidGrant("the device code is not known", "")
	case d.clientID != c.id:
		return issued{}, errInvalidGrant("the device code was issued to another client", "")
	case d.secret != nil && (!c.hasSecret || !sameSecret(d.secret, c.secret)):
		return issued{}, errInvalidClient("authenticate with the secret used for the device authorization request")
	case d.state == deviceRedeemed:
		return issued{}, errInvalidGrant("the device code was already used", "")
	case !now.Before(d.expiresAt):
		return issued{}, errOAuth("expired_token", "the device code expired; start again")
	case d.state == deviceDenied:
		return issued{}, errOAuth("access_denied", "the user denied access")
	case d.state == devicePending:
		early := !d.lastPoll.IsZero() && now.Sub(d.lastPoll) < d.interval
		d.lastPoll = now
		if early {
			// "the interval MUST be increased by 5 seconds for this and
			// all subsequent requests" (RFC 8628 §3.5).
			d.interval += 5 * time.Second
			return issued{}, errOAuth("slow_down", "polling too often; wait longer between requests")
		}
		return issued{}, errOAuth("authorization_pending", "the user has not approved yet")
	}
	d.state = deviceRedeemed
	acct := s.st.accountLocked(d.sub)
	if d.epoch != acct.epoch {
		return issued{}, errInvalidGrant(acct.lastWhy, acct.lastDead)
	}
	return s.st.newGrantLocked(acct, d.clientID, c.digest(), d.scopes, "", s.opts.AccessTTL, s.opts.RefreshTTL, now), nil
}
