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
	OutcomeRenewed      Outcome = "renewed"       // a new token was obtained and stored
	OutcomeFresh        Outcome = "fresh"         // the token was good enough (maybe renewed by another process)
	OutcomeNeedsReauth  Outcome = "needs_reauth"  // only `sbctl reauth` can help
	OutcomeNotRenewable Outcome = "not_renewable" // the network offers no renewal now; the token still works
	OutcomeFailed       Outcome = "failed"        // a temporary or configuration failure; nothing was lost
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

	// Interrupted: nothing was sent because sbctl was interrupted first.
	Interrupted bool `json:"interrupted,omitempty"`
	// MayHaveLost: a second interruption ended a rotating renewal whose
	// request had been sent; the network may have replaced the refresh
	// token with one sbctl never received.
	MayHaveLost bool `json:"may_have_lost_grant,omitempty"`
	// Recovered is the recovery file holding the renewed token when the
	// token store refused it.
	Recovered string `json:"recovery_file,omitempty"`
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
// NeedsReauthError, only a reauth helps (exit code 4 for `token`); the
// front end says how to start one.
type NotConnectedError struct {
	Name string
	Msg  string
}

func (e *NotConnectedError) Error() string {
	return fmt.Sprintf("profile %q is not connected: %s", e.Name, e.Msg)
}

// Profile names the profile that needs a reauth.
func (e *NotConnectedError) Profile() string { return e.Name }

func (e *NeedsReauthError) Error() string {
	msg := fmt.Sprintf("profile %q needs re-authentication", e.Name)
	if e.Reason != "" {
		msg += " (" + string(e.Reason) + ")"
	}
	if e.Msg != "" {
		msg += ": " + e.Msg
	}
	return trimReauthAdvice(msg)
}

// Profile names the profile that needs a reauth.
func (e *NeedsReauthError) Profile() string { return e.Name }

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
	if ctx.Err() != nil {
		return notStarted(res)
	}
	st, err := m.Store()
	if err != nil {
		return failed(res, err)
	}
	before, err := store.GetToken(ctx, st, p.Name)
	if errors.Is(err, store.ErrNotFound) {
		return m.notConnected(res, "no token is stored (never connected, or its token was deleted)")
	}
	if err != nil {
		return failed(res, err)
	}
	if !o.Force && fresh(before, m.now(), o.MinTTL) {
		res.Outcome, res.token = OutcomeFresh, before
		res.ExpiresAt = utc(&before.Expiry)
		return res
	}
	unlock, err := m.lockProfile(ctx, p.Name)
	if err != nil {
		if ctx.Err() != nil {
			return notStarted(res)
		}
		// Another process is stuck renewing: the token read before the
		// lock may still serve (the caller decides).
		res = failed(res, err)
		res.token = before
		return res
	}
	defer unlock()
	tok, stop := m.tokenUnderLock(ctx, st, p.Name, before, o, &res)
	if stop {
		return res
	}
	prov, err := m.providerFor(ctx, p.Provider, p.Scopes)
	if err != nil {
		return failed(res, err)
	}
	if ctx.Err() != nil {
		return notStarted(res)
	}
	// From here the request may reach the network: an interruption lets
	// it finish and store its answer (a rotated refresh token is then the
	// only valid one), within GracePeriod.
	work, release := m.inFlight(ctx)
	defer release()
	return m.renewAtNetwork(ctx, work, st, p, prov, tok, o, res)
}

// tokenUnderLock re-reads the token inside the profile's lock: a token a
// dead process left in its recovery file goes into the store first, and a
// token another process renewed meanwhile is used as it is. stop says res
// is the final result.
func (m *Manager) tokenUnderLock(ctx context.Context, st store.Store, name string, before *auth.Token, o renewOptions, res *RenewResult) (*auth.Token, bool) {
	if _, err := m.restoreRecovered(ctx, st, name); err != nil {
		fmt.Fprintf(m.warn, "warning: %v\n", err)
	}
	tok, err := store.GetToken(ctx, st, name)
	if errors.Is(err, store.ErrNotFound) {
		*res = m.notConnected(*res, "its token was removed meanwhile")
		return nil, true
	}
	if err != nil {
		*res = failed(*res, err)
		return nil, true
	}
	changed := tok.AccessToken != before.AccessToken
	if (!o.Force || changed) && fresh(tok, m.now(), o.MinTTL) {
		// Another process renewed it while we waited for the lock.
		res.Outcome, res.token = OutcomeFresh, tok
		res.ExpiresAt = utc(&tok.Expiry)
		return nil, true
	}
	return tok, false
}

// renewAtNetwork sends the renewal (under work, which outlives an
// interruption of ctx) and stores its answer.
func (m *Manager) renewAtNetwork(ctx, work context.Context, st store.Store, p *config.Profile, prov *provider.Provider, tok *auth.Token, o renewOptions, res RenewResult) RenewResult {
	rotating := prov.Preset().RotatesRefresh && tok.HasRefresh()
	crashed := m.readMarker(p.Name)
	if crashed != nil && crashed.RefreshSHA256 != "" && crashed.RefreshSHA256 != refreshDigest(tok) {
		// The dead process stored its new token before it died: nothing
		// was lost.
		m.clearMarker(p.Name)
		crashed = nil
	}
	if rotating {
		if err := m.writeMarker(p.Name, tok, ""); err != nil {
			return failed(res, fmt.Errorf("writing the renewal marker: %w", err))
		}
	}
	newTok, err := m.renewWithRetry(ctx, work, prov, tok, rotating, o)
	defer m.warnSkew(prov)
	var pe *provider.Error
	if err != nil && errors.As(err, &pe) && pe.Kind == provider.KindDefinite {
		// SECURITY 20: if the stored refresh token changed meanwhile (a
		// reauth that does not take this lock), try once with it.
		if again, gerr := store.GetToken(work, st, p.Name); gerr == nil && again.RefreshToken != tok.RefreshToken && again.HasRefresh() {
			tok = again
			if rotating {
				// The marker must name the refresh token now being spent.
				if err := m.writeMarker(p.Name, tok, ""); err != nil {
					return failed(res, fmt.Errorf("writing the renewal marker: %w", err))
				}
			}
			newTok, err = m.renewWithRetry(ctx, work, prov, tok, rotating, renewOptions{Wait: o.Wait})
		}
	}
	if errors.Is(err, ErrNotStarted) {
		m.clearMarker(p.Name)
		return notStarted(res)
	}
	if err != nil {
		res = m.renewFailed(res, p.Provider, tok, err, rotating, crashed)
		if res.Outcome == OutcomeNeedsReauth {
			m.recordRejection(withAudit(work, auditRefreshFailed, ""), st, p.Name, tok, res.Reason)
		}
		if work.Err() != nil && ctx.Err() != nil && rotating {
			res.MayHaveLost = true
		}
		return res
	}
	return m.storeRenewed(work, st, p, tok, newTok, res)
}

// storeRenewed makes a renewed token durable before anything else (SPEC
// §6): into the store, tried a few times; if the store stays unusable,
// into the profile's recovery file. Only then is the marker cleared.
func (m *Manager) storeRenewed(ctx context.Context, st store.Store, p *config.Profile, spent, t *auth.Token, res RenewResult) RenewResult {
	var err error
	for attempt, wait := 0, 250*time.Millisecond; attempt < storeAttempts; attempt, wait = attempt+1, wait*2 {
		if err = store.PutToken(withAudit(ctx, auditRefresh, ""), st, p.Name, t); err == nil {
			m.clearMarker(p.Name)
			res.Outcome, res.token = OutcomeRenewed, t
			res.ExpiresAt = utc(&t.Expiry)
			res.update = m.renewedRecord(t)
			return res
		}
		var ue *store.UnavailableError
		if errors.As(err, &ue) || attempt == storeAttempts-1 || m.sleep(ctx, wait) != nil {
			break // a keychain that is locked or gone will not come back in a second
		}
	}
	path, rerr := m.saveRecovery(p.Name, t, err)
	if rerr != nil {
		// Nowhere to keep it: the marker says so, for this run's report
		// and the next run's.
		m.noteMarker(p.Name, spent, fmt.Sprintf("could not store the renewed token: the token store refused it (%v) and its recovery file could not be written (%v)", err, rerr))
		return failed(res, fmt.Errorf("renewed at %s, but the token store refused the new token (%w) and it could not be kept in a recovery file either (%v); the grant is lost unless the store works again before this process ends", p.Provider, err, rerr))
	}
	m.noteMarker(p.Name, spent, "the renewed token waits in the recovery file "+path)
	res.Outcome, res.token, res.Recovered = OutcomeRenewed, t, path
	res.ExpiresAt = utc(&t.Expiry)
	res.Message = recoveryNote(path, err)
	renewed := m.renewedRecord(t)
	res.update = func(cur *Record) *Record {
		rec := renewed(cur)
		rec.Unknown, rec.LastError = true, res.Message
		return rec
	}
	return res
}

// storeAttempts bounds the writes of a renewed token before it goes to
// the recovery file.
const storeAttempts = 3

// recordRejection keeps the network's verdict with the token itself (see
// auth.Token.Rejected; "" clears it), so a rebuilt state remembers it.
// Best effort: the state file records it too. The caller holds the
// profile's lock.
func (m *Manager) recordRejection(ctx context.Context, st store.Store, name string, judged *auth.Token, reason auth.Reason) {
	cur, err := store.GetToken(ctx, st, name)
	if err != nil || cur.RefreshToken != judged.RefreshToken || cur.AccessToken != judged.AccessToken || cur.Rejected == reason {
		return // another token arrived meanwhile (a reauth), or nothing changes
	}
	cur.Rejected, cur.RejectedAt = reason, time.Time{}
	if reason != "" {
		cur.RejectedAt = m.now().UTC()
	}
	// The write's audit action is the caller's (a refusal at renewal, or
	// a verification); the reason goes with it.
	action, _ := auditOf(ctx)
	_ = store.PutToken(withAudit(ctx, action, string(reason)), st, name, cur)
}

// noteVerdict is recordRejection for a caller that does not hold the
// profile's lock (verify, an import).
func (m *Manager) noteVerdict(ctx context.Context, name string, judged *auth.Token, reason auth.Reason) {
	st, err := m.Store()
	if err != nil || (judged.Rejected == reason) {
		return
	}
	unlock, err := m.lockProfile(ctx, name)
	if err != nil {
		return
	}
	defer unlock()
	m.recordRejection(withAudit(ctx, "verify", ""), st, name, judged, reason)
}

func failed(res RenewResult, err error) RenewResult {
	res.Outcome, res.err, res.Message = OutcomeFailed, err, err.Error()
	return res
}

// notStarted: an interruption came before anything was sent.
func notStarted(res RenewResult) RenewResult {
	res = failed(res, ErrNotStarted)
	res.Interrupted = true
	return res
}

// renewWithRetry calls the provider, retrying transient failures with
// exponential backoff and jitter (honouring Retry-After) only where the
// refresh token does not rotate: a rotating refresh that may have reached
// the server is never resent (SECURITY 22).
func (m *Manager) renewWithRetry(ctx, work context.Context, prov *provider.Provider, tok *auth.Token, rotating bool, o renewOptions) (*auth.Token, error) {
	delay := 500 * time.Millisecond
	for attempt := 0; ; attempt++ {
		if o.Wait != nil {
			if err := o.Wait(ctx); err != nil {
				return nil, notStartedErr(ctx, err)
			}
		}
		if ctx.Err() != nil {
			// Interrupted before this attempt: nothing more is sent.
			return nil, ErrNotStarted
		}
		t, err := prov.Renew(work, tok)
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
		if m.sleep(ctx, wait) != nil {
			return nil, err // interrupted while backing off: the last answer stands
		}
		delay *= 2
	}
}

// notStartedErr: a wait before the first request that ended because of an
// interruption means nothing was sent.
func notStartedErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ErrNotStarted
	}
	return err
}

func (m *Manager) renewFailed(res RenewResult, providerName string, tok *auth.Token, err error, rotating bool, crashed *renewalMarker) RenewResult {
	var pe *provider.Error
	errors.As(err, &pe)
	switch {
	case pe != nil && pe.Kind == provider.KindDefinite:
		m.clearMarker(res.Name)
		msg := pe.Error()
		if crashed != nil {
			msg = crashed.lossMessage(providerName)
		}
		return m.needsReauth(res, pe.Reason, msg, err, m.endedAt(tok))
	case errors.Is(err, provider.ErrCannotRenew):
		m.clearMarker(res.Name)
		if !tok.Expiry.IsZero() && !m.now().Before(tok.Expiry) {
			// Only a reauth helps, but it is our clock that says the token
			// ended: a prediction the status computes from the date, not a
			// fact to store (a wrong clock would make it a lasting one).
			res = m.needsReauth(res, auth.ReasonExpired, err.Error(), err, tok.Expiry)
			res.update = nil
			return res
		}
		res.Outcome, res.token, res.Message, res.err = OutcomeNotRenewable, tok, err.Error(), err
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
		rec.Notified = cur.Notified // what was told stays told (notify.go)
		return rec
	}
}

func deadRecord(reason auth.Reason, msg string, ended time.Time) func(cur *Record) *Record {
	return func(cur *Record) *Record {
		cur.Connected, cur.NeedsReauth, cur.Reason, cur.Unknown, cur.LastError = true, true, reason, false, msg
		cur.EndedAt, cur.Rebuilt = nil, false
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
