package storage

import (
	"context"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// Actions keeps the corrective actions opened by failed questions, their
// proof photos and their history. Which answer opens an action, its owner
// and due date, which move is allowed and what the next visit does are
// the use cases' (server/app/actions.go over audit.ActionTransition);
// storage stores and queries. A store has at most one live (not
// verified) action per checklist question.
type Actions interface {
	// Add stores a new action, opened at the transaction's time, with a
	// history row naming its visit. Errors: EEXISTS (the store has a live
	// action on the question already).
	Add(ctx context.Context, a *audit.Action) error
	// Find returns an action in scope (its store's) with its proof,
	// history and names; Overdue is left false. Errors: ENOTFOUND (also
	// outside the scope).
	Find(ctx context.Context, scope audit.Scope, id string) (*audit.Action, error)
	// Live returns the store's action on the checklist's question that is
	// not verified, or nil when there is none.
	Live(ctx context.Context, storeID, checklistID, questionID string) (*audit.Action, error)
	// List returns the actions in f.Scope that match f, soonest due first
	// (then newest opened), without history, at most f.Limit (100 if
	// zero).
	List(ctx context.Context, f ActionFilter) ([]*audit.Action, error)
	// Move records a change of action id from state m.From (and its
	// owner, its note) at the transaction's time, with a history row.
	// Errors: EPRECONDITION (the action is not in m.From any more).
	Move(ctx context.Context, id string, m ActionMove) error
	// SetProof replaces the proof photos of action id; files whose bytes
	// are verified already are stored verified.
	SetProof(ctx context.Context, id string, ps []audit.ActionProof) error
	// FindProof returns one proof photo of an action in scope. Errors:
	// ENOTFOUND.
	FindProof(ctx context.Context, scope audit.Scope, id string, index int) (*audit.ActionProof, error)
	// MarkProofVerified marks every unverified proof photo with the bytes
	// of hex SHA-256 sha verified and says how many it marked.
	MarkProofVerified(ctx context.Context, sha string) (int, error)
	// ClaimOverdue takes up to limit unresolved actions due before today
	// (YYYY-MM-DD) that were never reported overdue, marks them reported
	// at the transaction's time and returns them: each is claimed once,
	// by one server (rows another transaction holds are skipped).
	ClaimOverdue(ctx context.Context, today string, limit int) ([]*audit.Action, error)
	// CountOverdue counts the unresolved actions in scope due before
	// today (YYYY-MM-DD), per store id.
	CountOverdue(ctx context.Context, scope audit.Scope, today string) (map[string]int, error)
}

// ActionMove is one change of an action.
type ActionMove struct {
	From, To  audit.ActionState
	ActorID   string // "" for the system
	ActorRole string // a role, or "system"
	Note      string // the history row's note
	// SetNote stores Note as the action's own note (a done step's).
	SetNote bool
	VisitID string // the visit that moved it, when one did
	// OwnerID, when not nil, is the new owner (a reassignment).
	OwnerID *string
}

// ActionFilter selects actions; empty fields match any.
type ActionFilter struct {
	Scope   audit.Scope
	StoreID string
	OwnerID string
	VisitID string
	States  []audit.ActionState
	Region  string // the stores of a region
	// VisitFrom and VisitTo select actions opened by visits started (as
	// claimed) in [VisitFrom, VisitTo), when set: a report's period.
	VisitFrom, VisitTo time.Time
	// DueBefore selects actions due strictly before it (YYYY-MM-DD).
	DueBefore string
	Limit     int // 100 if zero; at most 1000
}
