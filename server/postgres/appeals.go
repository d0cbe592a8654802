package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// appealRows is storage.Appeals on PostgreSQL.
type appealRows struct{ rows }

// Appeals returns the appeals, each call in a transaction of its own.
func (db *DB) Appeals() storage.Appeals { return appealRows{in(db, nil)} }

// Appeals returns the appeals as this transaction sees them.
func (tx *Tx) Appeals() storage.Appeals { return appealRows{in(tx.db, tx)} }

// appealScope is the condition on appeals a of a scope: their stores';
// a shopper sees none.
func appealScope(a *args, sc audit.Scope) string {
	if sc.ShopperID != "" && !sc.All {
		return "false"
	}
	return storeScope(a, sc, "a.store_id")
}

// Add stores a new appeal (storage.Appeals). Errors: EPRECONDITION (the
// visit has an open appeal).
func (r appealRows) Add(ctx context.Context, a *audit.Appeal) error {
	return r.write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO appeals (id, visit_id, store_id, staff_id, visited_at, filed_by, filed_role, filed_at, deadline, state)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open')`, a.ID, a.VisitID, a.StoreID, a.StaffID, ms(a.VisitedAt), a.FiledBy,
			string(a.FiledRole), tx.now, ms(a.Deadline))
		if isUniqueViolation(err) {
			return audit.Errorf(audit.EPRECONDITION, "visit %s has an open appeal already: add to it is not possible, wait for its ruling", a.VisitID)
		} else if err != nil {
			return fmt.Errorf("insert appeal: %w", err)
		}
		for i, q := range a.Questions {
			if _, err := tx.Exec(ctx, `INSERT INTO appeal_questions (appeal_id, ord, question_id, reason) VALUES ($1, $2, $3, $4)`,
				a.ID, i, q.QuestionID, q.Reason); err != nil {
				return fmt.Errorf("insert appeal question: %w", err)
			}
			for _, e := range q.Evidence {
				if _, err := tx.Exec(ctx, `INSERT INTO appeal_evidence (appeal_id, question_id, idx, sha256, size, content_type, file_name, verified_at)
					VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT $8::timestamptz FROM verified_blobs WHERE sha256 = $4))`,
					a.ID, q.QuestionID, e.Index, e.SHA256, e.Size, e.ContentType, e.FileName, tx.now); err != nil {
					return fmt.Errorf("insert appeal evidence: %w", err)
				}
			}
		}
		a.FiledAt, a.State = tx.now, audit.AppealOpen
		return nil
	})
}

var appealSelect = `SELECT a.id, a.visit_id, a.store_id, a.staff_id, a.visited_at, a.filed_by, a.filed_role, a.filed_at, a.deadline,
	a.state, COALESCE(a.ruled_by, ''), a.ruled_role, a.ruled_at, a.score_before, a.score_after,
	COALESCE(st.code, ''), COALESCE(st.name, ''), COALESCE(sf.name, ''), COALESCE(sf.employee_number, ''),
	` + userName("a.filed_by") + `, ` + userName("a.ruled_by") + `
	FROM appeals a LEFT JOIN stores st ON st.id = a.store_id LEFT JOIN staff sf ON sf.id = a.staff_id`

func scanAppeal(row pgx.Row) (*audit.Appeal, error) {
	a := &audit.Appeal{}
	var ruled *time.Time
	var filedRole, ruledRole, state string
	if err := row.Scan(&a.ID, &a.VisitID, &a.StoreID, &a.StaffID, &a.VisitedAt, &a.FiledBy, &filedRole, &a.FiledAt, &a.Deadline,
		&state, &a.RuledBy, &ruledRole, &ruled, &a.ScoreBefore, &a.ScoreAfter,
		&a.StoreCode, &a.StoreName, &a.StaffName, &a.StaffNumber, &a.FiledByName, &a.RuledByName); err != nil {
		return nil, err
	}
	a.VisitedAt, a.FiledAt, a.Deadline, a.RuledAt = a.VisitedAt.UTC(), a.FiledAt.UTC(), a.Deadline.UTC(), timeOf(ruled).UTC()
	if ruled == nil {
		a.RuledAt = time.Time{}
	}
	a.FiledRole, a.RuledRole, a.State = audit.Role(filedRole), audit.Role(ruledRole), audit.AppealState(state)
	if a.RuledBy == "" {
		a.RuledByName = ""
	}
	return a, nil
}

// appealQuestions reads the questions and evidence of the appeals, in
// place.
func appealQuestions(ctx context.Context, tx *Tx, appeals []*audit.Appeal) error {
	for _, a := range appeals {
		rs, err := tx.Query(ctx, `SELECT question_id, reason, outcome, amended_answer, ruling_reason FROM appeal_questions
			WHERE appeal_id = $1 ORDER BY ord`, a.ID)
		if err != nil {
			return fmt.Errorf("appeal questions: %w", err)
		}
		qs, err := pgx.CollectRows(rs, func(row pgx.CollectableRow) (audit.AppealQuestion, error) {
			var q audit.AppealQuestion
			var outcome string
			var amended []byte
			if err := row.Scan(&q.QuestionID, &q.Reason, &outcome, &amended, &q.RulingReason); err != nil {
				return q, err
			}
			q.Outcome = audit.AppealOutcome(outcome)
			if amended != nil {
				q.Amended = &audit.Answer{}
				if err := json.Unmarshal(amended, q.Amended); err != nil {
					return q, fmt.Errorf("appeal %s: decode amended answer: %w", a.ID, err)
				}
			}
			return q, nil
		})
		if err != nil {
			return fmt.Errorf("appeal questions: %w", err)
		}
		rs, err = tx.Query(ctx, `SELECT question_id, idx, sha256, size, content_type, file_name, verified_at IS NOT NULL FROM appeal_evidence
			WHERE appeal_id = $1 ORDER BY question_id COLLATE "C", idx`, a.ID)
		if err != nil {
			return fmt.Errorf("appeal evidence: %w", err)
		}
		type file struct {
			q string
			e audit.AppealEvidence
		}
		files, err := pgx.CollectRows(rs, func(row pgx.CollectableRow) (file, error) {
			var f file
			err := row.Scan(&f.q, &f.e.Index, &f.e.SHA256, &f.e.Size, &f.e.ContentType, &f.e.FileName, &f.e.Verified)
			return f, err
		})
		if err != nil {
			return fmt.Errorf("appeal evidence: %w", err)
		}
		for _, f := range files {
			for i := range qs {
				if qs[i].QuestionID == f.q {
					qs[i].Evidence = append(qs[i].Evidence, f.e)
				}
			}
		}
		a.Questions = qs
	}
	return nil
}

// Find returns an appeal in scope (storage.Appeals). Errors: ENOTFOUND.
func (r appealRows) Find(ctx context.Context, scope audit.Scope, id string) (*audit.Appeal, error) {
	return query(ctx, r.rows, func(tx *Tx) (*audit.Appeal, error) {
		var a args
		q := appealSelect + ` WHERE a.id = ` + a.add(id) + ` AND ` + appealScope(&a, scope)
		ap, err := scanAppeal(tx.QueryRow(ctx, q, a...))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "appeal %q not found", id)
		} else if err != nil {
			return nil, fmt.Errorf("find appeal: %w", err)
		}
		return ap, appealQuestions(ctx, tx, []*audit.Appeal{ap})
	})
}

// List returns the appeals that match (storage.Appeals): open ones by
// deadline, then closed ones newest ruling first.
func (r appealRows) List(ctx context.Context, f storage.AppealFilter) ([]*audit.Appeal, error) {
	var a args
	where := []string{appealScope(&a, f.Scope)}
	if f.State != "" {
		where = append(where, `a.state = `+a.add(string(f.State)))
	}
	if m := f.Mine; m.StaffID != "" || m.FiledBy != "" {
		where = append(where, `(a.staff_id = `+a.add(m.StaffID)+` AND a.staff_id <> '' OR a.filed_by = `+a.add(m.FiledBy)+`)`)
	}
	if f.VisitID != "" {
		where = append(where, `a.visit_id = `+a.add(f.VisitID))
	}
	if f.StoreID != "" {
		where = append(where, `a.store_id = `+a.add(f.StoreID))
	}
	if f.Region != "" {
		where = append(where, `a.store_id IN (SELECT id FROM stores WHERE region = `+a.add(f.Region)+`)`)
	}
	if !f.VisitFrom.IsZero() {
		where = append(where, `a.visited_at >= `+a.add(ms(f.VisitFrom)))
	}
	if !f.VisitTo.IsZero() {
		where = append(where, `a.visited_at < `+a.add(ms(f.VisitTo)))
	}
	if !f.RuledAfter.IsZero() {
		where = append(where, `a.ruled_at > `+a.add(ms(f.RuledAfter)))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := appealSelect + ` WHERE ` + strings.Join(where, ` AND `) + ` ORDER BY a.state = 'closed',
		CASE WHEN a.state = 'open' THEN a.deadline END, a.ruled_at DESC NULLS LAST, a.id COLLATE "C" LIMIT ` + a.add(min(limit, 1000))
	return query(ctx, r.rows, func(tx *Tx) ([]*audit.Appeal, error) {
		rs, err := tx.Query(ctx, q, a...)
		if err != nil {
			return nil, fmt.Errorf("list appeals: %w", err)
		}
		out, err := pgx.CollectRows(rs, func(row pgx.CollectableRow) (*audit.Appeal, error) { return scanAppeal(row) })
		if err != nil {
			return nil, fmt.Errorf("list appeals: %w", err)
		}
		return out, appealQuestions(ctx, tx, out)
	})
}

// Rule stores an appeal's rulings and closes it (storage.Appeals).
// Errors: EPRECONDITION (it is not open any more).
func (r appealRows) Rule(ctx context.Context, a *audit.Appeal) error {
	return r.write(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE appeals SET state = 'closed', ruled_by = $1, ruled_role = $2, ruled_at = $3, score_before = $4,
			score_after = $5 WHERE id = $6 AND state = 'open'`, a.RuledBy, string(a.RuledRole), tx.now, a.ScoreBefore, a.ScoreAfter, a.ID)
		if err != nil {
			return fmt.Errorf("rule appeal: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return audit.Errorf(audit.EPRECONDITION, "appeal %s is not open any more", a.ID)
		}
		for _, q := range a.Questions {
			var amended []byte
			if q.Amended != nil {
				if amended, err = json.Marshal(q.Amended); err != nil {
					return fmt.Errorf("encode amended answer: %w", err)
				}
			}
			if _, err := tx.Exec(ctx, `UPDATE appeal_questions SET outcome = $1, amended_answer = $2, ruling_reason = $3
				WHERE appeal_id = $4 AND question_id = $5`, string(q.Outcome), amended, q.RulingReason, a.ID, q.QuestionID); err != nil {
				return fmt.Errorf("rule appeal question: %w", err)
			}
		}
		a.RuledAt, a.State = tx.now, audit.AppealClosed
		return nil
	})
}

// Amendments returns a visit's upheld amended answers in ruling order
// (storage.Appeals).
func (r appealRows) Amendments(ctx context.Context, visitID string) ([]audit.Answer, error) {
	return selectAll(ctx, r.rows, "visit "+visitID+" amendments", func(row pgx.Row) (audit.Answer, error) {
		var a audit.Answer
		var b []byte
		if err := row.Scan(&b); err != nil {
			return a, err
		}
		return a, json.Unmarshal(b, &a)
	}, `SELECT q.amended_answer FROM appeals a JOIN appeal_questions q ON q.appeal_id = a.id
		WHERE a.visit_id = $1 AND a.state = 'closed' AND q.outcome = 'upheld' AND q.amended_answer IS NOT NULL
		ORDER BY a.ruled_at, a.id COLLATE "C", q.ord`, visitID)
}

// Reviewers returns the users who took review actions on a visit
// (storage.Appeals).
func (r appealRows) Reviewers(ctx context.Context, visitID string) (map[string]string, error) {
	type reviewer struct{ id, name string }
	rs, err := selectAll(ctx, r.rows, "visit "+visitID+" reviewers", func(row pgx.Row) (reviewer, error) {
		var x reviewer
		err := row.Scan(&x.id, &x.name)
		return x, err
	}, `SELECT DISTINCT t.actor_id, `+userName("t.actor_id")+` FROM visit_transitions t
		WHERE t.visit_id = $1 AND t.actor_id <> '' AND t.actor_role NOT IN ('shopper', 'system')
		AND t.to_state IN ('in_review', 'approved', 'returned', 'published') AND t.from_state <> t.to_state`, visitID)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, x := range rs {
		out[x.id] = x.name
	}
	return out, nil
}

// FindEvidence returns one evidence file of an appeal in scope
// (storage.Appeals). Errors: ENOTFOUND.
func (r appealRows) FindEvidence(ctx context.Context, scope audit.Scope, appealID, questionID string, index int) (*audit.AppealEvidence, error) {
	var a args
	q := `SELECT e.idx, e.sha256, e.size, e.content_type, e.file_name, e.verified_at IS NOT NULL
		FROM appeal_evidence e JOIN appeals a ON a.id = e.appeal_id WHERE e.appeal_id = ` + a.add(appealID) +
		` AND e.question_id = ` + a.add(questionID) + ` AND e.idx = ` + a.add(index) + ` AND ` + appealScope(&a, scope)
	return selectOne(ctx, r.rows, "find appeal evidence", fmt.Sprintf("appeal %q has no evidence %s[%d]", appealID, questionID, index),
		func(row pgx.Row) (*audit.AppealEvidence, error) {
			var e audit.AppealEvidence
			err := row.Scan(&e.Index, &e.SHA256, &e.Size, &e.ContentType, &e.FileName, &e.Verified)
			return &e, err
		}, q, a...)
}

// MarkEvidenceVerified marks the evidence files of sha verified
// (storage.Appeals).
func (r appealRows) MarkEvidenceVerified(ctx context.Context, sha string) (int, error) {
	var n int64
	err := r.write(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE appeal_evidence SET verified_at = $1 WHERE sha256 = $2 AND verified_at IS NULL`, tx.now, sha)
		if err != nil {
			return fmt.Errorf("mark appeal evidence verified: %w", err)
		}
		n = tag.RowsAffected()
		return nil
	})
	return int(n), err
}
