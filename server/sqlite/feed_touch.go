package sqlite

import (
	"context"
	"fmt"

	"github.com/shopscore/shopscore/server/storage"
)

// The write side of storage.Feed.

// Touch moves entity's feed row for audience past every device
// (storage.Feed).
func (r feedRows) Touch(ctx context.Context, audience string, kind storage.FeedKind, entity string) error {
	return r.write(ctx, func(tx *Tx) error { return touchFeed(ctx, tx, audience, string(kind), entity) })
}

// Has reports whether audience's feed has a row for entity (storage.Feed).
func (r feedRows) Has(ctx context.Context, audience string, kind storage.FeedKind, entity string) (bool, error) {
	return get(ctx, r.rows, func(tx *Tx) (bool, error) {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sync_feed WHERE audience = ? AND kind = ? AND entity = ?`,
			audience, string(kind), entity).Scan(&n); err != nil {
			return false, fmt.Errorf("find feed row: %w", err)
		}
		return n > 0, nil
	})
}
