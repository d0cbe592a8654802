package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// encodedVisit is storage.EncodedVisit on PostgreSQL: the visit and its
// score as JSON (json columns keep the text as written), and its report
// rows.
type encodedVisit struct {
	body, score []byte
	percent     *float64 // the score's overall percent
	index       *audit.ReportVisit
}

// Encode works out a visit's stored form (storage.Visits).
func (visitRows) Encode(v *audit.Visit, score *audit.VisitScore, cv *audit.ChecklistVersion) (storage.EncodedVisit, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, audit.Errorf(audit.EINVALID, "visit %s cannot be encoded: %v", v.ID, err)
	}
	scoreJSON, err := json.Marshal(score)
	if err != nil {
		// Only a non-finite number fails to encode, and the same visit
		// against the same version would fail again.
		return nil, audit.Errorf(audit.EINVALID, "visit %s cannot be scored against checklist %s version %d: %v", v.ID, v.ChecklistID, v.ChecklistVersion, err)
	}
	return &encodedVisit{body: body, score: scoreJSON, percent: score.Overall.Percent, index: audit.ReportRows(v, v.StoreID, score, cv)}, nil
}

// Insert stores a new visit with its photo slots, report rows and first
// history row (storage.Visits). A visit id stored already is found by ON
// CONFLICT, not by a failing INSERT: a failed statement aborts the whole
// transaction on PostgreSQL, and the push goes on to compare the stored
// visit with this one. The other refusals (a corrected visit corrected
// already, a row that does not exist) end the mutation, whose savepoint
// is rolled back.
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
		var completed *time.Time
		if nv.State == audit.VisitComplete {
			completed = &tx.now
		}
		tag, err := tx.Exec(ctx, `INSERT INTO visits (id, shopper_id, store_id, assignment_id, checklist_id, checklist_version,
			content_hash, channel, body, digest, state, score_percent, score, flags, proof_flags, started_at, finished_at, device_time,
			clock_offset_ms, received_at, completed_at, device_id, session_id, mutation_id, corrects_visit_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)
			ON CONFLICT (id) DO NOTHING`,
			v.ID, v.ShopperID, v.StoreID, nullString(v.AssignmentID), v.ChecklistID, v.ChecklistVersion,
			v.ContentHash, string(v.Channel), string(enc.body), nv.Digest, string(nv.State), nv.Score.Overall.Percent, string(enc.score),
			flagsJSON, proofJSON, ms(v.StartedAt), nullTime(v.FinishedAt), nullTime(nv.DeviceTime),
			durationMillis(nv.Offset), tx.now, completed, nv.DeviceID, nv.SessionID, nv.MutationID, nullString(v.CorrectsVisitID))
		switch {
		case isUniqueViolation(err):
			return audit.Errorf(audit.EPRECONDITION, "visit %s has already been corrected by another visit", v.CorrectsVisitID)
		case isForeignKeyViolation(err):
			return audit.Errorf(audit.ENOTFOUND, "visit %s names a store, assignment, checklist version or corrected visit that does not exist", v.ID)
		case err != nil:
			return fmt.Errorf("insert visit: %w", err)
		case tag.RowsAffected() == 0:
			return storage.ErrVisitExists
		}
		var b pgx.Batch
		queuePhotos(&b, tx, nv)
		queueVisitIndex(&b, enc.index)
		if err := queueTransition(&b, tx, v.ID, nv.History); err != nil {
			return err
		}
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return fmt.Errorf("insert visit %s: %w", v.ID, err)
		}
		return nil
	})
}

// queuePhotos queues the insert of a new visit's photo slots, in the
// visit's order (their ord numbers), those whose bytes are verified
// already verified now.
func queuePhotos(b *pgx.Batch, tx *Tx, nv storage.NewVisit) {
	ps := nv.Visit.Photos
	if len(ps) == 0 {
		return
	}
	qs, shas, types := make([]string, len(ps)), make([]string, len(ps)), make([]string, len(ps))
	idx, sizes := make([]int64, len(ps)), make([]int64, len(ps))
	captured, verified := make([]*time.Time, len(ps)), make([]bool, len(ps))
	for i, p := range ps {
		qs[i], idx[i], shas[i], sizes[i], types[i] = p.QuestionID, int64(p.Index), p.SHA256, p.Size, p.ContentType
		captured[i], verified[i] = nullTime(p.CapturedAt), i < len(nv.Verified) && nv.Verified[i]
	}
	b.Queue(`INSERT INTO visit_photos (visit_id, question_id, idx, sha256, size, content_type, captured_at, verified_at)
		SELECT $1, q, i, s, z, c, a, CASE WHEN ok THEN $9::timestamptz END
		FROM unnest($2::text[], $3::int[], $4::text[], $5::bigint[], $6::text[], $7::timestamptz[], $8::boolean[])
			WITH ORDINALITY AS p (q, i, s, z, c, a, ok, n)
		ORDER BY n`, nv.Visit.ID, qs, idx, shas, sizes, types, captured, verified, tx.now)
}

// queueVisitIndex queues the insert of a new visit's report rows
// (audit.ReportRows): its report_visits row and its visit_answers rows,
// the latter in one statement over arrays, so that a push stores a
// visit in two round trips (report indexing, which rewrites the rows of
// visits stored without them, copies them instead).
func queueVisitIndex(b *pgx.Batch, ix *audit.ReportVisit) {
	n := len(ix.Answers)
	ord, qs, sections, standards, categories := make([]int64, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	points, maxes := make([]float64, n), make([]float64, n)
	na, failed, critical, criticalFailure := make([]bool, n), make([]bool, n), make([]bool, n), make([]bool, n)
	nps, values := make([]*int, n), make([]*float64, n)
	answers, notes, units := make([]string, n), make([]string, n), make([]string, n)
	for i, a := range ix.Answers {
		ord[i], qs[i], sections[i], standards[i], categories[i] = int64(a.Ord), a.QuestionID, a.SectionID, a.StandardCode, a.Category
		points[i], maxes[i], na[i], failed[i], critical[i], criticalFailure[i] = a.Points, a.Max, a.NA, a.Failed, a.Critical, a.CriticalFailure
		nps[i], answers[i], notes[i], values[i], units[i] = a.NPS, a.Answer, a.Note, a.Value, a.Unit
	}
	if n > 0 {
		b.Queue(`INSERT INTO visit_answers (visit_id, ord, question_id, section_id, standard_code, category, points, max_points,
			not_applicable, failed, critical, critical_failure, nps, answer, note, value, unit)
			SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::float8[],
				$9::boolean[], $10::boolean[], $11::boolean[], $12::boolean[], $13::int[], $14::text[], $15::text[], $16::float8[], $17::text[])`,
			ix.VisitID, ord, qs, sections, standards, categories, points, maxes, na, failed, critical, criticalFailure, nps, answers, notes, values, units)
	}
	b.Queue(`INSERT INTO report_visits (visit_id, store_id, staff_id, visited_at, points, max_points, critical_failed, answers)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, ix.VisitID, ix.StoreID, ix.StaffID, ms(ix.VisitedAt), ix.Points, ix.Max, ix.CriticalFailed, n)
}

// queueTransition queues the record of a change of a visit's state, at
// the transaction's time.
func queueTransition(b *pgx.Batch, tx *Tx, visitID string, t storage.Transition) error {
	comments := []byte("[]")
	if t.Comments != nil {
		var err error
		if comments, err = json.Marshal(t.Comments); err != nil {
			return fmt.Errorf("encode comments: %w", err)
		}
	}
	b.Queue(`INSERT INTO visit_transitions (visit_id, from_state, to_state, actor_id, actor_role, at, reason, comments)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`, visitID, string(t.From), string(t.To), t.ActorID, t.ActorRole, tx.now, t.Reason, string(comments))
	return nil
}

// Find returns a stored visit (storage.Visits).
func (r visitRows) Find(ctx context.Context, id string) (*storage.StoredVisit, error) {
	return selectOne(ctx, r.rows, "find visit", fmt.Sprintf("visit %q not found", id), func(row pgx.Row) (*storage.StoredVisit, error) {
		var body []byte
		var state string
		var offset *int64
		sv := &storage.StoredVisit{Visit: &audit.Visit{}}
		if err := row.Scan(&body, &state, &sv.Digest, &offset); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(body, sv.Visit); err != nil {
			return nil, fmt.Errorf("visit %s: decode: %w", id, err)
		}
		sv.State = audit.VisitState(state)
		if offset != nil {
			sv.ClockOffset = time.Duration(*offset) * time.Millisecond
		}
		return sv, nil
	}, `SELECT body, state, digest, clock_offset_ms FROM visits WHERE id = $1`, id)
}

// Receipt returns the receipt of a visit of the shopper's (storage.Visits).
func (r visitRows) Receipt(ctx context.Context, shopperID, id string) (*audit.VisitReceipt, error) {
	return query(ctx, r.rows, func(tx *Tx) (*audit.VisitReceipt, error) { return visitReceipt(ctx, tx, shopperID, id) })
}

// visitReceipt reads the receipt of a visit of shopperID. Errors:
// ENOTFOUND.
func visitReceipt(ctx context.Context, tx *Tx, shopperID, visitID string) (*audit.VisitReceipt, error) {
	r := &audit.VisitReceipt{VisitID: visitID, ShopperID: shopperID}
	var state string
	var flags []byte
	err := tx.QueryRow(ctx, `SELECT state, score_percent, flags, received_at FROM visits WHERE id = $1 AND shopper_id = $2`,
		visitID, shopperID).Scan(&state, &r.ScorePercent, &flags, &r.ReceivedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, audit.Errorf(audit.ENOTFOUND, "visit %q not found", visitID)
	} else if err != nil {
		return nil, fmt.Errorf("find visit: %w", err)
	}
	r.State = audit.VisitState(state)
	if r.State == audit.VisitReturned {
		if r.Comments, err = returnComments(ctx, tx, visitID); err != nil {
			return nil, err
		}
	}
	var fs []string
	if err := json.Unmarshal(flags, &fs); err != nil {
		return nil, fmt.Errorf("visit %s: decode flags: %w", visitID, err)
	}
	for _, f := range fs {
		r.Flags = append(r.Flags, audit.VisitFlag(f))
	}
	rows, err := tx.Query(ctx, `SELECT question_id, idx, sha256 FROM visit_photos
		WHERE visit_id = $1 AND verified_at IS NULL ORDER BY ord`, visitID)
	if err != nil {
		return nil, fmt.Errorf("missing photos: %w", err)
	}
	missing, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (audit.MissingPhoto, error) {
		var m audit.MissingPhoto
		return m, row.Scan(&m.QuestionID, &m.Index, &m.SHA256)
	})
	if err != nil {
		return nil, fmt.Errorf("missing photos: %w", err)
	}
	if len(missing) > 0 {
		r.Missing = missing
	}
	return r, nil
}

// SetState moves a visit from t.From to t.To with a history row
// (storage.Visits).
func (r visitRows) SetState(ctx context.Context, id string, t storage.Transition) error {
	return r.write(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE visits SET state = $1, completed_at = CASE WHEN $1 = 'complete' THEN $2 ELSE completed_at END
			WHERE id = $3 AND state = $4`, string(t.To), tx.now, id, string(t.From))
		if err != nil {
			return fmt.Errorf("set visit state: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return audit.Errorf(audit.EPRECONDITION, "visit %s is no longer %s", id, t.From)
		}
		var b pgx.Batch
		if err := queueTransition(&b, tx, id, t); err != nil {
			return err
		}
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return fmt.Errorf("record visit transition: %w", err)
		}
		return nil
	})
}

// Rescore replaces a visit's score and its report rows with e's (the
// visit's own body is never changed) and adds the history row t
// (storage.Visits). Errors: ENOTFOUND.
func (r visitRows) Rescore(ctx context.Context, id string, e storage.EncodedVisit, t storage.Transition) error {
	return r.write(ctx, func(tx *Tx) error {
		enc, ok := e.(*encodedVisit)
		if !ok || enc.index == nil || enc.index.VisitID != id {
			return fmt.Errorf("rescore visit %s: not encoded by this backend for this visit", id)
		}
		tag, err := tx.Exec(ctx, `UPDATE visits SET score = $1, score_percent = $2 WHERE id = $3`, string(enc.score), enc.percent, id)
		if err != nil {
			return fmt.Errorf("rescore visit %s: %w", id, err)
		}
		if tag.RowsAffected() != 1 {
			return audit.Errorf(audit.ENOTFOUND, "visit %q not found", id)
		}
		if err := writeReportRows(ctx, tx, enc.index); err != nil {
			return err
		}
		var b pgx.Batch
		if err := queueTransition(&b, tx, id, t); err != nil {
			return err
		}
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return fmt.Errorf("record visit transition: %w", err)
		}
		return nil
	})
}

// SetProof replaces a visit's proof flags (storage.Visits).
func (r visitRows) SetProof(ctx context.Context, id string, flags []audit.ProofFlag) error {
	b, err := storage.EncodeProof(flags)
	if err != nil {
		return err
	}
	_, err = exec(ctx, r.rows, "proof: store flags", `UPDATE visits SET proof_flags = $1::jsonb WHERE id = $2`, b, id)
	return err
}
