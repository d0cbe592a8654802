package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Add records one security event (storage.SecurityEvents).
func (r securityEventRows) Add(ctx context.Context, e audit.SecurityEvent) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO security_events (created_at, kind, user_id, session_id, peer, detail)
			VALUES (?, ?, ?, ?, ?, ?)`, millis(tx.now), e.Kind, e.UserID, e.SessionID, e.Peer, e.Detail); err != nil {
			return fmt.Errorf("record security event: %w", err)
		}
		return nil
	})
}

// After returns up to limit events with seq > afterSeq, oldest first
// (storage.SecurityEvents).
func (r securityEventRows) After(ctx context.Context, afterSeq int64, limit int) ([]audit.SecurityEvent, error) {
	return selectAll(ctx, r.rows, "security events", scanEvent, `SELECT seq, created_at, kind, user_id, session_id, peer, detail
		FROM security_events WHERE seq > ? ORDER BY seq LIMIT ?`, afterSeq, limit)
}

func scanEvent(row scanner) (audit.SecurityEvent, error) {
	var e audit.SecurityEvent
	var created int64
	err := row.Scan(&e.Seq, &created, &e.Kind, &e.UserID, &e.SessionID, &e.Peer, &e.Detail)
	e.CreatedAt = fromMillis(created)
	return e, err
}

// List returns the events matching f, newest first
// (storage.SecurityEvents).
func (r securityEventRows) List(ctx context.Context, f storage.EventFilter) ([]audit.SecurityEvent, error) {
	q := `SELECT seq, created_at, kind, user_id, session_id, peer, detail FROM security_events WHERE 1`
	var args []any
	if len(f.Kinds) > 0 {
		q += ` AND kind IN (?` + strings.Repeat(`, ?`, len(f.Kinds)-1) + `)`
		for _, k := range f.Kinds {
			args = append(args, k)
		}
	}
	if f.UserID != "" {
		q += ` AND user_id = ?`
		args = append(args, f.UserID)
	}
	if !f.From.IsZero() {
		q += ` AND created_at >= ?`
		args = append(args, millis(f.From))
	}
	if !f.To.IsZero() {
		q += ` AND created_at < ?`
		args = append(args, millis(f.To))
	}
	if f.BeforeSeq > 0 {
		q += ` AND seq < ?`
		args = append(args, f.BeforeSeq)
	}
	return selectAll(ctx, r.rows, "security events", scanEvent, q+` ORDER BY seq DESC LIMIT ?`, append(args, f.Limit)...)
}
