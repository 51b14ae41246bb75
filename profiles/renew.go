package profiles

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
)

// Outcome is what happened to one profile in a renewal.
type Outcome string

const (
	OutcomeRenewed     Outcome = "renewed"       // a new token was obtained and stored
	OutcomeFresh       Outcome = "fresh"         // the token was good enough (maybe renewed by another process)
	OutcomeNeedsReauth Outcome = "needs_reauth"  // only `sbctl reauth` can help
	OutcomeNotRenewed  Outcome = "not_renewable" // the network offers no renewal now; the token still works
	OutcomeFailed      Outcome = "failed"        // a temporary or configuration failure; nothing was lost
)

// RenewResult reports one profile's renewal.
type RenewResult struct {
	Name    string      `json:"name"`
	Outcome Outcome     `json:"outcome"`
	Reason  auth.Reason `json:"reason,omitempty"`
	Message string      `json:"message,omitempty"`
	// ExpiresAt is the access token's expiry after the renewal.
	ExpiresAt *time.Time `json:"expires_at"`

	token *auth.Token
	// update turns the profile's current state record into the new one;
	// nil leaves the state unchanged.
	update func(cur *Record) *Record
	// at is when the result was known; a state record written later (a
	// reauth or another process's refresh that finished meanwhile) wins.
	at  time.Time
	err error
}

// Err is the failure behind OutcomeFailed or OutcomeNeedsReauth.
func (r *RenewResult) Err() error { return r.err }

// NeedsReauthError: only re-authentication can give this profile a working
// token (exit code 4 for `token` and `refresh`).
type NeedsReauthError struct {
	Name   string
	Reason auth.Reason
	Msg    string
}

// NotConnectedError: the profile has no stored token (never connected, or
// the token was deleted by hand or by another tool). Like
// NeedsReauthError, only `sbctl reauth` helps (exit code 4 for `token`).
type NotConnectedError struct {
	Name string
	Msg  string
}

func (e *NotConnectedError) Error() string {
	return fmt.Sprintf("profile %q is not connected: %s; connect it with `sbctl reauth %s`", e.Name, e.Msg, e.Name)
}

func (e *NeedsReauthError) Error() string {
	msg := fmt.Sprintf("profile %q needs re-authentication", e.Name)
	if e.Reason != "" {
		msg += " (" + string(e.Reason) + ")"
	}
	if e.Msg != "" {
		msg += ": " + e.Msg
	}
	return trimReauthAdvice(msg) + fmt.Sprintf("; run `sbctl reauth %s`", e.Name)
}

// trimReauthAdvice drops a network's generic "run sbctl reauth" from a
// message that will name the exact command itself.
func trimReauthAdvice(msg string) string {
	for _, suffix := range []string{": run sbctl reauth", "; run sbctl reauth", "; re-authenticate with `sbctl reauth`"} {
		msg = strings.TrimSuffix(msg, suffix)
	}
	return msg
}

// renewOptions tune renewOne.
type renewOptions struct {
	// Force renews even a token that is still good (a named `refresh`).
	Force bool
	// MinTTL: a token valid for at least this long needs no renewal.
	MinTTL time.Duration
	// Retries for transient failures of providers that do not rotate
	// refresh tokens (a rotating refresh is never blindly resent).
	Retries int
	// Wait is called before each request to a provider (rate limits).
	Wait func(ctx context.Context) error
}

// maxRetryAfter is the longest Retry-After sbctl waits for; a longer one
// fails the profile with the time to try again.
const maxRetryAfter = 30 * time.Second

// fresh reports whether t stays valid for at least minTTL.
func fresh(t *auth.Token, now time.Time, minTTL time.Duration) bool {
	return t.Expiry.IsZero() || t.Expiry.Sub(now) > minTTL
}

// renewOne renews one profile's token under its lock (SPEC §6):
//   - re-read the store inside the lock, and use a token that another
//     process renewed meanwhile;
//   - for rotating providers, write a marker before the request and clear
//     it after the new token is stored, so a crash in between is detected;
//   - store the new token (read back) before anything else;
//   - a definite rejection means needs_reauth with its reason; a transient
//     failure never does.
func (m *Manager) renewOne(ctx context.Context, p *config.Profile, o renewOptions) RenewResult {
	r := m.renewLocked(ctx, p, o)
	r.at = m.now()
	return r
}

func (m *Manager) renewLocked(ctx context.Context, p *config.Profile, o renewOptions) RenewResult {
	res := RenewResult{Name: p.Name}
	fail := func(err error) RenewResult {
		res.Outcome, res.err, res.Message = OutcomeFailed, err, err.Error()
		return res
	}
	st, err := m.Store()
	if err != nil {
		return fail(err)
	}
	before, err := store.GetToken(ctx, st, p.Name)
	if errors.Is(err, store.ErrNotFound) {
		return m.notConnected(res, "no token is stored (never connected, or its token was deleted)")
	}
	if err != nil {
		return fail(err)
	}
	if !o.Force && fresh(before, m.now(), o.MinTTL) {
		res.Outcome, res.token = OutcomeFresh, before
		res.ExpiresAt = utc(&before.Expiry)
		return res
	}
	unlock, err := m.lockProfile(ctx, p.Name)
	if err != nil {
		// Another process is stuck renewing: the token read before the
		// lock may still serve (the caller decides).
		res = fail(err)
		res.token = before
		return res
	}
	defer unlock()
	tok, err := store.GetToken(ctx, st, p.Name)
	if errors.Is(err, store.ErrNotFound) {
		return m.notConnected(res, "its token was removed meanwhile")
	}
	if err != nil {
		return fail(err)
	}
	changed := tok.AccessToken != before.AccessToken
	if (!o.Force || changed) && fresh(tok, m.now(), o.MinTTL) {
		// Another process renewed it while we waited for the lock.
		res.Outcome, res.token = OutcomeFresh, tok
		res.ExpiresAt = utc(&tok.Expiry)
		return res
	}
	prov, err := m.providerFor(ctx, p.Provider, p.Scopes)
	if err != nil {
		return fail(err)
	}
	rotating := prov.Preset().RotatesRefresh && tok.HasRefresh()
	crashed := m.readMarker(p.Name)
	if crashed != nil && crashed.RefreshSHA256 != "" && crashed.RefreshSHA256 != refreshDigest(tok) {
		// The dead process stored its new token before it died: nothing
		// was lost.
		m.clearMarker(p.Name)
		crashed = nil
	}
	if rotating {
		if err := m.writeMarker(p.Name, tok); err != nil {
			return fail(fmt.Errorf("writing the renewal marker: %w", err))
		}
	}
	newTok, err := m.renewWithRetry(ctx, prov, tok, rotating, o)
	var pe *provider.Error
	if err != nil && errors.As(err, &pe) && pe.Kind == provider.KindDefinite && pe.Reason != auth.ReasonConsentExpired {
		// SECURITY 20: if the stored refresh token changed meanwhile (a
		// reauth that does not take this lock), try once with it.
		if again, gerr := store.GetToken(ctx, st, p.Name); gerr == nil && again.RefreshToken != tok.RefreshToken && again.HasRefresh() {
			tok = again
			if rotating {
				// The marker must name the refresh token now being spent.
				if err := m.writeMarker(p.Name, tok); err != nil {
					return fail(fmt.Errorf("writing the renewal marker: %w", err))
				}
			}
			newTok, err = m.renewWithRetry(ctx, prov, tok, rotating, renewOptions{Wait: o.Wait})
		}
	}
	if err != nil {
		return m.renewFailed(res, p.Provider, tok, err, rotating, crashed)
	}
	if err := store.PutToken(ctx, st, p.Name, newTok); err != nil {
		// The marker stays: the provider may have rotated, and the next
		// run must know.
		return fail(fmt.Errorf("renewed at %s, but storing the new token failed: %w", p.Provider, err))
	}
	m.clearMarker(p.Name)
	res.Outcome, res.token = OutcomeRenewed, newTok
	res.ExpiresAt = utc(&newTok.Expiry)
	res.update = m.renewedRecord(newTok)
	return res
}

// renewWithRetry calls the provider, retrying transient failures with
// exponential backoff and jitter (honouring Retry-After) only where the
// refresh token does not rotate: a rotating refresh that may have reached
// the server is never resent (SECURITY 22).
func (m *Manager) renewWithRetry(ctx context.Context, prov *provider.Provider, tok *auth.Token, rotating bool, o renewOptions) (*auth.Token, error) {
	delay := 500 * time.Millisecond
	for attempt := 0; ; attempt++ {
		if o.Wait != nil {
			if err := o.Wait(ctx); err != nil {
				return nil, err
			}
		}
		t, err := prov.Renew(ctx, tok)
		var pe *provider.Error
		if err == nil || !errors.As(err, &pe) || pe.Kind != provider.KindTransient || attempt >= o.Retries {
			return t, err
		}
		if rotating {
			// SPEC §6: never resend a rotating refresh; even a 5xx from a
			// gateway may come after the server rotated the token.
			return nil, err
		}
		wait := delay/2 + rand.N(delay)
		if pe.RetryAfter > 0 {
			if pe.RetryAfter > maxRetryAfter {
				return nil, err
			}
			wait = pe.RetryAfter
		}
		if err := m.sleep(ctx, wait); err != nil {
			return nil, err
		}
		delay *= 2
	}
}

func (m *Manager) renewFailed(res RenewResult, providerName string, tok *auth.Token, err error, rotating bool, crashed *renewalMarker) RenewResult {
	var pe *provider.Error
	errors.As(err, &pe)
	switch {
	case pe != nil && pe.Kind == provider.KindDefinite:
		m.clearMarker(res.Name)
		msg := pe.Error()
		if crashed != nil {
			msg = fmt.Sprintf("an earlier sbctl (pid %d) was stopped at %s while renewing this profile, after %s may already have replaced its refresh token; the old one is now refused, so the grant is lost", crashed.PID, crashed.StartedAt.Format(time.RFC3339), providerName)
		}
		return m.needsReauth(res, pe.Reason, msg, err, m.endedAt(tok))
	case errors.Is(err, provider.ErrCannotRenew):
		m.clearMarker(res.Name)
		if !tok.Expiry.IsZero() && !m.now().Before(tok.Expiry) {
			return m.needsReauth(res, auth.ReasonExpired, err.Error(), err, tok.Expiry)
		}
		res.Outcome, res.token, res.Message, res.err = OutcomeNotRenewed, tok, err.Error(), err
		res.ExpiresAt = utc(&tok.Expiry)
		return res
	}
	if !(rotating && pe != nil && pe.Ambiguous) {
		// The provider answered, or the request never reached it: it
		// cannot have rotated the refresh token.
		m.clearMarker(res.Name)
	}
	res.Outcome, res.err, res.Message = OutcomeFailed, err, err.Error()
	res.token = tok
	if pe != nil {
		// The network was asked and gave no usable answer (a 5xx, a
		// refused client, a malformed reply): nothing is known to be
		// wrong, but the connection is not known to work either.
		res.update = unknownRecord(err)
	}
	return res
}

// needsReauth: only a reauth can help. ended is when the connection ended,
// for the reasons that mean it did (expired, consent_expired); zero if not
// known.
func (m *Manager) needsReauth(res RenewResult, reason auth.Reason, msg string, err error, ended time.Time) RenewResult {
	if reason == "" {
		reason = auth.ReasonInvalid
	}
	res.Outcome, res.Reason, res.Message = OutcomeNeedsReauth, reason, trimReauthAdvice(msg)
	if err == nil {
		err = &NeedsReauthError{Name: res.Name, Reason: reason, Msg: msg}
	}
	res.err = err
	res.update = deadRecord(reason, msg, ended)
	return res
}

// notConnected: the store holds no token for the profile, whatever the
// state file said; the status becomes not_connected.
func (m *Manager) notConnected(res RenewResult, msg string) RenewResult {
	res.Outcome, res.Message = OutcomeNeedsReauth, msg
	res.err = &NotConnectedError{Name: res.Name, Msg: msg}
	res.update = goneRecord
	return res
}

// endedAt is when a connection the network just called dead ended: the
// expiry that decides the connection (the refresh token's where there is
// one, else the access token's) if it already passed, else now.
func (m *Manager) endedAt(t *auth.Token) time.Time {
	now := m.now()
	if t == nil {
		return now
	}
	end := t.Expiry
	if t.HasRefresh() {
		end = t.RefreshExpiry
	}
	if !end.IsZero() && end.Before(now) {
		return end
	}
	return now
}

// The record helpers turn the current state record (which keeps account
// names and connection times) into the one a result leaves behind.
func (m *Manager) renewedRecord(t *auth.Token) func(cur *Record) *Record {
	now := m.now().UTC()
	return func(cur *Record) *Record {
		rec := RecordFromToken(t, now)
		rec.Account, rec.AccountID, rec.ConnectedAt, rec.ConsentExpiresAt = cur.Account, cur.AccountID, cur.ConnectedAt, cur.ConsentExpiresAt
		if len(t.Scopes) == 0 {
			rec.Scopes = cur.Scopes
		}
		rec.LastRefreshedAt = &now
		rec.LastVerifiedAt = cur.LastVerifiedAt
		return rec
	}
}

func deadRecord(reason auth.Reason, msg string, ended time.Time) func(cur *Record) *Record {
	return func(cur *Record) *Record {
		cur.Connected, cur.NeedsReauth, cur.Reason, cur.Unknown, cur.LastError = true, true, reason, false, msg
		cur.EndedAt = nil
		if (reason == auth.ReasonExpired || reason == auth.ReasonConsentExpired) && !ended.IsZero() {
			e := ended.UTC()
			cur.EndedAt = &e
		}
		return cur
	}
}

// goneRecord forgets a connection whose token is no longer stored.
func goneRecord(*Record) *Record { return &Record{} }

// unknownRecord marks a transient failure; it never hides a known problem
// (Evaluate lets expiry and needs_reauth win over unknown).
func unknownRecord(err error) func(cur *Record) *Record {
	return func(cur *Record) *Record {
		cur.Unknown, cur.LastError = true, err.Error()
		return cur
	}
}

// saveRecords writes what the results changed into the state, in one
// update.
func (m *Manager) saveRecords(ctx context.Context, results []RenewResult) error {
	pending := false
	for _, r := range results {
		pending = pending || r.update != nil
	}
	if !pending {
		return nil
	}
	return m.updateState(ctx, func(s *State) error {
		for _, r := range results {
			if r.update == nil {
				continue
			}
			cur := &Record{Connected: true}
			if old := s.Profiles[r.Name]; old != nil {
				if !r.at.IsZero() && lastWrite(old).After(r.at) {
					continue // newer news about this profile arrived meanwhile
				}
				c := *old
				cur = &c
			}
			s.Profiles[r.Name] = r.update(cur)
		}
		return nil
	})
}

// lastWrite is the latest time a record was written for a reason that
// supersedes older results: connected, refreshed or verified.
func lastWrite(r *Record) time.Time {
	var t time.Time
	for _, p := range []*time.Time{r.ConnectedAt, r.LastRefreshedAt, r.LastVerifiedAt} {
		if p != nil && p.After(t) {
			t = *p
		}
	}
	return t
}
