package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
)

// tillReceipt is a small PDF document: a till receipt as a store prints
// it, the kind of evidence an appeal brings.
func tillReceipt() []byte {
	return []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
		"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" +
		"% Till receipt DEPOT-1 no. 4471: delivery handed over, customer thanked\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

// TestAppealService_EndToEnd: over the real server, a manager of DEPOT-1
// files an appeal against an approved delivery with a PDF till receipt
// (uploaded and re-hashed like a shopper's photo), the open appeal
// blocks the month's bonus run until HR overrides it with a reason, the
// visit's reviewer is refused as judge, a second manager upholds one
// question and rejects the other, the visit's score and the driver's
// politeness component change, the shopper's phone hears nothing, and the
// next run shows the difference citing the appeal.
func TestAppealService_EndToEnd(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	x := newReportFixture(t, ts, http.DefaultClient, nil, time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC))
	ac := shopscorev1connect.NewAppealServiceClient(http.DefaultClient, ts.URL)
	rc := x.rc

	// A second manager of DEPOT-1, who reviewed nothing.
	password := "second manager's password"
	_, err := call(t, x.c.Admin.CreateUser, x.admin, &v1.CreateUserRequest{Email: "second.manager@example.com", DisplayName: "Pavel Smirnov",
		Role: v1.Role_ROLE_MANAGER, Password: password, ManagedStoreCodes: []string{"DEPOT-1"}})
	require.NoError(t, err)
	login, err := x.c.Auth.Login(t.Context(), connect.NewRequest(&v1.LoginRequest{Email: "second.manager@example.com", Password: password,
		DeviceId: "desk-" + uuid.NewString(), DeviceName: "desk"}))
	require.NoError(t, err)
	second := login.Msg.Tokens.AccessToken

	_, err = call(t, rc.CreatePolicy, x.hr, &v1.CreatePolicyRequest{PolicyJson: testDriverPolicy(x.policyID)})
	require.NoError(t, err)
	_, err = call(t, rc.SetBasePay, x.hr, &v1.SetBasePayRequest{EmployeeNumber: "E2001", EffectiveMonth: "2025-01", AmountMinor: 100_000_00,
		Kind: v1.PayKind_PAY_KIND_TARGET_VARIABLE})
	require.NoError(t, err)
	first, err := call(t, rc.RunBonus, x.hr, &v1.RunBonusRequest{PolicyId: x.policyID, Period: x.month})
	require.NoError(t, err)
	politeness := func(run *v1.BonusRun) *v1.ComponentBonus {
		for _, c := range employee(t, run, "E2001").Components {
			if c.Name == "politeness" {
				return c
			}
		}
		t.Fatalf("run %s has no politeness component", run.Id)
		return nil
	}
	require.InDelta(t, 80, politeness(first.Run).GetScorePercent(), 1e-9, "polite in 16 of 20 deliveries")

	// Delivery 0 was recorded impolite: the manager appeals it.
	visitID := x.approved[0]
	before, err := call(t, x.c.Review.GetVisit, x.manager, &v1.GetVisitRequest{VisitId: visitID})
	require.NoError(t, err)
	_, cursor, _ := pullAll(t, x.c, x.shopper, "", 500)

	pdf := tillReceipt()
	sum := sha256.Sum256(pdf)
	sha := hex.EncodeToString(sum[:])
	fileReq := &v1.FileAppealRequest{VisitId: visitID, Questions: []*v1.AppealQuestion{
		{QuestionId: "driver_polite", Reason: "The till receipt the customer signed says he was thanked and greeted",
			Evidence: []*v1.EvidenceFile{{Sha256: sha, SizeBytes: int64(len(pdf)), ContentType: "application/pdf", FileName: "receipt-4471.pdf"}}},
		{QuestionId: "truck_clean", Reason: "The truck was washed that morning"},
	}}
	_, err = call(t, ac.FileAppeal, x.hr, fileReq)
	requireCode(t, connect.CodePermissionDenied, err, "HR does not file")
	_, err = call(t, ac.FileAppeal, x.shopper, fileReq)
	requireCode(t, connect.CodePermissionDenied, err, "a shopper does not file")
	bad := &v1.FileAppealRequest{VisitId: visitID, Questions: []*v1.AppealQuestion{{QuestionId: "driver_polite", Reason: "x",
		Evidence: []*v1.EvidenceFile{{Sha256: sha, SizeBytes: int64(len(pdf)), ContentType: "application/msword"}}}}}
	_, err = call(t, ac.FileAppeal, x.manager, bad)
	requireCode(t, connect.CodeInvalidArgument, err)
	assert.ErrorContains(t, err, "application/pdf")
	_, err = call(t, ac.FileAppeal, x.manager, &v1.FileAppealRequest{VisitId: x.unapproved, Questions: fileReq.Questions})
	requireCode(t, connect.CodeFailedPrecondition, err, "an unreviewed visit")

	filed, err := call(t, ac.FileAppeal, x.manager, fileReq)
	require.NoError(t, err)
	ap := filed.Appeal
	assert.Equal(t, v1.AppealState_APPEAL_STATE_OPEN, ap.State)
	assert.Equal(t, "DEPOT-1", ap.StoreCode)
	assert.Equal(t, "E2001", ap.StaffEmployeeNumber)
	assert.NotEmpty(t, ap.Questions[0].QuestionText)
	assert.False(t, ap.Questions[0].Evidence[0].Verified)
	assert.True(t, ap.DeadlineTime.AsTime().After(time.Now().Add(6*24*time.Hour)), "a week to appeal: %v", ap.DeadlineTime.AsTime())

	// The PDF takes the verified path: a signed upload bound to its hash,
	// then the server re-hashes what it holds.
	up, err := call(t, ac.CreateEvidenceUpload, x.manager, &v1.CreateEvidenceUploadRequest{AppealId: ap.Id, QuestionId: "driver_polite",
		Sha256: sha, SizeBytes: int64(len(pdf)), ContentType: "application/pdf"})
	require.NoError(t, err)
	require.False(t, up.AlreadyVerified)
	_, err = call(t, ac.FinalizeEvidenceUpload, x.manager, &v1.FinalizeEvidenceUploadRequest{AppealId: ap.Id, QuestionId: "driver_polite"})
	requireCode(t, connect.CodeNotFound, err, "nothing uploaded yet")
	require.Equal(t, http.StatusOK, upload(t, &v1.CreateUploadSlotResponse{Url: up.Url, Method: up.Method, Headers: up.Headers}, pdf))
	fin, err := call(t, ac.FinalizeEvidenceUpload, x.manager, &v1.FinalizeEvidenceUploadRequest{AppealId: ap.Id, QuestionId: "driver_polite"})
	require.NoError(t, err)
	assert.True(t, fin.Evidence.Verified)
	got, err := call(t, ac.GetAppeal, x.hr, &v1.GetAppealRequest{AppealId: ap.Id})
	require.NoError(t, err)
	link := got.Appeal.Questions[0].Evidence[0].DownloadUrl
	require.NotEmpty(t, link, "verified evidence has a download link")
	resp, err := http.Get(link)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	queue, err := call(t, ac.ListAppeals, second, &v1.ListAppealsRequest{State: v1.AppealState_APPEAL_STATE_OPEN})
	require.NoError(t, err)
	require.Len(t, queue.Appeals, 1)

	// The open appeal blocks the month's run; HR overrides with a reason.
	_, err = call(t, rc.ApproveBonusRun, x.hr, &v1.ApproveBonusRunRequest{RunId: first.Run.Id})
	requireCode(t, connect.CodeFailedPrecondition, err)
	assert.ErrorContains(t, err, "DEPOT-1")
	assert.ErrorContains(t, err, "(E2001)")
	assert.ErrorContains(t, err, "visit of 2025-07-01")
	locked, err := call(t, rc.ApproveBonusRun, x.hr, &v1.ApproveBonusRunRequest{RunId: first.Run.Id, OverrideReason: "payroll cut-off; the appeal goes into the next run"})
	require.NoError(t, err)
	assert.Equal(t, "payroll cut-off; the appeal goes into the next run", locked.Run.OverrideReason)
	assert.Equal(t, []string{ap.Id}, locked.Run.OverriddenAppealIds)

	// Four eyes: the manager who reviewed the visit may not judge it.
	yes := true
	rule := &v1.RuleAppealRequest{AppealId: ap.Id, Rulings: []*v1.QuestionRuling{
		{QuestionId: "driver_polite", Outcome: v1.AppealOutcome_APPEAL_OUTCOME_UPHELD, AmendedAnswer: &v1.Answer{BoolValue: &yes},
			Reason: "the signed receipt settles it"},
		{QuestionId: "truck_clean", Outcome: v1.AppealOutcome_APPEAL_OUTCOME_REJECTED, Reason: "the washing log has no entry for that morning"},
	}}
	_, err = call(t, ac.RuleAppeal, x.manager, rule)
	requireCode(t, connect.CodePermissionDenied, err)
	assert.ErrorContains(t, err, "Maria Ivanova")
	_, err = call(t, ac.RuleAppeal, x.admin, rule)
	requireCode(t, connect.CodePermissionDenied, err, "admins do not judge")

	ruled, err := call(t, ac.RuleAppeal, second, rule)
	require.NoError(t, err)
	assert.Equal(t, v1.AppealState_APPEAL_STATE_CLOSED, ruled.Appeal.State)
	assert.Equal(t, "Pavel Smirnov", ruled.Appeal.RuledByName)
	assert.Greater(t, ruled.Appeal.GetScoreAfter(), ruled.Appeal.GetScoreBefore())
	assert.Equal(t, v1.AppealOutcome_APPEAL_OUTCOME_UPHELD, ruled.Appeal.Questions[0].Outcome)
	assert.Equal(t, v1.AppealOutcome_APPEAL_OUTCOME_REJECTED, ruled.Appeal.Questions[1].Outcome)

	after, err := call(t, x.c.Review.GetVisit, x.manager, &v1.GetVisitRequest{VisitId: visitID})
	require.NoError(t, err)
	assert.Greater(t, after.Summary.GetScorePercent(), before.Summary.GetScorePercent(), "the visit is rescored")
	assert.Equal(t, before.Visit.Answers, after.Visit.Answers, "the recorded answers are never edited")
	last := after.History[len(after.History)-1]
	assert.Equal(t, "Pavel Smirnov", last.ActorName)
	assert.Contains(t, last.Reason, "driver_polite")
	assert.Contains(t, last.Reason, "upheld: the signed receipt settles it")
	assert.Contains(t, last.Reason, "rejected: the washing log has no entry for that morning")

	// The shopper's phone receives nothing of the ruling.
	changes, _, _ := pullAll(t, x.c, x.shopper, cursor, 500)
	for _, c := range changes {
		assert.NotEqual(t, visitID, c.GetVisitReceipt().GetVisitId(), "the ruling reached the shopper's feed")
	}

	// The dashboard's appeal and overturn rates, per store and reviewer.
	rates, err := call(t, ac.GetAppealRates, x.hr, &v1.GetAppealRatesRequest{Filter: &v1.DashboardFilter{From: x.month}})
	require.NoError(t, err)
	require.Len(t, rates.Stores, 1)
	depot := rates.Stores[0]
	assert.Equal(t, "DEPOT-1", depot.Code)
	assert.EqualValues(t, len(x.approved), depot.Visits)
	assert.EqualValues(t, 1, depot.Appeals)
	assert.EqualValues(t, 1, depot.Overturned)
	assert.InDelta(t, 1.0/float64(len(x.approved)), depot.GetAppealRate(), 1e-9)
	assert.InDelta(t, 1, depot.GetOverturnRate(), 1e-9)
	require.Len(t, rates.Reviewers, 1)
	assert.Equal(t, "Maria Ivanova (store manager)", rates.Reviewers[0].Name)
	assert.EqualValues(t, 1, rates.Reviewers[0].Overturned)
	_, err = call(t, ac.GetAppealRates, x.shopper, &v1.GetAppealRatesRequest{Filter: &v1.DashboardFilter{From: x.month}})
	requireCode(t, connect.CodePermissionDenied, err)

	// Pay follows: the next run differs from the locked one and says why.
	next, err := call(t, rc.RunBonus, x.hr, &v1.RunBonusRequest{PolicyId: x.policyID, Period: x.month})
	require.NoError(t, err)
	assert.Equal(t, locked.Run.Id, next.Run.ComparedRunId)
	assert.InDelta(t, 85, politeness(next.Run).GetScorePercent(), 1e-9, "polite in 17 of 20 deliveries now")
	var cited []string
	for _, c := range next.Run.Changes {
		if c.EmployeeNumber == "E2001" && c.Component == "politeness" && c.Field == "score_percent" {
			require.Len(t, c.Causes, 1, c.Text)
			assert.Equal(t, ap.Id, c.Causes[0].AppealId)
			assert.Equal(t, "DEPOT-1", c.Causes[0].StoreCode)
			assert.Contains(t, c.Text, "because of the ruling on appeal "+ap.Id)
			cited = append(cited, c.Text)
		}
	}
	require.NotEmpty(t, cited, "changes: %v", next.Run.Changes)
	approved, err := call(t, rc.ApproveBonusRun, x.hr, &v1.ApproveBonusRunRequest{RunId: next.Run.Id})
	require.NoError(t, err, "no appeal is open any more")
	assert.Empty(t, approved.Run.OverrideReason)
	old, err := call(t, rc.GetBonusRun, x.hr, &v1.GetBonusRunRequest{RunId: locked.Run.Id})
	require.NoError(t, err)
	assert.Equal(t, v1.BonusRunState_BONUS_RUN_STATE_SUPERSEDED, old.Run.State)

	// The payroll workbook of the overridden run prints the reason; the
	// next one marks the figure the ruling changed.
	data, err := downloadPayroll(t, rc, x.hr, locked.Run.Id)
	require.NoError(t, err)
	f := openWorkbook(t, data)
	assert.Equal(t, "payroll cut-off; the appeal goes into the next run", rowWith(t, f, "Run", 0, "Override reason")[1])
	data, err = downloadPayroll(t, rc, x.hr, next.Run.Id)
	require.NoError(t, err)
	f = openWorkbook(t, data)
	rows, err := f.GetRows("Explanation")
	require.NoError(t, err)
	var marked int
	for _, r := range rows {
		if strings.Contains(strings.Join(r, " "), "Changed by the ruling on appeal "+ap.Id) {
			assert.Equal(t, "politeness", r[2], "only the component whose answer the ruling amended is marked")
			marked++
		}
	}
	assert.Positive(t, marked, "the Explanation marks the visit the ruling changed")

	// The audit workbook's Appeals sheet: the visit, store, questions,
	// filing, ruling, outcome and scores before and after.
	book, _, err := downloadAudit(t, rc, x.manager, &v1.DownloadAuditWorkbookRequest{From: x.month})
	require.NoError(t, err)
	wb := openWorkbook(t, book)
	row := rowWith(t, wb, "Appeals", 0, visitID)
	assert.Equal(t, "DEPOT-1", row[1])
	assert.Contains(t, row[4], "(E2001)")
	assert.Contains(t, row[5], "— upheld: the signed receipt settles it")
	assert.Contains(t, row[5], "— rejected")
	assert.Equal(t, "Maria Ivanova (store manager)", row[7])
	assert.Equal(t, "Pavel Smirnov", row[10])
	assert.Equal(t, "upheld 1 of 2", row[11])
	assert.NotEqual(t, row[12], row[13], "score before and after")
	if dir := os.Getenv("SHOPSCORE_APPEAL_WORKBOOKS"); dir != "" {
		// For a person to open: the workbooks after the ruling.
		require.NoError(t, os.WriteFile(filepath.Join(dir, "payroll-after-ruling.xlsx"), data, 0o600))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "audit-with-appeals.xlsx"), book, 0o600))
	}
}
