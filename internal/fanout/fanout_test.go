package fanout

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestEach: every item is called once, never more than limit at once,
// and the errors come back joined.
func TestEach(t *testing.T) {
	var running, peak, calls atomic.Int32
	items := make([]int, 50)
	for i := range items {
		items[i] = i
	}
	errOdd := errors.New("odd")
	err := Each(items, 3, func(i int) error {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		defer running.Add(-1)
		calls.Add(1)
		if i%2 == 1 {
			return errOdd
		}
		return nil
	})
	assert.Equal(t, int32(50), calls.Load())
	assert.LessOrEqual(t, peak.Load(), int32(3))
	assert.ErrorIs(t, err, errOdd)
	assert.Len(t, err.(interface{ Unwrap() []error }).Unwrap(), 25)
	assert.NoError(t, Each([]int{1, 2}, 0, func(int) error { return nil }), "a limit under 1 is 1")
}
