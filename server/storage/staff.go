package storage

import (
	"context"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// Staff keeps the audited employees, their store and transfers. An
// employee of a store outside the caller's scope is ENOTFOUND. Errors:
// ENOTFOUND, EEXISTS (the employee number is taken).
type Staff interface {
	// Create stores s, assigning ID and CreatedAt.
	Create(ctx context.Context, s *audit.Staff) error
	// Update replaces the fields of the employee s.ID but his store and
	// deactivation.
	Update(ctx context.Context, s *audit.Staff) error
	// SetDeactivated marks an employee gone at the transaction's time
	// (keeping an earlier time) or back.
	SetDeactivated(ctx context.Context, id string, deactivated bool) error
	// Find returns an employee of the stores in scope (any employee for a
	// scope of All) by id.
	Find(ctx context.Context, scope audit.Scope, id string) (*audit.Staff, error)
	// FindByNumber returns an employee of the stores in scope by his
	// employee number.
	FindByNumber(ctx context.Context, scope audit.Scope, number string) (*audit.Staff, error)
	// StoreAt returns the store the staff member worked at on t's day in
	// the organisation's time zone ("" for none, or an unknown staff
	// member): a visit is judged against the staff of its own day.
	StoreAt(ctx context.Context, staffID string, t time.Time) (string, error)
	// List returns the staff matching f by employee number (for a scope of
	// All, those tied to no store too).
	List(ctx context.Context, f audit.StaffFilter) ([]*audit.Staff, error)

	// AddTransfer stores t, assigning ID and CreatedAt, not yet applied.
	AddTransfer(ctx context.Context, t *audit.StaffTransfer) error
	// DropPendingTransfers deletes the employee's transfers not yet applied.
	DropPendingTransfers(ctx context.Context, staffID string) error
	// FindTransfer returns one transfer with its stores' codes and names.
	FindTransfer(ctx context.Context, id string) (*audit.StaffTransfer, error)
	// Transfers returns an employee's transfers newest first, or only
	// those not yet applied.
	Transfers(ctx context.Context, staffID string, pendingOnly bool) ([]audit.StaffTransfer, error)
	// DueTransfers returns the transfers not yet applied dated on or
	// before day (YYYY-MM-DD), oldest first.
	DueTransfers(ctx context.Context, day string) ([]audit.StaffTransfer, error)
	// ApplyTransfer puts the employee of a transfer at its store from its
	// date on and marks it applied at the transaction's time.
	ApplyTransfer(ctx context.Context, t audit.StaffTransfer) error
}
