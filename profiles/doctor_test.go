package profiles

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth/provider"
)

// doctorNow is the local clock of the doctor tests.
var doctorNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// dateServer answers every request with a Date header at offset from
// doctorNow, and a discovery document naming itself.
func dateServer(t *testing.T, offset time.Duration) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", doctorNow.Add(offset).Format(http.TimeFormat))
		if r.URL.Path == "/.well-known/openid-configuration" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":%q}`, srv.URL, srv.URL+"/token")
			return
		}
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// closedURL is an http URL on 127.0.0.1 that refuses connections.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func clockCheck(t *testing.T, cfg string) DoctorCheck {
	t.Helper()
	m, _ := newWorkspace(t, cfg)
	m.now = func() time.Time { return doctorNow }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, c := range m.Doctor(ctx) {
		if c.Name == "clock" {
			return c
		}
	}
	t.Fatal("doctor has no clock check")
	return DoctorCheck{}
}

// The local clock 2 h ahead of one provider and close to another: doctor
// names the worst one, its host and the fix, and says which provider could
// not be asked.
func TestDoctorClockReportsTheLargestSkew(t *testing.T) {
	t.Parallel()
	far := dateServer(t, -2*time.Hour)
	near := dateServer(t, 20*time.Second)
	down := closedURL(t)
	cfg := fmt.Sprintf(`providers:
  near:
    type: oauth2
    auth_url: %[1]s/a
    token_url: %[1]s/token
    client_id: c
  far:
    type: oidc
    issuer: %[2]s
    client_id: c
  down:
    type: oauth2
    auth_url: %[3]s/a
    token_url: %[3]s/token
    client_id: c
`, near.URL, far.URL, down)
	c := clockCheck(t, cfg)
	farHost := strings.TrimPrefix(far.URL, "http://")
	if c.OK {
		t.Errorf("clock check OK with a 2h skew: %+v", c)
	}
	if !strings.HasPrefix(c.Detail, "2026-11-20T12:00:00Z") || !strings.Contains(c.Detail, "2h ahead of "+farHost+" (provider far)") {
		t.Errorf("detail %q, want the local time and the 2h skew against %s", c.Detail, farHost)
	}
	if !strings.Contains(c.Detail, "down did not answer") {
		t.Errorf("detail %q does not say which provider could not be asked", c.Detail)
	}
	if !strings.Contains(c.Fix, provider.ClockFix()) {
		t.Errorf("fix %q, want %q", c.Fix, provider.ClockFix())
	}
}

// A clock 31 days behind is reported as behind.
func TestDoctorClockBehind(t *testing.T) {
	t.Parallel()
	srv := dateServer(t, 31*24*time.Hour)
	c := clockCheck(t, fmt.Sprintf("providers:\n  acme:\n    type: oauth2\n    auth_url: %[1]s/a\n    token_url: %[1]s/t\n    client_id: c\n", srv.URL))
	if c.OK || !strings.Contains(c.Detail, "31 days behind "+strings.TrimPrefix(srv.URL, "http://")) {
		t.Errorf("check %+v, want 31 days behind", c)
	}
}

// Close enough: OK, and the detail says against what.
func TestDoctorClockWithinTheThreshold(t *testing.T) {
	t.Parallel()
	srv := dateServer(t, -90*time.Second)
	c := clockCheck(t, fmt.Sprintf("providers:\n  acme:\n    type: oidc\n    issuer: %s\n    client_id: c\n", srv.URL))
	if !c.OK || c.Warn || !strings.Contains(c.Detail, "within 1m30s of "+strings.TrimPrefix(srv.URL, "http://")) {
		t.Errorf("check %+v, want OK within 1m30s", c)
	}
}

// Offline: nothing to compare with is said, and is no failure.
func TestDoctorClockOffline(t *testing.T) {
	t.Parallel()
	down := closedURL(t)
	c := clockCheck(t, fmt.Sprintf("providers:\n  acme:\n    type: oauth2\n    auth_url: %[1]s/a\n    token_url: %[1]s/t\n    client_id: c\n", down))
	if !c.OK || !strings.Contains(c.Detail, "not compared with any provider") || !strings.Contains(c.Detail, "acme did not answer") {
		t.Errorf("check %+v, want OK with a note that no provider answered", c)
	}
}

// The year check stays, without asking the network.
func TestDoctorClockBefore2025(t *testing.T) {
	t.Parallel()
	m, _ := newWorkspace(t, "providers:\n  acme:\n    type: oauth2\n    auth_url: http://127.0.0.1:9/a\n    token_url: http://127.0.0.1:9/t\n    client_id: c\n")
	m.now = func() time.Time { return time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) }
	c := m.checkClock(context.Background())
	if c.OK || !strings.Contains(c.Detail, "before 2025") || !strings.Contains(c.Fix, "timedatectl") {
		t.Errorf("check %+v", c)
	}
}
