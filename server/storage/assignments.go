package storage

import (
	"context"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// Assignments keeps assignments of shoppers to stores and checklists.
// Which assignment may be created, by whom, and which state follows which
// is the use case's (app.CreateAssignment, audit.Assignment.Transition);
// storage stores what it is given, and so are the feed rows that tell
// the shoppers concerned (app's touchAssignmentFeeds, in the same
// transaction). Errors: ENOTFOUND (also outside the scope).
type Assignments interface {
	// Create stores a as it is (id, state, times and all).
	Create(ctx context.Context, a *audit.Assignment) error
	// Find returns an assignment in scope.
	Find(ctx context.Context, scope audit.Scope, id string) (*audit.Assignment, error)
	// Update writes a's shopper, state, cancel reason and update time
	// over the stored assignment of its id. The feed rows the change needs
	// are the use case's to write.
	Update(ctx context.Context, a *audit.Assignment) error
	// SetStateFrom stores a's shopper and state, stamped with the
	// transaction's time, when the stored assignment is still in state
	// from; it reports whether it was (the visit that carries it out
	// changes nothing when it moved meanwhile).
	SetStateFrom(ctx context.Context, a *audit.Assignment, from audit.AssignmentState) (bool, error)
	// List returns the assignments in f.Scope matching f, by window start
	// then id, at most f.Limit (100 if zero).
	List(ctx context.Context, f AssignmentFilter) ([]*audit.Assignment, error)
	// Due returns the assignments that may still expire (open or
	// accepted) whose window ended at or before now, by window end.
	Due(ctx context.Context, now time.Time) ([]*audit.Assignment, error)
	// Refs returns what a names, for the use case to judge: its store in
	// scope (when a.StoreID is set), its checklist version (when
	// a.ChecklistID is set; version 0 is the latest published) and its
	// shopper (when a.ShopperID is set); what a leaves empty stays nil.
	Refs(ctx context.Context, scope audit.Scope, a *audit.Assignment) (*AssignmentRefs, error)
}

// AssignmentFilter selects assignments. Results are ordered by window start,
// then id; After continues after the given (window start, id).
type AssignmentFilter struct {
	Scope       audit.Scope
	StoreID     string
	ShopperID   string
	ChecklistID string
	State       audit.AssignmentState
	From, To    time.Time // windows overlapping [From, To), when set
	AfterTime   time.Time
	AfterID     string
	Limit       int
}

// AssignmentRefs is what an assignment names, as storage holds it.
type AssignmentRefs struct {
	Store     *audit.Store
	Checklist *audit.ChecklistVersion
	Shopper   *audit.User
}
