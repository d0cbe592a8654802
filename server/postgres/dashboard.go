package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/storage"
)

// The dashboards' aggregate queries on PostgreSQL (storage.Dashboards),
// the same figures as server/sqlite's for the same rows: the same
// conditions, groups and sums, with booleans counted by FILTER, ties
// broken bytewise (COLLATE "C") and groups read in key order where the
// first or last row of a group is kept.

var npsRanges = map[storage.NPSGroup][2]int{storage.NPSPromoters: {9, 10}, storage.NPSPassives: {7, 8}, storage.NPSDetractors: {0, 6}, storage.NPSAny: {0, 10}}

// passedSQL is the audit workbook's pass rule on a report_visits row r:
// something applicable, no critical failure, a score of at least the pass
// score (reports.DefaultPassScore, with the workbook's tolerance). The
// CASE keeps the division from ever seeing a zero maximum, whatever order
// the planner evaluates the conditions in.
var passedSQL = fmt.Sprintf(`(CASE WHEN r.max_points > 0 AND NOT r.critical_failed THEN r.points / r.max_points >= %v ELSE false END)`,
	reports.DefaultPassScore-1e-9)

// flaggedSQL says a visit v carries proof-of-visit or admission flags.
const flaggedSQL = `(v.proof_flags <> '[]'::jsonb OR v.flags <> '[]'::jsonb)`

// periodFrom joins what every report query over a period reads: the
// indexed visit r, the visit v (its review state) and its store s, then
// the extra joins given; its WHERE clause holds the visits of [from, to)
// in one of states and ends in AND, for the query's condition. The audit
// workbook's queries (storage.AuditReports) start the same way.
func periodFrom(a *args, states []audit.VisitState, joins string, from, to time.Time) string {
	names := make([]string, len(states))
	for i, s := range states {
		names[i] = string(s)
	}
	return ` FROM report_visits r JOIN visits v ON v.id = r.visit_id JOIN stores s ON s.id = r.store_id ` + joins + `
	WHERE r.visited_at >= ` + a.add(from) + ` AND r.visited_at < ` + a.add(to) + ` AND v.state = ANY(` + a.add(names) + `::text[]) AND `
}

// dashPlan is a storage.DashboardQuery resolved: its months, and its store
// by id.
type dashPlan struct {
	q       *storage.DashboardQuery
	loc     *time.Location
	months  []reports.Period // the period's months, in order
	before  time.Time        // the month before the first, for comparisons
	to      time.Time
	storeID string // q.StoreCode's store
}

// planDashboard resolves q in tx. Errors: EINVALID (the months, the NPS
// group or the pass filter), ENOTFOUND (q's store is not in its scope).
func planDashboard(ctx context.Context, tx *Tx, q *storage.DashboardQuery) (*dashPlan, error) {
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	first, end, err := audit.DashboardMonths(q.From, q.To, q.Month, loc)
	if err != nil {
		return nil, err
	}
	p := &dashPlan{q: q, loc: loc, before: first.AddDate(0, -1, 0), to: end}
	for t := first; t.Before(end); t = t.AddDate(0, 1, 0) {
		p.months = append(p.months, reports.Period{From: t, To: t.AddDate(0, 1, 0)})
	}
	if _, ok := npsRanges[q.NPS]; !ok && q.NPS != storage.NPSNone {
		return nil, audit.Errorf(audit.EINVALID, "unknown NPS group %d", q.NPS)
	}
	switch q.Pass {
	case storage.PassAny, storage.PassPassed, storage.PassFailed:
	default:
		return nil, audit.Errorf(audit.EINVALID, "unknown pass filter %d", q.Pass)
	}
	if q.StoreCode != "" {
		var a args
		sql := `SELECT s.id FROM stores s WHERE s.code = ` + a.add(q.StoreCode) + ` AND ` + storeScope(&a, q.Scope, "s.id")
		if p.storeID, err = selectOne(ctx, in(tx.db, tx), "find store", fmt.Sprintf("store %q not found", q.StoreCode), scanText, sql, a...); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// from returns the FROM and WHERE clauses of a query over the plan's
// visits since since (the first month, or the month before it) until its end with the
// extra joins, adding its arguments to a.
func (p *dashPlan) from(a *args, since time.Time, joins string) string {
	q := p.q
	var b strings.Builder
	b.WriteString(periodFrom(a, q.States(), joins, since, p.to))
	b.WriteString(storeScope(a, q.Scope, "r.store_id"))
	add := func(sql string) { b.WriteString(" AND " + sql) }
	if p.storeID != "" {
		add(`r.store_id = ` + a.add(p.storeID))
	}
	if q.Region != "" {
		add(`s.region = ` + a.add(q.Region))
	}
	if q.ChecklistID != "" {
		add(`v.checklist_id = ` + a.add(q.ChecklistID))
	}
	if q.Channel != "" {
		add(`v.channel = ` + a.add(q.Channel))
	}
	answer := func(cond string) {
		add(`EXISTS (SELECT 1 FROM visit_answers a WHERE a.visit_id = r.visit_id AND ` + cond + `)`)
	}
	for _, f := range []struct{ col, v string }{{"a.category", q.Category}, {"a.standard_code", q.Clause}, {"a.question_id", q.QuestionID}} {
		if f.v != "" && !(q.CriticalOnly && f.col == "a.question_id") {
			answer(f.col + ` = ` + a.add(f.v) + ` AND a.max_points > 0`)
		}
	}
	switch {
	case q.CriticalOnly && q.QuestionID != "":
		answer(`a.question_id = ` + a.add(q.QuestionID) + ` AND a.critical_failure`)
	case q.CriticalOnly:
		add(`r.critical_failed`)
	}
	if q.FlaggedOnly {
		add(flaggedSQL)
	}
	if rng, ok := npsRanges[q.NPS]; ok {
		answer(`a.nps BETWEEN ` + a.add(rng[0]) + ` AND ` + a.add(rng[1]))
	}
	switch q.Pass {
	case storage.PassPassed:
		add(passedSQL)
	case storage.PassFailed:
		add(`NOT ` + passedSQL)
	}
	return b.String()
}

// monthCase is an expression numbering r's month (storage.MonthIndex)
// from the plan's month bounds, the month before the period included,
// adding the bounds to a.
func (p *dashPlan) monthCase(a *args) string {
	var b strings.Builder
	b.WriteString("CASE")
	first := storage.MonthIndex(p.before, p.loc)
	for i, t := 0, p.before; t.Before(p.to); i, t = i+1, t.AddDate(0, 1, 0) {
		fmt.Fprintf(&b, " WHEN r.visited_at < %s THEN %d", a.add(t.AddDate(0, 1, 0)), first+i)
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
	_, err := r.db.AuditReports().Index(ctx)
	return err
}

// Figures computes the parts of the figures of q, in one read snapshot,
// after indexing any visit not indexed yet (storage.Dashboards). Errors:
// EINVALID (the query), ENOTFOUND (a store not in the caller's scope).
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
		if parts&storage.DashVisits != 0 {
			if err := readDashVisits(ctx, d, tx, p); err != nil {
				return err
			}
		}
		if parts&storage.DashAnswers != 0 {
			if err := readDashAnswers(ctx, d, tx, p); err != nil {
				return err
			}
		}
		if parts&storage.DashNPS != 0 {
			var a args
			sql := `SELECT count(*) FILTER (WHERE a.nps >= 9), count(*) FILTER (WHERE a.nps BETWEEN 7 AND 8), count(*) FILTER (WHERE a.nps <= 6)` +
				p.from(&a, p.months[0].From, `JOIN visit_answers a ON a.visit_id = r.visit_id`) + ` AND a.nps IS NOT NULL`
			if err := tx.QueryRow(ctx, sql, a...).Scan(&d.Promoters, &d.Passives, &d.Detractors); err != nil {
				return fmt.Errorf("dashboard NPS: %w", err)
			}
		}
		if parts&storage.DashCritical != 0 {
			if err := readDashCritical(ctx, d, tx, p); err != nil {
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

func readDashVisits(ctx context.Context, d *storage.Dashboard, tx *Tx, p *dashPlan) error {
	var a args
	sql := `SELECT ` + p.monthCase(&a) + `, r.store_id, s.code, s.name, s.region, count(*), count(*) FILTER (WHERE r.max_points > 0),
		COALESCE(sum(CASE WHEN r.max_points > 0 THEN r.points / r.max_points END), 0), count(*) FILTER (WHERE ` + passedSQL + `),
		count(*) FILTER (WHERE r.critical_failed), count(*) FILTER (WHERE ` + flaggedSQL + `)` +
		p.from(&a, p.before, "") + ` GROUP BY 1, 2, 3, 4, 5`
	rows, err := tx.Query(ctx, sql, a...)
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
	if err := rows.Err(); err != nil {
		return fmt.Errorf("dashboard visits: %w", err)
	}
	return nil
}

// answerFigures are the columns of reports.AnswerFigures over answers a
// of visits r, in scanAnswerFigures' order.
const answerFigures = `count(*) FILTER (WHERE a.max_points > 0), count(*) FILTER (WHERE a.max_points = 0), sum(a.points), sum(a.max_points),
	count(*) FILTER (WHERE a.critical_failure), count(DISTINCT CASE WHEN a.max_points > 0 THEN r.visit_id END)`

func scanAnswerFigures(row pgx.Row, f *reports.AnswerFigures, keys ...any) error {
	return row.Scan(append(keys, &f.Answers, &f.NotApplicable, &f.Points, &f.MaxPoints, &f.CriticalFailures, &f.Visits)...)
}

func readDashAnswers(ctx context.Context, d *storage.Dashboard, tx *Tx, p *dashPlan) error {
	const joins = `JOIN visit_answers a ON a.visit_id = r.visit_id`
	var a args
	sql := `SELECT r.store_id, a.category, ` + answerFigures + p.from(&a, p.months[0].From, joins) + ` AND a.category <> '' GROUP BY 1, 2`
	rows, err := tx.Query(ctx, sql, a...)
	if err != nil {
		return fmt.Errorf("dashboard categories: %w", err)
	}
	for rows.Next() {
		var k [2]string
		var f reports.AnswerFigures
		if err := scanAnswerFigures(rows, &f, &k[0], &k[1]); err != nil {
			rows.Close()
			return fmt.Errorf("dashboard categories: %w", err)
		}
		d.StoreCategories[k] = f
		c := d.Categories[k[1]]
		c.Add(f)
		d.Categories[k[1]] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("dashboard categories: %w", err)
	}

	// A clause's category and text are those of its last and first
	// checklist version in key order, as SQLite's sorted groups give them.
	a = nil
	sql = `SELECT a.standard_code, v.checklist_id, v.checklist_version, max(a.category COLLATE "C"), ` + answerFigures +
		p.from(&a, p.months[0].From, joins) + ` AND a.standard_code <> ''
		GROUP BY 1, 2, 3 ORDER BY a.standard_code COLLATE "C", v.checklist_id COLLATE "C", v.checklist_version`
	rows, err = tx.Query(ctx, sql, a...)
	if err != nil {
		return fmt.Errorf("dashboard clauses: %w", err)
	}
	type clauseRow struct {
		code, checklist, category string
		version                   int
		f                         reports.AnswerFigures
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (clauseRow, error) {
		var c clauseRow
		return c, scanAnswerFigures(row, &c.f, &c.code, &c.checklist, &c.version, &c.category)
	})
	if err != nil {
		return fmt.Errorf("dashboard clauses: %w", err)
	}
	texts := newVersionTexts(tx)
	for _, x := range list {
		c := d.Clauses[x.code]
		if c.Text == "" {
			c.Text = texts.clause(ctx, x.checklist, x.version, x.code)
		}
		c.Category = x.category
		c.Add(x.f)
		d.Clauses[x.code] = c
	}
	return nil
}

func readDashCritical(ctx context.Context, d *storage.Dashboard, tx *Tx, p *dashPlan) error {
	var a args
	sql := `SELECT v.checklist_id, v.checklist_version, a.question_id, max(a.standard_code COLLATE "C"), max(a.category COLLATE "C"),
		count(DISTINCT r.visit_id)` + p.from(&a, p.months[0].From, `JOIN visit_answers a ON a.visit_id = r.visit_id`) + ` AND a.critical_failure
		GROUP BY 1, 2, 3 ORDER BY v.checklist_id COLLATE "C", v.checklist_version, a.question_id COLLATE "C"`
	rows, err := tx.Query(ctx, sql, a...)
	if err != nil {
		return fmt.Errorf("dashboard critical failures: %w", err)
	}
	type criticalRow struct {
		checklist string
		version   int
		c         storage.DashboardCritical
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (criticalRow, error) {
		var x criticalRow
		return x, row.Scan(&x.checklist, &x.version, &x.c.QuestionID, &x.c.Clause, &x.c.Category, &x.c.Failures)
	})
	if err != nil {
		return fmt.Errorf("dashboard critical failures: %w", err)
	}
	texts := newVersionTexts(tx)
	byQuestion := map[string]int{}
	for _, x := range list {
		c := x.c
		c.Text = texts.question(ctx, x.checklist, x.version, c.QuestionID)
		if i, ok := byQuestion[c.QuestionID]; ok {
			d.CriticalQuestions[i].Failures += c.Failures
			continue
		}
		byQuestion[c.QuestionID] = len(d.CriticalQuestions)
		d.CriticalQuestions = append(d.CriticalQuestions, c)
	}
	storage.SortCritical(d.CriticalQuestions)
	return nil
}

// Visits lists the visits of q newest first (ties by id, bytewise), at
// most limit, after the page token (storage.DashboardPageToken); it
// returns the next page's token, "" after the last page
// (storage.Dashboards). Errors: EINVALID (the query or the token),
// ENOTFOUND (a store outside the caller's scope).
func (r dashboardRows) Visits(ctx context.Context, q storage.DashboardQuery, limit int, token string) ([]storage.DashboardVisit, string, error) {
	var afterAt time.Time
	var afterID string
	if token != "" {
		var err error
		if afterAt, afterID, err = storage.ParseDashboardPageToken(token); err != nil {
			return nil, "", err
		}
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
		var a args
		drill := `0::float8, 0::float8`
		for _, f := range []struct{ col, v string }{{"a.category", q.Category}, {"a.standard_code", q.Clause}, {"a.question_id", q.QuestionID}} {
			if f.v != "" {
				v := a.add(f.v)
				drill = `(SELECT COALESCE(sum(a.points), 0) FROM visit_answers a WHERE a.visit_id = r.visit_id AND ` + f.col + ` = ` + v + `),
					(SELECT COALESCE(sum(a.max_points), 0) FROM visit_answers a WHERE a.visit_id = r.visit_id AND ` + f.col + ` = ` + v + `)`
				break
			}
		}
		sql := `SELECT r.visit_id, s.code, s.name, s.region, r.visited_at, v.checklist_id, v.checklist_version,
			v.channel, v.state, r.points, r.max_points, ` + passedSQL + `, r.critical_failed, ` + flaggedSQL + `,
			COALESCE(st.name, ''), COALESCE(st.employee_number, ''), ` + drill +
			p.from(&a, p.months[0].From, `LEFT JOIN staff st ON st.id = r.staff_id`)
		if token != "" {
			at := a.add(afterAt)
			sql += ` AND (r.visited_at < ` + at + ` OR (r.visited_at = ` + at + ` AND r.visit_id COLLATE "C" < ` + a.add(afterID) + `))`
		}
		sql += ` ORDER BY r.visited_at DESC, r.visit_id COLLATE "C" DESC LIMIT ` + a.add(limit+1)
		rows, err := tx.Query(ctx, sql, a...)
		if err != nil {
			return fmt.Errorf("dashboard visits: %w", err)
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.DashboardVisit, error) {
			var v storage.DashboardVisit
			var state string
			err := row.Scan(&v.VisitID, &v.StoreCode, &v.StoreName, &v.Region, &v.VisitedAt, &v.ChecklistID, &v.ChecklistVersion,
				&v.Channel, &state, &v.Points, &v.MaxPoints, &v.Passed, &v.CriticalFailed, &v.Flagged, &v.StaffName, &v.StaffNumber,
				&v.DrillPoints, &v.DrillMax)
			v.State = audit.VisitState(state)
			return v, err
		})
		if err != nil {
			return fmt.Errorf("dashboard visits: %w", err)
		}
		return nil
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
