package storage

import (
	"context"

	"github.com/shopscore/shopscore/audit"
)

// Stores keeps the shops audited (stores), their codes, places and
// managers. A store outside the caller's scope is ENOTFOUND, as one that
// does not exist: a caller learns nothing of it. Errors: ENOTFOUND,
// EEXISTS (the code is taken).
type Stores interface {
	// Create stores s without its managers, assigning ID and CreatedAt.
	Create(ctx context.Context, s *audit.Store) error
	// Update replaces the fields of the store s.ID but its managers and
	// deactivation.
	Update(ctx context.Context, s *audit.Store) error
	// SetManagers replaces the managers of a store by userIDs (the caller
	// checks they are managers).
	SetManagers(ctx context.Context, storeID string, userIDs []string) error
	// SetDeactivated closes a store at the transaction's time (keeping an
	// earlier closing time) or opens it again.
	SetDeactivated(ctx context.Context, id string, deactivated bool) error
	// Find returns a store in scope with its managers.
	Find(ctx context.Context, scope audit.Scope, id string) (*audit.Store, error)
	// FindByCode returns a store in scope by its code.
	FindByCode(ctx context.Context, scope audit.Scope, code string) (*audit.Store, error)
	// List returns the stores matching f ordered by code, with managers.
	List(ctx context.Context, f audit.StoreFilter) ([]*audit.Store, error)
	// Touch moves the live assignments of a store in their shoppers' sync
	// feeds, so that phones pull its new details and staff list.
	Touch(ctx context.Context, storeID string) error
}
