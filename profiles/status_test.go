package profiles

import (
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) *time.Time { t := now.Add(d); return &t }

func TestEvaluate(t *testing.T) {
	const day = 24 * time.Hour
	week := 7 * day
	cases := []struct {
		name       string
		rec        *Record
		window     time.Duration
		want       Status
		wantReason auth.Reason
		wantExpiry *time.Time
	}{
		{"no token", nil, week, StatusNotConnected, "", nil},
		{"record without token", &Record{}, week, StatusNotConnected, "", nil},
		{"short-lived access token with a refresh token", &Record{Connected: true, HasRefresh: true, ExpiresAt: at(-time.Hour)}, week, StatusOK, "", nil},
		{"refresh token far from expiry", &Record{Connected: true, HasRefresh: true, ExpiresAt: at(-time.Hour), RefreshExpiresAt: at(30 * day)}, week, StatusOK, "", at(30 * day)},
		{"long-lived token without refresh expiring in 2 days", &Record{Connected: true, ExpiresAt: at(2 * day)}, week, StatusExpiring, "", at(2 * day)},
		{"same, window 1 day", &Record{Connected: true, ExpiresAt: at(2 * day)}, day, StatusOK, "", at(2 * day)},
		{"long-lived token, 30 days", &Record{Connected: true, ExpiresAt: at(30 * day)}, week, StatusOK, "", at(30 * day)},
		{"access expired, no refresh token", &Record{Connected: true, ExpiresAt: at(-day)}, week, StatusExpired, auth.ReasonExpired, at(-day)},
		{"expires exactly now", &Record{Connected: true, ExpiresAt: at(0)}, week, StatusExpired, auth.ReasonExpired, at(0)},
		{"refresh-token expiry passed", &Record{Connected: true, HasRefresh: true, ExpiresAt: at(-day), RefreshExpiresAt: at(-time.Minute)}, week, StatusExpired, auth.ReasonConsentExpired, at(-time.Minute)},
		{"refresh token expiring", &Record{Connected: true, HasRefresh: true, RefreshExpiresAt: at(3 * day)}, week, StatusExpiring, "", at(3 * day)},
		{"no expiry at all", &Record{Connected: true}, week, StatusOK, "", nil},
		{"data-access deadline first", &Record{Connected: true, ExpiresAt: at(50 * day), ConsentExpiresAt: at(3 * day)}, week, StatusExpiring, "", at(3 * day)},
		{"data-access deadline passed", &Record{Connected: true, ExpiresAt: at(50 * day), ConsentExpiresAt: at(-day)}, week, StatusExpired, auth.ReasonConsentExpired, at(-day)},
		{"rejected: password changed", &Record{Connected: true, HasRefresh: true, NeedsReauth: true, Reason: auth.ReasonPasswordChanged}, week, StatusNeedsReauth, auth.ReasonPasswordChanged, nil},
		{"rejected without a reason", &Record{Connected: true, NeedsReauth: true}, week, StatusNeedsReauth, auth.ReasonInvalid, nil},
		{"rejection beats expiry", &Record{Connected: true, ExpiresAt: at(-day), NeedsReauth: true, Reason: auth.ReasonAccessRevoked}, week, StatusNeedsReauth, auth.ReasonAccessRevoked, nil},
		{"transient failure", &Record{Connected: true, HasRefresh: true, Unknown: true, LastError: "503"}, week, StatusUnknown, "", nil},
		{"transient failure but known expired", &Record{Connected: true, ExpiresAt: at(-day), Unknown: true}, week, StatusExpired, auth.ReasonExpired, at(-day)},
		// The network said the connection ended (Facebook 190/463, the
		// sandbox's expire): expired, not needs_reauth, with its date.
		{"network says expired", &Record{Connected: true, ExpiresAt: at(20 * day), NeedsReauth: true, Reason: auth.ReasonExpired, EndedAt: at(-time.Hour)}, week, StatusExpired, auth.ReasonExpired, at(-time.Hour)},
		{"network says consent ended", &Record{Connected: true, HasRefresh: true, NeedsReauth: true, Reason: auth.ReasonConsentExpired, EndedAt: at(-day)}, week, StatusExpired, auth.ReasonConsentExpired, at(-day)},
		{"network says expired, no date recorded", &Record{Connected: true, ExpiresAt: at(-2 * day), NeedsReauth: true, Reason: auth.ReasonExpired}, week, StatusExpired, auth.ReasonExpired, at(-2 * day)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := Evaluate(tc.rec, now, tc.window)
			if h.Status != tc.want || h.Reason != tc.wantReason {
				t.Errorf("got %s/%q, want %s/%q", h.Status, h.Reason, tc.want, tc.wantReason)
			}
			switch {
			case tc.wantExpiry == nil && !h.ConnectionExpiry.IsZero():
				t.Errorf("connection expiry %v, want none", h.ConnectionExpiry)
			case tc.wantExpiry != nil && !h.ConnectionExpiry.Equal(*tc.wantExpiry):
				t.Errorf("connection expiry %v, want %v", h.ConnectionExpiry, *tc.wantExpiry)
			}
			if h.Status != StatusOK && h.Detail == "" {
				t.Error("no detail for a profile that needs attention")
			}
		})
	}
}

func TestNeedsAction(t *testing.T) {
	for _, s := range Statuses {
		want := s == StatusExpired || s == StatusNeedsReauth || s == StatusNotConnected
		if s.NeedsAction() != want {
			t.Errorf("%s.NeedsAction() = %v", s, !want)
		}
	}
}
