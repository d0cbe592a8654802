package webhook

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestScheduleNext(t *testing.T) {
	first := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	def := Schedule{}
	custom := Schedule{Base: time.Second, Max: 8 * time.Second, Window: time.Hour}
	for _, tc := range []struct {
		name   string
		s      Schedule
		n      int
		failed time.Time
		jitter float64
		want   time.Duration // after failed
		giveUp bool
	}{
		{"first failure, no jitter", def, 1, first, 0, 0, false},
		{"first failure, half", def, 1, first, 0.5, 5 * time.Second, false},
		{"second failure doubles", def, 2, first.Add(time.Minute), 0.5, 10 * time.Second, false},
		{"third failure", def, 3, first.Add(time.Minute), 0.5, 20 * time.Second, false},
		{"tenth failure", def, 10, first.Add(time.Hour), 0.5, 2560 * time.Second, false},
		{"capped at Max", def, 11, first.Add(2 * time.Hour), 0.5, time.Hour, false},
		{"capped far out", def, 1000, first.Add(20 * time.Hour), 0.75, 90 * time.Minute, false},
		{"jitter near one", def, 2, first, 0.999, 19980 * time.Millisecond, false},
		{"jitter above one is one", def, 2, first, 7, 20 * time.Second, false},
		{"negative jitter is zero", def, 2, first, -1, 0, false},
		{"attempt zero is the first", def, 0, first, 0.5, 5 * time.Second, false},
		{"just inside the window", def, 30, first.Add(24*time.Hour - time.Second), 0.5, time.Hour, false},
		{"at the window: give up", def, 30, first.Add(24 * time.Hour), 0.5, 0, true},
		{"past the window: give up", def, 31, first.Add(25 * time.Hour), 0, 0, true},
		{"custom base", custom, 1, first, 1, time.Second, false},
		{"custom cap", custom, 5, first, 1, 8 * time.Second, false},
		{"custom window", custom, 5, first.Add(time.Hour), 0.5, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next, ok := tc.s.Next(tc.n, first, tc.failed, tc.jitter)
			if tc.giveUp {
				assert.False(t, ok)
				assert.True(t, next.IsZero())
				return
			}
			assert.True(t, ok)
			assert.Equal(t, tc.failed.Add(tc.want), next)
		})
	}
}

// TestScheduleKeepsTryingForADay follows the schedule with random jitter,
// attempts taking no time: it gives up only on an attempt a day or more
// after the first, never more than Max past the day, and never hammers.
func TestScheduleKeepsTryingForADay(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	s := Schedule{}
	for run := range 200 {
		first := time.Unix(1_800_000_000, 0)
		at := first
		n := 1
		for {
			next, ok := s.Next(n, first, at, r.Float64())
			if !ok {
				break
			}
			assert.False(t, next.Before(at))
			at = next
			n++
		}
		span := at.Sub(first)
		assert.GreaterOrEqual(t, span, 24*time.Hour, "run %d", run)
		assert.Less(t, span, 24*time.Hour+DefaultRetryMax, "run %d", run)
		assert.Less(t, n, 120, "run %d: %d attempts in a day", run, n)
	}
}
