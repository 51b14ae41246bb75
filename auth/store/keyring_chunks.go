package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// A value longer than the limit is stored as parts under "<key>#<gen>.<i>"
// and a header under the key itself: "sbctl-chunked:v1:<gen>:<n>:<sha256>".
// Parts are written first and the header last, and every write uses a new
// generation, so a crash mid-write leaves the old value readable, never a
// mix of old and new parts.
//
// What a killed write leaves behind is its own parts (killed before the
// header) or the old value's (killed after it, before their deletion).
// go-keyring cannot list items, so before the first part is written the
// generations at risk are recorded under "<key>#pending"
// ("sbctl-pending:v1:<gen>.<n>,…"), and the record is cleared once they are
// either live or gone. The next Set or Delete of the key (both run under
// the profile's lock) deletes the parts of every recorded generation that
// the header does not name. Get never does: without the lock, a recorded
// generation may be a concurrent writer's, still being written.
const (
	chunkPrefix   = "sbctl-chunked:v1:"
	pendingPrefix = "sbctl-pending:v1:"
	pendingSuffix = "#pending"
	// maxPending bounds the record when deletions keep failing; a
	// generation dropped from it is leaked, not damaged.
	maxPending = 32
)

type header struct {
	gen string
	n   int
	sum string
}

func (h header) String() string {
	return chunkPrefix + h.gen + ":" + strconv.Itoa(h.n) + ":" + h.sum
}

func (h header) partKey(key string, i int) string {
	return key + "#" + h.gen + "." + strconv.Itoa(i)
}

func parseHeader(v string) (header, bool) {
	if !strings.HasPrefix(v, chunkPrefix) {
		return header{}, false
	}
	f := strings.Split(strings.TrimPrefix(v, chunkPrefix), ":")
	if len(f) != 3 {
		return header{}, false
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || n < 1 || n > 1000 || !isHex(f[0]) {
		return header{}, false
	}
	return header{gen: f[0], n: n, sum: f[2]}, true
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// split cuts s into pieces of at most n bytes without splitting a UTF-8
// sequence (keychains store text).
func split(s string, n int) []string {
	var out []string
	for len(s) > n {
		cut := n
		for cut > 0 && cut < len(s) && s[cut]&0xC0 == 0x80 {
			cut--
		}
		if cut == 0 {
			cut = n
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	return append(out, s)
}

func formatPending(gens []header) string {
	if len(gens) == 0 {
		return ""
	}
	if len(gens) > maxPending {
		gens = gens[len(gens)-maxPending:]
	}
	var b strings.Builder
	b.WriteString(pendingPrefix)
	for i, h := range gens {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(h.gen + "." + strconv.Itoa(h.n))
	}
	return b.String()
}

// parsePending skips entries it cannot read: a damaged record must not
// block writes, and it is rewritten by the caller.
func parsePending(v string) []header {
	var out []header
	for e := range strings.SplitSeq(strings.TrimPrefix(v, pendingPrefix), ",") {
		gen, num, ok := strings.Cut(e, ".")
		n, err := strconv.Atoi(num)
		if ok && err == nil && n >= 1 && n <= 1000 && isHex(gen) {
			out = append(out, header{gen: gen, n: n})
		}
	}
	return out
}

// sweep deletes the parts of every recorded generation except live (the
// one the header names). It returns the generations whose parts could not
// all be deleted, and the record as read (for writePending).
func (k *Keyring) sweep(ctx context.Context, key, live string) (left []header, had string, err error) {
	had, err = k.get(ctx, key+pendingSuffix)
	if errors.Is(err, ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	for _, h := range parsePending(had) {
		if h.gen != live && !k.deleteParts(ctx, key, h) {
			left = append(left, h)
		}
	}
	return left, had, nil
}

// writePending stores the record of gens (deletes it when there are none)
// unless it already reads so.
func (k *Keyring) writePending(ctx context.Context, key string, gens []header, had string) error {
	v := formatPending(gens)
	switch {
	case v == had:
		return nil
	case v == "":
		if err := k.del(ctx, key+pendingSuffix); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	}
	return k.set(ctx, key+pendingSuffix, v)
}

// deleteParts reports whether every part of h is gone. A part already
// missing counts as gone: a killed write may have written only some.
func (k *Keyring) deleteParts(ctx context.Context, key string, h header) bool {
	for i := 1; i <= h.n; i++ {
		if err := k.del(ctx, h.partKey(key, i)); err != nil && !errors.Is(err, ErrNotFound) {
			return false
		}
	}
	return true
}
