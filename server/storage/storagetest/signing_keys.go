package storagetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// signingKey returns a key of purpose with recognisable bytes.
func signingKey(kid, purpose string, created time.Time) storage.SigningKey {
	return storage.SigningKey{
		KID: kid, Purpose: purpose, CreatedAt: created,
		PublicKey:        []byte("public " + kid),
		SealedPrivateKey: []byte("sealed\x00" + kid), // bytes, not text
	}
}

// SigningKeys tests storage.SigningKeys on keys, the noun of a fresh,
// empty database.
func SigningKeys(t *testing.T, keys storage.SigningKeys) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	const purpose = "access-token"

	list := func(purpose string) []storage.SigningKey {
		t.Helper()
		got, err := keys.List(ctx, purpose)
		require.NoError(t, err)
		return got
	}
	assert.Empty(t, list(purpose))

	// The first set: an imported one may hold retired keys.
	old := signingKey("k0", purpose, t0)
	old.RetiredAt = t0.Add(time.Minute)
	first := signingKey("k1", purpose, t0.Add(time.Minute))
	stored, err := keys.AddFirst(ctx, purpose, []storage.SigningKey{old, first})
	require.NoError(t, err)
	assert.True(t, stored)
	assert.Equal(t, []storage.SigningKey{old, first}, list(purpose), "oldest first, bytes and times as stored")

	// Once keys are there, AddFirst stores nothing.
	stored, err = keys.AddFirst(ctx, purpose, []storage.SigningKey{signingKey("k9", purpose, t0)})
	require.NoError(t, err)
	assert.False(t, stored)
	assert.Len(t, list(purpose), 2)
	// Another purpose is another set.
	stored, err = keys.AddFirst(ctx, "other", []storage.SigningKey{signingKey("o1", "other", t0)})
	require.NoError(t, err)
	assert.True(t, stored)
	_, err = keys.AddFirst(ctx, "third", []storage.SigningKey{signingKey("x1", "other", t0)})
	assert.Error(t, err, "a key of another purpose")
	assert.Empty(t, list("third"))

	// Rotate retires the active key of its purpose only.
	at := t0.Add(time.Hour)
	next := signingKey("k2", purpose, at)
	require.NoError(t, keys.Rotate(ctx, next))
	got := list(purpose)
	require.Len(t, got, 3)
	assert.Equal(t, old.RetiredAt, got[0].RetiredAt, "a retired key keeps its time")
	assert.Equal(t, at, got[1].RetiredAt)
	assert.Equal(t, next, got[2])
	assert.True(t, list("other")[0].RetiredAt.IsZero())
	err = keys.Rotate(ctx, signingKey("k2", purpose, at.Add(time.Second)))
	require.Equal(t, audit.EEXISTS, audit.ErrorCode(err), "error: %v", err)
	assert.True(t, list(purpose)[2].RetiredAt.IsZero(), "a refused rotation retires nothing")

	// Retired keys go once the cut reaches their time; the active one never.
	n, err := keys.DeleteRetired(ctx, purpose, old.RetiredAt.Add(-time.Millisecond))
	require.NoError(t, err)
	assert.Zero(t, n, "retired after the cut")
	n, err = keys.DeleteRetired(ctx, purpose, old.RetiredAt)
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "retired at the cut")
	n, err = keys.DeleteRetired(ctx, purpose, at.Add(time.Hour))
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
	assert.Equal(t, []storage.SigningKey{next}, list(purpose))
	assert.Len(t, list("other"), 1)

	// Servers starting at once on an empty purpose store one first set.
	won := race(t, func(i int) (bool, error) {
		k := signingKey(string(rune('a'+i))+"-first", "race", t0)
		return keys.AddFirst(ctx, "race", []storage.SigningKey{k})
	})
	assert.Equal(t, 1, won)
	assert.Len(t, list("race"), 1)
}

// race runs try for eight servers at once and returns how many it
// reported true for, failing the test on any error.
func race(t *testing.T, try func(server int) (bool, error)) int {
	t.Helper()
	const servers = 8
	var wg sync.WaitGroup
	wins := make([]bool, servers)
	errs := make([]error, servers)
	for i := range servers {
		wg.Go(func() { wins[i], errs[i] = try(i) })
	}
	wg.Wait()
	won := 0
	for i := range servers {
		require.NoError(t, errs[i], "server %d", i)
		if wins[i] {
			won++
		}
	}
	return won
}

// RateLimits tests storage.RateLimits on limits, the noun of a fresh,
// empty database.
func RateLimits(t *testing.T, limits storage.RateLimits) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

	b, err := limits.Find(ctx, "login:a")
	require.NoError(t, err)
	assert.Equal(t, storage.RateBucket{Key: "login:a"}, b, "none stored: version 0")

	ok, err := limits.Put(ctx, storage.RateBucket{Key: "login:a", Full: t0}, 0)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = limits.Put(ctx, storage.RateBucket{Key: "login:a", Full: t0.Add(time.Hour)}, 0)
	require.NoError(t, err)
	assert.False(t, ok, "stored meanwhile")
	b, err = limits.Find(ctx, "login:a")
	require.NoError(t, err)
	assert.Equal(t, storage.RateBucket{Key: "login:a", Full: t0, Version: 1}, b)

	ok, err = limits.Put(ctx, storage.RateBucket{Key: "login:a", Full: t0.Add(time.Minute)}, 1)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = limits.Put(ctx, storage.RateBucket{Key: "login:a", Full: t0.Add(time.Hour)}, 1)
	require.NoError(t, err)
	assert.False(t, ok, "a stale version")
	b, err = limits.Find(ctx, "login:a")
	require.NoError(t, err)
	assert.Equal(t, storage.RateBucket{Key: "login:a", Full: t0.Add(time.Minute), Version: 2}, b)

	// Of many servers putting the same version, one wins.
	won := race(t, func(i int) (bool, error) {
		return limits.Put(ctx, storage.RateBucket{Key: "login:a", Full: t0.Add(time.Duration(i) * time.Second)}, 2)
	})
	assert.Equal(t, 1, won)
	b, err = limits.Find(ctx, "login:a")
	require.NoError(t, err)
	assert.EqualValues(t, 3, b.Version)

	ok, err = limits.Put(ctx, storage.RateBucket{Key: "login:b", Full: t0.Add(2 * time.Hour)}, 0)
	require.NoError(t, err)
	require.True(t, ok)
	n, err := limits.DeleteIdle(ctx, t0.Add(time.Hour))
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
	b, err = limits.Find(ctx, "login:a")
	require.NoError(t, err)
	assert.Zero(t, b.Version, "deleted: full again")
	b, err = limits.Find(ctx, "login:b")
	require.NoError(t, err)
	assert.EqualValues(t, 1, b.Version)
}
