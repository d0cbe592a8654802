package field

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/sync/protocol"
)

// Submit validates a draft visit for completeness (every required answer,
// the notes and photos its answers demand, no timer still running, every
// photo file present) and then, in one transaction, freezes it and appends
// its SubmitVisit mutation to the outbox with the device's next seq. The
// mutation's bytes are frozen too, so that every resend is the same
// content. It works offline; Sync sends it. Errors: ENOTFOUND,
// EUNAUTHORIZED (nobody signed in), EPRECONDITION (already submitted, a
// timer still running), EINVALID (incomplete, listing what is missing).
func (c *Client) Submit(ctx context.Context, visitID string) error {
	shopperID, err := c.shopper(ctx)
	if err != nil {
		return err
	}
	return c.update(ctx, func(tx *sql.Tx) error {
		v, cv, err := c.draft(ctx, tx, visitID)
		if err != nil {
			return err
		}
		ts, err := c.timers(ctx, tx, visitID)
		if err != nil {
			return err
		}
		if len(ts) > 0 {
			return audit.Errorf(audit.EPRECONDITION, "the timer for %s still runs: stop it before submitting", ts[0].QuestionID)
		}
		score, err := audit.Score(cv, v.Answers)
		if err != nil {
			return err
		}
		if !score.Complete() {
			var msgs []string
			for _, e := range score.Errors {
				msgs = append(msgs, e.Error())
			}
			return audit.Errorf(audit.EINVALID, "visit %s is not complete: %s", visitID, strings.Join(msgs, "; "))
		}
		for _, p := range v.Photos {
			st, err := os.Stat(c.photoPath(p.SHA256))
			if err != nil || st.Size() != p.Size {
				return audit.Errorf(audit.EINVALID, "the photo file of %s[%d] is missing from the device: add the photo again", p.QuestionID, p.Index)
			}
		}
		now := c.now()
		v.ShopperID = shopperID
		v.FinishedAt = now
		if v.FinishedAt.Before(v.StartedAt) {
			// The wall clock went back during the visit; the claim stays sane.
			v.FinishedAt = v.StartedAt
		}
		if err := v.Validate(); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE visits SET status = 'submitted', finished_ms = ? WHERE id = ? AND status = 'draft'`,
			v.FinishedAt.UnixMilli(), visitID)
		if err != nil {
			return fmt.Errorf("field: freeze visit: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return audit.Errorf(audit.EPRECONDITION, "visit %s is submitted and cannot change", visitID)
		}
		seq, err := nextSeq(ctx, tx)
		if err != nil {
			return err
		}
		m := &v1.Mutation{
			Seq: seq, MutationId: uuid.NewString(), DeviceTime: timestamppb.New(now),
			Kind: &v1.Mutation_SubmitVisit{SubmitVisit: &v1.SubmitVisit{Visit: protocol.VisitToProto(&v.Visit)}},
		}
		payload, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			return fmt.Errorf("field: encode mutation: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (seq, mutation_id, visit_id, kind, payload, created_ms)
			VALUES (?, ?, ?, 'submit_visit', ?, ?)`, seq, m.MutationId, visitID, payload, now.UnixMilli()); err != nil {
			return fmt.Errorf("field: queue visit: %w", err)
		}
		return nil
	})
}

// nextSeq allocates the device's next mutation seq: 1, 2, 3... without
// gaps, inside the caller's transaction.
func nextSeq(ctx context.Context, tx *sql.Tx) (int64, error) {
	var seq int64
	if err := tx.QueryRowContext(ctx, `UPDATE device SET next_seq = next_seq + 1 WHERE id = 1 RETURNING next_seq - 1`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("field: allocate seq: %w", err)
	}
	return seq, nil
}

// VisitDetail is everything about one visit: what was recorded, the
// checklist it is recorded against, the preview score, what is still
// missing, and where it is on its way to the server.
type VisitDetail struct {
	Visit audit.Visit
	// State is StateDraft, StateQueued, StateRejected, StateUploading or
	// StateSent.
	State     string
	Checklist audit.Checklist
	StoreCode string
	StoreName string
	// Preview is the score computed on the device with the same engine as
	// the server's; the server's receipt holds the authoritative one.
	Preview *audit.VisitScore
	// Missing lists what Submit would refuse (Preview.Errors).
	Missing   []audit.AnswerError
	Timers    []RunningTimer
	Photos    []PhotoInfo
	Receipt   *Receipt
	Rejection *OutboxItem
}

// Visit returns the detail of a visit. It works offline. Errors:
// ENOTFOUND.
func (c *Client) Visit(ctx context.Context, visitID string) (*VisitDetail, error) {
	v, err := c.loadVisit(ctx, c.db, visitID)
	if err != nil {
		return nil, err
	}
	cv, err := c.version(ctx, c.db, v.ChecklistID, v.ChecklistVersion)
	if err != nil {
		return nil, err
	}
	d := &VisitDetail{Visit: v.Visit, Checklist: cv.Content}
	if s, err := c.store(ctx, c.db, v.StoreID); err == nil {
		d.StoreCode, d.StoreName = s.Code, s.Name
	}
	if d.Preview, err = audit.Score(cv, v.Answers); err != nil {
		return nil, err
	}
	d.Missing = d.Preview.Errors
	if d.Timers, err = c.timers(ctx, c.db, visitID); err != nil {
		return nil, err
	}
	if d.Photos, err = c.photos(ctx, c.db, `WHERE visit_id = ?`, visitID); err != nil {
		return nil, err
	}
	sums, err := c.visitSummaries(ctx, `WHERE v.id = ?`, visitID)
	if err != nil {
		return nil, err
	}
	if len(sums) == 1 {
		d.State = sums[0].State
		d.Receipt = sums[0].Receipt
		d.Rejection = sums[0].Rejection
	}
	return d, nil
}
