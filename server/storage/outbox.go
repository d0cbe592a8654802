package storage

import (
	"context"
	"time"
)

// Event is one row of the event outbox: a change that matters to someone
// outside (a visit approved, a bonus run computed), written in the same
// transaction as the change it reports, so that a committed change always
// has its event and a rolled-back one never does (docs/DESIGN.md §11).
type Event struct {
	// ID is the event's id, the same in every delivery of it (the
	// webhook-id receivers remove duplicates by).
	ID string
	// Seq orders the events as they were added; Add assigns it.
	Seq int64
	// Type is the event's type ("visit.approved").
	Type string
	// CreatedAt is the transaction's time; Add sets it.
	CreatedAt time.Time
	// Body is the event as receivers read it, JSON with names as well as
	// ids, kept as written.
	Body []byte
}

// OutboxFilter selects events, oldest first.
type OutboxFilter struct {
	AfterSeq int64 // only events with seq > AfterSeq
	Types    []string
	Limit    int
}

// Outbox keeps the events, in the order they were added.
type Outbox interface {
	// Add stores e at the transaction's time, assigning its Seq and
	// CreatedAt. Errors: EEXISTS (the id is taken).
	Add(ctx context.Context, e *Event) error
	// Find returns the event with this id. Errors: ENOTFOUND.
	Find(ctx context.Context, id string) (*Event, error)
	// List returns the events that match f, oldest first.
	List(ctx context.Context, f OutboxFilter) ([]*Event, error)
	// Prune deletes up to limit of the oldest events created before
	// before none of whose deliveries is pending, with their deliveries
	// and attempts, and returns how many events went.
	Prune(ctx context.Context, before time.Time, limit int) (int, error)
}
