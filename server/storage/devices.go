package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// Devices keeps each device's applied sequence number and the results of its mutations, for replays.
type Devices interface {
	// Find returns the device of a live session of the user, with the
	// last seq it applied (0 before its first push). Errors: ENOTFOUND
	// (no such session of the user, or a revoked one).
	Find(ctx context.Context, userID, sessionID string) (*Device, error)
	// LastSeq returns the last seq applied for the device of the user's
	// session, revoked or not (0 when none), without a write lock.
	LastSeq(ctx context.Context, userID, sessionID string) (int64, error)
	// Advance sets the device's last applied seq and, when offset is not
	// nil, its clock offset, at the transaction's time.
	Advance(ctx context.Context, d Device, seq int64, offset *time.Duration) error
	// Result returns the stored result of seq of the device. Errors:
	// ENOTFOUND.
	Result(ctx context.Context, d Device, seq int64) (*StoredMutation, error)
	// Record stores the result of a mutation for replays, at the
	// transaction's time; keepID false stores it without its mutation id.
	// Errors: ErrMutationIDTaken (keepID, and another seq of the device
	// holds the id).
	Record(ctx context.Context, d Device, m StoredMutation, keepID bool) error
	// PruneResults deletes at most limit stored results received before
	// before, oldest first, and returns how many it deleted. The devices'
	// last seqs stay: a pruned seq is still known to be applied.
	PruneResults(ctx context.Context, before time.Time, limit int) (int, error)
}

// ErrMutationIDTaken is Record's answer for a mutation id another seq of
// the device used.
var ErrMutationIDTaken = errors.New("mutation id taken")

// Device is a user's device: its own id, which stays the same across
// logins, and the last seq it applied.
type Device struct {
	UserID   string
	DeviceID string
	LastSeq  int64
}

// MutationStatus is the outcome of one mutation.
type MutationStatus string

// The outcomes of a mutation.
const (
	MutationApplied  MutationStatus = "applied"  // applied now
	MutationReplayed MutationStatus = "replayed" // applied before; the original answer
	MutationRejected MutationStatus = "rejected" // refused for good
)

// StoredMutation is the result of one mutation as kept for replays.
type StoredMutation struct {
	Seq        int64
	MutationID string
	Digest     string    // the mutation's content digest
	DeviceTime time.Time // the mutation's claimed time (zero: unknown)
	Status     MutationStatus
	Err        *audit.Error // for MutationRejected
	VisitID    string       // the visit it submitted, if any
}

// storedResult is a mutation's result as both backends keep it in
// sync_mutations.result: one JSON form, so that migrate-to copies the
// column as it is and a replay on either backend reads it.
type storedResult struct {
	MutationID string         `json:"mutation_id"`
	Status     MutationStatus `json:"status"`
	Code       audit.Code     `json:"code,omitempty"`
	Message    string         `json:"message,omitempty"`
	VisitID    string         `json:"visit_id,omitempty"`
}

// EncodeResult returns the stored form of m's result (its id, status,
// error and visit; seq, digest and time have columns of their own).
func EncodeResult(m StoredMutation) ([]byte, error) {
	s := storedResult{MutationID: m.MutationID, Status: m.Status, VisitID: m.VisitID}
	if m.Err != nil {
		s.Code, s.Message = m.Err.Code, m.Err.Message
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode mutation result: %w", err)
	}
	return b, nil
}

// DecodeResult sets m's result from its stored form raw.
func DecodeResult(raw []byte, m *StoredMutation) error {
	var s storedResult
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("decode result of seq %d: %w", m.Seq, err)
	}
	m.MutationID, m.Status, m.VisitID = s.MutationID, s.Status, s.VisitID
	if s.Status == MutationRejected {
		m.Err = &audit.Error{Code: s.Code, Message: s.Message}
	}
	return nil
}
