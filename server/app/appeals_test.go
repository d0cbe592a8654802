package app_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/sync/protocol"
)

// appealWorld is the world with a checklist whose question checks a
// politeness standard, cashier E1 at store A-1, a second manager of A-1
// (mA2), HR, and a bonus policy paying cashiers on politeness.
type appealWorld struct {
	*world
	mA2, hr audit.Principal
	staff   *audit.Staff
	version *audit.ChecklistVersion
}

func newAppealWorld(t *testing.T) *appealWorld {
	t.Helper()
	ctx := context.Background()
	w := &appealWorld{world: newWorld(t)}
	user := func(role audit.Role, email, name string) audit.Principal {
		u := &audit.User{Email: email, Role: role, DisplayName: name}
		require.NoError(t, w.app.CreateUser(ctx, u, "not-a-real-hash"))
		return audit.Principal{UserID: u.ID, Role: role}
	}
	w.mA2 = user(audit.RoleManager, "a2@example.com", "Second Manager")
	w.hr = user(audit.RoleHR, "hr@example.com", "Helen HR")
	change := *w.storeA
	change.ManagerIDs = []string{w.mA.UserID, w.mA2.UserID}
	_, err := w.app.UpdateStore(ctx, audit.Scope{All: true}, &change, true)
	require.NoError(t, err)
	c := &audit.Checklist{ID: "polite", Name: "Politeness", Channel: audit.ChannelStoreVisit,
		Standards: []audit.Standard{{Code: "POL-1", Clause: "Greet every customer", Category: audit.CategoryPoliteness}},
		Sections: []audit.Section{{ID: "s", Title: "Service", Questions: []audit.Question{
			{ID: "greet", Type: audit.QuestionYesNo, Text: "Greeted at once?", StandardCode: "POL-1", Required: true},
			{ID: "thank", Type: audit.QuestionYesNo, Text: "Thanked?", StandardCode: "POL-1", Required: true},
		}}}}
	_, err = w.app.SaveDraft(ctx, c, "me")
	require.NoError(t, err)
	w.version, err = w.app.PublishVersion(ctx, "polite", 1)
	require.NoError(t, err)
	w.staff = &audit.Staff{EmployeeNumber: "E1", Name: "Ivan Petrov", Position: "cashier", StoreID: w.storeA.ID}
	require.NoError(t, w.app.CreateStaff(ctx, audit.Scope{All: true}, w.staff))
	_, _, err = w.app.CreatePolicy(ctx, reports.Policy{ID: "cashiers", Name: "Cashiers", Positions: []string{"cashier"}, Base: reports.BasePay,
		UnlinkedShare: 0.9, Components: []reports.Component{{Name: "politeness", Share: 0.1, Categories: []string{"politeness"},
			Rule: reports.Rule{Thresholds: []reports.Threshold{{MinPercent: 90, Payout: 1}}}, MinVisits: 1}}}, w.hr.UserID)
	require.NoError(t, err)
	require.NoError(t, w.app.SetBasePay(ctx, []storage.BasePayRow{{EmployeeNumber: "E1", EffectiveMonth: "2026-12", AmountMinor: 100_000_00}}, "api", w.hr.UserID))
	return w
}

// approvedVisit pushes a visit of shopper s1 at A-1 naming E1, greeting
// answered no and thanks yes (50 %), and mA reviews and approves it.
func (w *appealWorld) approvedVisit(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	a := &audit.Assignment{StoreID: w.storeA.ID, ChecklistID: "polite", ShopperID: w.s1, CreatedBy: w.mA.UserID,
		WindowStart: w.clock, WindowEnd: w.clock.Add(72 * time.Hour)}
	require.NoError(t, w.app.CreateAssignment(ctx, audit.Scope{All: true}, a))
	sess, err := w.app.CreateSession(ctx, w.s1, "phone-"+a.ID, "phone", []byte("refresh-"+a.ID), w.clock.Add(time.Hour), "")
	require.NoError(t, err)
	yes, no := true, false
	v := &audit.Visit{ID: "v-" + a.ID, AssignmentID: a.ID, StoreID: w.storeA.ID, ShopperID: w.s1, ChecklistID: "polite",
		ChecklistVersion: 1, ContentHash: w.version.ContentHash, Channel: audit.ChannelStoreVisit, StaffID: w.staff.ID,
		StartedAt: w.clock.Add(time.Hour), FinishedAt: w.clock.Add(90 * time.Minute),
		Answers: []audit.Answer{{QuestionID: "greet", Bool: &no}, {QuestionID: "thank", Bool: &yes}}}
	w.clock = w.clock.Add(2 * time.Hour)
	res, err := w.app.Push(ctx, app.Device{UserID: w.s1, SessionID: sess.ID}, w.clock,
		[]app.Mutation{{Seq: 1, ID: "m-" + a.ID, DeviceTime: w.clock, Digest: protocol.VisitDigest(v), Visit: v}})
	require.NoError(t, err)
	require.Equal(t, storage.MutationApplied, res.Results[0].Status, "%v", res.Results[0].Err)
	for _, act := range []audit.ReviewAction{audit.ActionStartReview, audit.ActionApprove} {
		_, err := w.app.ReviewVisit(ctx, w.mA, v.ID, act, "", nil)
		require.NoError(t, err)
	}
	return v.ID
}

func reasoned(q, reason string) audit.AppealQuestion {
	return audit.AppealQuestion{QuestionID: q, Reason: reason}
}

// TestAppeal_FileRuleAndPay walks an appeal from filing to pay: who may
// file, the open appeal blocking approval (and the override), the
// reviewer refused as judge, a ruling that rescores the visit beside its
// answers, and the next run citing the ruling.
func TestAppeal_FileRuleAndPay(t *testing.T) {
	ctx := context.Background()
	w := newAppealWorld(t)
	visitID := w.approvedVisit(t)
	yes := true

	staffUser := func(s *audit.Staff, email string) audit.Principal {
		u := &audit.User{Email: email, Role: audit.RoleStaff, StaffID: s.ID, DisplayName: s.Name}
		require.NoError(t, w.app.CreateUser(ctx, u, "not-a-real-hash"))
		return audit.Principal{UserID: u.ID, Role: audit.RoleStaff}
	}
	olga := &audit.Staff{EmployeeNumber: "E9", Name: "Olga Sidorova", Position: "driver", StoreID: w.storeB.ID}
	require.NoError(t, w.app.CreateStaff(ctx, audit.Scope{All: true}, olga))
	olgaUser, ivanUser := staffUser(olga, "olga@example.com"), staffUser(w.staff, "ivan@example.com")
	first, err := w.app.RunBonus(ctx, "cashiers", 0, "2026-12", w.hr.UserID)
	require.NoError(t, err)
	require.Len(t, first.Run.Employees, 1)
	assert.Equal(t, int64(0), first.Run.Employees[0].Components[0].AmountMinor, "50 %% is below the 90 %% threshold")

	// Who may file.
	_, err = w.app.FileAppeal(ctx, audit.Principal{UserID: w.s1, Role: audit.RoleShopper}, &audit.Appeal{VisitID: visitID, Questions: []audit.AppealQuestion{reasoned("greet", "x")}})
	requireCode(t, audit.EFORBIDDEN, err)
	_, err = w.app.FileAppeal(ctx, w.mB, &audit.Appeal{VisitID: visitID, Questions: []audit.AppealQuestion{reasoned("greet", "x")}})
	requireCode(t, audit.ENOTFOUND, err)
	_, err = w.app.FileAppeal(ctx, w.mA, &audit.Appeal{VisitID: visitID, Questions: []audit.AppealQuestion{reasoned("greet", " ")}})
	requireCode(t, audit.EINVALID, err)
	// An employee's own account files for himself, on the visits his
	// results show him: another store's employee finds no such visit.
	_, err = w.app.FileAppeal(ctx, olgaUser, &audit.Appeal{VisitID: visitID, Questions: []audit.AppealQuestion{reasoned("greet", "x")}})
	requireCode(t, audit.ENOTFOUND, err)

	ap, err := w.app.FileAppeal(ctx, w.mA, &audit.Appeal{VisitID: visitID, Questions: []audit.AppealQuestion{
		reasoned("greet", "The CCTV shows Ivan greeting the shopper at 10:02"), reasoned("thank", "He thanked, too")}})
	require.NoError(t, err)
	assert.Equal(t, audit.AppealOpen, ap.State)
	assert.Equal(t, "A-1", ap.StoreCode)
	assert.Equal(t, "E1", ap.StaffNumber)
	assert.True(t, time.Date(2026, 12, 8, 21, 0, 0, 0, time.UTC).Equal(ap.Deadline), "approved on 1 December (Moscow): the window ends with the 8th, Moscow time; deadline %v", ap.Deadline)
	_, err = w.app.FileAppeal(ctx, w.mA, &audit.Appeal{VisitID: visitID, Questions: []audit.AppealQuestion{reasoned("greet", "again")}})
	requireCode(t, audit.EPRECONDITION, err)
	_, err = w.app.FileAppeal(ctx, ivanUser, &audit.Appeal{VisitID: visitID, Questions: []audit.AppealQuestion{reasoned("greet", "again")}})
	requireCode(t, audit.EPRECONDITION, err)

	// Ivan follows the appeal filed for him; Olga sees none of it.
	mine, err := w.app.ListAppeals(ctx, ivanUser, storage.AppealFilter{})
	require.NoError(t, err)
	require.Len(t, mine, 1)
	assert.Equal(t, ap.ID, mine[0].ID)
	_, err = w.app.GetAppeal(ctx, ivanUser, ap.ID)
	require.NoError(t, err)
	theirs, err := w.app.ListAppeals(ctx, olgaUser, storage.AppealFilter{})
	require.NoError(t, err)
	assert.Empty(t, theirs)
	_, err = w.app.GetAppeal(ctx, olgaUser, ap.ID)
	requireCode(t, audit.ENOTFOUND, err)

	// The open appeal blocks approval, naming the store, day and employee.
	_, err = w.app.ApproveBonusRun(ctx, first.ID, w.hr.UserID, "")
	requireCode(t, audit.EPRECONDITION, err)
	for _, want := range []string{"A-1 Store A-1", "visit of 2026-12-01", "Ivan Petrov (E1)", "override reason"} {
		assert.Contains(t, audit.ErrorMessage(err), want)
	}
	locked, err := w.app.ApproveBonusRun(ctx, first.ID, w.hr.UserID, "payroll closes today; the appeal is settled next run")
	require.NoError(t, err)
	assert.Equal(t, storage.RunApproved, locked.State)
	assert.Equal(t, "payroll closes today; the appeal is settled next run", locked.OverrideReason)
	assert.Equal(t, []string{ap.ID}, locked.OverriddenAppeals)

	// Four eyes: the reviewer, the filer and an admin are refused.
	rulings := []audit.QuestionRuling{{QuestionID: "greet", Outcome: audit.OutcomeUpheld, Amended: &audit.Answer{Bool: &yes}, Reason: "CCTV confirms"},
		{QuestionID: "thank", Outcome: audit.OutcomeRejected, Reason: "thanks were already counted"}}
	_, err = w.app.RuleAppeal(ctx, w.mA, ap.ID, rulings)
	requireCode(t, audit.EFORBIDDEN, err)
	assert.Contains(t, audit.ErrorMessage(err), "a@example.com reviewed this visit")
	_, err = w.app.RuleAppeal(ctx, w.admin, ap.ID, rulings)
	requireCode(t, audit.EFORBIDDEN, err)
	_, err = w.app.RuleAppeal(ctx, w.mB, ap.ID, rulings)
	requireCode(t, audit.ENOTFOUND, err)
	_, err = w.app.RuleAppeal(ctx, w.mA2, ap.ID, rulings[:1])
	requireCode(t, audit.EINVALID, err)

	w.clock = w.clock.Add(24 * time.Hour)
	ruled, err := w.app.RuleAppeal(ctx, w.mA2, ap.ID, rulings)
	require.NoError(t, err)
	assert.Equal(t, audit.AppealClosed, ruled.State)
	assert.Equal(t, "Second Manager", ruled.RuledByName)
	require.NotNil(t, ruled.ScoreBefore)
	require.NotNil(t, ruled.ScoreAfter)
	assert.InDelta(t, 50, *ruled.ScoreBefore, 1e-9)
	assert.InDelta(t, 100, *ruled.ScoreAfter, 1e-9)
	_, err = w.app.RuleAppeal(ctx, w.hr, ap.ID, rulings)
	requireCode(t, audit.EPRECONDITION, err)

	// The visit: its answers as recorded, its score and history new.
	sv, err := w.db.Visits().Find(ctx, visitID)
	require.NoError(t, err)
	assert.False(t, *sv.Visit.Answers[0].Bool, "the recorded answer is never edited")
	d, err := w.db.Visits().FindDetail(ctx, audit.Scope{All: true}, visitID)
	require.NoError(t, err)
	assert.InDelta(t, 100, *d.Score.Overall.Percent, 1e-9)
	last := d.History[len(d.History)-1]
	assert.Equal(t, w.mA2.UserID, last.ActorID)
	assert.Contains(t, last.Reason, "greet (Greeted at once?) upheld: CCTV confirms")
	assert.Contains(t, last.Reason, "thank (Thanked?) rejected: thanks were already counted")

	// Pay follows: the next run shows the difference and cites the ruling.
	second, err := w.app.RunBonus(ctx, "cashiers", 0, "2026-12", w.hr.UserID)
	require.NoError(t, err)
	assert.Equal(t, locked.ID, second.ComparedRunID)
	assert.Equal(t, int64(10_000_00), second.Run.Employees[0].Components[0].AmountMinor)
	var cited bool
	for _, c := range second.Changes {
		if c.Field == "total_minor" {
			require.Len(t, c.Causes, 1, "%s", c.String())
			assert.Equal(t, ap.ID, c.Causes[0].AppealID)
			assert.Contains(t, c.String(), "because of the ruling on appeal "+ap.ID)
			assert.Contains(t, c.String(), "Second Manager")
			cited = true
		}
	}
	assert.True(t, cited, "changes %v", second.Changes)
	approved, err := w.app.ApproveBonusRun(ctx, second.ID, w.hr.UserID, "")
	require.NoError(t, err)
	assert.Empty(t, approved.OverrideReason)
	old, err := w.db.BonusRuns().Find(ctx, locked.ID)
	require.NoError(t, err)
	assert.Equal(t, storage.RunSuperseded, old.State)

	// The payroll workbooks: the override on the run it was approved
	// with, the ruling marked in the next one's explanation.
	sheetText := func(runID, sheet string) string {
		var buf bytes.Buffer
		require.NoError(t, w.app.WritePayroll(ctx, runID, app.PayrollWorkbook, "en", time.UTC, &buf))
		f, err := excelize.OpenReader(&buf)
		require.NoError(t, err)
		rows, err := f.GetRows(sheet)
		require.NoError(t, err)
		var b strings.Builder
		for _, r := range rows {
			b.WriteString(strings.Join(r, "|") + "\n")
		}
		return b.String()
	}
	assert.Contains(t, sheetText(locked.ID, "Run"), "payroll closes today")
	assert.Contains(t, sheetText(locked.ID, "Run"), "A-1 Store A-1, visit of 2026-12-01, Ivan Petrov (E1)")
	expl := sheetText(second.ID, "Explanation")
	assert.Contains(t, expl, "[RULING]")
	assert.Contains(t, expl, "ruling on appeal "+ap.ID+" by Second Manager")

	// The window: a week after approval it is closed, and says when.
	w.clock = time.Date(2026, 12, 9, 0, 0, 1, 0, time.UTC)
	_, err = w.app.FileAppeal(ctx, w.mA, &audit.Appeal{VisitID: visitID, Questions: []audit.AppealQuestion{reasoned("thank", "new facts")}})
	requireCode(t, audit.EPRECONDITION, err)
	assert.Contains(t, audit.ErrorMessage(err), "closed on 2026-12-08")

	list, err := w.app.ListAppeals(ctx, w.hr, storage.AppealFilter{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	_, err = w.app.ListAppeals(ctx, audit.Principal{UserID: w.s1, Role: audit.RoleShopper}, storage.AppealFilter{})
	requireCode(t, audit.EFORBIDDEN, err)
	listB, err := w.app.ListAppeals(ctx, w.mB, storage.AppealFilter{})
	require.NoError(t, err)
	assert.Empty(t, listB, "manager B sees no appeal of A-1")
}

// TestAppeal_WindowIsTheOrganisations: the window is the organisation's
// setting, validated.
func TestAppeal_WindowIsTheOrganisations(t *testing.T) {
	ctx := context.Background()
	w := newAppealWorld(t)
	_, err := w.app.UpdateOrgSettings(ctx, w.admin, audit.OrgSettings{AppealWindowDays: 400})
	requireCode(t, audit.EINVALID, err)
	st, err := w.app.UpdateOrgSettings(ctx, w.admin, audit.OrgSettings{AppealWindowDays: 2})
	require.NoError(t, err)
	assert.Equal(t, 2, st.AppealWindowDays)
	st, err = w.app.UpdateOrgSettings(ctx, w.admin, audit.OrgSettings{TimeZone: "Europe/Moscow"})
	require.NoError(t, err)
	assert.Equal(t, 2, st.AppealWindowDays, "an update without the window keeps it")
	visitID := w.approvedVisit(t)
	// Approved 1 December 05:00 Moscow; two days: open to the end of the
	// 3rd, Moscow time (21:00 UTC).
	w.clock = time.Date(2026, 12, 3, 20, 59, 0, 0, time.UTC)
	_, err = w.app.FileAppeal(ctx, w.mA, &audit.Appeal{VisitID: visitID, Questions: []audit.AppealQuestion{reasoned("greet", "x")}})
	require.NoError(t, err)
	visit2 := w.approvedVisit(t)
	w.clock = time.Date(2026, 12, 6, 21, 0, 0, 0, time.UTC)
	_, err = w.app.FileAppeal(ctx, w.mA, &audit.Appeal{VisitID: visit2, Questions: []audit.AppealQuestion{reasoned("greet", "x")}})
	requireCode(t, audit.EPRECONDITION, err)
	assert.Contains(t, audit.ErrorMessage(err), "closed on 2026-12-06")
}
