package webhook

import "time"

// Defaults of a Schedule.
const (
	DefaultRetryBase   = 10 * time.Second
	DefaultRetryMax    = 2 * time.Hour
	DefaultRetryWindow = 24 * time.Hour
)

// Schedule spaces the attempts of one delivery: exponential backoff with
// full jitter (a uniformly random wait between zero and Base doubled once
// per failed attempt, at most Max), so that endpoints coming back after an
// outage are not hit by every delivery in step; and it gives up only on an
// attempt made Window or later after the first, so a delivery is tried for
// at least Window.
type Schedule struct {
	Base   time.Duration // longest wait after the first attempt; DefaultRetryBase if zero
	Max    time.Duration // longest wait between two attempts; DefaultRetryMax if zero
	Window time.Duration // how long to keep trying at least; DefaultRetryWindow if zero
}

// Next is when to make the attempt after attempt number n (1 for the
// first), made at failed, has failed; first is when the first attempt was
// made and jitter a number in [0, 1) drawn by the caller (it is what makes
// the schedule random, so Next itself is a pure function). ok is false
// when the delivery gives up: the failed attempt was made Window or more
// after the first.
func (s Schedule) Next(n int, first, failed time.Time, jitter float64) (next time.Time, ok bool) {
	base, longest, window := s.Base, s.Max, s.Window
	if base <= 0 {
		base = DefaultRetryBase
	}
	if longest <= 0 {
		longest = DefaultRetryMax
	}
	if window <= 0 {
		window = DefaultRetryWindow
	}
	if failed.Sub(first) >= window {
		return time.Time{}, false
	}
	ceiling := base
	for i := 1; i < n && ceiling < longest; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, longest)
	jitter = min(max(jitter, 0), 1)
	wait := time.Duration(jitter * float64(ceiling))
	return failed.Add(min(wait, ceiling)), true
}
