package profiles

import (
	"fmt"
	"time"
)

// RelativeTime says when t is relative to now, the short way both front
// ends show on a terminal: "in 3d", "2h ago", "just now".
func RelativeTime(t, now time.Time) string {
	d := t.Sub(now)
	future := d >= 0
	if !future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		if future {
			return "in <1m"
		}
		return "just now"
	case d < time.Hour:
		s = fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		s = fmt.Sprintf("%dh", int(d/time.Hour))
	case d < 365*24*time.Hour:
		// Round days: "in 2d" for 47h59m, which is how people count.
		s = fmt.Sprintf("%dd", int((d+12*time.Hour)/(24*time.Hour)))
	default:
		s = fmt.Sprintf("%dy", int(d/(365*24*time.Hour)))
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}
