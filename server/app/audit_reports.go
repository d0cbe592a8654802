package app

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/storage"
)

// priorMonths is how many months before the period the audit workbook's
// trend and month-on-month change look back.
const priorMonths = 12

// AuditQuery selects the visits of an audit workbook: those of the months
// From to To (inclusive, "YYYY-MM") in the caller's scope, of one store
// (by code), of one region, or of every store in scope.
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
// asks (the RPC, the HTTP download, the command line), in loc's calendar
// (UTC when nil): audit.ReportMonths. Errors: EINVALID.
func AuditPeriod(from, to string, loc *time.Location) (reports.Period, error) {
	first, end, err := audit.ReportMonths(from, to, loc)
	return reports.Period{From: first, To: end}, err
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

// auditPlan is an AuditQuery resolved against storage.
type auditPlan struct {
	sel    storage.AuditSelection
	period reports.Period
	loc    *time.Location
	scope  string // for people: "Store MSK-01 …", "Region Moscow", "All stores"
}

// planAudit validates q and resolves its store in scope. Errors:
// EINVALID, ENOTFOUND (a store not in scope).
func planAudit(ctx context.Context, tx storage.Tx, q AuditQuery) (*auditPlan, error) {
	period, err := AuditPeriod(q.From, q.To, q.Location)
	if err != nil {
		return nil, err
	}
	if q.StoreCode != "" && q.Region != "" {
		return nil, audit.Errorf(audit.EINVALID, "give a store or a region, not both")
	}
	p := &auditPlan{period: period, loc: cmp.Or(q.Location, time.UTC),
		sel: storage.AuditSelection{Scope: q.Scope, Region: q.Region, From: period.From, To: period.To}}
	switch {
	case q.StoreCode != "":
		id, name, err := tx.AuditReports().Store(ctx, q.Scope, q.StoreCode)
		if err != nil {
			return nil, err
		}
		p.scope = fmt.Sprintf("Store %s (%s)", q.StoreCode, name)
		p.sel.StoreID = id
	case q.Region != "":
		p.scope = "Region " + q.Region
	case q.Scope.All:
		p.scope = "All stores"
	default:
		p.scope = "All my stores"
	}
	return p, nil
}

// CheckAuditQuery validates q and resolves its store in the caller's
// scope without writing anything, so that a download can answer a bad
// request before it starts streaming. Errors: those of WriteAuditWorkbook
// about the query.
func (a *App) CheckAuditQuery(ctx context.Context, q AuditQuery) error {
	return a.st.View(ctx, func(tx storage.Tx) error {
		_, err := planAudit(ctx, tx, q)
		return err
	})
}

// WriteAuditWorkbook writes the audit workbook of q to w (see
// reports.AuditWorkbook): the visits of the period in scope in every state
// but superseded (the state is shown per row), their answers and photos,
// and the twelve months before the period for the trend. It first indexes
// any stored visit not indexed yet, then reads everything in one read
// snapshot, streaming: memory grows with stores, staff and questions, not
// with visits or answers. Errors: EINVALID (the query), ENOTFOUND (a store
// not in the caller's scope), and any error writing to w.
func (a *App) WriteAuditWorkbook(ctx context.Context, q AuditQuery, w io.Writer, o AuditWorkbookOptions) error {
	if _, err := a.st.AuditReports().Index(ctx); err != nil {
		return err
	}
	return a.st.View(ctx, func(tx storage.Tx) error {
		p, err := planAudit(ctx, tx, q)
		if err != nil {
			return err
		}
		return writeAudit(ctx, tx, p, w, o)
	})
}

func writeAudit(ctx context.Context, tx storage.Tx, p *auditPlan, w io.Writer, o AuditWorkbookOptions) error {
	ar := tx.AuditReports()
	visits, answers, photos, err := ar.Count(ctx, p.sel)
	if err != nil {
		return err
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
	prior := p.sel
	prior.From, prior.To = p.period.From.AddDate(0, -priorMonths, 0), p.period.From
	if err := ar.Scores(ctx, prior, book.AddPriorVisit); err != nil {
		return fail(err)
	}
	if err := ar.Visits(ctx, p.sel, book.AddVisit); err != nil {
		return fail(err)
	}
	if err := addAnswers(ctx, ar, p.sel, book); err != nil {
		return fail(err)
	}
	if err := ar.Photos(ctx, p.sel, func(ph *storage.AuditPhoto) error {
		return book.AddEvidence(evidenceRow(ph, o.EvidenceLink))
	}); err != nil {
		return fail(err)
	}
	if err := addAppeals(ctx, tx, p, book); err != nil {
		return fail(err)
	}
	if err := addActions(ctx, tx, p, book); err != nil {
		return fail(err)
	}
	return reportsError(book.Close())
}

// addAppeals adds the appeals against the period's visits in the plan's
// scope to the workbook, their questions named by text.
func addAppeals(ctx context.Context, tx storage.Tx, p *auditPlan, book *reports.AuditWorkbook) error {
	f := storage.AppealFilter{Scope: p.sel.Scope, StoreID: p.sel.StoreID, Region: p.sel.Region, VisitFrom: p.period.From, VisitTo: p.period.To, Limit: 1000}
	list, err := tx.Appeals().List(ctx, f)
	if err != nil {
		return err
	}
	versions := map[string]*audit.ChecklistVersion{}
	for _, ap := range list {
		s, err := tx.Visits().FindSummary(ctx, audit.Scope{All: true}, ap.VisitID)
		if err != nil {
			return err
		}
		key := fmt.Sprintf("%s\x00%d", s.ChecklistID, s.ChecklistVersion)
		cv := versions[key]
		if cv == nil {
			if cv, err = tx.Checklists().Find(ctx, s.ChecklistID, s.ChecklistVersion); err != nil {
				return err
			}
			versions[key] = cv
		}
		if err := book.AddAppeal(appealRow(ap, &cv.Content)); err != nil {
			return err
		}
	}
	return nil
}

// addActions adds the corrective actions opened by the period's visits in
// the plan's scope to the workbook, overdue as of the organisation's
// today.
func addActions(ctx context.Context, tx storage.Tx, p *auditPlan, book *reports.AuditWorkbook) error {
	list, err := tx.Actions().List(ctx, storage.ActionFilter{Scope: p.sel.Scope, StoreID: p.sel.StoreID, Region: p.sel.Region,
		VisitFrom: p.period.From, VisitTo: p.period.To, Limit: 1000})
	if err != nil {
		return err
	}
	_, loc, err := orgLocation(ctx, tx)
	if err != nil {
		return err
	}
	today := audit.Today(tx.Now(), loc)
	for _, ac := range list {
		if err := book.AddAction(reports.ActionRow{ActionID: ac.ID, StoreCode: ac.StoreCode, StoreName: ac.StoreName,
			QuestionID: ac.QuestionID, QuestionText: ac.QuestionText, Standard: ac.StandardCode, Severity: string(ac.Severity),
			State: strings.ReplaceAll(string(ac.State), "_", " "), Owner: ac.OwnerName, OpenedAt: ac.OpenedAt, DueDate: ac.DueDate,
			Overdue: audit.ActionOverdue(ac.State, ac.DueDate, today), VisitID: ac.VisitID, ResolvedByVisitID: ac.ResolvedByVisitID,
			Note: ac.Note}); err != nil {
			return err
		}
	}
	return nil
}

// appealRow is an appeal as the Appeals sheet shows it.
func appealRow(ap *audit.Appeal, c *audit.Checklist) reports.AppealRow {
	r := reports.AppealRow{AppealID: ap.ID, VisitID: ap.VisitID, StoreCode: ap.StoreCode, StoreName: ap.StoreName, VisitedAt: ap.VisitedAt,
		FiledAt: ap.FiledAt, FiledBy: ap.FiledByName, Deadline: ap.Deadline, RuledAt: ap.RuledAt, RuledBy: ap.RuledByName,
		ScoreBefore: ap.ScoreBefore, ScoreAfter: ap.ScoreAfter}
	if ap.StaffName != "" {
		r.Staff = fmt.Sprintf("%s (%s)", ap.StaffName, ap.StaffNumber)
	}
	for _, q := range ap.Questions {
		text := q.QuestionID
		if cq, _, ok := c.Question(q.QuestionID); ok && cq.Text != "" {
			text = cq.Text
		}
		switch q.Outcome {
		case audit.OutcomeUpheld:
			text += " — upheld"
		case audit.OutcomeRejected:
			text += " — rejected"
		}
		if q.RulingReason != "" {
			text += ": " + q.RulingReason
		}
		r.Questions = append(r.Questions, text)
	}
	switch {
	case ap.State == audit.AppealOpen:
		r.Outcome = "open"
	case ap.Upheld() == 0:
		r.Outcome = "rejected"
	default:
		r.Outcome = fmt.Sprintf("upheld %d of %d", ap.Upheld(), len(ap.Questions))
	}
	return r
}

// evidenceRow is a photo's row of the Evidence sheet: its place, its link
// once verified (when links can be made), and a note of what to check.
func evidenceRow(ph *storage.AuditPhoto, link func(string) string) reports.EvidenceRow {
	e := ph.EvidenceRow
	e.PhotoID = fmt.Sprintf("%s[%d]", e.QuestionID, ph.Index)
	var notes []string
	if !ph.Verified {
		notes = append(notes, "not uploaded and verified yet")
	} else if link != nil {
		e.Link = link(e.SHA256)
	}
	if ph.OtherVisits > 0 {
		notes = append(notes, fmt.Sprintf("the same photo is in %d other visit(s)", ph.OtherVisits))
	}
	e.Note = strings.Join(notes, "; ")
	return e
}

// answerBatch is how many answer rows addAnswers reads ahead in a batch.
const answerBatch = 256

// addAnswers adds the selection's answers to the workbook. The answers
// are read from storage in a goroutine of their own, a few batches ahead
// of the workbook, so that the database's work and excelize's overlap on
// two cores; memory holds at most four batches.
func addAnswers(ctx context.Context, ar storage.AuditReports, sel storage.AuditSelection, book *reports.AuditWorkbook) error {
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
		readErr = ar.Answers(ctx, sel, func(a *reports.AnswerRow) error {
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
			cancel() // stop the reader; keep draining until it has left the transaction
			continue
		}
		free <- batch[:0]
	}
	if addErr != nil {
		return addErr
	}
	return readErr
}
