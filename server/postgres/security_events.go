package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Add records one security event at the transaction's time
// (storage.SecurityEvents).
func (r securityEventRows) Add(ctx context.Context, e audit.SecurityEvent) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO security_events (created_at, kind, user_id, session_id, peer, detail)
			VALUES ($1, $2, $3, $4, $5, $6)`, tx.now, e.Kind, e.UserID, e.SessionID, e.Peer, e.Detail); err != nil {
			return fmt.Errorf("record security event: %w", err)
		}
		return nil
	})
}

const eventSelect = `SELECT seq, created_at, kind, user_id, session_id, peer, detail FROM security_events`

func scanEvent(row pgx.Row) (audit.SecurityEvent, error) {
	var e audit.SecurityEvent
	err := row.Scan(&e.Seq, &e.CreatedAt, &e.Kind, &e.UserID, &e.SessionID, &e.Peer, &e.Detail)
	return e, err
}

// After returns up to limit events with seq > afterSeq, oldest first
// (storage.SecurityEvents).
func (r securityEventRows) After(ctx context.Context, afterSeq int64, limit int) ([]audit.SecurityEvent, error) {
	return selectAll(ctx, r.rows, "security events", scanEvent, eventSelect+` WHERE seq > $1 ORDER BY seq LIMIT $2`, afterSeq, limit)
}

// List returns the events matching f, newest first
// (storage.SecurityEvents).
func (r securityEventRows) List(ctx context.Context, f storage.EventFilter) ([]audit.SecurityEvent, error) {
	var a args
	q := eventSelect + ` WHERE true`
	if len(f.Kinds) > 0 {
		q += ` AND kind = ANY(` + a.add(f.Kinds) + `::text[])`
	}
	if f.UserID != "" {
		q += ` AND user_id = ` + a.add(f.UserID)
	}
	if !f.From.IsZero() {
		q += ` AND created_at >= ` + a.add(ms(f.From))
	}
	if !f.To.IsZero() {
		q += ` AND created_at < ` + a.add(ms(f.To))
	}
	if f.BeforeSeq > 0 {
		q += ` AND seq < ` + a.add(f.BeforeSeq)
	}
	return selectAll(ctx, r.rows, "security events", scanEvent, q+` ORDER BY seq DESC LIMIT `+a.add(f.Limit), a...)
}
