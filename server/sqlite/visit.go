package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// VisitState is the domain's visit state (audit.VisitState).
type VisitState = audit.VisitState

// The states of a visit, as the domain defines them.
const (
	VisitSubmitted  = audit.VisitSubmitted
	VisitComplete   = audit.VisitComplete
	VisitInReview   = audit.VisitInReview
	VisitApproved   = audit.VisitApproved
	VisitReturned   = audit.VisitReturned
	VisitPublished  = audit.VisitPublished
	VisitSuperseded = audit.VisitSuperseded
)

// encodedVisit is storage.EncodedVisit on SQLite: the visit and its score
// as stored, and its report rows.
type encodedVisit struct {
	body, score []byte
	percent     *float64 // the score's overall percent
	index       *visitIndex
}

// Encode works out a visit's stored form (storage.Visits).
func (visitRows) Encode(v *audit.Visit, score *audit.VisitScore, cv *audit.ChecklistVersion) (storage.EncodedVisit, error) {
	body, err := packJSON(v)
	if err != nil {
		return nil, audit.Errorf(audit.EINVALID, "visit %s cannot be encoded: %v", v.ID, err)
	}
	scoreJSON, err := packJSON(score)
	if err != nil {
		// Only a non-finite number fails to encode, and the same visit
		// against the same version would fail again.
		return nil, audit.Errorf(audit.EINVALID, "visit %s cannot be scored against checklist %s version %d: %v", v.ID, v.ChecklistID, v.ChecklistVersion, err)
	}
	return &encodedVisit{body: body, score: scoreJSON, percent: score.Overall.Percent, index: visitIndexOf(v, v.StoreID, score, cv)}, nil
}

// Insert stores a new visit (storage.Visits).
func (r visitRows) Insert(ctx context.Context, nv storage.NewVisit) error {
	return r.write(ctx, func(tx *Tx) error {
		v := nv.Visit
		enc, ok := nv.Encoded.(*encodedVisit)
		if !ok {
			return fmt.Errorf("insert visit %s: not encoded by this backend", v.ID)
		}
		flagsJSON, proofJSON, err := storage.EncodeFlags(nv.Flags, nv.Proof)
		if err != nil {
			return err
		}
		var percent sql.NullFloat64
		if p := nv.Score.Overall.Percent; p != nil {
			percent = sql.NullFloat64{Float64: *p, Valid: true}
		}
		completed := sql.NullInt64{}
		if nv.State == audit.VisitComplete {
			completed = sql.NullInt64{Int64: millis(tx.now), Valid: true}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO visits (id, shopper_id, store_id, assignment_id, checklist_id, checklist_version,
			content_hash, channel, body, digest, state, score_percent, score, flags, proof_flags, started_at, finished_at, device_time,
			clock_offset_ms, received_at, completed_at, device_id, session_id, mutation_id, corrects_visit_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			v.ID, v.ShopperID, v.StoreID, nullString(v.AssignmentID), v.ChecklistID, v.ChecklistVersion,
			v.ContentHash, string(v.Channel), enc.body, nv.Digest, string(nv.State), percent, enc.score, flagsJSON, proofJSON,
			millis(v.StartedAt), nullMillis(v.FinishedAt), nullMillis(nv.DeviceTime),
			nullDuration(nv.Offset), millis(tx.now), completed, nv.DeviceID, nv.SessionID, nv.MutationID, nullString(v.CorrectsVisitID))
		if err != nil {
			return visitInsertError(v, err)
		}
		for i, p := range v.Photos {
			var at sql.NullInt64
			if i < len(nv.Verified) && nv.Verified[i] {
				at = sql.NullInt64{Int64: millis(tx.now), Valid: true}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO visit_photos (visit_id, question_id, idx, sha256, size, content_type, captured_at, verified_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, v.ID, p.QuestionID, p.Index, p.SHA256, p.Size, p.ContentType, nullMillis(p.CapturedAt), at); err != nil {
				return fmt.Errorf("insert visit photo: %w", err)
			}
		}
		if err := insertVisitIndex(ctx, tx, enc.index); err != nil {
			return err
		}
		return addTransition(ctx, tx, v.ID, Transition(nv.History))
	})
}

// visitInsertError translates a failed visit insert: the primary key
// taken is storage.ErrVisitExists.
func visitInsertError(v *audit.Visit, err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) || se.Code != sqlite3.ErrConstraint {
		return fmt.Errorf("insert visit: %w", err)
	}
	switch se.ExtendedCode {
	case sqlite3.ErrConstraintPrimaryKey:
		return storage.ErrVisitExists
	case sqlite3.ErrConstraintUnique:
		return audit.Errorf(audit.EPRECONDITION, "visit %s has already been corrected by another visit", v.CorrectsVisitID)
	case sqlite3.ErrConstraintForeignKey:
		return audit.Errorf(audit.ENOTFOUND, "visit %s names a store, assignment, checklist version or corrected visit that does not exist", v.ID)
	}
	return fmt.Errorf("insert visit: %w", err)
}

// Find returns a stored visit (storage.Visits).
func (r visitRows) Find(ctx context.Context, id string) (*storage.StoredVisit, error) {
	return get(ctx, r.rows, func(tx *Tx) (*storage.StoredVisit, error) {
		var body []byte
		var state string
		var offset sql.NullInt64
		sv := &storage.StoredVisit{Visit: &audit.Visit{}}
		err := tx.QueryRowContext(ctx, `SELECT body, state, digest, clock_offset_ms FROM visits WHERE id = ?`, id).Scan(&body, &state, &sv.Digest, &offset)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "visit %q not found", id)
		} else if err != nil {
			return nil, fmt.Errorf("find visit: %w", err)
		}
		if err := unpackJSON(body, sv.Visit); err != nil {
			return nil, fmt.Errorf("visit %s: decode: %w", id, err)
		}
		sv.State, sv.ClockOffset = audit.VisitState(state), time.Duration(offset.Int64)*time.Millisecond
		return sv, nil
	})
}

// Receipt returns the receipt of a visit of the shopper's (storage.Visits).
func (r visitRows) Receipt(ctx context.Context, shopperID, id string) (*audit.VisitReceipt, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.VisitReceipt, error) { return visitReceipt(ctx, tx, shopperID, id) })
}

// SetState moves a visit from t.From to t.To with a history row
// (storage.Visits).
func (r visitRows) SetState(ctx context.Context, id string, t storage.Transition) error {
	return r.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE visits SET state = ?1, completed_at = CASE WHEN ?1 = 'complete' THEN ?2 ELSE completed_at END
			WHERE id = ?3 AND state = ?4`, string(t.To), millis(tx.now), id, string(t.From))
		if err != nil {
			return fmt.Errorf("set visit state: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("set visit state: %w", err)
		} else if n != 1 {
			return audit.Errorf(audit.EPRECONDITION, "visit %s is no longer %s", id, t.From)
		}
		return addTransition(ctx, tx, id, Transition(t))
	})
}

// Rescore stores a visit's new score and report rows, its body as it was
// (storage.Visits).
func (r visitRows) Rescore(ctx context.Context, id string, e storage.EncodedVisit, t storage.Transition) error {
	return r.write(ctx, func(tx *Tx) error {
		enc, ok := e.(*encodedVisit)
		if !ok || enc.index == nil || enc.index.visitID != id {
			return fmt.Errorf("rescore visit %s: not encoded by this backend for this visit", id)
		}
		var percent sql.NullFloat64
		if enc.percent != nil {
			percent = sql.NullFloat64{Float64: *enc.percent, Valid: true}
		}
		res, err := tx.ExecContext(ctx, `UPDATE visits SET score = ?, score_percent = ? WHERE id = ?`, enc.score, percent, id)
		if err != nil {
			return fmt.Errorf("rescore visit %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("rescore visit %s: %w", id, err)
		} else if n != 1 {
			return audit.Errorf(audit.ENOTFOUND, "visit %q not found", id)
		}
		if err := insertVisitIndex(ctx, tx, enc.index); err != nil {
			return err
		}
		return addTransition(ctx, tx, id, Transition(t))
	})
}

// SetProof replaces a visit's proof flags (storage.Visits).
func (r visitRows) SetProof(ctx context.Context, id string, flags []audit.ProofFlag) error {
	return r.write(ctx, func(tx *Tx) error {
		b, err := storage.EncodeProof(flags)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE visits SET proof_flags = ? WHERE id = ?`, b, id); err != nil {
			return fmt.Errorf("proof: store flags: %w", err)
		}
		return nil
	})
}

// memo returns (*m)[key], loading and keeping it on first use; an error
// is not kept.
func memo[K comparable, V any](m *map[K]V, key K, load func() (V, error)) (V, error) {
	if v, ok := (*m)[key]; ok {
		return v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	if *m == nil {
		*m = map[K]V{}
	}
	(*m)[key] = v
	return v, nil
}

// visitReceipt reads the receipt of a visit of shopperID. Errors:
// ENOTFOUND.
func visitReceipt(ctx context.Context, tx *Tx, shopperID, visitID string) (*audit.VisitReceipt, error) {
	r := &audit.VisitReceipt{VisitID: visitID, ShopperID: shopperID}
	var state, flags string
	var percent sql.NullFloat64
	var received int64
	err := tx.QueryRowContext(ctx, `SELECT state, score_percent, flags, received_at FROM visits WHERE id = ? AND shopper_id = ?`,
		visitID, shopperID).Scan(&state, &percent, &flags, &received)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, audit.Errorf(audit.ENOTFOUND, "visit %q not found", visitID)
	} else if err != nil {
		return nil, fmt.Errorf("find visit: %w", err)
	}
	r.State, r.ReceivedAt = VisitState(state), fromMillis(received)
	if r.State == VisitReturned {
		if r.Comments, err = returnComments(ctx, tx, visitID); err != nil {
			return nil, err
		}
	}
	if percent.Valid {
		p := percent.Float64
		r.ScorePercent = &p
	}
	var fs []string
	if err := json.Unmarshal([]byte(flags), &fs); err != nil {
		return nil, fmt.Errorf("visit %s: decode flags: %w", visitID, err)
	}
	for _, f := range fs {
		r.Flags = append(r.Flags, audit.VisitFlag(f))
	}
	rows, err := tx.QueryContext(ctx, `SELECT question_id, idx, sha256 FROM visit_photos
		WHERE visit_id = ? AND verified_at IS NULL ORDER BY rowid`, visitID)
	if err != nil {
		return nil, fmt.Errorf("missing photos: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m audit.MissingPhoto
		if err := rows.Scan(&m.QuestionID, &m.Index, &m.SHA256); err != nil {
			return nil, err
		}
		r.Missing = append(r.Missing, m)
	}
	return r, rows.Err()
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
