package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

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
func (db *DB) SecurityEventsAfter(ctx context.Context, afterSeq int64, limit int) ([]audit.SecurityEvent, error) {
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

// EventFilter selects security events, newest first.
type EventFilter struct {
	Kinds     []string
	UserID    string
	From, To  time.Time // created in [From, To), when set
	BeforeSeq int64     // continue before this seq; 0 for the newest
	Limit     int
}

// ListSecurityEvents returns the events matching f, newest first.
func (db *DB) ListSecurityEvents(ctx context.Context, f EventFilter) ([]audit.SecurityEvent, error) {
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
	return list(ctx, db, "security events", scanEvent, q+` ORDER BY seq DESC LIMIT ?`, append(args, f.Limit)...)
}
