package auth

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/postgres"
	"github.com/shopscore/shopscore/server/postgres/pgtest"
	"github.com/shopscore/shopscore/server/storage"
)

// TestSharedLimiter_TwoServers plays two servers on one database: an
// account locks after the same number of attempts in all, however they
// are spread over the servers.
func TestSharedLimiter_TwoServers(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "shopscore.db")
		testSharedLimiter(t, openSQLite(t, path).RateLimits(), openSQLite(t, path).RateLimits())
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		url := pgtest.URL(t)
		open := func() storage.RateLimits {
			db, err := postgres.Open(context.Background(), url)
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			return db.RateLimits()
		}
		testSharedLimiter(t, open(), open())
	})
}

func testSharedLimiter(t *testing.T, dbA, dbB storage.RateLimits) {
	ctx := context.Background()
	clock := newFakeClock()
	secret := testKEK.Derive("test limiter", 32)
	const burst = 5
	cfg := SharedLimiterConfig{Name: "login-account", Every: 10 * time.Second, Burst: burst, Secret: secret, Now: clock.Now}
	a, err := NewSharedLimiter(dbA, cfg)
	require.NoError(t, err)
	b, err := NewSharedLimiter(dbB, cfg)
	require.NoError(t, err)
	allow := func(l *SharedLimiter, key string) bool {
		t.Helper()
		ok, err := l.Allow(ctx, key)
		require.NoError(t, err)
		return ok
	}

	// Alternating servers: five in all, then both refuse.
	var got []bool
	for i := range burst + 2 {
		got = append(got, allow([]*SharedLimiter{a, b}[i%2], "anna@example.com"))
	}
	assert.Equal(t, []bool{true, true, true, true, true, false, false}, got)
	assert.True(t, allow(a, "boris@example.com"), "another account has its own bucket")

	// One more per Every, on either server.
	clock.Advance(10 * time.Second)
	assert.True(t, allow(b, "anna@example.com"))
	assert.False(t, allow(a, "anna@example.com"))

	// The key is stored under an HMAC, never as typed.
	raw, err := dbA.Find(ctx, "anna@example.com")
	require.NoError(t, err)
	assert.Zero(t, raw.Version)
	stored, err := dbA.Find(ctx, a.key("anna@example.com"))
	require.NoError(t, err)
	assert.NotZero(t, stored.Version)
	assert.NotContains(t, a.key("anna@example.com"), "anna")

	// Full again: idle buckets go, and the account starts afresh.
	clock.Advance(burst*10*time.Second + time.Second)
	n, err := DeleteIdleBuckets(ctx, dbA, clock.Now())
	require.NoError(t, err)
	assert.EqualValues(t, 2, n)
	assert.True(t, allow(a, "anna@example.com"))

	// At once from both servers: exactly the burst gets through.
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for i := range 4 * burst {
		l := []*SharedLimiter{a, b}[i%2]
		wg.Go(func() {
			ok, err := l.Allow(ctx, "carol@example.com")
			if assert.NoError(t, err) && ok {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, burst, allowed.Load())
}

func TestNewSharedLimiter_Errors(t *testing.T) {
	db := openSQLite(t, filepath.Join(t.TempDir(), "shopscore.db")).RateLimits()
	good := SharedLimiterConfig{Name: "n", Every: time.Second, Burst: 1, Secret: make([]byte, 16)}
	for name, change := range map[string]func(*SharedLimiterConfig){
		"no name":      func(c *SharedLimiterConfig) { c.Name = "" },
		"no interval":  func(c *SharedLimiterConfig) { c.Every = 0 },
		"no burst":     func(c *SharedLimiterConfig) { c.Burst = -1 },
		"short secret": func(c *SharedLimiterConfig) { c.Secret = c.Secret[:15] },
	} {
		cfg := good
		change(&cfg)
		_, err := NewSharedLimiter(db, cfg)
		assert.Equal(t, audit.EINVALID, audit.ErrorCode(err), "%s: %v", name, err)
	}
	_, err := NewSharedLimiter(nil, good)
	assert.Equal(t, audit.EINVALID, audit.ErrorCode(err))
	_, err = NewSharedLimiter(db, good)
	assert.NoError(t, err)
}
