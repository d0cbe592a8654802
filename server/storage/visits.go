package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// Visits keeps visits: their answers, scores, flags, states and history.
type Visits interface {
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
	// Rescore stores a new score of the visit id with its report rows,
	// both from enc (Encode of the visit with its answers as amended,
	// its new score and its version), keeping the visit's recorded body
	// (its answers as the shopper gave them) unchanged, and records t in
	// its history at the transaction's time. Errors: ENOTFOUND.
	Rescore(ctx context.Context, id string, enc EncodedVisit, t Transition) error
	// SetProof replaces the visit's proof-of-visit flags.
	SetProof(ctx context.Context, id string, flags []audit.ProofFlag) error

	// Review: the queries of the review queue. Which review action is
	// allowed, by whom and to which state is the use case's
	// (app.ReviewVisit over audit.ReviewTransition), which stores it with
	// SetState above.

	// List returns the visits in f.Scope matching f, newest first
	// (flagged ones first with f.FlaggedFirst), at most f.Limit (100 if
	// zero), after f.After.
	List(ctx context.Context, f VisitFilter) ([]*VisitSummary, error)
	// CountStates returns, per state, how many visits in f.Scope match
	// every filter of f but its state, cursor and limit.
	CountStates(ctx context.Context, f VisitFilter) (map[audit.VisitState]int64, error)
	// FindSummary returns a visit in scope as review lists show it.
	// Errors: ENOTFOUND (also outside the scope).
	FindSummary(ctx context.Context, scope audit.Scope, id string) (*VisitSummary, error)
	// FindDetail returns a visit in scope with its answers, score, photos,
	// history and checklist version, read from one snapshot. Errors:
	// ENOTFOUND (also outside the scope).
	FindDetail(ctx context.Context, scope audit.Scope, id string) (*VisitDetail, error)

	// ListForStaff returns the visits in one of f.States (as reports
	// index them) that name f.StaffID, and those that name nobody made at
	// one of f.StoreIDs, visited in [f.From, f.To), newest first, at most
	// f.Limit (500 if zero). Which of the store's visits concern the
	// employee is the use case's (app.MyVisits).
	ListForStaff(ctx context.Context, f StaffVisitFilter) ([]*VisitSummary, error)
}

// StaffVisitFilter selects the visits that may concern one employee.
type StaffVisitFilter struct {
	StaffID  string
	StoreIDs []string // the stores whose unnamed visits are wanted
	States   []audit.VisitState
	From, To time.Time // visited in [From, To)
	Limit    int
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

// VisitSummary is a visit as review lists show it.
type VisitSummary struct {
	ID, StoreID, ShopperID, AssignmentID string
	ChecklistID                          string
	ChecklistVersion                     int
	Channel                              audit.Channel
	State                                audit.VisitState
	ScorePercent                         *float64
	Flags                                []string
	ProofFlags                           []audit.ProofFlag
	StartedAt, ReceivedAt                time.Time
	CorrectsVisitID, CorrectedByVisitID  string
	MissingPhotos                        int
	FinishedAt                           time.Time

	// Names for people, joined from the visit's store, staff member,
	// checklist version and shopper.
	StoreCode, StoreName            string
	StaffID, StaffName, StaffNumber string
	StaffDescription                string // FindDetail only
	ChecklistName, ShopperName      string
}

// Cursor returns the position of s in a listing.
func (s *VisitSummary) Cursor() VisitCursor {
	return VisitCursor{Flagged: len(s.ProofFlags) > 0, Received: s.ReceivedAt, ID: s.ID}
}

// VisitFilter selects visits for review, newest first (flagged ones
// first, with FlaggedFirst).
type VisitFilter struct {
	Scope       audit.Scope
	StoreID     string
	State       audit.VisitState
	FlaggedOnly bool      // only visits with proof flags
	From, To    time.Time // received in [From, To), when set
	// VisitFrom and VisitTo select visits started (as claimed) in
	// [VisitFrom, VisitTo), when set.
	VisitFrom, VisitTo time.Time
	StaffID            string
	ChecklistID        string
	ShopperID          string
	// Flag selects visits carrying a proof flag or admission flag code.
	Flag         string
	FlaggedFirst bool
	// After continues a listing after its last row.
	After VisitCursor
	Limit int // 100 if zero
}

// VisitCursor is the position of a visit in a listing: (flagged, received,
// id), flagged counting only with FlaggedFirst.
type VisitCursor struct {
	Flagged  bool
	Received time.Time
	ID       string
}

// PhotoStatus is one photo slot of a visit and whether its bytes are
// verified.
type PhotoStatus struct {
	QuestionID  string
	Index       int
	SHA256      string
	Size        int64
	ContentType string
	Verified    bool
}

// VisitDetail is everything a reviewer sees of a visit.
type VisitDetail struct {
	VisitSummary
	Visit    *audit.Visit
	Score    *audit.VisitScore
	Photos   []PhotoStatus
	History  []Transition
	Comments []audit.ReviewComment // of the latest return
	// Checklist is the version the visit was recorded with.
	Checklist *audit.ChecklistVersion
	// ActorNames names the users of History by id.
	ActorNames map[string]string
}

// EncodeFlags returns the stored form of a visit's flags and of its
// proof-of-visit flags: JSON lists (empty, never null), the same on every
// backend, so that migrate-to copies them as they are.
func EncodeFlags(flags []audit.VisitFlag, proof []audit.ProofFlag) (flagsJSON, proofJSON string, err error) {
	names := make([]string, 0, len(flags))
	for _, f := range flags {
		names = append(names, string(f))
	}
	b, err := json.Marshal(names)
	if err != nil {
		return "", "", fmt.Errorf("encode flags: %w", err)
	}
	p, err := EncodeProof(proof)
	return string(b), p, err
}

// EncodeProof returns the stored form of proof-of-visit flags (EncodeFlags).
func EncodeProof(flags []audit.ProofFlag) (string, error) {
	if flags == nil {
		flags = []audit.ProofFlag{}
	}
	b, err := json.Marshal(flags)
	if err != nil {
		return "", fmt.Errorf("proof: encode: %w", err)
	}
	return string(b), nil
}

// ActorNames names the users of a visit's history by id, through users
// (the detail's transaction): a user's display name, "" for one that is
// gone or has none. Both backends' Visits.Detail fill VisitDetail.ActorNames
// with it.
func ActorNames(ctx context.Context, users Users, history []Transition) (map[string]string, error) {
	out := map[string]string{}
	for _, t := range history {
		if _, ok := out[t.ActorID]; ok || t.ActorID == "" {
			continue
		}
		u, err := users.Find(ctx, t.ActorID)
		switch {
		case audit.ErrorCode(err) == audit.ENOTFOUND:
			out[t.ActorID] = ""
		case err != nil:
			return nil, fmt.Errorf("visit history: actor name: %w", err)
		default:
			out[t.ActorID] = u.DisplayName
		}
	}
	return out, nil
}
