package protocol

import (
	"math/rand/v2"
	"time"
)

// Backoff spaces the retries of transient failures: exponential from Base
// up to Max, with full jitter so that many phones coming back online at
// once do not retry in step.
type Backoff struct {
	Base time.Duration // first delay; 500 ms if zero
	Max  time.Duration // longest delay; 1 min if zero
}

// Delay returns the wait before retry number attempt (0 for the first).
func (b Backoff) Delay(attempt int) time.Duration {
	base, max := b.Base, b.Max
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	if max <= 0 {
		max = time.Minute
	}
	d := base
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d/2 + rand.N(d/2+1)
}
