package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// sharedLimiterTries bounds how often Allow retries a bucket another
// server changed in between.
const sharedLimiterTries = 20

// SharedLimiterConfig configures a SharedLimiter.
type SharedLimiterConfig struct {
	// Name keeps this limiter's buckets apart from other limiters' in the
	// same table ("login-account").
	Name string
	// Every is the time in which a key earns one more event; it must be
	// positive.
	Every time.Duration
	// Burst is the number of events a key may spend at once; it must be
	// positive.
	Burst int
	// Secret keys the HMAC under which keys are stored, so that what
	// callers limit by (an e-mail as typed, which may be a password typed
	// in the wrong field) never reaches the database in the clear. Every
	// server must have the same (KEK.Derive). At least 16 bytes.
	Secret []byte
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// SharedLimiter rate-limits events per key with one token bucket per key,
// like Limiter, but keeps the buckets in the database every server shares
// (storage.RateLimits), so that a limit holds across servers instead of
// multiplying by their number. A bucket is a single instant (when it is
// full again: the generic cell rate algorithm), changed by
// compare-and-set; a key's bucket, once full again, is as good as none
// and may be deleted (DeleteIdle). It is safe for concurrent use.
type SharedLimiter struct {
	db     storage.RateLimits
	name   string
	every  time.Duration
	window time.Duration // every × burst: how far ahead a bucket may be
	secret []byte
	now    func() time.Time
}

// NewSharedLimiter returns a SharedLimiter over db. It returns EINVALID
// for a config without a name, a positive interval and burst, or a
// secret of at least 16 bytes.
func NewSharedLimiter(db storage.RateLimits, cfg SharedLimiterConfig) (*SharedLimiter, error) {
	switch {
	case db == nil:
		return nil, audit.Errorf(audit.EINVALID, "auth: a shared rate limit needs a database")
	case cfg.Name == "":
		return nil, audit.Errorf(audit.EINVALID, "auth: a shared rate limit needs a name")
	case cfg.Every <= 0 || cfg.Burst <= 0:
		return nil, audit.Errorf(audit.EINVALID, "auth: a rate limit needs a positive interval and burst, not %v and %d", cfg.Every, cfg.Burst)
	case len(cfg.Secret) < 16:
		return nil, audit.Errorf(audit.EINVALID, "auth: a shared rate limit needs a secret of at least 16 bytes")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	window := time.Duration(math.MaxInt64)
	if int64(cfg.Burst) <= math.MaxInt64/int64(cfg.Every) {
		window = cfg.Every * time.Duration(cfg.Burst)
	}
	return &SharedLimiter{db: db, name: cfg.Name, every: cfg.Every, window: window, secret: cfg.Secret, now: cfg.Now}, nil
}

// key returns the stored key of a caller's key.
func (l *SharedLimiter) key(key string) string {
	m := hmac.New(sha256.New, l.secret)
	m.Write([]byte(key))
	return l.name + ":" + hex.EncodeToString(m.Sum(nil))
}

// Allow reports whether an event for key may happen now, and if so spends
// one token of key's bucket, on every server. Errors: EUNAVAILABLE when
// the bucket kept changing under it; any database error.
func (l *SharedLimiter) Allow(ctx context.Context, key string) (bool, error) {
	k := l.key(key)
	for range sharedLimiterTries {
		b, err := l.db.Find(ctx, k)
		if err != nil {
			return false, fmt.Errorf("auth: read rate limit: %w", err)
		}
		now := l.now()
		full := b.Full
		if b.Version == 0 || full.Before(now) {
			full = now
		}
		// One event moves the bucket Every further from full; it may be
		// at most window ahead of now.
		if full.Sub(now) > l.window-l.every {
			return false, nil
		}
		ok, err := l.db.Put(ctx, storage.RateBucket{Key: k, Full: full.Add(l.every)}, b.Version)
		if err != nil {
			return false, fmt.Errorf("auth: store rate limit: %w", err)
		}
		if ok {
			return true, nil
		}
	}
	return false, audit.Errorf(audit.EUNAVAILABLE, "the %s limit is busy; try again", l.name)
}

// DeleteIdleBuckets deletes the buckets full again, of every shared limiter,
// and returns how many (a server calls it on its periodic tick).
func DeleteIdleBuckets(ctx context.Context, db storage.RateLimits, now time.Time) (int64, error) {
	n, err := db.DeleteIdle(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("auth: delete idle rate limits: %w", err)
	}
	return n, nil
}
