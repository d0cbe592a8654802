package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/storage"
)

var npsRanges = map[storage.NPSGroup][2]int{storage.NPSPromoters: {9, 10}, storage.NPSPassives: {7, 8}, storage.NPSDetractors: {0, 6}, storage.NPSAny: {0, 10}}

// passedSQL is the audit workbook's pass rule on a report_visits row r:
// something applicable, no critical failure, a score of at least the pass
// score (reports.DefaultPassScore, with the workbook's tolerance).
var passedSQL = fmt.Sprintf(`(r.max_points > 0 AND r.critical_failed = 0 AND r.points / r.max_points >= %v)`, reports.DefaultPassScore-1e-9)

// flaggedSQL says a visit v carries proof-of-visit or admission flags.
const flaggedSQL = `(v.proof_flags <> '[]' OR v.flags <> '[]')`

// dashPlan is a storage.DashboardQuery resolved: its months and SQL condition.
type dashPlan struct {
	loc    *time.Location
	months []reports.Period // the period's months, in order
	from   time.Time        // the month before the first, for comparisons
	to     time.Time
	cond   string // on r, v and s, after the period bounds
	args   []any
}

func planDashboard(ctx context.Context, tx *Tx, q *storage.DashboardQuery) (*dashPlan, error) {
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	first, end, err := audit.DashboardMonths(q.From, q.To, q.Month, loc)
	if err != nil {
		return nil, err
	}
	period := reports.Period{From: first, To: end}
	p := &dashPlan{loc: loc, to: period.To}
	for t := period.From; t.Before(period.To); t = t.AddDate(0, 1, 0) {
		p.months = append(p.months, reports.Period{From: t, To: t.AddDate(0, 1, 0)})
	}
	p.from = period.From.AddDate(0, -1, 0)

	cond, args := storeScope(q.Scope, "r.store_id")
	var b strings.Builder
	b.WriteString(cond)
	add := func(sql string, a ...any) {
		b.WriteString(" AND " + sql)
		args = append(args, a...)
	}
	if q.StoreCode != "" {
		var id string
		err := tx.QueryRowContext(ctx, `SELECT s.id FROM stores s WHERE s.code = ? AND `+strings.ReplaceAll(cond, "r.store_id", "s.id"),
			append([]any{q.StoreCode}, args...)...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "store %q not found", q.StoreCode)
		} else if err != nil {
			return nil, fmt.Errorf("find store: %w", err)
		}
		add(`r.store_id = ?`, id)
	}
	if q.Region != "" {
		add(`s.region = ?`, q.Region)
	}
	if q.ChecklistID != "" {
		add(`v.checklist_id = ?`, q.ChecklistID)
	}
	if q.Channel != "" {
		add(`v.channel = ?`, q.Channel)
	}
	answer := func(extra string, a ...any) {
		add(`EXISTS (SELECT 1 FROM visit_answers a WHERE a.visit_id = r.visit_id AND `+extra+`)`, a...)
	}
	for _, f := range []struct{ col, v string }{{"a.category", q.Category}, {"a.standard_code", q.Clause}, {"a.question_id", q.QuestionID}} {
		if f.v != "" && !(q.CriticalOnly && f.col == "a.question_id") {
			answer(f.col+` = ? AND a.max_points > 0`, f.v)
		}
	}
	switch {
	case q.CriticalOnly && q.QuestionID != "":
		answer(`a.question_id = ? AND a.critical_failure = 1`, q.QuestionID)
	case q.CriticalOnly:
		add(`r.critical_failed = 1`)
	}
	if q.FlaggedOnly {
		add(flaggedSQL)
	}
	if rng, ok := npsRanges[q.NPS]; ok {
		answer(`a.nps BETWEEN ? AND ?`, rng[0], rng[1])
	} else if q.NPS != storage.NPSNone {
		return nil, audit.Errorf(audit.EINVALID, "unknown NPS group %d", q.NPS)
	}
	switch q.Pass {
	case storage.PassAny:
	case storage.PassPassed:
		add(passedSQL)
	case storage.PassFailed:
		add(`NOT ` + passedSQL)
	default:
		return nil, audit.Errorf(audit.EINVALID, "unknown pass filter %d", q.Pass)
	}
	p.cond, p.args = b.String(), args
	return p, nil
}

// dashFrom starts a dashboard query as the audit workbook's (auditFrom),
// with the states q counts; its WHERE clause takes the two period bounds
// and ends in AND, for the plan's condition.
func dashFrom(q *storage.DashboardQuery, joins string) string { return periodFrom(q.States(), joins) }

// monthCase is an SQL expression numbering r's month (storage.MonthIndex) from
// the plan's month bounds, the month before the period included.
func (p *dashPlan) monthCase() string {
	var b strings.Builder
	b.WriteString("CASE")
	first := storage.MonthIndex(p.from, p.loc)
	for i, t := 0, p.from; t.Before(p.to); i, t = i+1, t.AddDate(0, 1, 0) {
		fmt.Fprintf(&b, " WHEN r.visited_at < %d THEN %d", millis(t.AddDate(0, 1, 0)), first+i)
	}
	b.WriteString(" END")
	return b.String()
}

// indexFirst indexes any visit not indexed yet before a dashboard query
// that runs on its own; inside a transaction the caller's rows are taken
// as they are.
func (r dashboardRows) indexFirst(ctx context.Context) error {
	if r.tx != nil {
		return nil
	}
	_, err := r.db.IndexReportRows(ctx)
	return err
}

// Figures computes the parts of the figures of q in the database, in one
// read snapshot, after indexing any visit not indexed yet
// (storage.Dashboards). Errors: EINVALID (the query), ENOTFOUND (a store
// not in the caller's scope).
func (r dashboardRows) Figures(ctx context.Context, q storage.DashboardQuery, parts storage.DashboardParts) (*storage.Dashboard, error) {
	if err := r.indexFirst(ctx); err != nil {
		return nil, err
	}
	var d *storage.Dashboard
	err := r.read(ctx, func(tx *Tx) error {
		p, err := planDashboard(ctx, tx, &q)
		if err != nil {
			return err
		}
		d = storage.NewDashboard(p.months[0].From, p.to, p.loc)
		period := []any{millis(p.months[0].From), millis(p.to)}
		if parts&storage.DashVisits != 0 {
			if err := readDashVisits(ctx, d, tx, &q, p); err != nil {
				return err
			}
		}
		if parts&storage.DashAnswers != 0 {
			if err := readDashAnswers(ctx, d, tx, &q, p, period); err != nil {
				return err
			}
		}
		if parts&storage.DashNPS != 0 {
			err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(a.nps >= 9), 0), COALESCE(SUM(a.nps BETWEEN 7 AND 8), 0), COALESCE(SUM(a.nps <= 6), 0)`+
				dashFrom(&q, `CROSS JOIN visit_answers a ON a.visit_id = r.visit_id`)+p.cond+` AND a.nps IS NOT NULL`,
				append(period, p.args...)...).Scan(&d.Promoters, &d.Passives, &d.Detractors)
			if err != nil {
				return fmt.Errorf("dashboard NPS: %w", err)
			}
		}
		if parts&storage.DashCritical != 0 {
			if err := readDashCritical(ctx, d, tx, &q, p, period); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func readDashVisits(ctx context.Context, d *storage.Dashboard, tx *Tx, q *storage.DashboardQuery, p *dashPlan) error {
	rows, err := tx.QueryContext(ctx, `SELECT `+p.monthCase()+`, r.store_id, s.code, s.name, s.region, COUNT(*), SUM(r.max_points > 0),
		COALESCE(SUM(CASE WHEN r.max_points > 0 THEN r.points / r.max_points END), 0), SUM(`+passedSQL+`), SUM(r.critical_failed), SUM(`+flaggedSQL+`)`+
		dashFrom(q, "")+p.cond+` GROUP BY 1, 2`, append([]any{millis(p.from), millis(p.to)}, p.args...)...)
	if err != nil {
		return fmt.Errorf("dashboard visits: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k reports.StoreMonth
		var st storage.DashboardStore
		var f reports.VisitFigures
		if err := rows.Scan(&k.Month, &k.Store, &st.Code, &st.Name, &st.Region, &f.Visits, &f.Scored, &f.ScoreSum, &f.Passed, &f.Critical, &f.Flagged); err != nil {
			return fmt.Errorf("dashboard visits: %w", err)
		}
		d.ByStoreMonth[k] = f
		d.Stores[k.Store] = st
	}
	return rows.Err()
}

func readDashAnswers(ctx context.Context, d *storage.Dashboard, tx *Tx, q *storage.DashboardQuery, p *dashPlan, period []any) error {
	from := dashFrom(q, `CROSS JOIN visit_answers a ON a.visit_id = r.visit_id`)
	const figures = `SUM(a.max_points > 0), SUM(a.max_points = 0), SUM(a.points), SUM(a.max_points), SUM(a.critical_failure),
		COUNT(DISTINCT CASE WHEN a.max_points > 0 THEN r.visit_id END)`
	scan := func(row scanner, f *reports.AnswerFigures, keys ...any) error {
		return row.Scan(append(keys, &f.Answers, &f.NotApplicable, &f.Points, &f.MaxPoints, &f.CriticalFailures, &f.Visits)...)
	}
	rows, err := tx.QueryContext(ctx, `SELECT r.store_id, a.category, `+figures+from+p.cond+` AND a.category <> '' GROUP BY 1, 2`, append(period, p.args...)...)
	if err != nil {
		return fmt.Errorf("dashboard categories: %w", err)
	}
	for rows.Next() {
		var k [2]string
		var f reports.AnswerFigures
		if err := scan(rows, &f, &k[0], &k[1]); err != nil {
			rows.Close()
			return fmt.Errorf("dashboard categories: %w", err)
		}
		d.StoreCategories[k] = f
		c := d.Categories[k[1]]
		c.Add(f)
		d.Categories[k[1]] = c
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("dashboard categories: %w", err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT a.standard_code, v.checklist_id, v.checklist_version, MAX(a.category), `+figures+from+p.cond+
		` AND a.standard_code <> '' GROUP BY 1, 2, 3`, append(period, p.args...)...)
	if err != nil {
		return fmt.Errorf("dashboard clauses: %w", err)
	}
	defer rows.Close()
	texts := &questionTexts{tx: tx, versions: map[string]*versionTexts{}}
	for rows.Next() {
		var code, checklist, category string
		var version int
		var f reports.AnswerFigures
		if err := scan(rows, &f, &code, &checklist, &version, &category); err != nil {
			return fmt.Errorf("dashboard clauses: %w", err)
		}
		c := d.Clauses[code]
		if c.Text == "" {
			if t, err := texts.get(ctx, checklist, version); err == nil {
				c.Text = t.clauses[code]
			}
		}
		c.Category = category
		c.Add(f)
		d.Clauses[code] = c
	}
	return rows.Err()
}

func readDashCritical(ctx context.Context, d *storage.Dashboard, tx *Tx, q *storage.DashboardQuery, p *dashPlan, period []any) error {
	rows, err := tx.QueryContext(ctx, `SELECT v.checklist_id, v.checklist_version, a.question_id, MAX(a.standard_code), MAX(a.category), COUNT(DISTINCT r.visit_id)`+
		dashFrom(q, `CROSS JOIN visit_answers a ON a.visit_id = r.visit_id`)+p.cond+` AND a.critical_failure = 1 GROUP BY 1, 2, 3`,
		append(period, p.args...)...)
	if err != nil {
		return fmt.Errorf("dashboard critical failures: %w", err)
	}
	defer rows.Close()
	texts := &questionTexts{tx: tx, versions: map[string]*versionTexts{}}
	byQuestion := map[string]int{}
	for rows.Next() {
		var checklist string
		var version int
		var c storage.DashboardCritical
		if err := rows.Scan(&checklist, &version, &c.QuestionID, &c.Clause, &c.Category, &c.Failures); err != nil {
			return fmt.Errorf("dashboard critical failures: %w", err)
		}
		if t, err := texts.get(ctx, checklist, version); err == nil {
			c.Text = t.questions[c.QuestionID]
		}
		if i, ok := byQuestion[c.QuestionID]; ok {
			d.CriticalQuestions[i].Failures += c.Failures
			continue
		}
		byQuestion[c.QuestionID] = len(d.CriticalQuestions)
		d.CriticalQuestions = append(d.CriticalQuestions, c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("dashboard critical failures: %w", err)
	}
	storage.SortCritical(d.CriticalQuestions)
	return nil
}

// Visits lists the visits of q newest first, at most limit, after the
// page token; it returns the next page's token, "" after the last page
// (storage.Dashboards). Errors: EINVALID (the query or the token),
// ENOTFOUND (a store outside the caller's scope).
func (r dashboardRows) Visits(ctx context.Context, q storage.DashboardQuery, limit int, token string) ([]storage.DashboardVisit, string, error) {
	var afterAt int64
	var afterID string
	if token != "" {
		at, id, err := storage.ParseDashboardPageToken(token)
		if err != nil {
			return nil, "", err
		}
		afterAt, afterID = millis(at), id
	}
	if err := r.indexFirst(ctx); err != nil {
		return nil, "", err
	}
	var out []storage.DashboardVisit
	err := r.read(ctx, func(tx *Tx) error {
		p, err := planDashboard(ctx, tx, &q)
		if err != nil {
			return err
		}
		drill := `0, 0`
		var drillArgs []any
		for _, f := range []struct{ col, v string }{{"a.category", q.Category}, {"a.standard_code", q.Clause}, {"a.question_id", q.QuestionID}} {
			if f.v != "" {
				drill = `(SELECT COALESCE(SUM(a.points), 0) FROM visit_answers a WHERE a.visit_id = r.visit_id AND ` + f.col + ` = ?1x),
					(SELECT COALESCE(SUM(a.max_points), 0) FROM visit_answers a WHERE a.visit_id = r.visit_id AND ` + f.col + ` = ?1x)`
				drill = strings.ReplaceAll(drill, "?1x", "?")
				drillArgs = []any{f.v, f.v}
				break
			}
		}
		args := append(drillArgs, millis(p.months[0].From), millis(p.to))
		args = append(args, p.args...)
		page := ""
		if token != "" {
			page = ` AND (r.visited_at < ? OR (r.visited_at = ? AND r.visit_id < ?))`
			args = append(args, afterAt, afterAt, afterID)
		}
		rows, err := tx.QueryContext(ctx, `SELECT r.visit_id, s.code, s.name, s.region, r.visited_at, v.checklist_id, v.checklist_version,
			v.channel, v.state, r.points, r.max_points, `+passedSQL+`, r.critical_failed, `+flaggedSQL+`,
			COALESCE(st.name, ''), COALESCE(st.employee_number, ''), `+drill+
			dashFrom(&q, `LEFT JOIN staff st ON st.id = r.staff_id`)+p.cond+page+
			` ORDER BY r.visited_at DESC, r.visit_id DESC LIMIT ?`, append(args, limit+1)...)
		if err != nil {
			return fmt.Errorf("dashboard visits: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var v storage.DashboardVisit
			var at int64
			var state string
			if err := rows.Scan(&v.VisitID, &v.StoreCode, &v.StoreName, &v.Region, &at, &v.ChecklistID, &v.ChecklistVersion,
				&v.Channel, &state, &v.Points, &v.MaxPoints, &v.Passed, &v.CriticalFailed, &v.Flagged, &v.StaffName, &v.StaffNumber,
				&v.DrillPoints, &v.DrillMax); err != nil {
				return fmt.Errorf("dashboard visits: %w", err)
			}
			v.VisitedAt, v.State = fromMillis(at), audit.VisitState(state)
			out = append(out, v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = storage.DashboardPageToken(last.VisitedAt, last.VisitID)
	}
	return out, next, nil
}
