package storage

import (
	"context"
	"errors"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// Visits keeps visits: their answers, scores, flags, states and history.
type Visits interface {
	VisitReferences
	// Encode works out the stored form of a visit scored score against cv
	// (its encodings and report rows) without touching the database, so
	// that a use case can do it before it takes the writer. Errors:
	// EINVALID (the visit or its score cannot be encoded).
	Encode(v *audit.Visit, score *audit.VisitScore, cv *audit.ChecklistVersion) (EncodedVisit, error)
	// Insert stores a new visit with its photos, its report rows and its
	// first history row. Errors: ErrVisitExists (the id is taken),
	// EPRECONDITION (the visit it corrects is corrected already),
	// ENOTFOUND (it names a row that does not exist).
	Insert(ctx context.Context, nv NewVisit) error
	// Find returns a stored visit as recorded, with its state. Errors:
	// ENOTFOUND.
	Find(ctx context.Context, id string) (*StoredVisit, error)
	// Receipt returns the receipt of the visit id of shopperID. Errors:
	// ENOTFOUND (no such visit, or another shopper's).
	Receipt(ctx context.Context, shopperID, id string) (*audit.VisitReceipt, error)
	// SetState moves the visit id from t.From to t.To (complete stamps its
	// completion time) and records t in its history, at the transaction's
	// time. Errors: EPRECONDITION (the visit is no longer in t.From).
	SetState(ctx context.Context, id string, t Transition) error
	// SetProof replaces the visit's proof-of-visit flags.
	SetProof(ctx context.Context, id string, flags []audit.ProofFlag) error
}

// VisitReferences reads (and, for the assignment a visit carries out,
// writes) the rows of other nouns a pushed visit names. They belong to
// Checklists, Assignments, Stores and Staff, and move there once those
// interfaces hold them.
type VisitReferences interface {
	// Version returns a checklist version. Errors: ENOTFOUND.
	Version(ctx context.Context, checklistID string, version int) (*audit.ChecklistVersion, error)
	// VersionState returns the state of a checklist version (an indexed
	// read of one row). Errors: ENOTFOUND.
	VersionState(ctx context.Context, checklistID string, version int) (audit.VersionState, error)
	// Assignment returns an assignment, whoever holds it. Errors: ENOTFOUND.
	Assignment(ctx context.Context, id string) (*audit.Assignment, error)
	// SetAssignment stores a's shopper and state, stamped with the
	// transaction's time, when it is still in state from; it reports
	// whether it was.
	SetAssignment(ctx context.Context, a *audit.Assignment, from audit.AssignmentState) (bool, error)
	// Store returns a store, active or not. Errors: ENOTFOUND.
	Store(ctx context.Context, id string) (*audit.Store, error)
	// StaffStoreAt returns the store the staff member worked at at t's
	// day in the organisation's time zone ("" for none, or an unknown
	// staff member).
	StaffStoreAt(ctx context.Context, staffID string, t time.Time) (string, error)
}

// ErrVisitExists is Insert's answer for a visit id that is stored already.
var ErrVisitExists = errors.New("visit exists")

// EncodedVisit is a backend's own encoding of a visit (Visits.Encode):
// opaque to the use cases, which hand it back to Insert.
type EncodedVisit any

// NewVisit is a visit as a push stores it.
type NewVisit struct {
	Visit   *audit.Visit
	Encoded EncodedVisit // from Visits.Encode of Visit, its score and version
	Score   *audit.VisitScore
	Digest  string // the visit's content digest (protocol.VisitDigest)
	State   audit.VisitState
	Flags   []audit.VisitFlag
	Proof   []audit.ProofFlag
	// Verified tells, per photo of Visit, whether its bytes are verified
	// already.
	Verified   []bool
	DeviceID   string
	SessionID  string
	MutationID string
	DeviceTime time.Time      // the mutation's claimed time (zero: unknown)
	Offset     *time.Duration // the device's clock offset (nil: unknown)
	History    Transition     // the first history row
}

// StoredVisit is a visit as stored.
type StoredVisit struct {
	Visit       *audit.Visit
	State       audit.VisitState
	Digest      string
	ClockOffset time.Duration // 0 when unknown
}

// Transition is one recorded change of a visit's state.
type Transition struct {
	From, To  audit.VisitState
	ActorID   string
	ActorRole string // a role, or "system"
	At        time.Time
	Reason    string
	Comments  []audit.ReviewComment
}
