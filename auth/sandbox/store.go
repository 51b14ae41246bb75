package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"regexp"
	"strings"
	"time"
)

// Token prefixes make a leaked or misplaced value recognisable at a glance.
const (
	prefixAccess     = "sbx-at-"
	prefixRefresh    = "sbx-rt-"
	prefixCode       = "sbx-ac-"
	prefixDeviceCode = "sbx-dc-"
	prefixPending    = "sbx-p-"
)

// DefaultSubject is the account used when a request names none.
const DefaultSubject = "sandbox-user"

// ErrUnknownAccount is returned by the account controls for a subject that
// has never signed in.
var ErrUnknownAccount = errors.New("sandbox: unknown account")

// subjectPattern keeps subjects printable and safe in URLs and logs.
var subjectPattern = regexp.MustCompile(`^[A-Za-z0-9._@+-]{1,64}$`)

// randomToken returns prefix + 256 bits from crypto/rand, base64url.
func randomToken(prefix string) string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand panics rather than return short)
	return prefix + b64(b[:])
}

// secretDigest stores a client secret's hash, never the secret itself, so a
// later debugging dump of the store cannot leak it.
func secretDigest(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

type account struct {
	sub, name, email string
	grants           []*grant
	// epoch counts the account controls applied to it. A code or device
	// approval remembers the epoch it was given in, so an approval that
	// predates a password change cannot be redeemed after it.
	epoch    int
	lastDead Reason
	lastWhy  string
}

// grant is what one user approval (code or device flow, or Issue) created:
// a family of refresh and access tokens that live and die together.
type grant struct {
	acct     *account
	clientID string
	secret   []byte // digest of the client secret used at creation; nil for a public client
	scopes   []string
	nonce    string
	authTime time.Time

	accessTTL, refreshTTL time.Duration

	dead    Reason // "" while alive
	deadWhy string // human text for error_description
}

func (g *grant) kill(reason Reason, why string) {
	if g.dead == "" {
		g.dead, g.deadWhy = reason, why
	}
}

type refreshToken struct {
	g                   *grant
	issuedAt, expiresAt time.Time
	rotated             bool // superseded by a newer token of the family
}

type accessToken struct {
	g                   *grant
	scopes              []string
	issuedAt, expiresAt time.Time
	revoked             bool // revoked on its own (RFC 7009 with an access token)
}

type authCode struct {
	clientID, redirectURI, challenge string
	acct                             *account
	scopes                           []string
	nonce                            string
	issuedAt, expiresAt              time.Time
	used                             bool
	g                                *grant // the grant its redemption created
	epoch                            int    // acct.epoch when the user approved
}

// store is all OAuth state. Every field is guarded by Server.mu.
type store struct {
	accounts  map[string]*account
	access    map[string]*accessToken
	refresh   map[string]*refreshToken
	codes     map[string]*authCode
	pending   map[string]*pendingAuth
	devices   map[string]*deviceAuth // by device_code
	userCodes map[string]*deviceAuth // by normalized user_code
	lastSweep time.Time
}

func newStore() *store {
	return &store{
		accounts:  map[string]*account{},
		access:    map[string]*accessToken{},
		refresh:   map[string]*refreshToken{},
		codes:     map[string]*authCode{},
		pending:   map[string]*pendingAuth{},
		devices:   map[string]*deviceAuth{},
		userCodes: map[string]*deviceAuth{},
	}
}

// accountLocked returns the account for sub, creating it on first use.
// The caller has checked sub against subjectPattern.
func (st *store) accountLocked(sub string) *account {
	if a := st.accounts[sub]; a != nil {
		return a
	}
	a := &account{sub: sub, name: sub, email: sub + "@sandbox.test"}
	if sub == DefaultSubject {
		a.name = "Sandbox User"
	}
	if strings.Contains(sub, "@") {
		a.email = sub
	}
	st.accounts[sub] = a
	return a
}

// sweepEvery and keepExpired bound the memory of a long-running sandbox
// (benchmarks refresh millions of times) while keeping expired entries long
// enough to answer "expired" rather than "unknown" about them.
const (
	sweepEvery  = time.Minute
	keepExpired = 7 * 24 * time.Hour
)

// sweepLocked forgets what can no longer matter. Refresh tokens of live
// grants stay, rotated ones included: reuse detection needs them.
func (st *store) sweepLocked(now time.Time) {
	if now.Sub(st.lastSweep) < sweepEvery && !now.Before(st.lastSweep) {
		return
	}
	st.lastSweep = now
	for k, p := range st.pending {
		if now.After(p.expiresAt) {
			delete(st.pending, k)
		}
	}
	for k, c := range st.codes {
		if now.Sub(c.expiresAt) > time.Hour {
			delete(st.codes, k)
		}
	}
	for k, d := range st.devices {
		if now.Sub(d.expiresAt) > time.Hour {
			delete(st.devices, k)
			delete(st.userCodes, normalizeUserCode(d.userCode))
		}
	}
	for k, at := range st.access {
		if now.Sub(at.expiresAt) > keepExpired {
			delete(st.access, k)
		}
	}
	for k, rt := range st.refresh {
		if now.Sub(rt.expiresAt) > keepExpired {
			delete(st.refresh, k)
		}
	}
}

// issued is what one token issuance produced, ready to be written out.
type issued struct {
	g                    *grant
	access               string
	accessExp            time.Time
	refresh              string // "" when the response carries no refresh token
	refreshExp           time.Time
	scopes               []string
	withIDToken, isFirst bool
	now                  time.Time
}

// newGrantLocked creates a grant and its first token pair.
func (st *store) newGrantLocked(acct *account, clientID string, secret []byte, scopes []string, nonce string, accessTTL, refreshTTL time.Duration, now time.Time) issued {
	g := &grant{
		acct: acct, clientID: clientID, secret: secret,
		scopes: scopes, nonce: nonce, authTime: now, accessTTL: accessTTL, refreshTTL: refreshTTL,
	}
	acct.grants = append(acct.grants, g)
	rt := randomToken(prefixRefresh)
	st.refresh[rt] = &refreshToken{g: g, issuedAt: now, expiresAt: now.Add(refreshTTL)}
	out := st.newAccessLocked(g, scopes, now)
	out.refresh, out.refreshExp, out.isFirst = rt, now.Add(refreshTTL), true
	return out
}

// newAccessLocked issues one access token of g.
func (st *store) newAccessLocked(g *grant, scopes []string, now time.Time) issued {
	st.sweepLocked(now)
	at := randomToken(prefixAccess)
	exp := now.Add(g.accessTTL)
	st.access[at] = &accessToken{g: g, scopes: scopes, issuedAt: now, expiresAt: exp}
	return issued{g: g, access: at, accessExp: exp, scopes: scopes, withIDToken: hasScope(g.scopes, "openid"), now: now}
}

// accessState says whether an access token is usable; for an unusable one
// it gives the reason ("" when the token is unknown) and a description.
func (st *store) accessStateLocked(token string, now time.Time) (*accessToken, Reason, string) {
	at := st.access[token]
	switch {
	case at == nil:
		return nil, "", "the access token is not known"
	case at.g.dead != "":
		return at, at.g.dead, at.g.deadWhy
	case at.revoked:
		return at, ReasonAccessRevoked, "the access token was revoked"
	case !now.Before(at.expiresAt):
		return at, ReasonExpired, "the access token expired"
	}
	return at, "", ""
}

func sameSecret(digest []byte, secret string) bool {
	return subtle.ConstantTimeCompare(digest, secretDigest(secret)) == 1
}

func hasScope(scopes []string, s string) bool {
	for _, x := range scopes {
		if x == s {
			return true
		}
	}
	return false
}
