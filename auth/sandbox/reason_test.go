package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWireReasons pins the sandbox's reason vocabulary to the strings of
// SPEC §1 (a contract: scripts and sbctl's client read them). The values are
// written out as literals on purpose: if either side renamed a value, this
// test, not a user, would notice.
func TestWireReasons(t *testing.T) {
	for c, want := range map[Reason]string{
		ReasonExpired:         "expired",
		ReasonPasswordChanged: "password_changed",
		ReasonAccessRevoked:   "access_revoked",
		ReasonConsentExpired:  "consent_expired",
		ReasonInvalid:         "invalid",
	} {
		if string(c) != want {
			t.Errorf("reason constant %q, want the SPEC §1 value %q", c, want)
		}
	}

	// And that is what goes on the wire, in each of the three bodies that
	// carry a reason.
	for _, tc := range []struct {
		name string
		body any
	}{
		{"token error", errInvalidGrant("d", ReasonPasswordChanged)},
		{"introspection", introspection{Reason: ReasonPasswordChanged}},
		{"userinfo error", bearerError{Code: "invalid_token", Reason: ReasonPasswordChanged}},
	} {
		rec := httptest.NewRecorder()
		writeJSON(rec, http.StatusBadRequest, tc.body)
		var got struct{ Reason *string }
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("%s: %v: %s", tc.name, err, rec.Body)
		}
		if got.Reason == nil || *got.Reason != "password_changed" {
			t.Errorf("%s: body %s, want \"reason\":\"password_changed\"", tc.name, rec.Body)
		}
	}
}
