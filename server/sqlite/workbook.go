package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/storage"
)

// The audit workbook's queries on SQLite (storage.AuditReports): package
// app plans the workbook and writes it; these only read.

// auditFrom joins what every audit workbook query reads: the indexed
// visit r, the visit v (its review state) and its store s, in that order
// (reportVisitsFrom), then the extra joins given (CROSS JOIN keeps the
// order); its WHERE clause takes the period's two bounds and ends in AND,
// for the selection's condition.
func auditFrom(joins string) string { return periodFrom(audit.AuditStates, joins) }

// periodFrom is auditFrom for visits in the given states (audit.AuditStates or
// audit.BonusStates); the dashboards share it.
func periodFrom(states []VisitState, joins string) string {
	return reportVisitsFrom + ` CROSS JOIN stores s ON s.id = r.store_id ` + joins + `
	WHERE r.visited_at >= ? AND r.visited_at < ? AND v.state IN ` + stateList(states) + ` AND `
}

// auditArgs returns the condition of a selection on r (report_visits) and
// s (stores), and the arguments of a query built with auditFrom: the
// period's bounds, then the condition's.
func auditArgs(sel storage.AuditSelection) (string, []any) {
	cond, args := storeScope(sel.Scope, "r.store_id")
	args = append([]any{millis(sel.From), millis(sel.To)}, args...)
	if sel.StoreID != "" {
		cond += ` AND r.store_id = ?`
		args = append(args, sel.StoreID)
	}
	if sel.Region != "" {
		cond += ` AND s.region = ?`
		args = append(args, sel.Region)
	}
	return cond, args
}

// Index indexes the visits without report rows (storage.AuditReports): on
// the database in short transactions of its own (IndexReportRows), inside
// the bound transaction all at once.
func (r auditReportRows) Index(ctx context.Context) (int, error) {
	if r.tx == nil {
		return r.db.IndexReportRows(ctx)
	}
	return put(ctx, r.rows, func(tx *Tx) (int, error) {
		ids, err := queryAll(ctx, tx, scanString, `SELECT v.id FROM visits v
			WHERE NOT EXISTS (SELECT 1 FROM report_visits r WHERE r.visit_id = v.id) ORDER BY v.rowid`)
		if err != nil {
			return 0, fmt.Errorf("find visits to index: %w", err)
		}
		ix := &answerIndexer{}
		for _, id := range ids {
			if err := ix.index(ctx, tx, id); err != nil {
				return 0, err
			}
		}
		return len(ids), nil
	})
}

// Store returns the store in scope with the code (storage.AuditReports).
func (r auditReportRows) Store(ctx context.Context, scope audit.Scope, code string) (string, string, error) {
	var id, name string
	err := r.read(ctx, func(tx *Tx) error {
		cond, args := storeScope(scope, "s.id")
		err := tx.QueryRowContext(ctx, `SELECT s.id, s.name FROM stores s WHERE s.code = ? AND `+cond,
			append([]any{code}, args...)...).Scan(&id, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return audit.Errorf(audit.ENOTFOUND, "store %q not found", code)
		} else if err != nil {
			return fmt.Errorf("find store: %w", err)
		}
		return nil
	})
	return id, name, err
}

// Count counts the selection's visits, answers and photos
// (storage.AuditReports).
func (r auditReportRows) Count(ctx context.Context, sel storage.AuditSelection) (visits, answers, photos int64, err error) {
	cond, args := auditArgs(sel)
	err = r.read(ctx, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(r.answers), 0)`+auditFrom("")+cond, args...).Scan(&visits, &answers); err != nil {
			return fmt.Errorf("count visits: %w", err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM visit_photos ph WHERE ph.visit_id IN (SELECT r.visit_id`+auditFrom("")+cond+`)`,
			args...).Scan(&photos); err != nil {
			return fmt.Errorf("count photos: %w", err)
		}
		return nil
	})
	return visits, answers, photos, err
}

// staffNames maps staff ids to their names and employee numbers; staff
// are few.
func staffNames(ctx context.Context, tx *Tx) (map[string]reports.StaffRef, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, name, employee_number FROM staff`)
	if err != nil {
		return nil, fmt.Errorf("read staff: %w", err)
	}
	defer rows.Close()
	out := map[string]reports.StaffRef{}
	for rows.Next() {
		var r reports.StaffRef
		if err := rows.Scan(&r.ID, &r.Name, &r.EmployeeNumber); err != nil {
			return nil, fmt.Errorf("read staff: %w", err)
		}
		out[r.ID] = r
	}
	return out, rows.Err()
}

// Scores streams the selection's visits' stores, times and points
// (storage.AuditReports).
func (r auditReportRows) Scores(ctx context.Context, sel storage.AuditSelection, fn func(reports.VisitRow) error) error {
	cond, args := auditArgs(sel)
	return r.read(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT r.visit_id, s.code, r.visited_at, r.points, r.max_points`+auditFrom("")+cond, args...)
		if err != nil {
			return fmt.Errorf("read earlier visits: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var v reports.VisitRow
			var at int64
			if err := rows.Scan(&v.VisitID, &v.StoreID, &at, &v.Points, &v.MaxPoints); err != nil {
				return fmt.Errorf("read earlier visit: %w", err)
			}
			v.VisitedAt = fromMillis(at)
			if err := fn(v); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// Visits streams the selection's visits (storage.AuditReports).
func (r auditReportRows) Visits(ctx context.Context, sel storage.AuditSelection, fn func(reports.VisitRow) error) error {
	cond, args := auditArgs(sel)
	return r.read(ctx, func(tx *Tx) error {
		staff, err := staffNames(ctx, tx)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT r.visit_id, s.code, s.name, s.region, v.checklist_id, v.checklist_version, v.channel,
			COALESCE(NULLIF(u.display_name, ''), u.email, v.shopper_id), r.staff_id, r.visited_at, v.state, r.points, r.max_points, r.critical_failed`+
			auditFrom("LEFT JOIN users u ON u.id = v.shopper_id")+cond+` ORDER BY r.visited_at, r.visit_id`, args...)
		if err != nil {
			return fmt.Errorf("read visits: %w", err)
		}
		defer rows.Close()
		names := interner{}
		var code, name, region, checklist, channel, shopper, staffID, state sql.RawBytes
		for rows.Next() {
			var v reports.VisitRow
			var at int64
			if err := rows.Scan(&v.VisitID, &code, &name, &region, &checklist, &v.ChecklistVersion, &channel, &shopper, &staffID,
				&at, &state, &v.Points, &v.MaxPoints, &v.CriticalFailed); err != nil {
				return fmt.Errorf("read visit: %w", err)
			}
			v.StoreID, v.StoreName, v.Region = names.get(code), names.get(name), names.get(region)
			v.ChecklistID, v.Channel, v.ShopperID, v.Status = names.get(checklist), names.get(channel), names.get(shopper), names.get(state)
			v.VisitedAt = fromMillis(at)
			if len(staffID) > 0 {
				id := names.get(staffID)
				ref := staff[id]
				ref.ID = id
				v.Staff = []reports.StaffRef{ref}
			}
			if err := fn(v); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// questionTexts holds, per checklist version, the text of each question
// and of each standard clause; versions are few.
type questionTexts struct {
	tx       *Tx
	versions map[string]*versionTexts
}

type versionTexts struct {
	questions map[string]string
	clauses   map[string]string
}

func (qt *questionTexts) get(ctx context.Context, checklist string, version int) (*versionTexts, error) {
	key := checklist + "\x00" + strconv.Itoa(version)
	if t, ok := qt.versions[key]; ok {
		return t, nil
	}
	cv, err := findVersion(ctx, qt.tx, checklist, version)
	if err != nil {
		return nil, err
	}
	t := &versionTexts{questions: map[string]string{}, clauses: map[string]string{}}
	for _, s := range cv.Content.Sections {
		for _, q := range s.Questions {
			t.questions[q.ID] = q.Text
		}
	}
	for _, s := range cv.Content.Standards {
		t.clauses[s.Code] = s.Clause
	}
	qt.versions[key] = t
	return t, nil
}

// Answers streams the selection's answers (storage.AuditReports).
func (r auditReportRows) Answers(ctx context.Context, sel storage.AuditSelection, fn func(*reports.AnswerRow) error) error {
	cond, args := auditArgs(sel)
	return r.read(ctx, func(tx *Tx) error {
		staff, err := staffNames(ctx, tx)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT r.visit_id, s.code, r.visited_at, v.checklist_id, v.checklist_version, a.question_id,
			a.category, a.standard_code, r.staff_id, a.answer, a.points, a.max_points, a.critical, a.critical_failure, a.nps, a.note,
			a.value, a.unit`+
			auditFrom("CROSS JOIN visit_answers a ON a.visit_no = r.no")+cond+
			` ORDER BY r.visited_at, r.visit_id, a.ord`, args...)
		if err != nil {
			return fmt.Errorf("read answers: %w", err)
		}
		defer rows.Close()
		texts := &questionTexts{tx: tx, versions: map[string]*versionTexts{}}
		names := interner{}
		staffIDs := map[string][]string{}
		var visit, code, checklist, question, category, clause, staffID, answer, note, unit sql.RawBytes
		var a reports.AnswerRow
		for rows.Next() {
			var at int64
			var version int
			var nps sql.NullInt64
			var value sql.NullFloat64
			if err := rows.Scan(&visit, &code, &at, &checklist, &version, &question, &category, &clause, &staffID, &answer,
				&a.Points, &a.MaxPoints, &a.Critical, &a.CriticalFailed, &nps, &note, &value, &unit); err != nil {
				return fmt.Errorf("read answer: %w", err)
			}
			if string(visit) != a.VisitID {
				a.VisitID = string(visit)
			}
			a.StoreID, a.VisitedAt = names.get(code), fromMillis(at)
			a.QuestionID, a.Category, a.Clause = names.get(question), names.get(category), names.get(clause)
			t, err := texts.get(ctx, names.get(checklist), version)
			if err != nil {
				return err
			}
			a.QuestionText, a.ClauseText = t.questions[a.QuestionID], t.clauses[a.Clause]
			a.StaffIDs = nil
			if len(staffID) > 0 {
				id := names.get(staffID)
				ids, ok := staffIDs[id]
				if !ok {
					ref := staff[id]
					ref.ID = id
					ids = []string{ref.Label()}
					staffIDs[id] = ids
				}
				a.StaffIDs = ids
			}
			a.Value, a.Comment = string(answer), string(note)
			a.Number, a.Numeric, a.Unit = value.Float64, value.Valid, names.get(unit)
			a.NPS = nil
			if nps.Valid {
				n := int(nps.Int64)
				a.NPS = &n
			}
			if err := fn(&a); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// Photos streams the selection's photos (storage.AuditReports).
func (r auditReportRows) Photos(ctx context.Context, sel storage.AuditSelection, fn func(*storage.AuditPhoto) error) error {
	cond, args := auditArgs(sel)
	return r.read(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT ph.visit_id, s.code, ph.question_id, ph.idx, ph.sha256, ph.size, ph.content_type,
			ph.captured_at, ph.verified_at IS NOT NULL, (SELECT COUNT(DISTINCT o.visit_id) FROM visit_photos o WHERE o.sha256 = ph.sha256 AND o.visit_id <> ph.visit_id)`+
			auditFrom("CROSS JOIN visit_photos ph ON ph.visit_id = r.visit_id")+cond+
			` ORDER BY r.visited_at, r.visit_id, ph.question_id, ph.idx`, args...)
		if err != nil {
			return fmt.Errorf("read photos: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var p storage.AuditPhoto
			var captured sql.NullInt64
			if err := rows.Scan(&p.VisitID, &p.StoreID, &p.QuestionID, &p.Index, &p.SHA256, &p.SizeBytes, &p.ContentType,
				&captured, &p.Verified, &p.OtherVisits); err != nil {
				return fmt.Errorf("read photo: %w", err)
			}
			p.TakenAt = fromNullMillis(captured)
			if err := fn(&p); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// Names reads the names of what a run's explanation lines refer to, in
// one read snapshot (storage.BonusRuns).
func (r bonusRunRows) Names(ctx context.Context, run *reports.Run) (*storage.RunNames, error) {
	out := &storage.RunNames{}
	err := r.read(ctx, func(tx *Tx) error {
		var err error
		if out.Stores, err = storeNames(ctx, tx); err != nil {
			return err
		}
		out.QuestionText, err = runQuestionTexts(ctx, tx, run)
		return err
	})
	return out, err
}

// storeNames maps every store's id to its code and name; stores are few.
func storeNames(ctx context.Context, tx *Tx) (map[string]reports.StoreName, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, code, name FROM stores`)
	if err != nil {
		return nil, fmt.Errorf("read stores: %w", err)
	}
	defer rows.Close()
	out := map[string]reports.StoreName{}
	for rows.Next() {
		var id string
		var n reports.StoreName
		if err := rows.Scan(&id, &n.Code, &n.Name); err != nil {
			return nil, fmt.Errorf("read stores: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}

// runQuestionTexts returns a lookup of the question texts of the visits a
// run's explanation names, from the checklist version each visit was
// recorded with.
func runQuestionTexts(ctx context.Context, tx *Tx, run *reports.Run) (func(visitID, questionID string) string, error) {
	texts := &questionTexts{tx: tx, versions: map[string]*versionTexts{}}
	byVisit := map[string]*versionTexts{}
	for _, e := range run.Employees {
		for _, c := range e.Components {
			for _, l := range c.Lines {
				if l.VisitID == "" || byVisit[l.VisitID] != nil {
					continue
				}
				var checklist string
				var version int
				err := tx.QueryRowContext(ctx, `SELECT checklist_id, checklist_version FROM visits WHERE id = ?`, l.VisitID).Scan(&checklist, &version)
				if errors.Is(err, sql.ErrNoRows) {
					continue
				} else if err != nil {
					return nil, fmt.Errorf("read visit %s: %w", l.VisitID, err)
				}
				t, err := texts.get(ctx, checklist, version)
				if err != nil {
					return nil, err
				}
				byVisit[l.VisitID] = t
			}
		}
	}
	return func(visitID, questionID string) string {
		if t := byVisit[visitID]; t != nil {
			return t.questions[questionID]
		}
		return ""
	}, nil
}
