package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// appealRows is storage.Appeals on SQLite.
type appealRows struct{ rows }

// Appeals returns the appeals of the database, each call in its own transaction.
func (db *DB) Appeals() storage.Appeals { return appealRows{rows{db: db}} }

// Appeals returns the appeals as this transaction sees them.
func (tx *Tx) Appeals() storage.Appeals { return appealRows{rows{db: tx.db, tx: tx}} }

// appealScope is the condition on appeals a of a scope: their stores';
// a shopper sees none.
func appealScope(sc audit.Scope) (string, []any) {
	if sc.ShopperID != "" && !sc.All {
		return "0", nil
	}
	return storeScope(sc, "a.store_id")
}

// Add stores a new appeal (storage.Appeals).
func (r appealRows) Add(ctx context.Context, a *audit.Appeal) error {
	return r.write(ctx, func(tx *Tx) error {
		a.FiledAt, a.State = tx.now, audit.AppealOpen
		_, err := tx.ExecContext(ctx, `INSERT INTO appeals (id, visit_id, store_id, staff_id, visited_at, filed_by, filed_role, filed_at, deadline, state)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')`, a.ID, a.VisitID, a.StoreID, a.StaffID, millis(a.VisitedAt), a.FiledBy,
			string(a.FiledRole), millis(tx.now), millis(a.Deadline))
		if isUniqueViolation(err) {
			return audit.Errorf(audit.EPRECONDITION, "visit %s has an open appeal already: add to it is not possible, wait for its ruling", a.VisitID)
		} else if err != nil {
			return fmt.Errorf("insert appeal: %w", err)
		}
		for i, q := range a.Questions {
			if _, err := tx.ExecContext(ctx, `INSERT INTO appeal_questions (appeal_id, ord, question_id, reason) VALUES (?, ?, ?, ?)`,
				a.ID, i, q.QuestionID, q.Reason); err != nil {
				return fmt.Errorf("insert appeal question: %w", err)
			}
			for _, e := range q.Evidence {
				if _, err := tx.ExecContext(ctx, `INSERT INTO appeal_evidence (appeal_id, question_id, idx, sha256, size, content_type, file_name, verified_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT ? FROM verified_blobs WHERE sha256 = ?))`,
					a.ID, q.QuestionID, e.Index, e.SHA256, e.Size, e.ContentType, e.FileName, millis(tx.now), e.SHA256); err != nil {
					return fmt.Errorf("insert appeal evidence: %w", err)
				}
			}
		}
		return nil
	})
}

var appealSelect = `SELECT a.id, a.visit_id, a.store_id, a.staff_id, a.visited_at, a.filed_by, a.filed_role, a.filed_at, a.deadline,
	a.state, COALESCE(a.ruled_by, ''), a.ruled_role, a.ruled_at, a.score_before, a.score_after,
	COALESCE(st.code, ''), COALESCE(st.name, ''), COALESCE(sf.name, ''), COALESCE(sf.employee_number, ''),
	` + userName("a.filed_by") + `, ` + userName("a.ruled_by") + `
	FROM appeals a LEFT JOIN stores st ON st.id = a.store_id LEFT JOIN staff sf ON sf.id = a.staff_id`

func scanAppeal(row scanner) (*audit.Appeal, error) {
	a := &audit.Appeal{}
	var visited, filed, deadline int64
	var ruled sql.NullInt64
	var before, after sql.NullFloat64
	var filedRole, ruledRole, state string
	if err := row.Scan(&a.ID, &a.VisitID, &a.StoreID, &a.StaffID, &visited, &a.FiledBy, &filedRole, &filed, &deadline,
		&state, &a.RuledBy, &ruledRole, &ruled, &before, &after,
		&a.StoreCode, &a.StoreName, &a.StaffName, &a.StaffNumber, &a.FiledByName, &a.RuledByName); err != nil {
		return nil, err
	}
	a.VisitedAt, a.FiledAt, a.Deadline, a.RuledAt = fromMillis(visited), fromMillis(filed), fromMillis(deadline), fromNullMillis(ruled)
	a.FiledRole, a.RuledRole, a.State = audit.Role(filedRole), audit.Role(ruledRole), audit.AppealState(state)
	if before.Valid {
		a.ScoreBefore = &before.Float64
	}
	if after.Valid {
		a.ScoreAfter = &after.Float64
	}
	if a.RuledBy == "" {
		a.RuledByName = ""
	}
	return a, nil
}

// questions reads the questions and evidence of the appeals, in place.
func appealQuestions(ctx context.Context, tx *Tx, appeals []*audit.Appeal) error {
	for _, a := range appeals {
		qs, err := queryAll(ctx, tx, func(row scanner) (audit.AppealQuestion, error) {
			var q audit.AppealQuestion
			var outcome string
			var amended sql.NullString
			if err := row.Scan(&q.QuestionID, &q.Reason, &outcome, &amended, &q.RulingReason); err != nil {
				return q, err
			}
			q.Outcome = audit.AppealOutcome(outcome)
			if amended.Valid {
				q.Amended = &audit.Answer{}
				if err := json.Unmarshal([]byte(amended.String), q.Amended); err != nil {
					return q, fmt.Errorf("appeal %s: decode amended answer: %w", a.ID, err)
				}
			}
			return q, nil
		}, `SELECT question_id, reason, outcome, amended_answer, ruling_reason FROM appeal_questions WHERE appeal_id = ? ORDER BY ord`, a.ID)
		if err != nil {
			return fmt.Errorf("appeal questions: %w", err)
		}
		ev, err := queryAll(ctx, tx, func(row scanner) (struct {
			q string
			e audit.AppealEvidence
		}, error) {
			var out struct {
				q string
				e audit.AppealEvidence
			}
			err := row.Scan(&out.q, &out.e.Index, &out.e.SHA256, &out.e.Size, &out.e.ContentType, &out.e.FileName, &out.e.Verified)
			return out, err
		}, `SELECT question_id, idx, sha256, size, content_type, file_name, verified_at IS NOT NULL FROM appeal_evidence
			WHERE appeal_id = ? ORDER BY question_id, idx`, a.ID)
		if err != nil {
			return fmt.Errorf("appeal evidence: %w", err)
		}
		for _, e := range ev {
			for i := range qs {
				if qs[i].QuestionID == e.q {
					qs[i].Evidence = append(qs[i].Evidence, e.e)
				}
			}
		}
		a.Questions = qs
	}
	return nil
}

// Find returns an appeal in scope (storage.Appeals).
func (r appealRows) Find(ctx context.Context, scope audit.Scope, id string) (*audit.Appeal, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.Appeal, error) {
		cond, args := appealScope(scope)
		a, err := scanAppeal(tx.QueryRowContext(ctx, appealSelect+` WHERE a.id = ? AND `+cond, append([]any{id}, args...)...))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "appeal %q not found", id)
		} else if err != nil {
			return nil, fmt.Errorf("find appeal: %w", err)
		}
		return a, appealQuestions(ctx, tx, []*audit.Appeal{a})
	})
}

// List returns the appeals that match (storage.Appeals).
func (r appealRows) List(ctx context.Context, f storage.AppealFilter) ([]*audit.Appeal, error) {
	cond, args := appealScope(f.Scope)
	where := []string{cond}
	add := func(c string, v any) {
		where = append(where, c)
		args = append(args, v)
	}
	if f.State != "" {
		add(`a.state = ?`, string(f.State))
	}
	if m := f.Mine; m.StaffID != "" || m.FiledBy != "" {
		where = append(where, `(a.staff_id = ? AND a.staff_id <> '' OR a.filed_by = ?)`)
		args = append(args, m.StaffID, m.FiledBy)
	}
	if f.VisitID != "" {
		add(`a.visit_id = ?`, f.VisitID)
	}
	if f.StoreID != "" {
		add(`a.store_id = ?`, f.StoreID)
	}
	if f.Region != "" {
		add(`a.store_id IN (SELECT id FROM stores WHERE region = ?)`, f.Region)
	}
	if !f.VisitFrom.IsZero() {
		add(`a.visited_at >= ?`, millis(f.VisitFrom))
	}
	if !f.VisitTo.IsZero() {
		add(`a.visited_at < ?`, millis(f.VisitTo))
	}
	if !f.RuledAfter.IsZero() {
		add(`a.ruled_at > ?`, millis(f.RuledAfter))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := appealSelect + ` WHERE ` + strings.Join(where, ` AND `) +
		` ORDER BY a.state = 'closed', CASE WHEN a.state = 'open' THEN a.deadline ELSE -a.ruled_at END, a.id LIMIT ?`
	args = append(args, limit)
	return get(ctx, r.rows, func(tx *Tx) ([]*audit.Appeal, error) {
		out, err := queryAll(ctx, tx, scanAppeal, q, args...)
		if err != nil {
			return nil, fmt.Errorf("list appeals: %w", err)
		}
		return out, appealQuestions(ctx, tx, out)
	})
}

// Rule stores an appeal's rulings and closes it (storage.Appeals).
func (r appealRows) Rule(ctx context.Context, a *audit.Appeal) error {
	return r.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE appeals SET state = 'closed', ruled_by = ?, ruled_role = ?, ruled_at = ?, score_before = ?, score_after = ?
			WHERE id = ? AND state = 'open'`, a.RuledBy, string(a.RuledRole), millis(tx.now), nullFloat(a.ScoreBefore), nullFloat(a.ScoreAfter), a.ID)
		if err != nil {
			return fmt.Errorf("rule appeal: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("rule appeal: %w", err)
		} else if n != 1 {
			return audit.Errorf(audit.EPRECONDITION, "appeal %s is not open any more", a.ID)
		}
		a.RuledAt, a.State = tx.now, audit.AppealClosed
		for _, q := range a.Questions {
			var amended sql.NullString
			if q.Amended != nil {
				b, err := json.Marshal(q.Amended)
				if err != nil {
					return fmt.Errorf("encode amended answer: %w", err)
				}
				amended = sql.NullString{String: string(b), Valid: true}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE appeal_questions SET outcome = ?, amended_answer = ?, ruling_reason = ?
				WHERE appeal_id = ? AND question_id = ?`, string(q.Outcome), amended, q.RulingReason, a.ID, q.QuestionID); err != nil {
				return fmt.Errorf("rule appeal question: %w", err)
			}
		}
		return nil
	})
}

// Amendments returns a visit's upheld amended answers in ruling order
// (storage.Appeals).
func (r appealRows) Amendments(ctx context.Context, visitID string) ([]audit.Answer, error) {
	return get(ctx, r.rows, func(tx *Tx) ([]audit.Answer, error) { return amendments(ctx, tx, visitID) })
}

func amendments(ctx context.Context, tx *Tx, visitID string) ([]audit.Answer, error) {
	out, err := queryAll(ctx, tx, func(row scanner) (audit.Answer, error) {
		var a audit.Answer
		var b string
		if err := row.Scan(&b); err != nil {
			return a, err
		}
		return a, json.Unmarshal([]byte(b), &a)
	}, `SELECT q.amended_answer FROM appeals a JOIN appeal_questions q ON q.appeal_id = a.id
		WHERE a.visit_id = ? AND a.state = 'closed' AND q.outcome = 'upheld' AND q.amended_answer IS NOT NULL
		ORDER BY a.ruled_at, a.id, q.ord`, visitID)
	if err != nil {
		return nil, fmt.Errorf("visit %s amendments: %w", visitID, err)
	}
	return out, nil
}

// Reviewers returns the users who took review actions on a visit
// (storage.Appeals).
func (r appealRows) Reviewers(ctx context.Context, visitID string) (map[string]string, error) {
	return get(ctx, r.rows, func(tx *Tx) (map[string]string, error) {
		type reviewer struct{ id, name string }
		rs, err := queryAll(ctx, tx, func(row scanner) (reviewer, error) {
			var x reviewer
			err := row.Scan(&x.id, &x.name)
			return x, err
		}, `SELECT DISTINCT t.actor_id, `+userName("t.actor_id")+` FROM visit_transitions t
			WHERE t.visit_id = ? AND t.actor_id <> '' AND t.actor_role NOT IN ('shopper', 'system')
			AND t.to_state IN ('in_review', 'approved', 'returned', 'published') AND t.from_state <> t.to_state`, visitID)
		if err != nil {
			return nil, fmt.Errorf("visit %s reviewers: %w", visitID, err)
		}
		out := map[string]string{}
		for _, x := range rs {
			out[x.id] = x.name
		}
		return out, nil
	})
}

// FindEvidence returns one evidence file of an appeal in scope
// (storage.Appeals).
func (r appealRows) FindEvidence(ctx context.Context, scope audit.Scope, appealID, questionID string, index int) (*audit.AppealEvidence, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.AppealEvidence, error) {
		cond, args := appealScope(scope)
		var e audit.AppealEvidence
		err := tx.QueryRowContext(ctx, `SELECT e.idx, e.sha256, e.size, e.content_type, e.file_name, e.verified_at IS NOT NULL
			FROM appeal_evidence e JOIN appeals a ON a.id = e.appeal_id WHERE e.appeal_id = ? AND e.question_id = ? AND e.idx = ? AND `+cond,
			append([]any{appealID, questionID, index}, args...)...).Scan(&e.Index, &e.SHA256, &e.Size, &e.ContentType, &e.FileName, &e.Verified)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "appeal %q has no evidence %s[%d]", appealID, questionID, index)
		} else if err != nil {
			return nil, fmt.Errorf("find appeal evidence: %w", err)
		}
		return &e, nil
	})
}

// MarkEvidenceVerified marks the evidence files of sha verified
// (storage.Appeals).
func (r appealRows) MarkEvidenceVerified(ctx context.Context, sha string) (int, error) {
	return put(ctx, r.rows, func(tx *Tx) (int, error) {
		res, err := tx.ExecContext(ctx, `UPDATE appeal_evidence SET verified_at = ? WHERE sha256 = ? AND verified_at IS NULL`, millis(tx.now), sha)
		if err != nil {
			return 0, fmt.Errorf("mark appeal evidence verified: %w", err)
		}
		n, err := res.RowsAffected()
		return int(n), err
	})
}

func nullFloat(p *float64) sql.NullFloat64 {
	if p == nil {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: *p, Valid: true}
}
