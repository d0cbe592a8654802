package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/shopscore/shopscore/server/storage"
)

// Find returns the bucket of key, the zero bucket when none is stored
// (storage.RateLimits).
func (r rateLimitRows) Find(ctx context.Context, key string) (storage.RateBucket, error) {
	return get(ctx, r.rows, func(tx *Tx) (storage.RateBucket, error) {
		b := storage.RateBucket{Key: key}
		var full int64
		err := tx.QueryRowContext(ctx, `SELECT full_at, version FROM rate_buckets WHERE key = ?`, key).Scan(&full, &b.Version)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return b, nil
		case err != nil:
			return b, fmt.Errorf("read rate bucket: %w", err)
		}
		b.Full = fromMillis(full)
		return b, nil
	})
}

// Put stores b if its stored version is still prev (storage.RateLimits).
func (r rateLimitRows) Put(ctx context.Context, b storage.RateBucket, prev int64) (bool, error) {
	return put(ctx, r.rows, func(tx *Tx) (bool, error) {
		var res sql.Result
		var err error
		if prev == 0 {
			res, err = tx.ExecContext(ctx, `INSERT INTO rate_buckets (key, full_at, version) VALUES (?, ?, 1) ON CONFLICT (key) DO NOTHING`,
				b.Key, millis(b.Full))
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE rate_buckets SET full_at = ?, version = version + 1 WHERE key = ? AND version = ?`,
				millis(b.Full), b.Key, prev)
		}
		if err != nil {
			return false, fmt.Errorf("store rate bucket: %w", err)
		}
		n, err := res.RowsAffected()
		return n == 1, err
	})
}

// DeleteIdle deletes the buckets full before before (storage.RateLimits).
func (r rateLimitRows) DeleteIdle(ctx context.Context, before time.Time) (int64, error) {
	return put(ctx, r.rows, func(tx *Tx) (int64, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM rate_buckets WHERE full_at < ?`, millis(before))
		if err != nil {
			return 0, fmt.Errorf("delete idle rate buckets: %w", err)
		}
		return res.RowsAffected()
	})
}
