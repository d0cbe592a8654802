package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
)

// MaxAuditMonths bounds the months one audit workbook covers.
const MaxAuditMonths = 36

// priorMonths is how many months before the period the audit workbook's
// trend and month-on-month change look back.
const priorMonths = 12

// AuditQuery selects the visits of an audit workbook: those of the months
// From to To (inclusive, "YYYY-MM", UTC) in the caller's scope, of one
// store (by code), of one region, or of every store in scope.
type AuditQuery struct {
	Scope     audit.Scope
	From, To  string
	StoreCode string
	Region    string
	// Location is the organisation's time zone: months are cut and times
	// shown in it; nil means UTC.
	Location *time.Location
}

// AuditPeriod is the one rule for an audit workbook's months, whoever
// asks (the RPC, the HTTP download, the command line): from is a month
// written YYYY-MM; to is the last month, the same as from when empty, not
// before it and at most MaxAuditMonths on. Errors: EINVALID.
func AuditPeriod(from, to string) (reports.Period, error) { return AuditPeriodIn(from, to, time.UTC) }

// AuditPeriodIn is AuditPeriod with months of loc's calendar (the
// organisation's time zone). Errors: EINVALID.
func AuditPeriodIn(from, to string, loc *time.Location) (reports.Period, error) {
	if loc == nil {
		loc = time.UTC
	}
	if strings.TrimSpace(from) == "" {
		return reports.Period{}, audit.Errorf(audit.EINVALID, "from is required: the first month, written YYYY-MM (e.g. 2026-01); to, the last month, defaults to from")
	}
	if strings.TrimSpace(to) == "" {
		to = from
	}
	first, err := ParseMonthIn("from", from, loc)
	if err != nil {
		return reports.Period{}, err
	}
	last, err := ParseMonthIn("to", to, loc)
	if err != nil {
		return reports.Period{}, err
	}
	if last.From.Before(first.From) {
		return reports.Period{}, audit.Errorf(audit.EINVALID, "to %s is before from %s", monthKey(last), monthKey(first))
	}
	if months := (last.From.Year()-first.From.Year())*12 + int(last.From.Month()-first.From.Month()) + 1; months > MaxAuditMonths {
		return reports.Period{}, audit.Errorf(audit.EINVALID, "from %s to %s is %d months; at most %d", monthKey(first), monthKey(last), months, MaxAuditMonths)
	}
	return reports.Period{From: first.From, To: last.To}, nil
}

// AuditWorkbookOptions tune WriteAuditWorkbook; the zero value works.
type AuditWorkbookOptions struct {
	// Progress, when set, is called with the rows written so far and the
	// rows expected (visits, answers and photos), every ProgressEvery rows
	// and once at the end.
	Progress      func(done, total int64)
	ProgressEvery int64
	// EvidenceLink, when set, returns a link to the photo with the given
	// hash, for the Evidence sheet.
	EvidenceLink func(sha256 string) string
	// MaxRowsPerSheet is passed to reports.AuditOptions (0: Excel's limit).
	MaxRowsPerSheet int
}

// auditPlan is an AuditQuery resolved against the database.
type auditPlan struct {
	period reports.Period
	loc    *time.Location
	scope  string // for people: "Store MSK-01 …", "Region Moscow", "All stores"
	cond   string // SQL condition on r (report_visits) and s (stores)
	args   []any
}

// planAudit validates q and resolves its store or region in scope.
// Errors: EINVALID, ENOTFOUND (a store not in scope).
func planAudit(ctx context.Context, tx *Tx, q AuditQuery) (*auditPlan, error) {
	period, err := AuditPeriodIn(q.From, q.To, q.Location)
	if err != nil {
		return nil, err
	}
	if q.StoreCode != "" && q.Region != "" {
		return nil, audit.Errorf(audit.EINVALID, "give a store or a region, not both")
	}
	cond, args := storeScope(q.Scope, "r.store_id")
	p := &auditPlan{period: period, loc: cmp.Or(q.Location, time.UTC), cond: cond, args: args}
	switch {
	case q.StoreCode != "":
		var id, name string
		err := tx.QueryRowContext(ctx, `SELECT s.id, s.name FROM stores s WHERE s.code = ? AND `+strings.ReplaceAll(cond, "r.store_id", "s.id"),
			append([]any{q.StoreCode}, args...)...).Scan(&id, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "store %q not found", q.StoreCode)
		} else if err != nil {
			return nil, fmt.Errorf("find store: %w", err)
		}
		p.scope = fmt.Sprintf("Store %s (%s)", q.StoreCode, name)
		p.cond += ` AND r.store_id = ?`
		p.args = append(p.args, id)
	case q.Region != "":
		p.scope = "Region " + q.Region
		p.cond += ` AND s.region = ?`
		p.args = append(p.args, q.Region)
	case q.Scope.All:
		p.scope = "All stores"
	default:
		p.scope = "All my stores"
	}
	return p, nil
}

// auditFrom joins what every audit workbook query reads: the indexed
// visit r, the visit v (its review state) and its store s, in that order
// (reportVisitsFrom), then the extra joins given (CROSS JOIN keeps the
// order); its WHERE clause takes the period's two bounds and ends in AND,
// for the plan's condition.
func auditFrom(joins string) string { return periodFrom(AuditStates, joins) }

// periodFrom is auditFrom for visits in the given states (AuditStates or
// BonusStates); the dashboards share it.
func periodFrom(states []VisitState, joins string) string {
	return reportVisitsFrom + ` CROSS JOIN stores s ON s.id = r.store_id ` + joins + `
	WHERE r.visited_at >= ? AND r.visited_at < ? AND v.state IN ` + stateList(states) + ` AND `
}

// WriteAuditWorkbook writes the audit workbook of q to w (see
// reports.AuditWorkbook): the visits of the period in scope in every state
// but superseded (AuditStates; the state is shown per row), their answers
// and photos, and the twelve months before the period for the trend. It
// first indexes any stored visit not indexed yet, then reads everything in
// one read snapshot, streaming: memory grows with stores, staff and
// questions, not with visits or answers. Errors: EINVALID (the query),
// ENOTFOUND (a store not in the caller's scope), and any error writing to
// w.
func (db *DB) WriteAuditWorkbook(ctx context.Context, q AuditQuery, w io.Writer, o AuditWorkbookOptions) error {
	if _, err := db.IndexReportRows(ctx); err != nil {
		return err
	}
	return db.view(ctx, func(tx *Tx) error {
		p, err := planAudit(ctx, tx, q)
		if err != nil {
			return err
		}
		return writeAudit(ctx, tx, p, w, o)
	})
}

// CheckAuditQuery validates q and resolves its store in the caller's
// scope without writing anything, so that a download can answer a bad
// request before it starts streaming. Errors: those of WriteAuditWorkbook
// about the query.
func (db *DB) CheckAuditQuery(ctx context.Context, q AuditQuery) error {
	return db.view(ctx, func(tx *Tx) error {
		_, err := planAudit(ctx, tx, q)
		return err
	})
}

func writeAudit(ctx context.Context, tx *Tx, p *auditPlan, w io.Writer, o AuditWorkbookOptions) error {
	span := []any{millis(p.period.From), millis(p.period.To)}
	var visits, answers, photos int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(r.answers), 0)`+auditFrom("")+p.cond, append(span, p.args...)...).Scan(&visits, &answers); err != nil {
		return fmt.Errorf("count visits: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM visit_photos ph WHERE ph.visit_id IN (SELECT r.visit_id`+auditFrom("")+p.cond+`)`,
		append(span, p.args...)...).Scan(&photos); err != nil {
		return fmt.Errorf("count photos: %w", err)
	}
	book, err := reports.NewAuditWorkbook(w, reports.AuditOptions{
		Scope: p.scope, Period: p.period, Location: p.loc, MaxRowsPerSheet: o.MaxRowsPerSheet,
		Progress: o.Progress, ProgressEvery: o.ProgressEvery, Total: visits + answers + photos,
	})
	if err != nil {
		return reportsError(err)
	}
	fail := func(err error) error {
		_ = book.Close()
		return reportsError(err)
	}
	names, err := staffNames(ctx, tx)
	if err != nil {
		return fail(err)
	}
	if err := addPriorVisits(ctx, tx, p, book); err != nil {
		return fail(err)
	}
	if err := addVisits(ctx, tx, p, book, names); err != nil {
		return fail(err)
	}
	if err := addAnswers(ctx, tx, p, book, names); err != nil {
		return fail(err)
	}
	if err := addEvidence(ctx, tx, p, book, o.EvidenceLink); err != nil {
		return fail(err)
	}
	return reportsError(book.Close())
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

func addPriorVisits(ctx context.Context, tx *Tx, p *auditPlan, book *reports.AuditWorkbook) error {
	from := p.period.From.AddDate(0, -priorMonths, 0)
	rows, err := tx.QueryContext(ctx, `SELECT r.visit_id, s.code, r.visited_at, r.points, r.max_points`+auditFrom("")+p.cond,
		append([]any{millis(from), millis(p.period.From)}, p.args...)...)
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
		if err := book.AddPriorVisit(v); err != nil {
			return err
		}
	}
	return rows.Err()
}

func addVisits(ctx context.Context, tx *Tx, p *auditPlan, book *reports.AuditWorkbook, staff map[string]reports.StaffRef) error {
	rows, err := tx.QueryContext(ctx, `SELECT r.visit_id, s.code, s.name, s.region, v.checklist_id, v.checklist_version, v.channel,
		COALESCE(NULLIF(u.display_name, ''), u.email, v.shopper_id), r.staff_id, r.visited_at, v.state, r.points, r.max_points, r.critical_failed`+
		auditFrom("LEFT JOIN users u ON u.id = v.shopper_id")+p.cond+` ORDER BY r.visited_at, r.visit_id`,
		append([]any{millis(p.period.From), millis(p.period.To)}, p.args...)...)
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
		if err := book.AddVisit(v); err != nil {
			return err
		}
	}
	return rows.Err()
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

// answerBatch is how many answer rows addAnswers reads ahead in a batch.
const answerBatch = 256

// addAnswers adds the period's answers to the workbook. The answers are
// read from the database in a goroutine of their own, a few batches ahead
// of the workbook, so that SQLite's work and excelize's overlap on two
// cores; memory holds at most four batches.
func addAnswers(ctx context.Context, tx *Tx, p *auditPlan, book *reports.AuditWorkbook, staff map[string]reports.StaffRef) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	full := make(chan []reports.AnswerRow, 2)
	free := make(chan []reports.AnswerRow, 4)
	for range cap(free) {
		free <- make([]reports.AnswerRow, 0, answerBatch)
	}
	var readErr error
	go func() {
		defer close(full)
		batch := <-free
		send := func() bool {
			select {
			case full <- batch:
			case <-ctx.Done():
				return false
			}
			select {
			case batch = <-free:
				return true
			case <-ctx.Done():
				return false
			}
		}
		readErr = readAnswers(ctx, tx, p, staff, func(a *reports.AnswerRow) error {
			batch = append(batch, *a)
			if len(batch) == answerBatch && !send() {
				return ctx.Err()
			}
			return nil
		})
		if readErr == nil && len(batch) > 0 {
			send()
		}
	}()
	var addErr error
	for batch := range full {
		for i := range batch {
			if addErr == nil {
				addErr = book.AddAnswer(batch[i])
			}
		}
		if addErr != nil {
			cancel() // stop the reader; keep draining until it has left tx
			continue
		}
		free <- batch[:0]
	}
	if addErr != nil {
		return addErr
	}
	return readErr
}

// readAnswers reads the period's answers in order and hands each to emit,
// which must copy what it keeps: the row is reused.
func readAnswers(ctx context.Context, tx *Tx, p *auditPlan, staff map[string]reports.StaffRef, emit func(*reports.AnswerRow) error) error {
	rows, err := tx.QueryContext(ctx, `SELECT a.visit_id, s.code, a.visited_at, v.checklist_id, v.checklist_version, a.question_id,
		a.category, a.standard_code, a.staff_id, a.answer, a.points, a.max_points, a.critical, a.critical_failure, a.nps, a.note,
		a.value, a.unit`+
		auditFrom("CROSS JOIN visit_answers a ON a.visit_id = r.visit_id")+p.cond+
		` ORDER BY r.visited_at, r.visit_id, a.ord`,
		append([]any{millis(p.period.From), millis(p.period.To)}, p.args...)...)
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
		if err := emit(&a); err != nil {
			return err
		}
	}
	return rows.Err()
}

func addEvidence(ctx context.Context, tx *Tx, p *auditPlan, book *reports.AuditWorkbook, link func(string) string) error {
	rows, err := tx.QueryContext(ctx, `SELECT ph.visit_id, s.code, ph.question_id, ph.idx, ph.sha256, ph.size, ph.content_type,
		ph.captured_at, ph.verified_at, (SELECT COUNT(DISTINCT o.visit_id) FROM visit_photos o WHERE o.sha256 = ph.sha256 AND o.visit_id <> ph.visit_id)`+
		auditFrom("CROSS JOIN visit_photos ph ON ph.visit_id = r.visit_id")+p.cond+
		` ORDER BY r.visited_at, r.visit_id, ph.question_id, ph.idx`,
		append([]any{millis(p.period.From), millis(p.period.To)}, p.args...)...)
	if err != nil {
		return fmt.Errorf("read photos: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e reports.EvidenceRow
		var idx, reused int
		var captured, verified sql.NullInt64
		if err := rows.Scan(&e.VisitID, &e.StoreID, &e.QuestionID, &idx, &e.SHA256, &e.SizeBytes, &e.ContentType,
			&captured, &verified, &reused); err != nil {
			return fmt.Errorf("read photo: %w", err)
		}
		e.PhotoID = fmt.Sprintf("%s[%d]", e.QuestionID, idx)
		e.TakenAt = fromNullMillis(captured)
		var notes []string
		if !verified.Valid {
			notes = append(notes, "not uploaded and verified yet")
		} else if link != nil {
			e.Link = link(e.SHA256)
		}
		if reused > 0 {
			notes = append(notes, fmt.Sprintf("the same photo is in %d other visit(s)", reused))
		}
		e.Note = strings.Join(notes, "; ")
		if err := book.AddEvidence(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// PayrollFormat is the file a payroll download writes.
type PayrollFormat int

// The payroll files.
const (
	PayrollWorkbook   PayrollFormat = iota // the workbook to check and sign
	PayrollExportCSV                       // the flat export for payroll systems, CSV
	PayrollExportXLSX                      // the same, XLSX
)

// WritePayroll writes a file of a stored bonus run to w: the payroll
// workbook (reports.WritePayroll), or the flat export for payroll systems
// (reports.WritePayrollExportCSV or XLSX, in locale "ru" or "en"). The
// staff's current names, numbers and store codes are shown, store names
// and question texts name what the explanation lines read, times are in
// loc (nil: UTC); the figures are the run's. Errors: ENOTFOUND, EINVALID
// (the locale), and any error writing to w.
func (db *DB) WritePayroll(ctx context.Context, runID string, format PayrollFormat, locale string, loc *time.Location, w io.Writer) error {
	r, err := db.FindBonusRun(ctx, runID)
	if err != nil {
		return err
	}
	emps, err := db.PayrollEmployees(ctx)
	if err != nil {
		return err
	}
	switch format {
	case PayrollExportCSV:
		return reportsError(reports.WritePayrollExportCSV(w, r.Run, emps, locale))
	case PayrollExportXLSX:
		return reportsError(reports.WritePayrollExportXLSX(w, r.Run, emps, locale))
	}
	names, err := db.RunNames(ctx, r.Run)
	if err != nil {
		return err
	}
	meta := reports.PayrollMeta{
		RunID: r.ID, State: string(r.State), CreatedAt: r.CreatedAt, CreatedBy: r.CreatedByName,
		ApprovedAt: r.ApprovedAt, ApprovedBy: r.ApprovedByName, Location: loc,
		Stores: names.Stores, QuestionText: names.QuestionText,
	}
	return reportsError(reports.WritePayroll(w, r.Run, emps, meta))
}

// RunNames name what a run's explanation refers to by id: the stores by
// code and name, and the questions of each visit by their text.
type RunNames struct {
	Stores       map[string]reports.StoreName
	QuestionText func(visitID, questionID string) string
}

// RunNames reads the names of what run's explanation lines refer to, in
// one read snapshot.
func (db *DB) RunNames(ctx context.Context, run *reports.Run) (*RunNames, error) {
	out := &RunNames{}
	err := db.view(ctx, func(tx *Tx) error {
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
