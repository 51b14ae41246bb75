package store

import (
	"sync"
	"time"
)

// DefaultRetry is how long the keychain is left alone after it was found
// unavailable. A keychain that hangs costs a full timeout per call, and a
// locked one asks again for a password nobody sees: without the breaker a
// `refresh --all` over 50 profiles waited 50 timeouts (40–70 s) to report
// one problem. A long-running process (the TUI, the agent) tries again
// after this long, so an unlocked keychain is picked up without a restart.
const DefaultRetry = 30 * time.Second

// breaker remembers that the keychain is unavailable. While it is open,
// calls fail at once with the error that opened it; once the retry interval
// has passed, one call at a time goes through as a probe, and the first
// probe that gets an answer closes it.
type breaker struct {
	mu      sync.Mutex
	down    *UnavailableError // nil: closed
	since   time.Time         // when down was last confirmed
	probing bool
}

func (k *Keyring) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

func (k *Keyring) retry() time.Duration {
	if k.Retry > 0 {
		return k.Retry
	}
	return DefaultRetry
}

// Reset forgets that the keychain was unavailable, so the next call asks
// it again (a user who just unlocked it need not wait for the interval).
func (k *Keyring) Reset() { k.breaker.close() }

// admit says whether a call may go to the keychain now, and whether it is
// the probe; when it may not, the error is the one that opened the breaker.
func (b *breaker) admit(now time.Time, retry time.Duration) (probe bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down == nil {
		return false, nil
	}
	if b.probing || now.Sub(b.since) < retry {
		return false, b.down
	}
	b.probing = true
	return true, nil
}

// trip opens the breaker, or keeps it open from now on. The first error is
// kept (until a probe brings a newer one), so every call of a run reports
// the same one. Only the probe's own
// failure ends the probe: a call that was already out when the keychain
// broke may time out while a probe is under way.
func (b *breaker) trip(e *UnavailableError, now time.Time, probe bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down == nil || probe {
		b.down = e // a probe's answer is the newest news
	}
	b.since = now
	if probe {
		b.probing = false
	}
}

func (b *breaker) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.down, b.probing = nil, false
}

// abandon ends a probe that proved nothing (its caller gave up): the next
// call may probe.
func (b *breaker) abandon() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
}
