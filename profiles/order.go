package profiles

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// SortKey is an order for a list of profiles. Both front ends sort with
// SortViews, so "most urgent first" means the same everywhere.
type SortKey int

const (
	// SortUrgency puts what needs a person first: dead connections
	// (needs_reauth, expired), then never connected, then unknown, then
	// expiring (soonest first), then healthy ones.
	SortUrgency SortKey = iota
	SortName
	SortProvider
	SortExpiry
	numSortKeys
)

var sortKeyNames = [numSortKeys]string{"urgency", "name", "provider", "expiry"}

func (k SortKey) String() string {
	if k < 0 || k >= numSortKeys {
		return fmt.Sprintf("SortKey(%d)", int(k))
	}
	return sortKeyNames[k]
}

// Next is the key after k, wrapping around (the TUI's `s` cycles).
func (k SortKey) Next() SortKey { return (k + 1) % numSortKeys }

// ParseSortKey reads a sort key's name.
func ParseSortKey(s string) (SortKey, error) {
	for k, name := range sortKeyNames {
		if strings.EqualFold(s, name) {
			return SortKey(k), nil
		}
	}
	return 0, fmt.Errorf("unknown sort %q (use one of: %s)", s, strings.Join(sortKeyNames[:], ", "))
}

// Urgency ranks a status: lower needs attention sooner. Expired and
// needs_reauth rank together: both are dead until someone signs in.
func (s Status) Urgency() int {
	switch s {
	case StatusNeedsReauth, StatusExpired:
		return 0
	case StatusNotConnected:
		return 1
	case StatusUnknown:
		return 2
	case StatusExpiring:
		return 3
	case StatusOK:
		return 5
	}
	return 4 // a status this build does not know sorts before ok
}

// SortViews orders views in place by key. Every key ends on the name
// (unique), so the order is total and never depends on the input's.
func SortViews(views []View, key SortKey) {
	slices.SortFunc(views, func(a, b View) int {
		var c int
		switch key {
		case SortUrgency:
			c = cmp.Or(cmp.Compare(a.Status.Urgency(), b.Status.Urgency()), compareExpiry(a, b))
		case SortProvider:
			c = strings.Compare(a.Provider, b.Provider)
		case SortExpiry:
			c = compareExpiry(a, b)
		}
		return cmp.Or(c, strings.Compare(a.Name, b.Name))
	})
}

// compareExpiry puts the connection that ends soonest first and those
// with no known end last.
func compareExpiry(a, b View) int {
	ta, tb := a.ConnectionExpiresAt, b.ConnectionExpiresAt
	switch {
	case ta == nil && tb == nil:
		return 0
	case ta == nil:
		return 1
	case tb == nil:
		return -1
	}
	return ta.Compare(*tb)
}
