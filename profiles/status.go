package profiles

import (
	"fmt"
	"time"

	"github.com/sbctl/sbctl/auth"
)

// Status is a profile's health (contract: SPEC §4).
type Status string

const (
	StatusOK           Status = "ok"
	StatusExpiring     Status = "expiring"
	StatusExpired      Status = "expired"
	StatusNeedsReauth  Status = "needs_reauth"
	StatusNotConnected Status = "not_connected"
	StatusUnknown      Status = "unknown"
)

// Statuses lists every status, worst first.
var Statuses = []Status{StatusExpired, StatusNeedsReauth, StatusNotConnected, StatusExpiring, StatusUnknown, StatusOK}

// NeedsAction reports whether the profile must be re-authenticated now
// (exit code 3 of `profiles check`).
func (s Status) NeedsAction() bool {
	return s == StatusExpired || s == StatusNeedsReauth || s == StatusNotConnected
}

// Health is the evaluated status of one profile at one moment.
type Health struct {
	Status Status
	Reason auth.Reason
	// ConnectionExpiry is when the connection dies without a reauth (zero:
	// not known to expire). It is what decides expiring/expired.
	ConnectionExpiry time.Time
	// Detail says why in a sentence, for people.
	Detail string
}

// Evaluate computes a profile's health from what the state file knows. It
// reads no clock: the caller passes now, so the model is tested at fixed
// times.
//
// The connection, not the access token, decides: a short-lived access token
// that lapsed is fine while a refresh token can renew it silently (SPEC §2).
func Evaluate(rec *Record, now time.Time, window time.Duration) Health {
	if rec == nil || !rec.Connected {
		return Health{Status: StatusNotConnected, Detail: "no token stored"}
	}
	exp, cause := connectionExpiry(rec)
	if rec.NeedsReauth {
		return rejected(rec, exp, now)
	}
	if !exp.IsZero() && !now.Before(exp) {
		h := Health{Status: StatusExpired, ConnectionExpiry: exp}
		switch cause {
		case causeAccess:
			h.Reason, h.Detail = auth.ReasonExpired, "the access token expired and there is no refresh token"
		case causeRefresh:
			h.Reason, h.Detail = auth.ReasonConsentExpired, "the refresh token expired"
		case causeConsent:
			h.Reason, h.Detail = auth.ReasonConsentExpired, "the network's data-access period ended"
		}
		return h
	}
	if rec.Unknown {
		return Health{Status: StatusUnknown, ConnectionExpiry: exp, Detail: "the last check could not be completed" + lastError(rec)}
	}
	if !exp.IsZero() && exp.Sub(now) <= window {
		h := Health{Status: StatusExpiring, ConnectionExpiry: exp}
		switch cause {
		case causeAccess:
			h.Detail = "the access token ends soon and cannot be refreshed silently"
		case causeRefresh:
			h.Detail = "the refresh token ends soon"
		case causeConsent:
			h.Detail = "the network's data-access period ends soon"
		}
		return h
	}
	h := Health{Status: StatusOK, ConnectionExpiry: exp}
	switch {
	case rec.HasRefresh:
		h.Detail = "renews automatically"
	case exp.IsZero():
		h.Detail = "the token has no known expiry"
	}
	return h
}

// rejected is the health of a connection the network refused. A network
// that says the connection ended (its own "expired") makes it expired like
// a date sbctl saw pass; needs_reauth is for the other rejections.
func rejected(rec *Record, exp, now time.Time) Health {
	r := rec.Reason
	if r == auth.ReasonNone {
		r = auth.ReasonInvalid
	}
	if r != auth.ReasonExpired && r != auth.ReasonConsentExpired {
		return Health{Status: StatusNeedsReauth, Reason: r, Detail: r.Explain()}
	}
	h := Health{Status: StatusExpired, Reason: r, Detail: r.Explain()}
	switch {
	case rec.EndedAt != nil:
		h.ConnectionExpiry = *rec.EndedAt
	case !exp.IsZero() && !now.Before(exp):
		h.ConnectionExpiry = exp
	}
	return h
}

func lastError(rec *Record) string {
	if rec.LastError == "" {
		return ""
	}
	return fmt.Sprintf(": %s", rec.LastError)
}

type expiryCause int

const (
	causeNone expiryCause = iota
	causeAccess
	causeRefresh
	causeConsent
)

// connectionExpiry: the refresh token's expiry where a refresh token exists
// (unknown = none), else the access token's, and in either case no later
// than a consent/data-access deadline.
func connectionExpiry(rec *Record) (time.Time, expiryCause) {
	var t time.Time
	cause := causeNone
	if rec.HasRefresh {
		if rec.RefreshExpiresAt != nil {
			t, cause = *rec.RefreshExpiresAt, causeRefresh
		}
	} else if rec.ExpiresAt != nil {
		t, cause = *rec.ExpiresAt, causeAccess
	}
	if rec.ConsentExpiresAt != nil && (t.IsZero() || rec.ConsentExpiresAt.Before(t)) {
		t, cause = *rec.ConsentExpiresAt, causeConsent
	}
	return t, cause
}

// Tone is how a status should read at a glance (SPEC §4: red for expired
// and needs_reauth, yellow for expiring, green for ok, dim for
// not_connected); each front end maps it to its own colours.
type Tone int

const (
	ToneNeutral Tone = iota
	ToneGood
	ToneWarn
	ToneBad
	ToneMuted
)

// Tone of the status.
func (s Status) Tone() Tone {
	switch s {
	case StatusOK:
		return ToneGood
	case StatusExpiring:
		return ToneWarn
	case StatusExpired, StatusNeedsReauth:
		return ToneBad
	case StatusNotConnected:
		return ToneMuted
	}
	return ToneNeutral
}
