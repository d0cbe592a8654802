package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/storage"
)

// computed is a run computed in one read snapshot, with the stamp of
// what it read.
type computed struct {
	run     *reports.Run
	missing []string
	stamp   string
}

// compute runs policy pol over period in tx: the employees with their pay
// of the policy's kind in force in the month, the observations of the
// visits that count, and the stamp of what was read, all in tx's
// snapshot.
func compute(ctx context.Context, tx storage.Tx, pol reports.Policy, period reports.Period) (*computed, error) {
	runs := tx.BonusRuns()
	emps, hasPay, err := runs.Employees(ctx, pol.Base, period.Key())
	if err != nil {
		return nil, err
	}
	run, err := reports.Compute(pol, period, emps, runs.Observations(ctx, period))
	if err != nil {
		return nil, reportsError(err)
	}
	c := &computed{run: run, missing: []string{}}
	for _, e := range run.Employees {
		if !hasPay[e.StaffID] {
			c.missing = append(c.missing, e.EmployeeNumber)
		}
	}
	if c.stamp, err = runs.InputsStamp(ctx, pol.Base, period); err != nil {
		return nil, err
	}
	return c, nil
}

// RunBonus runs a version of a policy (its latest when version is 0) over
// the approved visits of a month ("YYYY-MM") and stores the run as a
// draft. The employees are the staff with their base pay of the policy's
// kind (the latest amount from a month at or before the run's); the
// observations stream from storage in one read snapshot, so memory grows
// with staff and visits, not answers. When an approved run of the same
// policy and month exists, the new run records its differences from it.
//
// A run with the same policy version, inputs hash and stamp as a stored
// one (the approved run, or a draft compared with the same approved run)
// is not stored again: that run is returned with Reused set; a run
// stored writes the bonus_run.computed event. Errors:
// EINVALID (the month, or data the bonus engine refuses), ENOTFOUND (the
// policy or version).
func (a *App) RunBonus(ctx context.Context, policyID string, version int, in, by string) (*storage.BonusRun, error) {
	period, err := month("period", in)
	if err != nil {
		return nil, err
	}
	if version < 0 {
		return nil, audit.Errorf(audit.EINVALID, "policy version %d is negative; 0 means the latest", version)
	}
	if _, err := a.st.AuditReports().Index(ctx); err != nil {
		return nil, err
	}
	var c *computed
	err = a.st.View(ctx, func(tx storage.Tx) error {
		pol, err := tx.BonusPolicies().Find(ctx, policyID, version)
		if err != nil {
			return err
		}
		c, err = compute(ctx, tx, pol.Policy, period)
		return err
	})
	if err != nil {
		return nil, err
	}
	run := c.run
	result, err := json.Marshal(run)
	if err != nil {
		// Only a non-finite figure fails to encode: the same policy and
		// inputs would fail again.
		return nil, audit.Errorf(audit.EINVALID, "the run's figures cannot be stored (%v): check the policy", err)
	}
	r := &storage.BonusRun{
		ID: newID(), PolicyID: run.Policy.ID, PolicyVersion: run.Policy.Version, Period: period.Key(),
		InputsHash: run.InputsHash, InputsStamp: c.stamp, State: storage.RunDraft, Result: result, Run: run, MissingBasePay: c.missing,
		CreatedBy: by, Changes: []reports.Change{},
	}
	var out *storage.BonusRun
	err = a.st.Update(ctx, func(tx storage.Tx) error {
		locked, err := tx.BonusRuns().Approved(ctx, r.PolicyID, r.Period)
		if err != nil {
			return err
		}
		if locked != nil {
			r.ComparedRunID = locked.ID
		}
		// The same inputs, read at the same revisions: the run is stored
		// already (the locked run itself, or a draft against it).
		same, err := tx.BonusRuns().Same(ctx, r)
		if err != nil {
			return err
		}
		for _, s := range same {
			if s.State == storage.RunApproved || s.ComparedRunID == r.ComparedRunID {
				out = s
				out.Reused = true
				return nil
			}
		}
		if locked != nil {
			if d := reports.Diff(locked.Run, run); d != nil {
				r.Changes = d
				causes, err := rulingsSince(ctx, tx, period, locked.ApprovedAt)
				if err != nil {
					return err
				}
				reports.CiteCauses(r.Changes, run, causes)
			}
		}
		if err := tx.BonusRuns().Add(ctx, r); err != nil {
			return err
		}
		if out, err = tx.BonusRuns().Find(ctx, r.ID); err != nil {
			return err
		}
		if err := bonusRunEvent(ctx, tx, EventBonusRunComputed, out); err != nil {
			return err
		}
		return a.mailBonusRunReady(ctx, tx, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PreviewBonus runs policy p (validated, store codes allowed as in
// CreatePolicy) over a month as RunBonus would, and stores nothing: the
// policy editor's preview. It returns the run and the covered employees
// without base pay. Errors: EINVALID (the policy, every problem at once,
// or the month).
func (a *App) PreviewBonus(ctx context.Context, p reports.Policy, in string) (*reports.Run, []string, error) {
	period, err := month("period", in)
	if err != nil {
		return nil, nil, err
	}
	if p.Version == 0 {
		p.Version = 1
	}
	if err := reportsError(p.Validate()); err != nil {
		return nil, nil, err
	}
	if _, err := a.st.AuditReports().Index(ctx); err != nil {
		return nil, nil, err
	}
	var c *computed
	err = a.st.View(ctx, func(tx storage.Tx) error {
		if err := resolvePolicyStores(ctx, tx, &p); err != nil {
			return err
		}
		var err error
		c, err = compute(ctx, tx, p, period)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return c.run, c.missing, nil
}

// ListBonusRuns returns the runs that match, newest first, at most 500.
// Errors: EINVALID (a malformed period).
func (a *App) ListBonusRuns(ctx context.Context, f storage.BonusRunFilter) ([]*storage.BonusRun, error) {
	if f.Period != "" {
		p, err := month("period", f.Period)
		if err != nil {
			return nil, err
		}
		f.Period = p.Key()
	}
	return a.st.BonusRuns().List(ctx, f)
}

// rulingsSince returns the rulings on appeals against visits of the
// period ruled after since, as the causes a run's differences cite.
func rulingsSince(ctx context.Context, tx storage.Tx, period reports.Period, since time.Time) ([]reports.Cause, error) {
	ruled, err := tx.Appeals().List(ctx, storage.AppealFilter{Scope: audit.Scope{All: true}, State: audit.AppealClosed,
		VisitFrom: period.From, VisitTo: period.To, RuledAfter: since, Limit: 1000})
	if err != nil {
		return nil, err
	}
	var out []reports.Cause
	for _, ap := range ruled {
		if ap.Upheld() == 0 {
			continue // nothing changed
		}
		out = append(out, reports.Cause{AppealID: ap.ID, VisitID: ap.VisitID, StoreID: ap.StoreID, StoreCode: ap.StoreCode,
			StoreName: ap.StoreName, StaffID: ap.StaffID, VisitedAt: ap.VisitedAt.UTC(), RuledAt: ap.RuledAt.UTC(), RuledBy: ap.RuledByName,
			Upheld: ap.Upheld(), Questions: len(ap.Questions), ScoreBefore: ap.ScoreBefore, ScoreAfter: ap.ScoreAfter})
	}
	return out, nil
}

// ApproveBonusRun approves a draft run, which locks it; an approved run of
// the same policy and month becomes superseded. Approving the approved run
// again is a no-op; an approval writes the bonus_run.approved event.
// While appeals against visits of the run's month are
// open, the run is approved only with an override reason, which is
// recorded on it with those appeals (and printed in its payroll
// workbook). Errors: ENOTFOUND, EPRECONDITION (the run is superseded or
// stale; an approved run of the same policy and month was approved after
// this run was computed: re-run to see the difference first; or appeals
// are open and no override reason was given: the refusal lists them by
// store, visit date and employee), EINVALID (an overlong reason).
func (a *App) ApproveBonusRun(ctx context.Context, id, by, overrideReason string) (*storage.BonusRun, error) {
	overrideReason = strings.TrimSpace(overrideReason)
	if err := audit.CheckLen("override_reason", overrideReason, audit.MaxNoteLen); err != nil {
		return nil, err
	}
	var out *storage.BonusRun
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		r, err := tx.BonusRuns().Find(ctx, id)
		if err != nil {
			return err
		}
		switch r.State {
		case storage.RunApproved:
			out = r
			return nil
		case storage.RunSuperseded:
			return audit.Errorf(audit.EPRECONDITION, "bonus run %s was superseded by a later approved run", id)
		}
		if err := checkFresh(ctx, tx, r); err != nil {
			return err
		}
		locked, err := tx.BonusRuns().Approved(ctx, r.PolicyID, r.Period)
		switch {
		case err != nil:
			return err
		case locked == nil:
		case locked.ID != r.ComparedRunID:
			return audit.Errorf(audit.EPRECONDITION, "bonus run %s was computed before run %s was approved for %s %s; run the policy again to see the difference first", id, locked.ID, r.PolicyID, r.Period)
		default:
			if err := tx.BonusRuns().Supersede(ctx, locked.ID); err != nil {
				return err
			}
		}
		period, err := month("period", r.Period)
		if err != nil {
			return err
		}
		open, err := tx.Appeals().List(ctx, storage.AppealFilter{Scope: audit.Scope{All: true}, State: audit.AppealOpen,
			VisitFrom: period.From, VisitTo: period.To, Limit: 1000})
		if err != nil {
			return err
		}
		var overridden []string
		if len(open) > 0 {
			if overrideReason == "" {
				_, loc, err := orgLocation(ctx, tx)
				if err != nil {
					return err
				}
				return audit.Errorf(audit.EPRECONDITION, "bonus run %s for %s %s cannot be approved while %d appeal(s) on visits it read are open: %s; rule on them first, or approve with an override reason",
					id, r.PolicyID, r.Period, len(open), strings.Join(appealNames(open, loc), "; "))
			}
			for _, ap := range open {
				overridden = append(overridden, ap.ID)
			}
		} else {
			overrideReason = ""
		}
		if err := tx.BonusRuns().Approve(ctx, id, by, overrideReason, overridden); err != nil {
			return err
		}
		if out, err = tx.BonusRuns().Find(ctx, id); err != nil {
			return err
		}
		return bonusRunEvent(ctx, tx, EventBonusRunApproved, out)
	})
	return out, err
}

// checkFresh refuses a draft whose inputs changed since it was computed:
// the stamp of what it read (storage.BonusRuns.InputsStamp), taken again
// now, must be the one stored with it. A visit reopened and approved
// again, a visit approved or reopened since, any base pay written for the
// month, a staff member moved: each changes the stamp. Errors:
// EPRECONDITION.
func checkFresh(ctx context.Context, tx storage.Tx, r *storage.BonusRun) error {
	pol, err := tx.BonusPolicies().Find(ctx, r.PolicyID, r.PolicyVersion)
	if err != nil {
		return err
	}
	period, err := month("period", r.Period)
	if err != nil {
		return err
	}
	now, err := tx.BonusRuns().InputsStamp(ctx, pol.Policy.Base, period)
	if err != nil {
		return err
	}
	if now != r.InputsStamp {
		return audit.Errorf(audit.EPRECONDITION, "bonus run %s is out of date: visits, base pay or staff it read for %s %s changed after it was computed (%s); run the policy again and approve the new run",
			r.ID, r.PolicyID, r.Period, r.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return nil
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
// loc (nil: UTC); the figures are the run's. Everything is read in one
// snapshot before anything is written. Errors: ENOTFOUND, EINVALID (the
// locale), and any error writing to w.
func (a *App) WritePayroll(ctx context.Context, runID string, format PayrollFormat, locale string, loc *time.Location, w io.Writer) error {
	var r *storage.BonusRun
	var emps []reports.Employee
	var names *storage.RunNames
	var rulings map[string]string
	var overridden []string
	err := a.st.View(ctx, func(tx storage.Tx) error {
		var err error
		if r, err = tx.BonusRuns().Find(ctx, runID); err != nil {
			return err
		}
		if emps, err = tx.BonusRuns().PayrollEmployees(ctx); err != nil {
			return err
		}
		if format != PayrollWorkbook {
			return nil
		}
		if names, err = tx.BonusRuns().Names(ctx, r.Run); err != nil {
			return err
		}
		rulings, overridden, err = payrollAppeals(ctx, tx, r, loc)
		return err
	})
	if err != nil {
		return err
	}
	switch format {
	case PayrollExportCSV:
		return reportsError(reports.WritePayrollExportCSV(w, r.Run, emps, locale))
	case PayrollExportXLSX:
		return reportsError(reports.WritePayrollExportXLSX(w, r.Run, emps, locale))
	}
	meta := reports.PayrollMeta{
		RunID: r.ID, State: string(r.State), CreatedAt: r.CreatedAt, CreatedBy: r.CreatedByName,
		ApprovedAt: r.ApprovedAt, ApprovedBy: r.ApprovedByName, Location: loc,
		Stores: names.Stores, QuestionText: names.QuestionText,
		OverrideReason: r.OverrideReason, Overridden: overridden,
		Ruling: func(visitID, component string) string { return rulings[visitID+"\x00"+component] },
	}
	return reportsError(reports.WritePayroll(w, r.Run, emps, meta))
}

// payrollAppeals reads what a run's payroll workbook says of appeals: the
// rulings that changed visits of its month before it was computed, by
// visit and the run's component whose answers they amended
// (visitID + "\x00" + component), and the open appeals it was approved
// over, for people.
func payrollAppeals(ctx context.Context, tx storage.Tx, r *storage.BonusRun, loc *time.Location) (map[string]string, []string, error) {
	if loc == nil {
		loc = time.UTC
	}
	period, err := month("period", r.Period)
	if err != nil {
		return nil, nil, err
	}
	ruled, err := tx.Appeals().List(ctx, storage.AppealFilter{Scope: audit.Scope{All: true}, State: audit.AppealClosed,
		VisitFrom: period.From, VisitTo: period.To, Limit: 1000})
	if err != nil {
		return nil, nil, err
	}
	rulings := map[string]string{}
	for _, ap := range ruled {
		if ap.Upheld() == 0 || ap.RuledAt.After(r.CreatedAt) {
			continue
		}
		s, err := tx.Visits().FindSummary(ctx, audit.Scope{All: true}, ap.VisitID)
		if err != nil {
			return nil, nil, err
		}
		cv, err := tx.Checklists().Find(ctx, s.ChecklistID, s.ChecklistVersion)
		if err != nil {
			return nil, nil, err
		}
		text := fmt.Sprintf("ruling on appeal %s by %s on %s: %d of %d question(s) upheld, score %s → %s",
			ap.ID, ap.RuledByName, ap.RuledAt.In(loc).Format("2006-01-02"), ap.Upheld(), len(ap.Questions), percentText(ap.ScoreBefore), percentText(ap.ScoreAfter))
		for _, q := range ap.Questions {
			if q.Outcome != audit.OutcomeUpheld {
				continue
			}
			cq, _, ok := cv.Content.Question(q.QuestionID)
			if !ok {
				continue
			}
			var category string
			if std, ok := cv.Content.Standard(cq.StandardCode); ok {
				category = string(std.Category)
			}
			for i := range r.Run.Policy.Components {
				if c := &r.Run.Policy.Components[i]; c.Matches(category, cq.StandardCode) {
					rulings[ap.VisitID+"\x00"+c.Name] = text
				}
			}
		}
	}
	var overridden []*audit.Appeal
	for _, id := range r.OverriddenAppeals {
		ap, err := tx.Appeals().Find(ctx, audit.Scope{All: true}, id)
		if err != nil {
			return nil, nil, err
		}
		overridden = append(overridden, ap)
	}
	return rulings, appealNames(overridden, loc), nil
}
