package profiles

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sbctl/sbctl/profiles/team"
)

// DefaultMinTTL is how long a token handed to a script must stay valid;
// a token closer to its expiry is renewed first.
const DefaultMinTTL = 60 * time.Second

// Token returns a valid access token for scripts (`sbctl token`): renewed
// first, under the profile's lock, when it expires within minTTL. A profile
// known to need re-authentication gives a NeedsReauthError without any
// network call, even if its access token has not expired yet.
func (m *Manager) Token(ctx context.Context, name string, minTTL time.Duration) (string, error) {
	if err := m.mayDo(ctx, actToken, team.RoleMember); err != nil {
		return "", err
	}
	p, err := m.Profile(name)
	if err != nil {
		return "", err
	}
	name = p.Name // the config's (NFC) spelling names every item and record
	switch rec := m.State.Record(name); {
	case rec == nil:
	case rec.NeedsReauth:
		m.dropCachedAccess(ctx, name)
		return "", &NeedsReauthError{Name: name, Reason: rec.Reason, Msg: rec.Reason.Explain()}
	case rec.Rebuilt && rec.Unknown:
		fmt.Fprintf(m.warn, "warning: the status of %q is unknown: %s\n", name, rebuiltWhy)
	}
	res := m.renewOne(ctx, p, renewOptions{MinTTL: minTTL, Retries: 2})
	if err := m.saveRecords(context.WithoutCancel(ctx), []RenewResult{res}); err != nil {
		fmt.Fprintf(m.warn, "warning: could not update the state file: %v\n", err)
	}
	switch res.Outcome {
	case OutcomeFresh, OutcomeRenewed:
		if res.Recovered != "" {
			fmt.Fprintf(m.warn, "warning: %s\n", res.Message)
		}
		m.cacheAccess(ctx, name, res.token)
		return res.token.AccessToken, nil
	case OutcomeNeedsReauth:
		m.dropCachedAccess(ctx, name)
		var nr *NeedsReauthError
		var nc *NotConnectedError
		switch {
		case errors.As(res.err, &nr):
			return "", nr
		case errors.As(res.err, &nc):
			return "", nc
		}
		return "", &NeedsReauthError{Name: name, Reason: res.Reason, Msg: res.Message}
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return "", ctx.Err() // interrupted: the caller exits 130, printing nothing
	}
	// Not renewable now, or a temporary failure: a token that still works
	// is better than none; say how long it lasts.
	if t := res.token; t != nil && (t.Expiry.IsZero() || m.now().Before(t.Expiry)) {
		left := "no known expiry"
		if !t.Expiry.IsZero() {
			left = "valid until " + t.Expiry.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(m.warn, "warning: could not renew %q (%s); using the current token, %s\n", name, res.Message, left)
		return t.AccessToken, nil
	}
	if res.Outcome == OutcomeNotRenewable {
		return "", &NeedsReauthError{Name: name, Reason: res.Reason, Msg: res.Message}
	}
	return "", res.err
}
