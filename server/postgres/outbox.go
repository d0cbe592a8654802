package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Add stores one event at the transaction's time (storage.Outbox).
// Errors: EEXISTS. Seq orders the events as their transactions took
// numbers, which on PostgreSQL is not quite commit order; deliveries do
// not depend on it (workers claim due deliveries, not a range of seqs).
func (r outboxRows) Add(ctx context.Context, e *storage.Event) error {
	return r.write(ctx, func(tx *Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO outbox_events (id, type, created_at, body) VALUES ($1, $2, $3, $4) RETURNING seq`,
			e.ID, e.Type, tx.now, string(e.Body)).Scan(&e.Seq)
		if isUniqueViolation(err) {
			return audit.Errorf(audit.EEXISTS, "event %s exists already", e.ID)
		} else if err != nil {
			return fmt.Errorf("add event %s: %w", e.Type, err)
		}
		e.CreatedAt = tx.now
		return nil
	})
}

const outboxSelect = `SELECT seq, id, type, created_at, body::text FROM outbox_events`

func scanOutbox(row pgx.Row) (*storage.Event, error) {
	var e storage.Event
	var body string
	if err := row.Scan(&e.Seq, &e.ID, &e.Type, &e.CreatedAt, &body); err != nil {
		return nil, err
	}
	e.Body = []byte(body)
	return &e, nil
}

// Find returns one event (storage.Outbox). Errors: ENOTFOUND.
func (r outboxRows) Find(ctx context.Context, id string) (*storage.Event, error) {
	return selectOne(ctx, r.rows, "find event", "event "+id+" not found", scanOutbox, outboxSelect+` WHERE id = $1`, id)
}

// List returns the events that match f, oldest first (storage.Outbox).
func (r outboxRows) List(ctx context.Context, f storage.OutboxFilter) ([]*storage.Event, error) {
	var a args
	q := outboxSelect + ` WHERE seq > ` + a.add(f.AfterSeq)
	if len(f.Types) > 0 {
		q += ` AND type = ANY(` + a.add(f.Types) + `::text[])`
	}
	q += ` ORDER BY seq`
	if f.Limit > 0 {
		q += ` LIMIT ` + a.add(f.Limit)
	}
	return selectAll(ctx, r.rows, "list events", scanOutbox, q, a...)
}

// Prune deletes old events whose deliveries are done, with them
// (storage.Outbox).
func (r outboxRows) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := exec(ctx, r.rows, "prune events", `DELETE FROM outbox_events WHERE seq IN (
		SELECT seq FROM outbox_events e WHERE created_at < $1
			AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.state = 'pending')
		ORDER BY seq LIMIT $2)`, ms(before), limit)
	return int(n), err
}
