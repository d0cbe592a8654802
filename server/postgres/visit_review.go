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

// The review queue's queries of storage.Visits.

// history returns the recorded changes of a visit's state, oldest first.
func history(ctx context.Context, tx *Tx, visitID string) ([]storage.Transition, error) {
	rows, err := tx.Query(ctx, `SELECT from_state, to_state, actor_id, actor_role, at, reason, comments
		FROM visit_transitions WHERE visit_id = $1 ORDER BY id`, visitID)
	if err != nil {
		return nil, fmt.Errorf("visit history: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.Transition, error) {
		var t storage.Transition
		var from, to string
		var comments []byte
		if err := row.Scan(&from, &to, &t.ActorID, &t.ActorRole, &t.At, &t.Reason, &comments); err != nil {
			return t, err
		}
		t.From, t.To = audit.VisitState(from), audit.VisitState(to)
		if err := json.Unmarshal(comments, &t.Comments); err != nil {
			return t, fmt.Errorf("decode comments: %w", err)
		}
		return t, nil
	})
	if err != nil {
		return nil, fmt.Errorf("visit history: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// returnComments returns the comments of the visit's latest return.
func returnComments(ctx context.Context, tx *Tx, visitID string) ([]audit.ReviewComment, error) {
	var comments []byte
	err := tx.QueryRow(ctx, `SELECT comments FROM visit_transitions WHERE visit_id = $1 AND to_state = 'returned' ORDER BY id DESC LIMIT 1`,
		visitID).Scan(&comments)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("find return comments: %w", err)
	}
	var out []audit.ReviewComment
	if err := json.Unmarshal(comments, &out); err != nil {
		return nil, fmt.Errorf("decode comments: %w", err)
	}
	return out, nil
}

// visitScope returns the condition selecting the visits (aliased v) in
// scope: a shopper's own visits, a manager's stores, or all.
func visitScope(a *args, sc audit.Scope) string {
	if sc.ShopperID != "" {
		return `v.shopper_id = ` + a.add(sc.ShopperID)
	}
	return storeScope(a, sc, "v.store_id")
}

const visitSummaryColumns = `v.id, v.store_id, v.shopper_id, COALESCE(v.assignment_id, ''), v.checklist_id, v.checklist_version,
	v.channel, v.state, v.score_percent, v.flags, v.proof_flags, v.started_at, v.received_at, COALESCE(v.corrects_visit_id, ''),
	COALESCE((SELECT c.id FROM visits c WHERE c.corrects_visit_id = v.id), ''),
	(SELECT count(*) FROM visit_photos p WHERE p.visit_id = v.id AND p.verified_at IS NULL),
	v.finished_at, st.code, st.name, COALESCE(rv.staff_id, ''), COALESCE(sf.name, ''), COALESCE(sf.employee_number, ''),
	COALESCE(cv.name, ''), COALESCE(sh.display_name, '')`

// visitSummaryFrom joins what visitSummaryColumns names, the visit aliased v.
const visitSummaryFrom = ` FROM visits v
	JOIN stores st ON st.id = v.store_id
	LEFT JOIN report_visits rv ON rv.visit_id = v.id
	LEFT JOIN staff sf ON sf.id = rv.staff_id AND rv.staff_id <> ''
	LEFT JOIN checklist_versions cv ON cv.checklist_id = v.checklist_id AND cv.version = v.checklist_version
	LEFT JOIN users sh ON sh.id = v.shopper_id`

func scanVisitSummary(row pgx.Row) (*storage.VisitSummary, error) {
	var s storage.VisitSummary
	var channel, state string
	var flags, proof []byte
	var finished *time.Time
	if err := row.Scan(&s.ID, &s.StoreID, &s.ShopperID, &s.AssignmentID, &s.ChecklistID, &s.ChecklistVersion, &channel, &state,
		&s.ScorePercent, &flags, &proof, &s.StartedAt, &s.ReceivedAt, &s.CorrectsVisitID, &s.CorrectedByVisitID, &s.MissingPhotos,
		&finished, &s.StoreCode, &s.StoreName, &s.StaffID, &s.StaffName, &s.StaffNumber, &s.ChecklistName, &s.ShopperName); err != nil {
		return nil, err
	}
	s.Channel, s.State, s.FinishedAt = audit.Channel(channel), audit.VisitState(state), timeOf(finished)
	if err := json.Unmarshal(flags, &s.Flags); err != nil {
		return nil, fmt.Errorf("visit %s: decode flags: %w", s.ID, err)
	}
	if err := json.Unmarshal(proof, &s.ProofFlags); err != nil {
		return nil, fmt.Errorf("visit %s: decode proof flags: %w", s.ID, err)
	}
	return &s, nil
}

// flagged is the condition of a visit (aliased v) with proof flags.
const flagged = `(v.proof_flags <> '[]'::jsonb)`

// visitWhere returns the condition of every filter of f but its state and
// cursor, adding its arguments to a.
func visitWhere(a *args, f storage.VisitFilter) string {
	q := visitScope(a, f.Scope)
	add := func(clause string) { q += ` AND ` + clause }
	if f.StoreID != "" {
		add(`v.store_id = ` + a.add(f.StoreID))
	}
	if f.FlaggedOnly {
		add(flagged)
	}
	if !f.From.IsZero() {
		add(`v.received_at >= ` + a.add(ms(f.From)))
	}
	if !f.To.IsZero() {
		add(`v.received_at < ` + a.add(ms(f.To)))
	}
	if !f.VisitFrom.IsZero() {
		add(`v.started_at >= ` + a.add(ms(f.VisitFrom)))
	}
	if !f.VisitTo.IsZero() {
		add(`v.started_at < ` + a.add(ms(f.VisitTo)))
	}
	if f.StaffID != "" {
		add(`v.id IN (SELECT visit_id FROM report_visits WHERE staff_id = ` + a.add(f.StaffID) + `)`)
	}
	if f.ChecklistID != "" {
		add(`v.checklist_id = ` + a.add(f.ChecklistID))
	}
	if f.ShopperID != "" {
		add(`v.shopper_id = ` + a.add(f.ShopperID))
	}
	if f.Flag != "" {
		p := a.add(f.Flag)
		add(`(v.proof_flags @> jsonb_build_array(jsonb_build_object('code', ` + p + `::text)) OR v.flags @> jsonb_build_array(` + p + `::text))`)
	}
	return q
}

// List returns the visits in scope matching f, newest first
// (storage.Visits).
func (r visitRows) List(ctx context.Context, f storage.VisitFilter) ([]*storage.VisitSummary, error) {
	var a args
	q := visitWhere(&a, f)
	if f.State != "" {
		q += ` AND v.state = ` + a.add(string(f.State))
	}
	order := ` ORDER BY v.received_at DESC, v.id DESC`
	if f.FlaggedFirst {
		order = ` ORDER BY ` + flagged + ` DESC, v.received_at DESC, v.id DESC`
	}
	if c := f.After; c.ID != "" {
		received := a.add(ms(c.Received))
		after := `(v.received_at < ` + received + ` OR (v.received_at = ` + received + ` AND v.id < ` + a.add(c.ID) + `))`
		if f.FlaggedFirst {
			// Past the cursor: its group's later rows, or the unflagged
			// group when the cursor is in the flagged one.
			after = `(` + flagged + ` = ` + a.add(c.Flagged) + ` AND ` + after + `)`
			if c.Flagged {
				after = `(` + after + ` OR NOT ` + flagged + `)`
			}
		}
		q += ` AND ` + after
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	out, err := selectAll(ctx, r.rows, "list visits", scanVisitSummary,
		`SELECT `+visitSummaryColumns+visitSummaryFrom+` WHERE `+q+order+` LIMIT `+a.add(limit), a...)
	if len(out) == 0 {
		return nil, err
	}
	return out, err
}

// CountStates returns, per state, how many visits in scope match every
// filter of f but its state and cursor (storage.Visits).
func (r visitRows) CountStates(ctx context.Context, f storage.VisitFilter) (map[audit.VisitState]int64, error) {
	var a args
	q := visitWhere(&a, f)
	type count struct {
		state string
		n     int64
	}
	rows, err := selectAll(ctx, r.rows, "count visits", func(row pgx.Row) (count, error) {
		var c count
		return c, row.Scan(&c.state, &c.n)
	}, `SELECT v.state, count(*) FROM visits v WHERE `+q+` GROUP BY v.state`, a...)
	if err != nil {
		return nil, err
	}
	out := map[audit.VisitState]int64{}
	for _, c := range rows {
		out[audit.VisitState(c.state)] = c.n
	}
	return out, nil
}

// FindSummary returns a visit in scope as review lists show it
// (storage.Visits).
func (r visitRows) FindSummary(ctx context.Context, scope audit.Scope, id string) (*storage.VisitSummary, error) {
	return query(ctx, r.rows, func(tx *Tx) (*storage.VisitSummary, error) { return findVisitSummary(ctx, tx, scope, id) })
}

func findVisitSummary(ctx context.Context, tx *Tx, scope audit.Scope, id string) (*storage.VisitSummary, error) {
	a := args{id}
	cond := visitScope(&a, scope)
	s, err := scanVisitSummary(tx.QueryRow(ctx, `SELECT `+visitSummaryColumns+visitSummaryFrom+` WHERE v.id = $1 AND `+cond, a...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, audit.Errorf(audit.ENOTFOUND, "visit %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find visit: %w", err)
	}
	return s, nil
}

// FindDetail returns a visit in scope with its answers, score, photos and
// history, read in the rows' one snapshot (storage.Visits).
func (r visitRows) FindDetail(ctx context.Context, scope audit.Scope, id string) (*storage.VisitDetail, error) {
	return query(ctx, r.rows, func(tx *Tx) (*storage.VisitDetail, error) {
		var d storage.VisitDetail
		s, err := findVisitSummary(ctx, tx, scope, id)
		if err != nil {
			return nil, err
		}
		d.VisitSummary = *s
		var body, score []byte
		if err := tx.QueryRow(ctx, `SELECT body, score FROM visits WHERE id = $1`, id).Scan(&body, &score); err != nil {
			return nil, fmt.Errorf("read visit: %w", err)
		}
		d.Visit, d.Score = &audit.Visit{}, &audit.VisitScore{}
		if err := json.Unmarshal(body, d.Visit); err != nil {
			return nil, fmt.Errorf("visit %s: decode: %w", id, err)
		}
		d.StaffDescription = d.Visit.StaffDescription
		if d.Checklist, err = tx.Checklists().Find(ctx, s.ChecklistID, s.ChecklistVersion); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(score, d.Score); err != nil {
			return nil, fmt.Errorf("visit %s: decode score: %w", id, err)
		}
		rows, err := tx.Query(ctx, `SELECT question_id, idx, sha256, size, content_type, verified_at IS NOT NULL
			FROM visit_photos WHERE visit_id = $1 ORDER BY ord`, id)
		if err != nil {
			return nil, fmt.Errorf("visit photos: %w", err)
		}
		if d.Photos, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.PhotoStatus, error) {
			var p storage.PhotoStatus
			return p, row.Scan(&p.QuestionID, &p.Index, &p.SHA256, &p.Size, &p.ContentType, &p.Verified)
		}); err != nil {
			return nil, fmt.Errorf("visit photos: %w", err)
		}
		if len(d.Photos) == 0 {
			d.Photos = nil
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

// ListForStaff returns the visits in one of f.States that name f.StaffID,
// and those that name nobody made at one of f.StoreIDs, visited in
// [f.From, f.To), newest first, at most f.Limit (500 if zero)
// (storage.Visits). Both halves read report_visits by its staff index.
func (r visitRows) ListForStaff(ctx context.Context, f storage.StaffVisitFilter) ([]*storage.VisitSummary, error) {
	if len(f.States) == 0 {
		return nil, nil
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 500
	}
	var a args
	from, to := ms(f.From), ms(f.To)
	named := `SELECT visit_id FROM report_visits WHERE staff_id = ` + a.add(f.StaffID) +
		` AND visited_at >= ` + a.add(from) + ` AND visited_at < ` + a.add(to)
	if len(f.StoreIDs) > 0 {
		named += ` UNION ALL SELECT visit_id FROM report_visits WHERE staff_id = '' AND store_id = ANY(` + a.add(f.StoreIDs) +
			`) AND visited_at >= ` + a.add(from) + ` AND visited_at < ` + a.add(to)
	}
	states := make([]string, len(f.States))
	for i, st := range f.States {
		states[i] = string(st)
	}
	out, err := selectAll(ctx, r.rows, "list staff visits", scanVisitSummary,
		`SELECT `+visitSummaryColumns+visitSummaryFrom+` WHERE v.id IN (`+named+`) AND v.state = ANY(`+a.add(states)+`)
		ORDER BY rv.visited_at DESC, v.id COLLATE "C" DESC LIMIT `+a.add(limit), a...)
	if len(out) == 0 {
		return nil, err
	}
	return out, err
}
