package storage

import (
	"context"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// SecurityEvents keeps the security log.
type SecurityEvents interface {
	// Add records e at the transaction's time, assigning its sequence.
	Add(ctx context.Context, e audit.SecurityEvent) error
	// After returns up to limit events with seq > afterSeq, oldest first.
	After(ctx context.Context, afterSeq int64, limit int) ([]audit.SecurityEvent, error)
	// List returns the events matching f, newest first.
	List(ctx context.Context, f EventFilter) ([]audit.SecurityEvent, error)
}

// EventFilter selects security events, newest first.
type EventFilter struct {
	Kinds     []string
	UserID    string
	From, To  time.Time // created in [From, To), when set
	BeforeSeq int64     // continue before this seq; 0 for the newest
	Limit     int
}
