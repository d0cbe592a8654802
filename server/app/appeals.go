package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/storage"
)

// Appeals (docs/DESIGN.md §10): the audited side disputes an approved
// visit, someone who did not review it rules, and the ruling reaches the
// visit's score and, through it, pay. The visit's recorded answers never
// change: the upheld amendments are stored beside them (storage.Appeals)
// and the visit is scored again on both (audit.AmendAnswers) by the same
// engine as at push. Nothing of it reaches the shopper's device: no use
// case here writes a feed row.

// filerScope returns the scope in which filer may file appeals, and the
// employee the visit must concern ("" for any): a manager files for the
// staff of his stores, an employee (role staff) for himself, on the
// visits his own results show him (concerns). Errors: EFORBIDDEN (any
// other role, or an account linked to no employee).
func (a *App) filerScope(ctx context.Context, tx storage.Tx, filer audit.Principal) (audit.Scope, string, error) {
	switch filer.Role {
	case audit.RoleManager:
		return audit.ScopeOf(filer), "", nil
	case audit.RoleStaff:
		me, err := staffOf(ctx, tx, filer)
		if err != nil {
			return audit.Scope{}, "", err
		}
		return audit.Scope{All: true}, me.Staff.ID, nil
	}
	return audit.Scope{}, "", audit.Errorf(audit.EFORBIDDEN, "an appeal is filed by the employee or a manager of the store on his behalf, not by a user with the %s role", filer.Role)
}

// approvedAt returns when a visit was last approved, from its history (a
// ruling's row, which keeps the state, is no approval).
func approvedAt(h []storage.Transition) (time.Time, bool) {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].To == audit.VisitApproved && h[i].From != audit.VisitApproved {
			return h[i].At, true
		}
	}
	return time.Time{}, false
}

// orgLocation returns the organisation's settings and time zone.
func orgLocation(ctx context.Context, tx storage.Tx) (*audit.OrgSettings, *time.Location, error) {
	st, err := tx.OrgSettings().Find(ctx)
	if err != nil {
		return nil, nil, err
	}
	loc, err := time.LoadLocation(st.TimeZone)
	if err != nil {
		return nil, nil, fmt.Errorf("organisation time zone %q: %w", st.TimeZone, err)
	}
	return st, loc, nil
}

// FileAppeal files in (its visit, questions with reasons and evidence)
// for filer: a manager against a visit of his stores, on the staff
// member's behalf, or a staff user against a visit that names him. The
// visit must be approved or published and its appeal window open (the
// organisation's AppealWindowDays after its approval, to the end of the
// day in the organisation's time zone); the questions must be the visit's
// checklist's, each with a reason, and the evidence photos or PDF files
// (hashed by the filer; uploaded afterwards through the verified evidence
// path). Errors: ENOTFOUND (no such visit in the filer's scope),
// EFORBIDDEN, EPRECONDITION (the visit is not approved, its window closed
// (naming the day), or it has an open appeal), EINVALID, EEXHAUSTED.
func (a *App) FileAppeal(ctx context.Context, filer audit.Principal, in *audit.Appeal) (*audit.Appeal, error) {
	if in.VisitID == "" {
		return nil, audit.Errorf(audit.EINVALID, "visit_id is required")
	}
	var out *audit.Appeal
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		scope, staffID, err := a.filerScope(ctx, tx, filer)
		if err != nil {
			return err
		}
		d, err := tx.Visits().FindDetail(ctx, scope, in.VisitID)
		if err != nil {
			return err
		}
		if staffID != "" {
			if mine, err := concerns(ctx, tx, staffID, &d.VisitSummary); err != nil {
				return err
			} else if !mine {
				return audit.Errorf(audit.ENOTFOUND, "visit %q not found", in.VisitID)
			}
		}
		if !d.State.Counts() {
			return audit.Errorf(audit.EPRECONDITION, "visit %s is %s: only an approved or published visit can be appealed", in.VisitID, d.State)
		}
		w, err := windowOf(ctx, tx, d)
		if err != nil {
			return err
		}
		if !w.approved {
			return audit.Errorf(audit.EPRECONDITION, "visit %s has no approval in its history", in.VisitID)
		}
		if err := audit.CheckAppealWindow(in.VisitID, w.approvedAt, tx.Now(), w.days, w.loc); err != nil {
			return err
		}
		ap := &audit.Appeal{
			ID: newID(), VisitID: d.ID, StoreID: d.StoreID, StaffID: d.StaffID, VisitedAt: d.StartedAt,
			FiledBy: filer.UserID, FiledRole: filer.Role, Deadline: w.Deadline,
		}
		for _, q := range in.Questions {
			q.Reason = strings.TrimSpace(q.Reason)
			q.Outcome, q.Amended, q.RulingReason = audit.OutcomePending, nil, ""
			ap.Questions = append(ap.Questions, q)
		}
		if err := ap.Validate(&d.Checklist.Content); err != nil {
			return err
		}
		if err := tx.Appeals().Add(ctx, ap); err != nil {
			return err
		}
		out, err = tx.Appeals().Find(ctx, audit.Scope{All: true}, ap.ID)
		return err
	})
	return out, err
}

// AppealWindow is the appeal window of one visit.
type AppealWindow struct {
	// Deadline is when the window closes (the start of the day after its
	// last day, in the organisation's time zone); zero when the visit has
	// no approval in its history.
	Deadline time.Time
	// Open says whether an appeal may be filed now: the visit counts, its
	// window is open and it has no open appeal.
	Open bool

	approved   bool
	approvedAt time.Time
	days       int
	loc        *time.Location
}

// windowOf returns the appeal window of the visit d: the organisation's
// AppealWindowDays after its last approval.
func windowOf(ctx context.Context, tx storage.Tx, d *storage.VisitDetail) (AppealWindow, error) {
	st, loc, err := orgLocation(ctx, tx)
	if err != nil {
		return AppealWindow{}, err
	}
	w := AppealWindow{days: st.AppealWindow(), loc: loc}
	if w.approvedAt, w.approved = approvedAt(d.History); !w.approved {
		return w, nil
	}
	w.Deadline = audit.AppealDeadline(w.approvedAt, w.days, loc)
	if !d.State.Counts() || !tx.Now().Before(w.Deadline) {
		return w, nil
	}
	open, err := tx.Appeals().List(ctx, storage.AppealFilter{Scope: audit.Scope{All: true}, VisitID: d.ID, State: audit.AppealOpen, Limit: 1})
	w.Open = len(open) == 0
	return w, err
}

// VisitAppealWindow returns the appeal window of the visit d, read by a
// use case that decided the caller may see it (MyVisit).
func (a *App) VisitAppealWindow(ctx context.Context, d *storage.VisitDetail) (AppealWindow, error) {
	var w AppealWindow
	err := a.st.View(ctx, func(tx storage.Tx) (err error) {
		w, err = windowOf(ctx, tx, d)
		return err
	})
	return w, err
}

// RuleAppeal rules on every question of an open appeal for judge, a
// manager of the visit's store or an HR user who neither reviewed the
// visit nor filed the appeal (four eyes): each question upheld with its
// amended answer or rejected with a reason. In one transaction the
// rulings are stored and the appeal closed, the visit is scored again on
// its answers with every upheld amendment laid over them (its recorded
// answers stay as they were), its report rows follow the new score, and
// its history records who ruled what and why. The shopper's device hears
// nothing. Errors: ENOTFOUND (no such appeal in the judge's scope),
// EFORBIDDEN (naming the reviewer), EPRECONDITION (ruled already),
// EINVALID (a question without a ruling, an amended answer the question
// does not take, a rejection without a reason).
func (a *App) RuleAppeal(ctx context.Context, judge audit.Principal, id string, rulings []audit.QuestionRuling) (*audit.Appeal, error) {
	var out *audit.Appeal
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		ap, err := tx.Appeals().Find(ctx, audit.ScopeOf(judge), id)
		if err != nil {
			return err
		}
		reviewers, err := tx.Appeals().Reviewers(ctx, ap.VisitID)
		if err != nil {
			return err
		}
		if err := audit.CheckJudge(judge, ap.FiledBy, reviewers); err != nil {
			return err
		}
		d, err := tx.Visits().FindDetail(ctx, audit.Scope{All: true}, ap.VisitID)
		if err != nil {
			return err
		}
		if err := ap.ApplyRulings(&d.Checklist.Content, rulings); err != nil {
			return err
		}
		amended, err := tx.Appeals().Amendments(ctx, ap.VisitID)
		if err != nil {
			return err
		}
		for _, q := range ap.Questions {
			if q.Amended != nil {
				amended = append(amended, *q.Amended)
			}
		}
		v := *d.Visit
		v.Answers = audit.AmendAnswers(d.Visit.Answers, amended)
		score, err := audit.Score(d.Checklist, v.Answers)
		if err != nil {
			return err
		}
		enc, err := tx.Visits().Encode(&v, score, d.Checklist)
		if err != nil {
			return err
		}
		ap.RuledBy, ap.RuledRole = judge.UserID, judge.Role
		ap.ScoreBefore, ap.ScoreAfter = d.Score.Overall.Percent, score.Overall.Percent
		if err := tx.Appeals().Rule(ctx, ap); err != nil {
			return err
		}
		if err := tx.Visits().Rescore(ctx, ap.VisitID, enc, storage.Transition{From: d.State, To: d.State,
			ActorID: judge.UserID, ActorRole: string(judge.Role), Reason: rulingText(ap, &d.Checklist.Content)}); err != nil {
			return err
		}
		out, err = tx.Appeals().Find(ctx, audit.Scope{All: true}, ap.ID)
		return err
	})
	return out, err
}

// rulingText says a ruling in the visit's history: "appeal …: question
// q1 (Greeted?) upheld: the receipt shows …; question q2 rejected: …;
// score 50% → 100%".
func rulingText(ap *audit.Appeal, c *audit.Checklist) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ruling on appeal %s", ap.ID)
	for _, q := range ap.Questions {
		name := q.QuestionID
		if cq, _, ok := c.Question(q.QuestionID); ok && cq.Text != "" {
			name = fmt.Sprintf("%s (%s)", q.QuestionID, cq.Text)
		}
		fmt.Fprintf(&b, "; question %s %s", name, q.Outcome)
		if q.RulingReason != "" {
			fmt.Fprintf(&b, ": %s", q.RulingReason)
		}
	}
	fmt.Fprintf(&b, "; score %s → %s", percentText(ap.ScoreBefore), percentText(ap.ScoreAfter))
	return b.String()
}

func percentText(p *float64) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprintf("%.1f%%", *p)
}

// ListAppeals returns the appeals in p's scope that match f (its scope
// is p's), open ones by deadline first. Errors: EFORBIDDEN (a role that
// sees no appeals).
func (a *App) ListAppeals(ctx context.Context, p audit.Principal, f storage.AppealFilter) ([]*audit.Appeal, error) {
	var out []*audit.Appeal
	err := a.st.View(ctx, func(tx storage.Tx) error {
		if err := appealScope(ctx, tx, p, &f); err != nil {
			return err
		}
		var err error
		out, err = tx.Appeals().List(ctx, f)
		return err
	})
	return out, err
}

// GetAppeal returns an appeal in p's scope. Errors: ENOTFOUND,
// EFORBIDDEN.
func (a *App) GetAppeal(ctx context.Context, p audit.Principal, id string) (*audit.Appeal, error) {
	var out *audit.Appeal
	err := a.st.View(ctx, func(tx storage.Tx) (err error) {
		out, err = findAppeal(ctx, tx, p, id)
		return err
	})
	return out, err
}

// findAppeal returns an appeal p sees. Errors: ENOTFOUND, EFORBIDDEN.
func findAppeal(ctx context.Context, tx storage.Tx, p audit.Principal, id string) (*audit.Appeal, error) {
	var f storage.AppealFilter
	if err := appealScope(ctx, tx, p, &f); err != nil {
		return nil, err
	}
	ap, err := tx.Appeals().Find(ctx, f.Scope, id)
	if err != nil {
		return nil, err
	}
	if m := f.Mine; (m.StaffID != "" || m.FiledBy != "") && !(ap.StaffID != "" && ap.StaffID == m.StaffID) && ap.FiledBy != m.FiledBy {
		return nil, audit.Errorf(audit.ENOTFOUND, "appeal %q not found", id)
	}
	return ap, nil
}

// AppealEvidence returns an evidence file of an appeal p sees (GetAppeal).
// Errors: ENOTFOUND, EFORBIDDEN.
func (a *App) AppealEvidence(ctx context.Context, p audit.Principal, appealID, questionID string, index int) (*audit.AppealEvidence, error) {
	var out *audit.AppealEvidence
	err := a.st.View(ctx, func(tx storage.Tx) error {
		ap, err := findAppeal(ctx, tx, p, appealID)
		if err != nil {
			return err
		}
		out, err = tx.Appeals().FindEvidence(ctx, audit.Scope{All: true}, ap.ID, questionID, index)
		return err
	})
	return out, err
}

// appealScope narrows f to the appeals p sees: a manager his stores', HR
// and admins all, an employee his own (those that name him and those he
// filed). Errors: EFORBIDDEN.
func appealScope(ctx context.Context, tx storage.Tx, p audit.Principal, f *storage.AppealFilter) error {
	switch p.Role {
	case audit.RoleManager, audit.RoleHR, audit.RoleAdmin:
		f.Scope = audit.ScopeOf(p)
		return nil
	case audit.RoleStaff:
		me, err := staffOf(ctx, tx, p)
		if err != nil {
			return err
		}
		f.Scope = audit.Scope{All: true}
		f.Mine.StaffID, f.Mine.FiledBy = me.Staff.ID, p.UserID
		return nil
	}
	return audit.Errorf(audit.EFORBIDDEN, "a %s does not see appeals", p.Role)
}

// appealNames names appeals for people, one each: "S01 First, visit of
// 2026-03-05, Ivan Petrov (E1)".
func appealNames(open []*audit.Appeal, loc *time.Location) []string {
	parts := make([]string, len(open))
	for i, ap := range open {
		who := "no employee named"
		if ap.StaffName != "" {
			who = fmt.Sprintf("%s (%s)", ap.StaffName, ap.StaffNumber)
		}
		parts[i] = fmt.Sprintf("%s %s, visit of %s, %s", ap.StoreCode, ap.StoreName, ap.VisitedAt.In(loc).Format("2006-01-02"), who)
	}
	return parts
}

// AppealRates are the appeal and overturn figures of a period, per store
// and per reviewer of the appealed visits.
type AppealRates struct {
	Stores    []StoreAppeals
	Reviewers []ReviewerAppeals
}

// StoreAppeals are one store's appeal figures.
type StoreAppeals struct {
	StoreID, Code, Name string
	reports.AppealFigures
}

// ReviewerAppeals are the appeal figures of the visits one user reviewed.
type ReviewerAppeals struct {
	UserID, Name string
	reports.AppealFigures
}

// AppealRates counts, for the dashboard query q (its scope, months,
// region or store; approved visits only), the approved visits and the
// appeals against them per store, and the appeals per reviewer of the
// appealed visits (a visit two users reviewed counts for both), with how
// many were ruled and overturned (ruled with a question upheld). Stores
// by code, reviewers by name. Errors: EINVALID (the query), ENOTFOUND (a
// store outside the scope), EFORBIDDEN.
func (a *App) AppealRates(ctx context.Context, p audit.Principal, q storage.DashboardQuery) (*AppealRates, error) {
	switch p.Role {
	case audit.RoleManager, audit.RoleHR, audit.RoleAdmin:
	default:
		return nil, audit.Errorf(audit.EFORBIDDEN, "a %s does not see appeal rates", p.Role)
	}
	q.Approved = true
	period, err := AuditPeriod(q.From, q.To, q.Location)
	if err != nil {
		return nil, err
	}
	if _, err := a.st.AuditReports().Index(ctx); err != nil {
		return nil, err
	}
	out := &AppealRates{}
	err = a.st.View(ctx, func(tx storage.Tx) error {
		d, err := tx.Dashboards().Figures(ctx, q, storage.DashVisits)
		if err != nil {
			return err
		}
		f := storage.AppealFilter{Scope: q.Scope, Region: q.Region, VisitFrom: period.From, VisitTo: period.To, Limit: 1000}
		if q.StoreCode != "" {
			st, err := tx.Stores().FindByCode(ctx, q.Scope, q.StoreCode)
			if err != nil {
				return err
			}
			f.StoreID = st.ID
		}
		list, err := tx.Appeals().List(ctx, f)
		if err != nil {
			return err
		}
		stores := map[string]*StoreAppeals{}
		store := func(id string) *StoreAppeals {
			if stores[id] == nil {
				n := d.Stores[id]
				stores[id] = &StoreAppeals{StoreID: id, Code: n.Code, Name: n.Name}
			}
			return stores[id]
		}
		first := d.Months[0]
		for k, fig := range d.ByStoreMonth {
			if k.Month >= first {
				store(k.Store).Visits += fig.Visits
			}
		}
		reviewers := map[string]*ReviewerAppeals{}
		for _, ap := range list {
			s := store(ap.StoreID)
			s.Code, s.Name = cmpOr(s.Code, ap.StoreCode), cmpOr(s.Name, ap.StoreName)
			count := func(g *reports.AppealFigures) {
				g.Appeals++
				if ap.State == audit.AppealClosed {
					g.Ruled++
					if ap.Upheld() > 0 {
						g.Overturned++
					}
				}
			}
			count(&s.AppealFigures)
			who, err := tx.Appeals().Reviewers(ctx, ap.VisitID)
			if err != nil {
				return err
			}
			for id, name := range who {
				if reviewers[id] == nil {
					reviewers[id] = &ReviewerAppeals{UserID: id, Name: name}
				}
				count(&reviewers[id].AppealFigures)
			}
		}
		for _, s := range stores {
			out.Stores = append(out.Stores, *s)
		}
		for _, r := range reviewers {
			out.Reviewers = append(out.Reviewers, *r)
		}
		return nil
	})
	slices.SortFunc(out.Stores, func(x, y StoreAppeals) int { return strings.Compare(x.Code, y.Code) })
	slices.SortFunc(out.Reviewers, func(x, y ReviewerAppeals) int { return strings.Compare(x.Name+x.UserID, y.Name+y.UserID) })
	return out, err
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
