package auth

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
)

func TestHashGate(t *testing.T) {
	t.Run("BoundAndQueue", func(t *testing.T) {
		g := NewHashGate(2*HashMemory, 1)
		require.Equal(t, 2, cap(g.slots))
		ctx := context.Background()
		r1, err := g.acquire(ctx, argonMemory)
		require.NoError(t, err)
		r2, err := g.acquire(ctx, argonMemory)
		require.NoError(t, err)

		// The third waits in the queue; the fourth finds it full.
		got := make(chan error, 1)
		go func() {
			r3, err := g.acquire(ctx, argonMemory)
			if err == nil {
				r3()
			}
			got <- err
		}()
		require.Eventually(t, func() bool { return g.pending.Load() == 3 }, time.Second, time.Millisecond)
		_, err = g.acquire(ctx, argonMemory)
		assert.Equal(t, audit.EEXHAUSTED, audit.ErrorCode(err))
		select {
		case err := <-got:
			t.Fatalf("the queued hash ran while the budget was spent: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		r1()
		require.NoError(t, <-got)
		r2()
		assert.Equal(t, int64(0), g.pending.Load())
	})
	t.Run("LargerHashTakesMoreRoom", func(t *testing.T) {
		g := NewHashGate(2*HashMemory, 0)
		r, err := g.acquire(context.Background(), 2*argonMemory)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		_, err = g.acquire(ctx, argonMemory)
		assert.ErrorIs(t, err, context.DeadlineExceeded, "the big hash holds the whole budget")
		r()
	})
	t.Run("ContextEndsWhileQueued", func(t *testing.T) {
		g := NewHashGate(HashMemory, 4)
		r, err := g.acquire(context.Background(), argonMemory)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		_, err = g.acquire(ctx, argonMemory)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		r()
		assert.Equal(t, int64(0), g.pending.Load())
	})
	t.Run("SmallBudgetStillRunsOne", func(t *testing.T) {
		g := NewHashGate(1, 0)
		assert.Equal(t, 1, cap(g.slots))
		ok, err := g.CheckPassword(context.Background(), DummyHash, "guess")
		require.NoError(t, err)
		assert.False(t, ok)
	})
}
