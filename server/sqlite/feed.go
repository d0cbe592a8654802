package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/shopscore/shopscore/server/storage"
)

// The kinds of feed rows. Each names an entity whose current state a pull
// materializes.
const (
	feedAssignment = "assignment" // audience: the shopper who has or had it
	feedChecklist  = "checklist"  // audience: every shopper ('')
	feedVisit      = "visit"      // audience: the visit's shopper
)

// touchFeed records that entity changed for audience: its feed row moves to
// a new, higher seq (INSERT OR REPLACE deletes the old row), so the feed
// keeps one row per entity and a device past its old seq sees it again.
// It must run in the transaction that made the change.
func touchFeed(ctx context.Context, tx *Tx, audience, kind, entity string) error {
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO sync_feed (audience, kind, entity) VALUES (?, ?, ?)`,
		audience, kind, entity); err != nil {
		return fmt.Errorf("write feed row: %w", err)
	}
	return nil
}

// Epoch returns the random id of this database's feed, made once with
// the database (storage.Feed).
func (r feedRows) Epoch(ctx context.Context) (string, error) {
	return get(ctx, r.rows, func(tx *Tx) (string, error) {
		var epoch string
		if err := tx.QueryRowContext(ctx, `SELECT feed_epoch FROM sync_meta WHERE id = 1`).Scan(&epoch); err != nil {
			return "", fmt.Errorf("read feed epoch: %w", err)
		}
		return epoch, nil
	})
}

// Head returns the highest position of the feed (storage.Feed).
// SQLite's positions are seqs alone (storage.FeedPos).
func (r feedRows) Head(ctx context.Context) (storage.FeedPos, error) {
	return get(ctx, r.rows, func(tx *Tx) (storage.FeedPos, error) {
		var head sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(seq) FROM sync_feed`).Scan(&head); err != nil {
			return storage.FeedPos{}, fmt.Errorf("feed head: %w", err)
		}
		return storage.FeedPos{Seq: head.Int64}, nil
	})
}

// Read returns up to limit of the shopper's feed rows after position
// after, each with its entity as it is now, all in one read transaction
// (storage.Feed). The shopper's rows are his own assignments and visits
// and the checklists of every shopper (”).
func (r feedRows) Read(ctx context.Context, shopperID string, after storage.FeedPos, limit int) (*storage.FeedRows, error) {
	if after.Tx != 0 {
		// Past every seq: a position of another backend's form.
		return &storage.FeedRows{}, nil
	}
	return get(ctx, r.rows, func(tx *Tx) (*storage.FeedRows, error) {
		q, err := tx.QueryContext(ctx, `SELECT seq, kind, entity FROM sync_feed
			WHERE audience IN (?, '') AND seq > ? ORDER BY seq LIMIT ?`, shopperID, after.Seq, limit+1)
		if err != nil {
			return nil, fmt.Errorf("read feed: %w", err)
		}
		var entries []storage.FeedEntry
		for q.Next() {
			var e storage.FeedEntry
			if err := q.Scan(&e.Pos.Seq, &e.Kind, &e.Entity); err != nil {
				q.Close()
				return nil, err
			}
			entries = append(entries, e)
		}
		q.Close()
		if err := q.Err(); err != nil {
			return nil, fmt.Errorf("read feed: %w", err)
		}
		out := &storage.FeedRows{}
		if len(entries) > limit {
			entries, out.HasMore = entries[:limit], true
		}
		if out.Rows, err = storage.ReadFeedRows(ctx, tx, shopperID, entries); err != nil {
			return nil, err
		}
		return out, nil
	})
}
