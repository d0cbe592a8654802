package sqlite

import (
	"context"
	"fmt"

	"github.com/shopscore/shopscore/audit"
)

func addEvent(ctx context.Context, tx *Tx, e audit.SecurityEvent) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO security_events (created_at, kind, user_id, session_id, peer, detail)
		VALUES (?, ?, ?, ?, ?, ?)`, millis(tx.now), e.Kind, e.UserID, e.SessionID, e.Peer, e.Detail); err != nil {
		return fmt.Errorf("record security event: %w", err)
	}
	return nil
}

// AddSecurityEvent records one security event in its own transaction.
func (db *DB) AddSecurityEvent(ctx context.Context, e audit.SecurityEvent) error {
	return db.update(ctx, func(tx *Tx) error { return addEvent(ctx, tx, e) })
}

// SecurityEvents returns up to limit events with seq > afterSeq, oldest first.
func (db *DB) SecurityEvents(ctx context.Context, afterSeq int64, limit int) ([]audit.SecurityEvent, error) {
	return list(ctx, db, "security events", scanEvent, `SELECT seq, created_at, kind, user_id, session_id, peer, detail
		FROM security_events WHERE seq > ? ORDER BY seq LIMIT ?`, afterSeq, limit)
}

func scanEvent(row scanner) (audit.SecurityEvent, error) {
	var e audit.SecurityEvent
	var created int64
	err := row.Scan(&e.Seq, &created, &e.Kind, &e.UserID, &e.SessionID, &e.Peer, &e.Detail)
	e.CreatedAt = fromMillis(created)
	return e, err
}
