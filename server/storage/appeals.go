package storage

import (
	"context"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// Appeals keeps the appeals against visits: their questions with reasons
// and evidence, and the rulings with their amended answers. Which appeal
// may be filed, by whom and within which window, who may rule and what a
// ruling does to the visit's score are the use case's (app.FileAppeal,
// app.RuleAppeal over the rules of package audit); storage stores and
// queries.
type Appeals interface {
	// Add stores a new open appeal with its questions and evidence, filed
	// at the transaction's time. Errors: EPRECONDITION (the visit has an
	// open appeal already).
	Add(ctx context.Context, a *audit.Appeal) error
	// Find returns an appeal in scope (its store's), with its questions,
	// evidence and names. Errors: ENOTFOUND (also outside the scope).
	Find(ctx context.Context, scope audit.Scope, id string) (*audit.Appeal, error)
	// List returns the appeals in f.Scope that match f, open ones by
	// deadline (soonest first), then closed ones newest ruling first, at
	// most f.Limit (100 if zero), with their questions and names.
	List(ctx context.Context, f AppealFilter) ([]*audit.Appeal, error)
	// Rule stores the rulings of a's questions (outcome, amended answer,
	// reason) and closes it, ruled by a.RuledBy in a.RuledRole at the
	// transaction's time with the visit's score before and after.
	// Errors: EPRECONDITION (the appeal is not open any more).
	Rule(ctx context.Context, a *audit.Appeal) error
	// Amendments returns the amended answers of a visit's upheld appeal
	// questions, in the order they were ruled: what the visit is scored
	// on beside its own answers (audit.AmendAnswers).
	Amendments(ctx context.Context, visitID string) ([]audit.Answer, error)
	// Reviewers returns the users who took a review action on the visit
	// (a change of its state by anyone but the shopper and the system in
	// its history; a ruling's row, which keeps the state, is none), by id
	// with their names.
	Reviewers(ctx context.Context, visitID string) (map[string]string, error)

	// FindEvidence returns one evidence file of an appeal in scope.
	// Errors: ENOTFOUND.
	FindEvidence(ctx context.Context, scope audit.Scope, appealID, questionID string, index int) (*audit.AppealEvidence, error)
	// MarkEvidenceVerified marks every unverified evidence file with the
	// bytes of hex SHA-256 sha verified, at the transaction's time, and
	// says how many it marked.
	MarkEvidenceVerified(ctx context.Context, sha string) (int, error)
}

// AppealFilter selects appeals; empty fields match any.
type AppealFilter struct {
	Scope   audit.Scope
	State   audit.AppealState
	VisitID string
	StoreID string
	Region  string // the stores of a region
	// Mine selects, when StaffID or FiledBy is set, the appeals that
	// name the employee StaffID or that user FiledBy filed: an
	// employee's own appeals.
	Mine struct{ StaffID, FiledBy string }
	// VisitFrom and VisitTo select appeals on visits started (as
	// claimed) in [VisitFrom, VisitTo), when set: the visits of a bonus
	// run's period.
	VisitFrom, VisitTo time.Time
	// RuledAfter selects appeals ruled strictly after it, when set.
	RuledAfter time.Time
	Limit      int // 100 if zero; at most 1000
}
