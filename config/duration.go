package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day and Week extend time.ParseDuration's units: token lifetimes are
// talked about in days ("expires in 60 days"), so the config and flags
// accept them.
const (
	Day  = 24 * time.Hour
	Week = 7 * Day
)

// ParseDuration reads durations such as 90s, 15m, 12h, 7d, 2w or 1d12h.
// Negative values are refused: every duration in sbctl is a window or a
// lifetime.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("empty duration: use a number and a unit, such as 90s, 15m, 12h or 7d")
	}
	if in == "0" {
		return 0, nil
	}
	if strings.HasPrefix(in, "-") {
		return 0, fmt.Errorf("duration %q is negative: durations count forward, such as 15m or 7d", in)
	}
	var total time.Duration
	rest := in
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, badDuration(in)
		}
		num := rest[:i]
		rest = rest[i:]
		j := 0
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') && rest[j] != '.' {
			j++
		}
		unit := rest[:j]
		rest = rest[j:]
		var mult time.Duration
		switch unit {
		case "ms":
			mult = time.Millisecond
		case "s":
			mult = time.Second
		case "m":
			mult = time.Minute
		case "h":
			mult = time.Hour
		case "d":
			mult = Day
		case "w":
			mult = Week
		default:
			return 0, badDuration(in)
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, badDuration(in)
		}
		part := time.Duration(f * float64(mult))
		if f > float64(1<<62)/float64(mult) {
			return 0, fmt.Errorf("duration %q is too long", in)
		}
		total += part
	}
	return total, nil
}

func badDuration(s string) error {
	return fmt.Errorf("invalid duration %q: use a number and a unit (s, m, h, d, w), such as 90s, 15m, 12h or 7d", s)
}

// FormatDuration writes a duration the way ParseDuration reads it, using the
// largest whole units: 7d, 36h, 90s.
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%Day == 0:
		return strconv.FormatInt(int64(d/Day), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}
