package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Add stores one event at the transaction's time (storage.Outbox).
// Errors: EEXISTS.
func (r outboxRows) Add(ctx context.Context, e *storage.Event) error {
	return r.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO outbox_events (id, type, created_at, body) VALUES (?, ?, ?, ?)`,
			e.ID, e.Type, millis(tx.now), e.Body)
		if isUniqueViolation(err) {
			return audit.Errorf(audit.EEXISTS, "event %s exists already", e.ID)
		} else if err != nil {
			return fmt.Errorf("add event %s: %w", e.Type, err)
		}
		e.Seq, _ = res.LastInsertId()
		e.CreatedAt = fromMillis(millis(tx.now))
		return nil
	})
}

const outboxSelect = `SELECT seq, id, type, created_at, body FROM outbox_events`

func scanOutbox(row scanner) (*storage.Event, error) {
	var e storage.Event
	var created int64
	if err := row.Scan(&e.Seq, &e.ID, &e.Type, &created, &e.Body); err != nil {
		return nil, err
	}
	e.CreatedAt = fromMillis(created)
	return &e, nil
}

// Find returns one event (storage.Outbox). Errors: ENOTFOUND.
func (r outboxRows) Find(ctx context.Context, id string) (*storage.Event, error) {
	return get(ctx, r.rows, func(tx *Tx) (*storage.Event, error) {
		e, err := scanOutbox(tx.QueryRowContext(ctx, outboxSelect+` WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "event %s not found", id)
		} else if err != nil {
			return nil, fmt.Errorf("find event %s: %w", id, err)
		}
		return e, nil
	})
}

// List returns the events that match f, oldest first (storage.Outbox).
func (r outboxRows) List(ctx context.Context, f storage.OutboxFilter) ([]*storage.Event, error) {
	q := outboxSelect + ` WHERE seq > ?`
	args := []any{f.AfterSeq}
	if len(f.Types) > 0 {
		q += ` AND type IN (?` + strings.Repeat(`, ?`, len(f.Types)-1) + `)`
		for _, t := range f.Types {
			args = append(args, t)
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = -1
	}
	return selectAll(ctx, r.rows, "list events", scanOutbox, q+` ORDER BY seq LIMIT ?`, append(args, limit)...)
}

// Prune deletes old events whose deliveries are done, with them
// (storage.Outbox).
func (r outboxRows) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	return put(ctx, r.rows, func(tx *Tx) (int, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM outbox_events WHERE seq IN (
			SELECT seq FROM outbox_events e WHERE created_at < ?
				AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.state = 'pending')
			ORDER BY seq LIMIT ?)`, millis(before), limit)
		if err != nil {
			return 0, fmt.Errorf("prune events: %w", err)
		}
		n, err := res.RowsAffected()
		return int(n), err
	})
}
