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

// Transition is one recorded change of a visit's state; the name this
// package's code uses for storage.Transition.
type Transition = storage.Transition

// addTransition records a change of a visit's state in tx.
func addTransition(ctx context.Context, tx *Tx, visitID string, t Transition) error {
	comments, err := json.Marshal(t.Comments)
	if err != nil {
		return fmt.Errorf("encode comments: %w", err)
	}
	if t.Comments == nil {
		comments = []byte("[]")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO visit_transitions (visit_id, from_state, to_state, actor_id, actor_role, at, reason, comments)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, visitID, string(t.From), string(t.To), t.ActorID, t.ActorRole, millis(tx.now), t.Reason, string(comments)); err != nil {
		return fmt.Errorf("record visit transition: %w", err)
	}
	return nil
}

func history(ctx context.Context, tx *Tx, visitID string) ([]Transition, error) {
	return queryAll(ctx, tx, func(row scanner) (Transition, error) {
		var t Transition
		var from, to, comments string
		var at int64
		if err := row.Scan(&from, &to, &t.ActorID, &t.ActorRole, &at, &t.Reason, &comments); err != nil {
			return t, err
		}
		t.From, t.To, t.At = audit.VisitState(from), audit.VisitState(to), fromMillis(at)
		if err := json.Unmarshal([]byte(comments), &t.Comments); err != nil {
			return t, fmt.Errorf("decode comments: %w", err)
		}
		return t, nil
	}, `SELECT from_state, to_state, actor_id, actor_role, at, reason, comments FROM visit_transitions WHERE visit_id = ? ORDER BY id`, visitID)
}

// returnComments returns the comments of the visit's latest return.
func returnComments(ctx context.Context, tx *Tx, visitID string) ([]audit.ReviewComment, error) {
	var comments string
	err := tx.QueryRowContext(ctx, `SELECT comments FROM visit_transitions WHERE visit_id = ? AND to_state = 'returned' ORDER BY id DESC LIMIT 1`,
		visitID).Scan(&comments)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("find return comments: %w", err)
	}
	var out []audit.ReviewComment
	if err := json.Unmarshal([]byte(comments), &out); err != nil {
		return nil, fmt.Errorf("decode comments: %w", err)
	}
	return out, nil
}

// visitScope returns the SQL condition selecting the visits (aliased v) in
// scope: a manager's stores, a shopper's own visits, or all.
func visitScope(sc audit.Scope) (string, []any) {
	if sc.ShopperID != "" {
		return `v.shopper_id = ?`, []any{sc.ShopperID}
	}
	return storeScope(sc, "v.store_id")
}

const visitSummaryColumns = `v.id, v.store_id, v.shopper_id, COALESCE(v.assignment_id, ''), v.checklist_id, v.checklist_version,
	v.channel, v.state, v.score_percent, v.flags, v.proof_flags, v.started_at, v.received_at, COALESCE(v.corrects_visit_id, ''),
	COALESCE((SELECT c.id FROM visits c WHERE c.corrects_visit_id = v.id), ''),
	(SELECT COUNT(*) FROM visit_photos p WHERE p.visit_id = v.id AND p.verified_at IS NULL),
	COALESCE(v.finished_at, 0), st.code, st.name, COALESCE(rv.staff_id, ''), COALESCE(sf.name, ''), COALESCE(sf.employee_number, ''),
	COALESCE(cv.name, ''), COALESCE(sh.display_name, '')`

// visitSummaryFrom joins what visitSummaryColumns names, the visit aliased v.
const visitSummaryFrom = ` FROM visits v
	JOIN stores st ON st.id = v.store_id
	LEFT JOIN report_visits rv ON rv.visit_id = v.id
	LEFT JOIN staff sf ON sf.id = rv.staff_id AND rv.staff_id <> ''
	LEFT JOIN checklist_versions cv ON cv.checklist_id = v.checklist_id AND cv.version = v.checklist_version
	LEFT JOIN users sh ON sh.id = v.shopper_id`

func scanVisitSummary(row scanner) (*storage.VisitSummary, error) {
	var s storage.VisitSummary
	var channel, state, flags, proof string
	var percent sql.NullFloat64
	var started, received, finished int64
	if err := row.Scan(&s.ID, &s.StoreID, &s.ShopperID, &s.AssignmentID, &s.ChecklistID, &s.ChecklistVersion, &channel, &state,
		&percent, &flags, &proof, &started, &received, &s.CorrectsVisitID, &s.CorrectedByVisitID, &s.MissingPhotos,
		&finished, &s.StoreCode, &s.StoreName, &s.StaffID, &s.StaffName, &s.StaffNumber, &s.ChecklistName, &s.ShopperName); err != nil {
		return nil, err
	}
	s.Channel, s.State = audit.Channel(channel), audit.VisitState(state)
	s.StartedAt, s.ReceivedAt = fromMillis(started), fromMillis(received)
	if finished != 0 {
		s.FinishedAt = fromMillis(finished)
	}
	if percent.Valid {
		p := percent.Float64
		s.ScorePercent = &p
	}
	if err := json.Unmarshal([]byte(flags), &s.Flags); err != nil {
		return nil, fmt.Errorf("visit %s: decode flags: %w", s.ID, err)
	}
	if err := json.Unmarshal([]byte(proof), &s.ProofFlags); err != nil {
		return nil, fmt.Errorf("visit %s: decode proof flags: %w", s.ID, err)
	}
	return &s, nil
}

// visitWhere returns the SQL condition of every filter of f but its state
// and cursor, with its arguments.
func visitWhere(f storage.VisitFilter) (string, []any) {
	q, args := visitScope(f.Scope)
	add := func(clause string, v ...any) {
		q += ` AND ` + clause
		args = append(args, v...)
	}
	if f.StoreID != "" {
		add(`v.store_id = ?`, f.StoreID)
	}
	if f.FlaggedOnly {
		add(`v.proof_flags <> '[]'`)
	}
	if !f.From.IsZero() {
		add(`v.received_at >= ?`, millis(f.From))
	}
	if !f.To.IsZero() {
		add(`v.received_at < ?`, millis(f.To))
	}
	if !f.VisitFrom.IsZero() {
		add(`v.started_at >= ?`, millis(f.VisitFrom))
	}
	if !f.VisitTo.IsZero() {
		add(`v.started_at < ?`, millis(f.VisitTo))
	}
	if f.StaffID != "" {
		add(`v.id IN (SELECT visit_id FROM report_visits WHERE staff_id = ?)`, f.StaffID)
	}
	if f.ChecklistID != "" {
		add(`v.checklist_id = ?`, f.ChecklistID)
	}
	if f.ShopperID != "" {
		add(`v.shopper_id = ?`, f.ShopperID)
	}
	if f.Flag != "" {
		add(`(EXISTS (SELECT 1 FROM json_each(v.proof_flags) j WHERE json_extract(j.value, '$.code') = ?)
			OR EXISTS (SELECT 1 FROM json_each(v.flags) j WHERE j.value = ?))`, f.Flag, f.Flag)
	}
	return q, args
}

// List returns the visits in scope matching f, newest first
// (storage.Visits).
func (r visitRows) List(ctx context.Context, f storage.VisitFilter) ([]*storage.VisitSummary, error) {
	q, args := visitWhere(f)
	if f.State != "" {
		q += ` AND v.state = ?`
		args = append(args, string(f.State))
	}
	order := ` ORDER BY v.received_at DESC, v.id DESC`
	if f.FlaggedFirst {
		order = ` ORDER BY (v.proof_flags <> '[]') DESC, v.received_at DESC, v.id DESC`
	}
	if c := f.After; c.ID != "" {
		after := `(v.received_at < ? OR (v.received_at = ? AND v.id < ?))`
		cargs := []any{millis(c.Received), millis(c.Received), c.ID}
		if f.FlaggedFirst {
			// Past the cursor: its group's later rows, or the unflagged
			// group when the cursor is in the flagged one.
			after = `((v.proof_flags <> '[]') = ? AND ` + after + `)`
			cargs = append([]any{c.Flagged}, cargs...)
			if c.Flagged {
				after = `(` + after + ` OR v.proof_flags = '[]')`
			}
		}
		q += ` AND ` + after
		args = append(args, cargs...)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	return get(ctx, r.rows, func(tx *Tx) ([]*storage.VisitSummary, error) {
		out, err := queryAll(ctx, tx, scanVisitSummary, `SELECT `+visitSummaryColumns+visitSummaryFrom+` WHERE `+q+order+` LIMIT ?`, append(args, limit)...)
		if err != nil {
			return nil, fmt.Errorf("list visits: %w", err)
		}
		return out, nil
	})
}

// CountStates returns, per state, how many visits in scope match every
// filter of f but its state and cursor (storage.Visits).
func (r visitRows) CountStates(ctx context.Context, f storage.VisitFilter) (map[audit.VisitState]int64, error) {
	q, args := visitWhere(f)
	type row struct {
		state string
		n     int64
	}
	return get(ctx, r.rows, func(tx *Tx) (map[audit.VisitState]int64, error) {
		rows, err := queryAll(ctx, tx, func(r scanner) (row, error) {
			var x row
			return x, r.Scan(&x.state, &x.n)
		}, `SELECT v.state, COUNT(*) FROM visits v WHERE `+q+` GROUP BY v.state`, args...)
		if err != nil {
			return nil, fmt.Errorf("count visits: %w", err)
		}
		out := map[audit.VisitState]int64{}
		for _, r := range rows {
			out[audit.VisitState(r.state)] = r.n
		}
		return out, nil
	})
}

// FindSummary returns a visit in scope as review lists show it
// (storage.Visits).
func (r visitRows) FindSummary(ctx context.Context, scope audit.Scope, id string) (*storage.VisitSummary, error) {
	return get(ctx, r.rows, func(tx *Tx) (*storage.VisitSummary, error) { return findVisitSummary(ctx, tx, scope, id) })
}

func findVisitSummary(ctx context.Context, tx *Tx, scope audit.Scope, id string) (*storage.VisitSummary, error) {
	cond, args := visitScope(scope)
	s, err := scanVisitSummary(tx.QueryRowContext(ctx, `SELECT `+visitSummaryColumns+visitSummaryFrom+` WHERE v.id = ? AND `+cond,
		append([]any{id}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, audit.Errorf(audit.ENOTFOUND, "visit %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find visit: %w", err)
	}
	return s, nil
}

// FindDetail returns a visit in scope with its answers, score, photos and
// history, read from one snapshot (storage.Visits).
func (r visitRows) FindDetail(ctx context.Context, scope audit.Scope, id string) (*storage.VisitDetail, error) {
	return get(ctx, r.rows, func(tx *Tx) (*storage.VisitDetail, error) {
		var d storage.VisitDetail
		s, err := findVisitSummary(ctx, tx, scope, id)
		if err != nil {
			return nil, err
		}
		d.VisitSummary = *s
		var body, score []byte
		if err := tx.QueryRowContext(ctx, `SELECT body, score FROM visits WHERE id = ?`, id).Scan(&body, &score); err != nil {
			return nil, fmt.Errorf("read visit: %w", err)
		}
		d.Visit, d.Score = &audit.Visit{}, &audit.VisitScore{}
		if err := unpackJSON(body, d.Visit); err != nil {
			return nil, fmt.Errorf("visit %s: decode: %w", id, err)
		}
		d.StaffDescription = d.Visit.StaffDescription
		if d.Checklist, err = findVersion(ctx, tx, s.ChecklistID, s.ChecklistVersion); err != nil {
			return nil, err
		}
		if err := unpackJSON(score, d.Score); err != nil {
			return nil, fmt.Errorf("visit %s: decode score: %w", id, err)
		}
		if d.Photos, err = queryAll(ctx, tx, func(row scanner) (storage.PhotoStatus, error) {
			var p storage.PhotoStatus
			err := row.Scan(&p.QuestionID, &p.Index, &p.SHA256, &p.Size, &p.ContentType, &p.Verified)
			return p, err
		}, `SELECT question_id, idx, sha256, size, content_type, verified_at IS NOT NULL FROM visit_photos WHERE visit_id = ? ORDER BY rowid`, id); err != nil {
			return nil, fmt.Errorf("visit photos: %w", err)
		}
		if d.History, err = history(ctx, tx, id); err != nil {
			return nil, err
		}
		if d.ActorNames, err = storage.ActorNames(ctx, tx.Users(), d.History); err != nil {
			return nil, err
		}
		if d.Comments, err = returnComments(ctx, tx, id); err != nil {
			return nil, err
		}
		return &d, nil
	})
}

// ListForStaff returns the visits in f.States that name f.StaffID or,
// made at one of f.StoreIDs, name nobody, visited in [f.From, f.To),
// newest first (storage.Visits).
func (r visitRows) ListForStaff(ctx context.Context, f storage.StaffVisitFilter) ([]*storage.VisitSummary, error) {
	if len(f.States) == 0 {
		return nil, nil
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 500
	}
	from, to := millis(f.From), millis(f.To)
	q := `SELECT visit_id FROM report_visits WHERE staff_id = ? AND visited_at >= ? AND visited_at < ?`
	args := []any{f.StaffID, from, to}
	if len(f.StoreIDs) > 0 {
		q += ` UNION ALL SELECT visit_id FROM report_visits WHERE staff_id = '' AND store_id IN (?` + strings.Repeat(`, ?`, len(f.StoreIDs)-1) + `)
			AND visited_at >= ? AND visited_at < ?`
		for _, id := range f.StoreIDs {
			args = append(args, id)
		}
		args = append(args, from, to)
	}
	q = `SELECT ` + visitSummaryColumns + visitSummaryFrom + ` WHERE v.id IN (` + q + `) AND v.state IN (?` + strings.Repeat(`, ?`, len(f.States)-1) + `)`
	for _, st := range f.States {
		args = append(args, string(st))
	}
	q += ` ORDER BY rv.visited_at DESC, v.id DESC LIMIT ?`
	args = append(args, limit)
	return selectAll(ctx, r.rows, "list staff visits", scanVisitSummary, q, args...)
}
