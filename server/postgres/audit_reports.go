package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/storage"
)

// The audit workbook's queries on PostgreSQL (storage.AuditReports), and
// report indexing: package app plans the workbook and writes it; these
// only read, streaming, in SQLite's order.

// auditFrom returns the FROM and WHERE clauses of a query over the visits
// sel selects, in audit.AuditStates: report_visits r, its visit v and
// store s, then the extra joins given; and its arguments.
func auditFrom(sel storage.AuditSelection, joins string) (string, args) {
	cond, a := auditCond(sel)
	return periodVisits + ` JOIN stores s ON s.id = r.store_id` + joins + periodWhere + cond, a
}

// auditCond returns the condition of sel on r and s beyond the period and
// the states, and the arguments of a query over periodWhere with it.
func auditCond(sel storage.AuditSelection) (string, args) {
	a := args{ms(sel.From), ms(sel.To), states(audit.AuditStates)}
	cond := ` AND ` + storeScope(&a, sel.Scope, "r.store_id")
	if sel.StoreID != "" {
		cond += ` AND r.store_id = ` + a.add(sel.StoreID)
	}
	if sel.Region != "" {
		cond += ` AND s.region = ` + a.add(sel.Region)
	}
	return cond, a
}

// auditVisits, auditAnswers and auditPhotos are the streaming queries of
// the audit workbook's rows, in visit time order, and their arguments.
func auditVisits(sel storage.AuditSelection) (string, args) {
	from, a := auditFrom(sel, ` LEFT JOIN users u ON u.id = v.shopper_id`)
	return `SELECT r.visit_id, s.code, s.name, s.region, v.checklist_id, v.checklist_version, v.channel,
		COALESCE(NULLIF(u.display_name, ''), u.email COLLATE "default", v.shopper_id), r.staff_id, r.visited_at, v.state,
		r.points, r.max_points, r.critical_failed` + from + visitOrder, a
}

func auditAnswers(sel storage.AuditSelection) (string, args) {
	from, a := auditFrom(sel, answersJoin)
	return `SELECT a.visit_id, s.code, r.visited_at, v.checklist_id, v.checklist_version, a.question_id,
		a.category, a.standard_code, r.staff_id, a.answer, a.points, a.max_points, a.critical, a.critical_failure, a.nps, a.note,
		a.value, a.unit` + from + visitOrder + `, a.ord`, a
}

func auditPhotos(sel storage.AuditSelection) (string, args) {
	from, a := auditFrom(sel, photosJoin)
	return `SELECT ph.visit_id, s.code, ph.question_id, ph.idx, ph.sha256, ph.size, ph.content_type,
		ph.captured_at, ph.verified_at IS NOT NULL,
		(SELECT COUNT(DISTINCT o.visit_id) FROM visit_photos o WHERE o.sha256 = ph.sha256 AND o.visit_id <> ph.visit_id)` + from +
		visitOrder + `, ph.question_id COLLATE "C", ph.idx`, a
}

// photosJoin joins a visit's photos (visit_photos ph) in a query over
// periodVisits.
const photosJoin = ` JOIN visit_photos ph ON ph.visit_id = r.visit_id`

// keyedFrom is auditFrom for the queries that aggregate the month (Count's,
// and the checklist versions of the answers), with auditCond's arguments.
// An aggregate is no cursor's first rows, so the planner would hash every
// visit of every month to join the month's; each visit of the month (from
// the time index) looks its visit up by key instead, in a LATERAL
// subquery with OFFSET 0, which the planner can neither flatten nor hash.
func keyedFrom(sel storage.AuditSelection) string {
	cond, _ := auditCond(sel)
	return ` FROM report_visits r
		CROSS JOIN LATERAL (SELECT v.state, v.checklist_id, v.checklist_version FROM visits v WHERE v.id = r.visit_id OFFSET 0) v
		JOIN stores s ON s.id = r.store_id` + periodWhere + cond
}

// auditCounts are Count's queries: of the visits and their answers, and
// of their photos, each visit's counted by a subquery (keyedFrom).
func auditCounts(sel storage.AuditSelection) [2]string {
	from := keyedFrom(sel)
	return [2]string{`SELECT COUNT(*), COALESCE(SUM(r.answers), 0)` + from,
		`SELECT COALESCE(SUM((SELECT COUNT(*) FROM visit_photos ph WHERE ph.visit_id = r.visit_id)), 0)` + from}
}

// auditVersions lists the checklist versions of the visits sel selects,
// for the texts of their answers (keyedFrom).
func auditVersions(sel storage.AuditSelection) string {
	return `SELECT DISTINCT v.checklist_id, v.checklist_version` + keyedFrom(sel)
}

// errStop is what a row callback returns when its reader stopped asking
// for rows; it never leaves the package.
var errStop = errors.New("postgres: the reader stopped")

// Store returns the id and name of the store in scope with the code
// (storage.AuditReports). Errors: ENOTFOUND.
func (r auditReportRows) Store(ctx context.Context, scope audit.Scope, code string) (string, string, error) {
	a := args{code}
	type idName struct{ id, name string }
	s, err := selectOne(ctx, r.rows, "find store", fmt.Sprintf("store %q not found", code), func(row pgx.Row) (idName, error) {
		var s idName
		return s, row.Scan(&s.id, &s.name)
	}, `SELECT s.id, s.name FROM stores s WHERE s.code = $1 AND `+storeScope(&a, scope, "s.id"), a...)
	return s.id, s.name, err
}

// Count returns how many visits, answers and photos sel selects
// (storage.AuditReports).
func (r auditReportRows) Count(ctx context.Context, sel storage.AuditSelection) (visits, answers, photos int64, err error) {
	counts := auditCounts(sel)
	_, a := auditCond(sel)
	err = r.read(ctx, func(tx *Tx) error {
		if err := tx.QueryRow(ctx, counts[0], a...).Scan(&visits, &answers); err != nil {
			return fmt.Errorf("count visits: %w", err)
		}
		if err := tx.QueryRow(ctx, counts[1], a...).Scan(&photos); err != nil {
			return fmt.Errorf("count photos: %w", err)
		}
		return nil
	})
	return visits, answers, photos, err
}

// staffNames maps staff ids to their names and employee numbers; staff
// are few.
func staffNames(ctx context.Context, tx *Tx) (map[string]reports.StaffRef, error) {
	out := map[string]reports.StaffRef{}
	err := each(ctx, tx, "read staff", `SELECT id, name, employee_number FROM staff`, nil, func(rows pgx.Rows) error {
		var s reports.StaffRef
		if err := rows.Scan(&s.ID, &s.Name, &s.EmployeeNumber); err != nil {
			return err
		}
		out[s.ID] = s
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Scores streams the selection's visits' stores, times and points,
// unordered (storage.AuditReports).
func (r auditReportRows) Scores(ctx context.Context, sel storage.AuditSelection, fn func(reports.VisitRow) error) error {
	from, a := auditFrom(sel, "")
	return r.read(ctx, func(tx *Tx) error {
		names := interner{}
		err := stream(ctx, tx, "read earlier visits", `SELECT r.visit_id, s.code, r.visited_at, r.points, r.max_points`+from, a, func(rows pgx.Rows) error {
			var v reports.VisitRow
			if err := rows.Scan(&v.VisitID, nil, &v.VisitedAt, &v.Points, &v.MaxPoints); err != nil {
				return fmt.Errorf("read earlier visit: %w", err)
			}
			v.StoreID = names.get(rows.RawValues()[1])
			return fn(v)
		})
		return err
	})
}

// Visits streams the selection's visits by time, their store by code and
// name, their shopper and staff member by name (storage.AuditReports).
func (r auditReportRows) Visits(ctx context.Context, sel storage.AuditSelection, fn func(reports.VisitRow) error) error {
	q, a := auditVisits(sel)
	return r.read(ctx, func(tx *Tx) error {
		staff, err := staffNames(ctx, tx)
		if err != nil {
			return err
		}
		names := interner{}
		err = stream(ctx, tx, "read visits", q, a, func(rows pgx.Rows) error {
			var v reports.VisitRow
			if err := rows.Scan(&v.VisitID, nil, nil, nil, nil, &v.ChecklistVersion, nil, nil, nil, &v.VisitedAt, nil,
				&v.Points, &v.MaxPoints, &v.CriticalFailed); err != nil {
				return fmt.Errorf("read visit: %w", err)
			}
			raw := rows.RawValues()
			v.StoreID, v.StoreName, v.Region = names.get(raw[1]), names.get(raw[2]), names.get(raw[3])
			v.ChecklistID, v.Channel, v.ShopperID, v.Status = names.get(raw[4]), names.get(raw[6]), names.get(raw[7]), names.get(raw[10])
			if len(raw[8]) > 0 {
				id := names.get(raw[8])
				ref := staff[id]
				ref.ID = id
				v.Staff = []reports.StaffRef{ref}
			}
			return fn(v)
		})
		return err
	})
}

// versionKey names a checklist version.
type versionKey struct {
	checklist string
	version   int
}

// workbookTexts holds the text of each question and of each standard
// clause of a checklist version.
type workbookTexts struct {
	questions map[string]string
	clauses   map[string]string
}

// readWorkbookTexts returns the texts of the checklist versions that keys
// (a query of (checklist id, version) pairs, with its arguments a) lists:
// read before a streaming query starts, since the connection answers one
// query at a time. Versions are few.
func readWorkbookTexts(ctx context.Context, tx *Tx, keys string, a ...any) (map[versionKey]*workbookTexts, error) {
	out := map[versionKey]*workbookTexts{}
	err := each(ctx, tx, "read checklist texts", `SELECT cv.checklist_id, cv.version, cv.content FROM checklist_versions cv
		WHERE (cv.checklist_id, cv.version) IN (`+keys+`)`, a, func(rows pgx.Rows) error {
		var k versionKey
		var content []byte
		if err := rows.Scan(&k.checklist, &k.version, &content); err != nil {
			return err
		}
		var c audit.Checklist
		if err := json.Unmarshal(content, &c); err != nil {
			return fmt.Errorf("checklist %s version %d: decode content: %w", k.checklist, k.version, err)
		}
		t := &workbookTexts{questions: map[string]string{}, clauses: map[string]string{}}
		for _, s := range c.Sections {
			for _, q := range s.Questions {
				t.questions[q.ID] = q.Text
			}
		}
		for _, s := range c.Standards {
			t.clauses[s.Code] = s.Clause
		}
		out[k] = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// versionNotFound is the error of a visit whose checklist version is gone.
func versionNotFound(k versionKey) error {
	return audit.Errorf(audit.ENOTFOUND, "checklist %q version %d not found", k.checklist, k.version)
}

// Answers streams the selection's answers by visit time and question
// order, with each question's and clause's text from the checklist version
// the visit was recorded with, and the staff member by label
// (storage.AuditReports).
func (r auditReportRows) Answers(ctx context.Context, sel storage.AuditSelection, fn func(*reports.AnswerRow) error) error {
	q, a := auditAnswers(sel)
	return r.read(ctx, func(tx *Tx) error {
		staff, err := staffNames(ctx, tx)
		if err != nil {
			return err
		}
		texts, err := readWorkbookTexts(ctx, tx, auditVersions(sel), a...)
		if err != nil {
			return err
		}
		names := interner{}
		staffIDs := map[string][]string{}
		var row reports.AnswerRow
		var k versionKey
		var t *workbookTexts
		err = stream(ctx, tx, "read answers", q, a, func(rows pgx.Rows) error {
			var version int
			var nps *int
			var value *float64
			if err := rows.Scan(nil, nil, &row.VisitedAt, nil, &version, nil, nil, nil, nil, nil,
				&row.Points, &row.MaxPoints, &row.Critical, &row.CriticalFailed, &nps, nil, &value, nil); err != nil {
				return fmt.Errorf("read answer: %w", err)
			}
			raw := rows.RawValues()
			if string(raw[0]) != row.VisitID {
				row.VisitID = string(raw[0])
			}
			row.StoreID = names.get(raw[1])
			if checklist := names.get(raw[3]); t == nil || checklist != k.checklist || version != k.version {
				k = versionKey{checklist, version}
				if t = texts[k]; t == nil {
					return versionNotFound(k)
				}
			}
			row.QuestionID, row.Category, row.Clause = names.get(raw[5]), names.get(raw[6]), names.get(raw[7])
			row.QuestionText, row.ClauseText = t.questions[row.QuestionID], t.clauses[row.Clause]
			row.StaffIDs = nil
			if len(raw[8]) > 0 {
				id := names.get(raw[8])
				ids, ok := staffIDs[id]
				if !ok {
					ref := staff[id]
					ref.ID = id
					ids = []string{ref.Label()}
					staffIDs[id] = ids
				}
				row.StaffIDs = ids
			}
			row.Value, row.Comment = string(raw[9]), string(raw[15])
			row.Number, row.Numeric, row.Unit = 0, value != nil, names.get(raw[17])
			if value != nil {
				row.Number = *value
			}
			row.NPS = nps
			return fn(&row)
		})
		return err
	})
}

// Photos streams the selection's photos by visit time, question and place
// (storage.AuditReports).
func (r auditReportRows) Photos(ctx context.Context, sel storage.AuditSelection, fn func(*storage.AuditPhoto) error) error {
	q, a := auditPhotos(sel)
	return r.read(ctx, func(tx *Tx) error {
		err := stream(ctx, tx, "read photos", q, a, func(rows pgx.Rows) error {
			var p storage.AuditPhoto
			var captured *time.Time
			if err := rows.Scan(&p.VisitID, &p.StoreID, &p.QuestionID, &p.Index, &p.SHA256, &p.SizeBytes, &p.ContentType,
				&captured, &p.Verified, &p.OtherVisits); err != nil {
				return fmt.Errorf("read photo: %w", err)
			}
			p.TakenAt = timeOf(captured)
			return fn(&p)
		})
		return err
	})
}
