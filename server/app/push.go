package app

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
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
	// prepared is the visit's score and encoding, worked out before the
	// push took the writer (nil: work them out in the transaction).
	prepared *preparedVisit
}

// MutationResult is the answer for one mutation.
type MutationResult struct {
	Seq        int64
	MutationID string
	Status     storage.MutationStatus
	Err        *audit.Error        // for MutationRejected
	Receipt    *audit.VisitReceipt // for a visit, as it stands now
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

// Push applies a batch of mutations from a device, in order, and returns
// one result per mutation once it committed (docs/DESIGN.md §3 rules
// 1–5). The mutations must have consecutive seqs. Seqs up to the device's
// last applied one are replays: they answer the stored result
// (MutationReplayed for one that was applied, the same rejection for one
// that was refused), or a rejection with EEXISTS when the seq was applied
// with another mutation id or digest. New seqs must continue at the last
// applied one plus one; each is applied, or rejected for good (still
// consuming its seq), and the device's last seq advances in the same
// transaction. sentAt is the device's clock when it sent the push (zero
// when unknown), from which the device's clock offset is recorded.
// Errors: EINVALID (an empty, oversized or unordered batch), EABORTED (a
// gap: the message names applied_seq, and the result, returned with the
// error, holds only AppliedSeq), EPRECONDITION (a replayed seq's result
// was pruned after the retention: the device must reset; the result holds
// AppliedSeq), EUNAUTHORIZED (no such session of the user); nothing is
// applied then.
//
// Pushes that wait for the writer while another write transaction runs
// are committed together, in one write transaction, each under a
// savepoint of its own (group commit, see pushQueue): one push's refusal
// undoes only its own work, and every answer is given after the shared
// commit. Two pushes of the same device stay in the order they reached
// the queue, one after the other.
func (a *App) Push(ctx context.Context, dev Device, sentAt time.Time, muts []Mutation) (*PushResult, error) {
	if err := checkBatch(muts); err != nil {
		return nil, err
	}
	// Validation, scoring and encoding need no writer: they run here, at
	// once for every device that pushes, and the transaction only checks
	// and stores. A copy, so that the caller's mutations stay as given.
	muts = slices.Clone(muts)
	if err := a.prepareVisits(ctx, dev, muts); err != nil {
		return nil, err
	}
	p := &pendingPush{ctx: ctx, dev: dev, sentAt: sentAt, muts: muts}
	a.pushes.run(p, a.commitPushes)
	return p.answer()
}

// applyPush is one push inside a write transaction: its outcome goes to
// p.out; an error undoes what it did (the caller's savepoint).
func (a *App) applyPush(ctx context.Context, tx storage.Tx, p *pendingPush) error {
	muts := p.muts
	p.out = &PushResult{Results: make([]MutationResult, 0, len(muts))}
	out := p.out
	d, err := tx.Devices().Find(ctx, p.dev.UserID, p.dev.SessionID)
	if audit.ErrorCode(err) == audit.ENOTFOUND {
		return audit.Errorf(audit.EUNAUTHORIZED, "unknown or revoked session")
	} else if err != nil {
		return err
	}
	last := d.LastSeq
	if first := muts[0].Seq; first > last+1 {
		out.AppliedSeq = last
		return audit.Errorf(audit.EABORTED, "sequence gap: applied_seq=%d, but the push starts at seq %d; resend from seq %d", last, first, last+1)
	}
	sub := &submission{device: d.DeviceID, session: p.dev.SessionID}
	if !p.sentAt.IsZero() {
		// Kept in whole milliseconds, as it is stored.
		off := time.Duration(tx.Now().Sub(p.sentAt).Milliseconds()) * time.Millisecond
		sub.offset = &off
	}
	for _, m := range muts {
		var r MutationResult
		if m.Seq <= last {
			r, err = replayMutation(ctx, tx, *d, m)
			if err == errResultPruned {
				out.AppliedSeq = last
				return resetNeeded(m.Seq, last)
			}
		} else {
			r, err = a.applyMutation(ctx, tx, *d, m, sub)
		}
		if err != nil {
			return err
		}
		out.Results = append(out.Results, r)
	}
	out.AppliedSeq = max(last, muts[len(muts)-1].Seq)
	return tx.Devices().Advance(ctx, *d, out.AppliedSeq, sub.offset)
}

// checkBatch checks the shape of a push: 1 to MaxPushMutations mutations,
// each with an id, their seqs consecutive from 1 or more. Errors: EINVALID.
func checkBatch(muts []Mutation) error {
	if len(muts) == 0 || len(muts) > MaxPushMutations {
		return audit.Errorf(audit.EINVALID, "a push holds 1 to %d mutations, not %d", MaxPushMutations, len(muts))
	}
	for i, m := range muts {
		switch {
		case m.Seq < 1:
			return audit.Errorf(audit.EINVALID, "mutation %s: seq must be >= 1", m.ID)
		case i > 0 && m.Seq != muts[i-1].Seq+1:
			return audit.Errorf(audit.EINVALID, "mutations must have consecutive seqs in order: %d follows %d", m.Seq, muts[i-1].Seq)
		case m.ID == "":
			return audit.Errorf(audit.EINVALID, "mutation with seq %d has no mutation_id", m.Seq)
		}
	}
	return nil
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
func (a *App) applyMutation(ctx context.Context, tx storage.Tx, d storage.Device, m Mutation, sub *submission) (MutationResult, error) {
	r := MutationResult{Seq: m.Seq, MutationID: m.ID, Status: storage.MutationApplied}
	err := tx.Savepoint(ctx, func() error {
		switch {
		case m.Err != nil:
			return m.Err
		case m.Visit == nil:
			return audit.Errorf(audit.EINVALID, "mutation %s has no known kind", m.ID)
		}
		sub.mutationID, sub.deviceTime = m.ID, m.DeviceTime
		var err error
		if r.Receipt, r.Status, err = a.submitVisit(ctx, tx, m.Visit, m.Digest, sub, m.prepared); err != nil {
			return err
		}
		return tx.Devices().Record(ctx, d, stored(m, r), true)
	})
	if de, ok := permanent(err); ok {
		r = MutationResult{Seq: m.Seq, MutationID: m.ID, Status: storage.MutationRejected, Err: de}
		err = tx.Devices().Record(ctx, d, stored(m, r), true)
	}
	if errors.Is(err, storage.ErrMutationIDTaken) {
		// The mutation id was used by another seq: what the mutation did
		// is undone, and its seq is kept as refused.
		r = MutationResult{Seq: m.Seq, MutationID: m.ID, Status: storage.MutationRejected,
			Err: audit.Errorf(audit.EEXISTS, "mutation id %s was already used by another mutation; every mutation needs its own id", m.ID)}
		err = tx.Devices().Record(ctx, d, stored(m, r), false)
	}
	if err != nil {
		return MutationResult{}, err
	}
	return r, nil
}

// stored is the result r of m as kept for replays.
func stored(m Mutation, r MutationResult) storage.StoredMutation {
	s := storage.StoredMutation{Seq: m.Seq, MutationID: m.ID, Digest: m.Digest, DeviceTime: m.DeviceTime, Status: r.Status, Err: r.Err}
	if r.Receipt != nil {
		s.VisitID = r.Receipt.VisitID
	}
	return s
}

// replayMutation answers a seq the device has pushed before.
func replayMutation(ctx context.Context, tx storage.Tx, d storage.Device, m Mutation) (MutationResult, error) {
	s, err := tx.Devices().Result(ctx, d, m.Seq)
	if audit.ErrorCode(err) == audit.ENOTFOUND {
		// The seq and its result are written in one transaction: a
		// missing result was pruned after the retention.
		return MutationResult{}, errResultPruned
	} else if err != nil {
		return MutationResult{}, err
	}
	r := MutationResult{Seq: m.Seq, MutationID: m.ID}
	switch {
	case s.MutationID != m.ID || s.Digest != m.Digest:
		r.Status = storage.MutationRejected
		r.Err = audit.Errorf(audit.EEXISTS, "seq %d was applied with other content (mutation %s); a device never reuses a seq", m.Seq, s.MutationID)
		return r, nil
	case s.Status == storage.MutationRejected:
		r.Status, r.Err = storage.MutationRejected, s.Err
		return r, nil
	}
	r.Status = storage.MutationReplayed
	if s.VisitID != "" {
		if r.Receipt, err = tx.Visits().Receipt(ctx, d.UserID, s.VisitID); err != nil {
			return MutationResult{}, err
		}
	}
	return r, nil
}
