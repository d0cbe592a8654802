package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// MaxPushMutations bounds the mutations of one push.
const MaxPushMutations = 500

// Mutation is one entry of a device's outbox, as the server received it.
type Mutation struct {
	Seq        int64  // the device's sequence number
	ID         string // the device's UUID for the mutation
	DeviceTime time.Time
	// Digest is the mutation's content digest: the same seq presented with
	// another digest is other content, never a replay.
	Digest string
	// Visit is the visit of a SubmitVisit mutation.
	Visit *audit.Visit
	// Err, when set, is a permanent refusal decided before storage (a
	// malformed item): the mutation is rejected with it and its seq is
	// still consumed.
	Err error
	// prepared is the visit's score and encodings, worked out before the
	// push took the writer (nil: work them out in the transaction).
	prepared *preparedVisit
}

// MutationStatus is the outcome of one mutation.
type MutationStatus string

// The outcomes of a mutation.
const (
	MutationApplied  MutationStatus = "applied"  // applied now
	MutationReplayed MutationStatus = "replayed" // applied before; the original answer
	MutationRejected MutationStatus = "rejected" // refused for good
)

// MutationResult is the answer for one mutation.
type MutationResult struct {
	Seq        int64
	MutationID string
	Status     MutationStatus
	Err        *audit.Error  // for MutationRejected
	Receipt    *VisitReceipt // for a visit, as it stands now
}

// PushResult is the answer to a push.
type PushResult struct {
	// AppliedSeq is the highest seq applied for the device, after the push.
	AppliedSeq int64
	Results    []MutationResult // one per mutation, in order
}

// Device names the caller of a push: the user and the session his access
// token belongs to. The session gives the device's own id, which stays the
// same across logins, so that its sequence continues.
type Device struct {
	UserID    string
	SessionID string
}

// storedResult is a mutation's result as kept in sync_mutations for replays.
type storedResult struct {
	MutationID string         `json:"mutation_id"`
	Status     MutationStatus `json:"status"`
	Code       audit.Code     `json:"code,omitempty"`
	Message    string         `json:"message,omitempty"`
	VisitID    string         `json:"visit_id,omitempty"`
}

// Push applies a batch of mutations from a device in one write
// transaction, in order, and returns one result per mutation once it
// committed (docs/DESIGN.md §3 rules 1–5). The mutations must have consecutive
// seqs. Seqs up to the device's last applied one are replays: they answer
// the stored result (MutationReplayed for one that was applied, the same
// rejection for one that was refused), or a rejection with EEXISTS when
// the seq was applied with another mutation id or digest. New seqs must
// continue at the last applied one plus one; each is applied, or rejected
// for good (still consuming its seq), and the device's last seq advances
// in the same transaction. sentAt is the device's clock when it sent the
// push (zero when unknown), from which the device's clock offset is
// recorded. Errors: EINVALID (an empty, oversized or unordered batch),
// EABORTED (a gap: the message names applied_seq, and the result, returned
// with the error, holds only AppliedSeq), EUNAUTHORIZED (no such session
// of the user); nothing is applied then.
func (db *DB) Push(ctx context.Context, dev Device, sentAt time.Time, muts []Mutation) (*PushResult, error) {
	if len(muts) == 0 || len(muts) > MaxPushMutations {
		return nil, audit.Errorf(audit.EINVALID, "a push holds 1 to %d mutations, not %d", MaxPushMutations, len(muts))
	}
	for i, m := range muts {
		switch {
		case m.Seq < 1:
			return nil, audit.Errorf(audit.EINVALID, "mutation %s: seq must be >= 1", m.ID)
		case i > 0 && m.Seq != muts[i-1].Seq+1:
			return nil, audit.Errorf(audit.EINVALID, "mutations must have consecutive seqs in order: %d follows %d", m.Seq, muts[i-1].Seq)
		case m.ID == "":
			return nil, audit.Errorf(audit.EINVALID, "mutation with seq %d has no mutation_id", m.Seq)
		}
	}
	// Validation, scoring and encoding need no writer: they run here, at
	// once for every device that pushes, and the transaction only checks
	// and stores. A copy, so that the caller's mutations stay as given.
	muts = slices.Clone(muts)
	if err := db.prepareVisits(ctx, dev, muts); err != nil {
		return nil, err
	}
	out := &PushResult{Results: make([]MutationResult, 0, len(muts))}
	err := db.update(ctx, func(tx *Tx) error {
		out.Results = out.Results[:0]
		var deviceID string
		err := tx.QueryRowContext(ctx, `SELECT device_id FROM sessions WHERE id = ? AND user_id = ? AND revoked_at IS NULL`,
			dev.SessionID, dev.UserID).Scan(&deviceID)
		if errors.Is(err, sql.ErrNoRows) {
			return audit.Errorf(audit.EUNAUTHORIZED, "unknown or revoked session")
		} else if err != nil {
			return fmt.Errorf("find session: %w", err)
		}
		var last int64
		err = tx.QueryRowContext(ctx, `SELECT last_seq FROM device_seqs WHERE user_id = ? AND device_id = ?`, dev.UserID, deviceID).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find device seq: %w", err)
		}
		if first := muts[0].Seq; first > last+1 {
			out.AppliedSeq = last
			return audit.Errorf(audit.EABORTED, "sequence gap: applied_seq=%d, but the push starts at seq %d; resend from seq %d", last, first, last+1)
		}
		sub := &submission{device: deviceID, session: dev.SessionID}
		if !sentAt.IsZero() {
			off := tx.now.Sub(sentAt).Milliseconds()
			sub.clockOffset = &off
		}
		for _, m := range muts {
			var r MutationResult
			if m.Seq <= last {
				r, err = replayMutation(ctx, tx, dev.UserID, deviceID, m)
			} else {
				r, err = applyMutation(ctx, tx, dev.UserID, deviceID, m, sub)
			}
			if err != nil {
				return err
			}
			out.Results = append(out.Results, r)
		}
		out.AppliedSeq = max(last, muts[len(muts)-1].Seq)
		_, err = tx.ExecContext(ctx, `INSERT INTO device_seqs (user_id, device_id, last_seq, clock_offset_ms, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (user_id, device_id) DO UPDATE SET last_seq = excluded.last_seq,
				clock_offset_ms = COALESCE(excluded.clock_offset_ms, clock_offset_ms), updated_at = excluded.updated_at`,
			dev.UserID, deviceID, out.AppliedSeq, nullInt(sub.clockOffset), millis(tx.now))
		if err != nil {
			return fmt.Errorf("advance device seq: %w", err)
		}
		return nil
	})
	switch {
	case audit.ErrorCode(err) == audit.EABORTED:
		return &PushResult{AppliedSeq: out.AppliedSeq}, err
	case err != nil:
		return nil, err
	}
	return out, nil
}

// permanent reports whether err refuses a mutation for good: a domain
// error about the mutation itself. Anything else (internal faults) fails
// the whole push, which the device retries.
func permanent(err error) (*audit.Error, bool) {
	var de *audit.Error
	if !errors.As(err, &de) {
		return nil, false
	}
	switch de.Code {
	case audit.EINVALID, audit.EPRECONDITION, audit.EEXISTS, audit.ENOTFOUND, audit.EFORBIDDEN, audit.EDATALOSS:
		return de, true
	}
	return nil, false
}

// applyMutation applies one new mutation under a savepoint, so that a
// rejected one leaves nothing behind but its stored result.
func applyMutation(ctx context.Context, tx *Tx, userID, deviceID string, m Mutation, sub *submission) (MutationResult, error) {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT mutation`); err != nil {
		return MutationResult{}, fmt.Errorf("savepoint: %w", err)
	}
	r := MutationResult{Seq: m.Seq, MutationID: m.ID, Status: MutationApplied}
	err := m.Err
	if err == nil {
		switch {
		case m.Visit != nil:
			sub.mutationID, sub.deviceTime = m.ID, m.DeviceTime
			r.Receipt, r.Status, err = submitVisit(ctx, tx, m.Visit, m.Digest, sub, m.prepared)
			if rp, ok := errors.AsType[*replay](err); ok {
				r.Receipt, r.Status, err = rp.receipt, MutationReplayed, nil
			}
		default:
			err = audit.Errorf(audit.EINVALID, "mutation %s has no known kind", m.ID)
		}
	}
	if err != nil {
		de, ok := permanent(err)
		if !ok {
			return MutationResult{}, err
		}
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO mutation`); err != nil {
			return MutationResult{}, fmt.Errorf("rollback to savepoint: %w", err)
		}
		r = MutationResult{Seq: m.Seq, MutationID: m.ID, Status: MutationRejected, Err: de}
	}
	err = storeMutation(ctx, tx, userID, deviceID, m, r, m.ID)
	if isUniqueViolation(err) {
		// The mutation id was used by another seq: undo what the mutation
		// did and keep its seq as refused.
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO mutation`); err != nil {
			return MutationResult{}, fmt.Errorf("rollback to savepoint: %w", err)
		}
		r = MutationResult{Seq: m.Seq, MutationID: m.ID, Status: MutationRejected,
			Err: audit.Errorf(audit.EEXISTS, "mutation id %s was already used by another mutation; every mutation needs its own id", m.ID)}
		err = storeMutation(ctx, tx, userID, deviceID, m, r, "")
	}
	if err != nil {
		return MutationResult{}, err
	}
	if _, err := tx.ExecContext(ctx, `RELEASE mutation`); err != nil {
		return MutationResult{}, fmt.Errorf("release savepoint: %w", err)
	}
	return r, nil
}

// storeMutation keeps the result of a mutation for replays, under
// uniqueID ("" stores no id: it was taken).
func storeMutation(ctx context.Context, tx *Tx, userID, deviceID string, m Mutation, r MutationResult, uniqueID string) error {
	s := storedResult{MutationID: m.ID, Status: r.Status}
	if r.Err != nil {
		s.Code, s.Message = r.Err.Code, r.Err.Message
	}
	if r.Receipt != nil {
		s.VisitID = r.Receipt.VisitID
	}
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode mutation result: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO sync_mutations (user_id, device_id, seq, mutation_id, digest, result, device_time, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, userID, deviceID, m.Seq, nullString(uniqueID), m.Digest, b, nullMillis(m.DeviceTime), millis(tx.now))
	if err != nil && !isUniqueViolation(err) {
		return fmt.Errorf("store mutation result: %w", err)
	}
	return err
}

// replayMutation answers a seq the device has pushed before.
func replayMutation(ctx context.Context, tx *Tx, userID, deviceID string, m Mutation) (MutationResult, error) {
	var digest string
	var raw []byte
	err := tx.QueryRowContext(ctx, `SELECT digest, result FROM sync_mutations WHERE user_id = ? AND device_id = ? AND seq = ?`,
		userID, deviceID, m.Seq).Scan(&digest, &raw)
	if err != nil {
		// The seq and its result are written in one transaction: a missing
		// result is corruption, not the device's fault.
		return MutationResult{}, fmt.Errorf("find result of seq %d: %w", m.Seq, err)
	}
	var s storedResult
	if err := json.Unmarshal(raw, &s); err != nil {
		return MutationResult{}, fmt.Errorf("decode result of seq %d: %w", m.Seq, err)
	}
	r := MutationResult{Seq: m.Seq, MutationID: m.ID}
	if s.MutationID != m.ID || digest != m.Digest {
		r.Status = MutationRejected
		r.Err = audit.Errorf(audit.EEXISTS, "seq %d was applied with other content (mutation %s); a device never reuses a seq", m.Seq, s.MutationID)
		return r, nil
	}
	if s.Status == MutationRejected {
		r.Status, r.Err = MutationRejected, &audit.Error{Code: s.Code, Message: s.Message}
		return r, nil
	}
	r.Status = MutationReplayed
	if s.VisitID != "" {
		if r.Receipt, err = visitReceipt(ctx, tx, userID, s.VisitID); err != nil {
			return MutationResult{}, err
		}
	}
	return r, nil
}
