package app

import (
	"context"
	"slices"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/storage"
)

// What an employee with an account (audit.RoleStaff) may see of his own
// results (issue 13 §1): the approved visits that concern him, and his
// lines of the approved bonus runs. The rules are here, once; the
// handlers only convert.

// Me is the employee behind a staff user.
type Me struct {
	User  *audit.User
	Staff *audit.Staff
}

// staffOf returns the employee of the staff user p. Errors: EFORBIDDEN
// (not a staff user), ENOTFOUND.
func staffOf(ctx context.Context, tx storage.Tx, p audit.Principal) (*Me, error) {
	if p.Role != audit.RoleStaff {
		return nil, audit.Errorf(audit.EFORBIDDEN, "only an employee's own account sees \"my results\"")
	}
	u, err := tx.Users().Find(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	if u.Role != audit.RoleStaff || u.StaffID == "" {
		return nil, audit.Errorf(audit.EFORBIDDEN, "user %s is not linked to an employee", u.Email)
	}
	s, err := tx.Staff().Find(ctx, audit.Scope{All: true}, u.StaffID)
	if err != nil {
		return nil, err
	}
	return &Me{User: u, Staff: s}, nil
}

// WhoIsMe returns the employee of the staff user p. Errors: EFORBIDDEN,
// ENOTFOUND.
func (a *App) WhoIsMe(ctx context.Context, p audit.Principal) (*Me, error) {
	var me *Me
	err := a.st.View(ctx, func(tx storage.Tx) error {
		var err error
		me, err = staffOf(ctx, tx, p)
		return err
	})
	return me, err
}

// concerns reports whether the visit s concerns the employee staffID: it
// is approved (audit.BonusStates), and names him, or names nobody and
// was made at the store he was on the staff list of on the visit's day
// (storage.Staff.StoreAt).
func concerns(ctx context.Context, tx storage.Tx, staffID string, s *storage.VisitSummary) (bool, error) {
	if !slices.Contains(audit.BonusStates, s.State) {
		return false, nil
	}
	switch s.StaffID {
	case staffID:
		return true, nil
	case "":
		store, err := tx.Staff().StoreAt(ctx, staffID, s.StartedAt)
		return err == nil && store != "" && store == s.StoreID, err
	}
	return false, nil
}

// MyVisits returns the visits of month ("YYYY-MM", the organisation's
// calendar) that concern the staff user p, newest first, at most 500.
// Errors: EINVALID (the month), EFORBIDDEN (not a staff user).
func (a *App) MyVisits(ctx context.Context, p audit.Principal, month string) ([]*storage.VisitSummary, error) {
	// Visits stored before the report rows existed are indexed first, so
	// that every visit is seen with the employee it names.
	if _, err := a.st.AuditReports().Index(ctx); err != nil {
		return nil, err
	}
	var out []*storage.VisitSummary
	err := a.st.View(ctx, func(tx storage.Tx) error {
		me, err := staffOf(ctx, tx, p)
		if err != nil {
			return err
		}
		from, to, err := orgMonth(ctx, tx, month)
		if err != nil {
			return err
		}
		stores, err := storesOf(ctx, tx, me.Staff)
		if err != nil {
			return err
		}
		list, err := tx.Visits().ListForStaff(ctx, storage.StaffVisitFilter{StaffID: me.Staff.ID, StoreIDs: stores,
			States: audit.BonusStates, From: from, To: to})
		if err != nil {
			return err
		}
		for _, s := range list {
			ok, err := concerns(ctx, tx, me.Staff.ID, s)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, s)
			}
		}
		return nil
	})
	return out, err
}

// MyVisit returns one visit that concerns the staff user p. Any other
// visit is not found, as if it did not exist. Errors: EINVALID,
// ENOTFOUND, EFORBIDDEN (not a staff user).
func (a *App) MyVisit(ctx context.Context, p audit.Principal, id string) (*storage.VisitDetail, error) {
	if id == "" {
		return nil, audit.Errorf(audit.EINVALID, "visit_id is required")
	}
	var d *storage.VisitDetail
	err := a.st.View(ctx, func(tx storage.Tx) error {
		me, err := staffOf(ctx, tx, p)
		if err != nil {
			return err
		}
		d, err = tx.Visits().FindDetail(ctx, audit.Scope{All: true}, id)
		if err != nil {
			return err
		}
		ok, err := concerns(ctx, tx, me.Staff.ID, &d.VisitSummary)
		if err != nil {
			return err
		}
		if !ok {
			d = nil
			return audit.Errorf(audit.ENOTFOUND, "visit %q not found", id)
		}
		// He sees the visit as it is scored: with the answers upheld
		// appeals amended laid over those recorded.
		amended, err := tx.Appeals().Amendments(ctx, id)
		if err != nil {
			return err
		}
		if len(amended) > 0 && d.Visit != nil {
			v := *d.Visit
			v.Answers = audit.AmendAnswers(d.Visit.Answers, amended)
			d.Visit = &v
		}
		return nil
	})
	return d, err
}

// storesOf returns the stores an employee is or was on the staff list of:
// his store and every store of his transfers.
func storesOf(ctx context.Context, tx storage.Tx, s *audit.Staff) ([]string, error) {
	var out []string
	add := func(id string) {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	add(s.StoreID)
	ts, err := tx.Staff().Transfers(ctx, s.ID, false)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		add(t.FromStoreID)
		add(t.ToStoreID)
	}
	return out, nil
}

// orgMonth returns the bounds of month ("YYYY-MM") in the organisation's
// time zone. Errors: EINVALID.
func orgMonth(ctx context.Context, tx storage.Tx, month string) (time.Time, time.Time, error) {
	st, err := tx.OrgSettings().Find(ctx)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	loc, err := time.LoadLocation(st.TimeZone)
	if err != nil {
		return time.Time{}, time.Time{}, audit.Errorf(audit.EINTERNAL, "stored time zone %q: %v", st.TimeZone, err)
	}
	from, err := audit.ParseMonth("month", month, loc)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return from, from.AddDate(0, 1, 0), nil
}

// MyPayRun is the staff user's own line of one approved bonus run: his
// result (components, amounts, explanation lines) and the names its lines
// refer to. Nobody else's result is in it.
type MyPayRun struct {
	RunID         string
	PolicyID      string
	PolicyName    string
	PolicyVersion int
	Period        string
	ApprovedAt    time.Time
	Result        reports.EmployeeResult
	Names         *storage.RunNames
}

// MyPay returns the staff user's lines of the approved runs of month
// ("YYYY-MM", as bonus runs are: reports.Month), one per policy that
// covers him; a run that does not cover him gives none. Errors: EINVALID
// (the month), EFORBIDDEN (not a staff user).
func (a *App) MyPay(ctx context.Context, p audit.Principal, monthText string) ([]MyPayRun, error) {
	period, err := month("month", monthText)
	if err != nil {
		return nil, err
	}
	var out []MyPayRun
	err = a.st.View(ctx, func(tx storage.Tx) error {
		me, err := staffOf(ctx, tx, p)
		if err != nil {
			return err
		}
		runs, err := tx.BonusRuns().List(ctx, storage.BonusRunFilter{Period: period.Key()})
		if err != nil {
			return err
		}
		for _, r := range runs {
			if r.State != storage.RunApproved || r.Run == nil {
				continue
			}
			i := slices.IndexFunc(r.Run.Employees, func(e reports.EmployeeResult) bool { return e.StaffID == me.Staff.ID })
			if i < 0 {
				continue
			}
			mine := &reports.Run{Policy: r.Run.Policy, Period: r.Run.Period, Employees: []reports.EmployeeResult{r.Run.Employees[i]}}
			names, err := tx.BonusRuns().Names(ctx, mine)
			if err != nil {
				return err
			}
			out = append(out, MyPayRun{RunID: r.ID, PolicyID: r.PolicyID, PolicyName: r.Run.Policy.Name, PolicyVersion: r.PolicyVersion,
				Period: r.Period, ApprovedAt: r.ApprovedAt, Result: r.Run.Employees[i], Names: names})
		}
		return nil
	})
	return out, err
}

// MyPhoto returns the verified photo (question, index) of a visit that
// concerns the staff user p. Errors: EINVALID, ENOTFOUND (also a photo not
// verified, or a visit that does not concern him), EFORBIDDEN (not a
// staff user).
func (a *App) MyPhoto(ctx context.Context, p audit.Principal, visitID, questionID string, index int) (storage.PhotoStatus, error) {
	if questionID == "" {
		return storage.PhotoStatus{}, audit.Errorf(audit.EINVALID, "question_id is required")
	}
	d, err := a.MyVisit(ctx, p, visitID)
	if err != nil {
		return storage.PhotoStatus{}, err
	}
	for _, ph := range d.Photos {
		if ph.QuestionID == questionID && ph.Index == index && ph.Verified {
			return ph, nil
		}
	}
	return storage.PhotoStatus{}, audit.Errorf(audit.ENOTFOUND, "visit %q has no verified photo %d for question %q", visitID, index+1, questionID)
}
