package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/server/storage"
)

// Find returns the bucket of key, the zero bucket when none is stored
// (storage.RateLimits).
func (r rateLimitRows) Find(ctx context.Context, key string) (storage.RateBucket, error) {
	return query(ctx, r.rows, func(tx *Tx) (storage.RateBucket, error) {
		b := storage.RateBucket{Key: key}
		err := tx.QueryRow(ctx, `SELECT full_at, version FROM rate_buckets WHERE key = $1`, key).Scan(&b.Full, &b.Version)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return b, nil
		case err != nil:
			return b, fmt.Errorf("read rate bucket: %w", err)
		}
		return b, nil
	})
}

// Put stores b if its stored version is still prev (storage.RateLimits).
// Two servers putting the same version at once conflict; the one run
// again finds the version moved and reports false.
func (r rateLimitRows) Put(ctx context.Context, b storage.RateBucket, prev int64) (bool, error) {
	var n int64
	var err error
	if prev == 0 {
		n, err = exec(ctx, r.rows, "store rate bucket",
			`INSERT INTO rate_buckets (key, full_at, version) VALUES ($1, $2, 1) ON CONFLICT (key) DO NOTHING`, b.Key, ms(b.Full))
	} else {
		n, err = exec(ctx, r.rows, "store rate bucket",
			`UPDATE rate_buckets SET full_at = $1, version = version + 1 WHERE key = $2 AND version = $3`, ms(b.Full), b.Key, prev)
	}
	return n == 1, err
}

// DeleteIdle deletes the buckets full before before (storage.RateLimits).
func (r rateLimitRows) DeleteIdle(ctx context.Context, before time.Time) (int64, error) {
	return exec(ctx, r.rows, "delete idle rate buckets", `DELETE FROM rate_buckets WHERE full_at < $1`, ms(before))
}
