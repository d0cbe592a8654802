package auth

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
)

// newTestLimiter returns a Limiter on a fake clock.
func newTestLimiter(tb testing.TB, every time.Duration, burst, maxKeys int) (*Limiter, *fakeClock) {
	tb.Helper()
	clock := newFakeClock()
	l, err := NewLimiterConfig(LimiterConfig{Every: every, Burst: burst, MaxKeys: maxKeys, Now: clock.Now})
	require.NoError(tb, err)
	return l, clock
}

func TestLimiter_Allow(t *testing.T) {
	t.Run("BurstThenRefusal", func(t *testing.T) {
		l, clock := newTestLimiter(t, time.Minute, 3, 0)
		for i := range 3 {
			assert.True(t, l.Allow("alice"), "event %d", i)
		}
		assert.False(t, l.Allow("alice"))
		assert.False(t, l.Allow("alice"))

		clock.Advance(59 * time.Second)
		assert.False(t, l.Allow("alice"))
		clock.Advance(time.Second)
		assert.True(t, l.Allow("alice"), "one more token a minute")
		assert.False(t, l.Allow("alice"))
	})

	t.Run("KeysIndependent", func(t *testing.T) {
		l, _ := newTestLimiter(t, time.Minute, 2, 0)
		assert.True(t, l.Allow("alice"))
		assert.True(t, l.Allow("alice"))
		assert.False(t, l.Allow("alice"))
		assert.True(t, l.Allow("bob"))
		assert.True(t, l.Allow("10.0.0.1"))
		assert.True(t, l.Allow("bob"))
		assert.False(t, l.Allow("bob"))
		assert.False(t, l.Allow("alice"))
		assert.Equal(t, 3, l.Len())
	})

	t.Run("EvictionBound", func(t *testing.T) {
		l, _ := newTestLimiter(t, time.Hour, 1, 3)
		for i := range 100 {
			assert.True(t, l.Allow(fmt.Sprintf("key-%d", i)))
			assert.LessOrEqual(t, l.Len(), 3)
		}
		assert.Equal(t, 3, l.Len())
		assert.False(t, l.Allow("key-99"), "recent keys are kept")
		assert.False(t, l.Allow("key-97"))
		assert.True(t, l.Allow("key-0"), "the oldest key was forgotten")
		assert.Equal(t, 3, l.Len())
	})

	t.Run("LeastRecentlyUsedEvicted", func(t *testing.T) {
		l, _ := newTestLimiter(t, time.Hour, 1, 2)
		assert.True(t, l.Allow("a"))
		assert.True(t, l.Allow("b"))
		assert.False(t, l.Allow("a")) // a is now the most recent
		assert.True(t, l.Allow("c"))  // evicts b
		assert.False(t, l.Allow("a"))
		assert.True(t, l.Allow("b"))
	})

	t.Run("IdleEvicted", func(t *testing.T) {
		l, clock := newTestLimiter(t, time.Minute, 5, 0)
		for i := range 1000 {
			l.Allow(fmt.Sprintf("key-%d", i))
		}
		assert.Equal(t, 1000, l.Len())
		for range 5 {
			l.Allow("busy")
		}
		assert.False(t, l.Allow("busy"))

		clock.Advance(5*time.Minute - time.Second)
		assert.True(t, l.Allow("other"))
		assert.Equal(t, 1002, l.Len(), "buckets not yet full are kept")

		clock.Advance(time.Second)
		assert.True(t, l.Allow("busy"))
		assert.Equal(t, 2, l.Len(), "full buckets are forgotten")
	})

	t.Run("Concurrent", func(t *testing.T) {
		l, err := NewLimiter(time.Hour, 10)
		require.NoError(t, err)
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 100 {
					if l.Allow("shared") {
						allowed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, int64(10), allowed.Load())
	})

	t.Run("ErrConfig", func(t *testing.T) {
		for _, c := range []struct {
			every time.Duration
			burst int
		}{{0, 1}, {-time.Second, 1}, {time.Second, 0}, {time.Second, -1}} {
			l, err := NewLimiter(c.every, c.burst)
			assert.Nil(t, l)
			assert.Equal(t, audit.EINVALID, audit.ErrorCode(err), "every %v, burst %d: %v", c.every, c.burst, err)
		}
	})
}
