package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/server/storage"
)

// The pull feed on PostgreSQL. A sequence number is not commit order
// here: two transactions take ids 7 and 8, the one with 8 commits first,
// a pull reads 8 and moves its cursor past 7, and when 7 commits no pull
// ever returns it. So a row's position is (xid, id): the id of the
// transaction that wrote it (pg_current_xact_id(), a 64-bit xid8 that
// never wraps) and a number from sync_feed_id that orders the rows of one
// transaction. A pull reads only rows whose xid is below the xmin of its
// snapshot, the oldest transaction still in flight when it began: every
// transaction below it has ended, so no row at such a position can appear
// later, and the rows the pull returns are final. ARCHITECTURE.md ("The
// pull feed on PostgreSQL") gives the whole argument.
//
// storage.Feed is built on the low-level operations below (touchFeed,
// readFeed, feedHead, feedEpoch), in feed_rows.go.

// feedPos is a position in the pull feed (storage.FeedPos): Tx is the
// writing transaction (xid8), Seq the row's number within the feed
// (sync_feed_id). The zero position is before every row.
type feedPos = storage.FeedPos

// feedRow is one row of the feed: entity of kind changed for audience.
type feedRow struct {
	Pos      feedPos
	Audience string // a shopper's user id, or "" for every shopper
	Kind     string // "assignment", "checklist" or "visit"
	Entity   string
}

// touchFeed records in tx that entity of kind changed for audience: its
// row moves to a position of tx (one row per entity, so the feed
// compacts and a device past the old position sees the entity again).
// It must run in the transaction that made the change.
func touchFeed(ctx context.Context, tx *Tx, audience, kind, entity string) error {
	if tx.readOnly {
		return errors.New("postgres: a feed write inside a read-only transaction")
	}
	if _, err := tx.Exec(ctx, `INSERT INTO sync_feed (audience, kind, entity) VALUES ($1, $2, $3)
		ON CONFLICT (audience, kind, entity) DO UPDATE SET id = nextval('sync_feed_id'), xid = pg_current_xact_id()`,
		audience, kind, entity); err != nil {
		return fmt.Errorf("write feed row: %w", err)
	}
	return nil
}

// readFeed returns up to limit rows of audience's feed (its own rows and
// those for every shopper) after position after, in position order, and
// whether more rows follow. Rows of transactions that were still in
// flight when tx's snapshot was taken, and of every transaction after
// the oldest of them, wait for a later read. tx should be a View's (one
// REPEATABLE READ snapshot, which the bound and the rows share).
func readFeed(ctx context.Context, tx *Tx, audience string, after feedPos, limit int) ([]feedRow, bool, error) {
	rows, err := tx.Query(ctx, `SELECT xid, id, audience, kind, entity FROM sync_feed
		WHERE audience IN ($1, '') AND (xid, id) > ($2::xid8, $3::bigint)
			AND xid < pg_snapshot_xmin(pg_current_snapshot())
		ORDER BY xid, id LIMIT $4`, audience, after.Tx, after.Seq, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("read feed: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (feedRow, error) {
		var f feedRow
		return f, r.Scan(&f.Pos.Tx, &f.Pos.Seq, &f.Audience, &f.Kind, &f.Entity)
	})
	if err != nil {
		return nil, false, fmt.Errorf("read feed: %w", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// feedHead returns the last position of the feed tx sees (the zero
// position for an empty feed): a cursor beyond it comes from another
// database, or from this one before it was restored from a backup.
func feedHead(ctx context.Context, tx *Tx) (feedPos, error) {
	var p feedPos
	err := tx.QueryRow(ctx, `SELECT xid, id FROM sync_feed ORDER BY xid DESC, id DESC LIMIT 1`).Scan(&p.Tx, &p.Seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return feedPos{}, nil
	}
	if err != nil {
		return feedPos{}, fmt.Errorf("feed head: %w", err)
	}
	return p, nil
}

// feedEpoch returns the random id of this database's feed, made with the
// database and made anew by rebaseFeed; cursors of another epoch are
// unknown.
func feedEpoch(ctx context.Context, tx *Tx) (string, error) {
	var epoch string
	if err := tx.QueryRow(ctx, `SELECT feed_epoch FROM sync_meta WHERE id = 1`).Scan(&epoch); err != nil {
		return "", fmt.Errorf("read feed epoch: %w", err)
	}
	return epoch, nil
}

// rebaseFeed makes the feed's positions valid again after the database
// moved to another cluster (a dump restored elsewhere), whose transaction
// ids start lower than the ones stored: new rows would take positions
// before old ones, and devices past those would never see them. Such a
// database has a stored xid not below the current transaction's. Then
// every stored xid becomes the current one (the rows keep their order by
// id), report indexing starts over, and the feed gets a new epoch, so
// every device reads its feed from the start. Open runs it, under the
// migration lock.
func rebaseFeed(ctx context.Context, tx pgx.Tx) error {
	var moved bool
	if err := tx.QueryRow(ctx, `SELECT COALESCE(GREATEST(
			(SELECT max(xid) FROM sync_feed), (SELECT max(xid) FROM visits)) >= pg_current_xact_id(), false)`).Scan(&moved); err != nil {
		return fmt.Errorf("postgres: check feed positions: %w", err)
	}
	if !moved {
		return nil
	}
	for _, q := range []string{
		`UPDATE sync_feed SET xid = pg_current_xact_id()`,
		`UPDATE visits SET xid = pg_current_xact_id()`,
		`DELETE FROM report_watermark`,
		`UPDATE sync_meta SET feed_epoch = replace(gen_random_uuid()::text, '-', '') WHERE id = 1`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("postgres: rebase feed positions: %w", err)
		}
	}
	return nil
}
