package postgres

import (
	"context"
	"fmt"

	"github.com/shopscore/shopscore/server/storage"
)

// storage.Feed on PostgreSQL, over the positions of feed.go.

// Epoch returns the random id of this database's feed (storage.Feed).
func (r feedRows) Epoch(ctx context.Context) (string, error) {
	return query(ctx, r.rows, func(tx *Tx) (string, error) { return feedEpoch(ctx, tx) })
}

// Head returns the highest position of the feed the snapshot sees
// (storage.Feed).
func (r feedRows) Head(ctx context.Context) (storage.FeedPos, error) {
	return query(ctx, r.rows, func(tx *Tx) (storage.FeedPos, error) { return feedHead(ctx, tx) })
}

// Read returns up to limit of the shopper's feed rows after position
// after, each with its entity as it is now, read in one snapshot
// (storage.Feed): his own assignments and visits, and the checklists of
// every shopper (”). Only rows of transactions that had all ended when
// the snapshot was taken are read (readFeed), so the positions a page
// returns are final.
func (r feedRows) Read(ctx context.Context, shopperID string, after storage.FeedPos, limit int) (*storage.FeedRows, error) {
	return query(ctx, r.rows, func(tx *Tx) (*storage.FeedRows, error) {
		rs, more, err := readFeed(ctx, tx, shopperID, after, limit)
		if err != nil {
			return nil, err
		}
		entries := make([]storage.FeedEntry, len(rs))
		for i, f := range rs {
			entries[i] = storage.FeedEntry{Pos: f.Pos, Kind: storage.FeedKind(f.Kind), Entity: f.Entity}
		}
		out := &storage.FeedRows{HasMore: more}
		if out.Rows, err = storage.ReadFeedRows(ctx, tx, shopperID, entries); err != nil {
			return nil, err
		}
		return out, nil
	})
}

// Touch moves entity's feed row for audience past every device
// (storage.Feed).
func (r feedRows) Touch(ctx context.Context, audience string, kind storage.FeedKind, entity string) error {
	return r.write(ctx, func(tx *Tx) error { return touchFeed(ctx, tx, audience, string(kind), entity) })
}

// Has reports whether audience's feed has a row for entity (storage.Feed).
func (r feedRows) Has(ctx context.Context, audience string, kind storage.FeedKind, entity string) (bool, error) {
	return query(ctx, r.rows, func(tx *Tx) (bool, error) {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sync_feed WHERE audience = $1 AND kind = $2 AND entity = $3)`,
			audience, string(kind), entity).Scan(&ok); err != nil {
			return false, fmt.Errorf("find feed row: %w", err)
		}
		return ok, nil
	})
}
