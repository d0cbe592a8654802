package storage

import (
	"context"
	"time"
)

// RateLimits keeps the token buckets of the rate limits that must hold
// across every server on the database, such as login attempts per
// account (docs/DESIGN.md §9), as compare-and-set rows: the caller
// (package auth) computes a bucket's next state and stores it only if no
// other server changed it in between.
type RateLimits interface {
	// Find returns the bucket of key; a key with none stored is the zero
	// RateBucket with that key (Version 0: a full bucket).
	Find(ctx context.Context, key string) (RateBucket, error)
	// Put stores b for b.Key as version prev+1 if the stored bucket is
	// still at version prev (0: none is stored), and reports whether it
	// did; false means another call changed it first.
	Put(ctx context.Context, b RateBucket, prev int64) (bool, error)
	// DeleteIdle deletes the buckets whose Full is before before (full
	// again, as good as none) and returns how many it deleted.
	DeleteIdle(ctx context.Context, before time.Time) (int64, error)
}

// RateBucket is one key's bucket.
type RateBucket struct {
	Key string
	// Full is when the bucket is full again if nothing more is spent:
	// the state of a token bucket in one instant (the generic cell rate
	// algorithm's theoretical arrival time).
	Full time.Time
	// Version counts the bucket's changes; Put compares it.
	Version int64
}
