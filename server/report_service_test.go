package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server"
)

// testDriverPolicy is the driver example under its own id: 55% unlinked,
// 15/10/10/10 for on-time, politeness, clean truck and hand-over, judged
// on the delivery checklist's clauses; ≥ 90% pays in full, ≥ 75% half.
func testDriverPolicy(id string) string {
	p := server.DemoDriverPolicy()
	p.ID = id
	for i := range p.Components {
		p.Components[i].DefaultPayout = 0
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// delivery is what the shopper saw on one audited delivery.
type delivery struct {
	late   float64
	polite bool
	clean  bool
}

// driverMonth gives the period scores over 20 deliveries: on time
// in 19 (95%), polite in 16 (80%), a clean truck in 12 (60%), every
// hand-over checked (100%).
func driverMonth() []delivery {
	out := make([]delivery, 20)
	for i := range out {
		out[i] = delivery{polite: i%5 != 0, clean: i < 12}
		if i == 7 {
			out[i].late = 4
		}
	}
	return out
}

// recordDelivery fills in the delivery checklist for a driver on a day,
// with a photo of a dirty truck as the checklist's rules demand.
func recordDelivery(tb testing.TB, cv *v1.ChecklistVersion, a *v1.Assignment, staffID string, at time.Time, d delivery) *recorded {
	tb.Helper()
	r := &recorded{cv: domainVersion(tb, cv), photos: map[string][]byte{}}
	late, polite, clean := d.late, d.polite, d.clean
	r.visit = &audit.Visit{
		ID: uuid.NewString(), AssignmentID: a.Id, StoreID: a.StoreId, ChecklistID: cv.ChecklistId,
		ChecklistVersion: int(cv.Version), ContentHash: cv.ContentHash, Channel: r.cv.Content.Channel,
		StartedAt: at, FinishedAt: at.Add(20 * time.Minute), StaffID: staffID,
		Answers: []audit.Answer{
			{QuestionID: "minutes_late", Number: &late},
			{QuestionID: "driver_polite", Bool: &polite},
			{QuestionID: "truck_clean", Bool: &clean},
			{QuestionID: "handover", Choices: []string{"checked"}},
		},
	}
	if !clean {
		data, sha := testPhoto(2000)
		r.addPhoto(2, data, sha)
	}
	s, err := audit.Score(r.cv, r.visit.Answers)
	require.NoError(tb, err)
	require.True(tb, s.Complete(), "answer errors: %v", s.Errors)
	return r
}

// reportFixture is one protocol's view of a demo server with a month of
// audited deliveries of driver E2001 at DEPOT-1, approved by the manager.
type reportFixture struct {
	f                           *field
	c                           Clients
	rc                          shopscorev1connect.ReportServiceClient
	hr, manager, admin, shopper string
	staff                       map[string]string // employee number → id
	month                       string
	approved                    []string // visit ids
	unapproved                  string   // a complete visit nobody reviewed
	policyID                    string
}

func newReportFixture(t *testing.T, ts *TestServer, client *http.Client, opts []connect.ClientOption, month time.Time) *reportFixture {
	t.Helper()
	c := clientsOf(ts, client, opts...)
	x := &reportFixture{
		f: newField(t, ts, c), c: c, rc: shopscorev1connect.NewReportServiceClient(client, ts.URL, opts...),
		staff: map[string]string{}, month: month.Format("2006-01"), policyID: "drivers-" + uuid.NewString()[:8],
	}
	x.hr = mustLogin(t, c, audit.RoleHR, "desk-"+uuid.NewString()).Tokens.AccessToken
	x.manager = mustLogin(t, c, audit.RoleManager, "desk-"+uuid.NewString()).Tokens.AccessToken
	x.admin, x.shopper = x.f.admin, x.f.token
	staff, err := call(t, c.Org.ListStaff, x.admin, &v1.ListStaffRequest{})
	require.NoError(t, err)
	for _, s := range staff.Staff {
		x.staff[s.EmployeeNumber] = s.Id
	}

	a := x.f.assign(t, "DEPOT-1", "delivery", x.f.shopperID)
	cv := x.f.pulledUpsert(t, a.Id).Checklist
	var recs []*recorded
	for i, d := range driverMonth() {
		recs = append(recs, recordDelivery(t, cv, a, x.staff["E2001"], month.Add(time.Duration(i)*30*time.Hour+9*time.Hour), d))
	}
	// A disastrous visit that stays unreviewed: it must not count for pay.
	recs = append(recs, recordDelivery(t, cv, a, x.staff["E2001"], month.Add(12*24*time.Hour), delivery{late: 60}))
	var muts []*v1.Mutation
	for _, r := range recs {
		x.f.seq++
		muts = append(muts, submit(x.f.seq, r.visit))
	}
	resp := x.f.mustPush(t, muts...)
	for i, res := range resp.Results {
		require.Equal(t, v1.MutationStatus_MUTATION_STATUS_APPLIED, res.Status, "visit %d: %v", i, res)
		for _, p := range recs[i].visit.Photos {
			x.f.mustUpload(t, recs[i], p)
		}
		if i == len(recs)-1 {
			x.unapproved = recs[i].visit.ID
			continue
		}
		_, err := call(t, c.Review.StartReview, x.manager, &v1.StartReviewRequest{VisitId: recs[i].visit.ID})
		require.NoError(t, err)
		_, err = call(t, c.Review.ApproveVisit, x.manager, &v1.ApproveVisitRequest{VisitId: recs[i].visit.ID})
		require.NoError(t, err)
		x.approved = append(x.approved, recs[i].visit.ID)
	}
	return x
}

// employee returns a run's figures for an employee number.
func employee(tb testing.TB, run *v1.BonusRun, number string) *v1.EmployeeBonus {
	tb.Helper()
	for _, e := range run.Employees {
		if e.EmployeeNumber == number {
			return e
		}
	}
	tb.Fatalf("employee %s not in run %s", number, run.Id)
	return nil
}

// downloadAudit collects a streamed audit workbook and its progress.
func downloadAudit(tb testing.TB, rc shopscorev1connect.ReportServiceClient, token string, req *v1.DownloadAuditWorkbookRequest) ([]byte, []*v1.DownloadProgress, error) {
	tb.Helper()
	stream, err := rc.DownloadAuditWorkbook(context.Background(), withToken(connect.NewRequest(req), token))
	if err != nil {
		return nil, nil, err
	}
	defer stream.Close()
	var buf bytes.Buffer
	var progress []*v1.DownloadProgress
	var file *v1.DownloadFile
	for stream.Receive() {
		switch m := stream.Msg().Message.(type) {
		case *v1.DownloadAuditWorkbookResponse_Progress:
			progress = append(progress, m.Progress)
		case *v1.DownloadAuditWorkbookResponse_File:
			file = m.File
		case *v1.DownloadAuditWorkbookResponse_Chunk:
			require.NotNil(tb, file, "the file is described before its chunks")
			buf.Write(m.Chunk)
		}
	}
	if err := stream.Err(); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), progress, nil
}

func downloadPayroll(tb testing.TB, rc shopscorev1connect.ReportServiceClient, token, runID string) ([]byte, error) {
	tb.Helper()
	stream, err := rc.DownloadPayroll(context.Background(), withToken(connect.NewRequest(&v1.DownloadPayrollRequest{RunId: runID}), token))
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	var buf bytes.Buffer
	for stream.Receive() {
		if ch, ok := stream.Msg().Message.(*v1.DownloadPayrollResponse_Chunk); ok {
			buf.Write(ch.Chunk)
		}
	}
	return buf.Bytes(), stream.Err()
}

func openWorkbook(tb testing.TB, data []byte) *excelize.File {
	tb.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	require.NoError(tb, err)
	tb.Cleanup(func() { f.Close() })
	return f
}

// rowWith returns the first row of a sheet whose column col (0-based)
// equals value.
func rowWith(tb testing.TB, f *excelize.File, sheet string, col int, value string) []string {
	tb.Helper()
	rows, err := f.GetRows(sheet)
	require.NoError(tb, err)
	for _, r := range rows {
		if len(r) > col && r[col] == value {
			return r
		}
	}
	tb.Fatalf("sheet %s has no row with %q in column %d", sheet, value, col+1)
	return nil
}

// requireNumberCell asserts that a cell holds a number (not text) with the
// given value and a number format.
func requireNumberCell(tb testing.TB, f *excelize.File, sheet, ref string, want float64) {
	tb.Helper()
	typ, err := f.GetCellType(sheet, ref)
	require.NoError(tb, err)
	assert.Contains(tb, []excelize.CellType{excelize.CellTypeNumber, excelize.CellTypeUnset}, typ, "%s!%s is a number", sheet, ref)
	raw, err := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
	require.NoError(tb, err)
	got, err := strconv.ParseFloat(raw, 64)
	require.NoError(tb, err, "%s!%s = %q", sheet, ref, raw)
	assert.InDelta(tb, want, got, 1e-9, "%s!%s", sheet, ref)
	style, err := f.GetCellStyle(sheet, ref)
	require.NoError(tb, err)
	assert.NotZero(tb, style, "%s!%s has a number format", sheet, ref)
}

func TestReportService(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	months := map[string]time.Time{
		"connect": time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
		"grpc":    time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC),
	}
	for _, p := range protocols[:2] {
		t.Run(p.name, func(t *testing.T) {
			x := newReportFixture(t, ts, p.client, p.opts, months[p.name])
			rc := x.rc

			t.Run("Policy", func(t *testing.T) {
				resp, err := call(t, rc.CreatePolicy, x.hr, &v1.CreatePolicyRequest{PolicyJson: testDriverPolicy(x.policyID)})
				require.NoError(t, err)
				assert.True(t, resp.Created)
				assert.EqualValues(t, 1, resp.Policy.Version)
				again, err := call(t, rc.CreatePolicy, x.hr, &v1.CreatePolicyRequest{PolicyJson: testDriverPolicy(x.policyID)})
				require.NoError(t, err)
				assert.False(t, again.Created, "unchanged content stores nothing")
				assert.EqualValues(t, 1, again.Policy.Version)

				for name, body := range map[string]string{
					"shares":  `{"id":"bad","name":"b","base":"base_pay","unlinked_share":0.5,"components":[{"name":"x","share":0.4,"categories":["politeness"],"rule":{"linear":{"from":50,"to":90}}}]}`,
					"unknown": `{"id":"bad","name":"b","base":"base_pay","unlinked_shares":0.5}`,
					"syntax":  `{"id":`,
					"store":   `{"id":"bad","name":"b","base":"base_pay","store_ids":["NOPE-1"],"unlinked_share":0.5,"components":[{"name":"x","share":0.5,"categories":["politeness"],"rule":{"linear":{"from":50,"to":90}}}]}`,
				} {
					_, err := call(t, rc.CreatePolicy, x.hr, &v1.CreatePolicyRequest{PolicyJson: body})
					requireCode(t, connect.CodeInvalidArgument, err)
					assert.NotEmpty(t, connect.CodeOf(err).String(), name)
				}
				_, err = call(t, rc.CreatePolicy, x.hr, &v1.CreatePolicyRequest{PolicyJson: `{"id":"bad","name":"b","base":"base_pay","unlinked_share":0.5,"components":[{"name":"x","share":0.4,"categories":["politeness"],"rule":{"linear":{"from":50,"to":90}}}]}`})
				assert.ErrorContains(t, err, "shares sum to 90%")
				_, err = call(t, rc.CreatePolicy, x.manager, &v1.CreatePolicyRequest{PolicyJson: testDriverPolicy("mine")})
				requireCode(t, connect.CodePermissionDenied, err)
			})

			t.Run("BasePay", func(t *testing.T) {
				csv := "employee_number;base_pay\nE2001;100 000,00\nE2002;90000\n"
				resp, err := call(t, rc.ImportBasePay, x.hr, &v1.ImportBasePayRequest{FileName: "pay.csv", Content: []byte(csv),
					Kind: v1.PayKind_PAY_KIND_TARGET_VARIABLE, EffectiveMonth: "2025-01"})
				require.NoError(t, err)
				assert.EqualValues(t, 2, resp.Imported)

				_, err = call(t, rc.ImportBasePay, x.hr, &v1.ImportBasePayRequest{FileName: "pay.csv", Content: []byte("employee_number,amount\nE9999,5\nE2001,-3\n"),
					EffectiveMonth: "2025-01"})
				requireCode(t, connect.CodeInvalidArgument, err)
				// One pass: the unknown employee and the bad amount together,
				// each at its row in the file (the header is row 1).
				assert.ErrorContains(t, err, `pay.csv: row 2: no staff with employee number E9999`)
				assert.ErrorContains(t, err, `pay.csv: row 3: employee E2001: "-3" is negative`)
				_, err = call(t, rc.ImportBasePay, x.hr, &v1.ImportBasePayRequest{FileName: "pay.csv", Content: []byte("employee_number,amount\n\nE9999,5\n"),
					EffectiveMonth: "2025-01"})
				assert.ErrorContains(t, err, "row 3: no staff with employee number E9999", "a blank line counts as a row")
				_, err = call(t, rc.SetBasePay, x.hr, &v1.SetBasePayRequest{EmployeeNumber: "E2001", EffectiveMonth: "2025-1", AmountMinor: 1})
				requireCode(t, connect.CodeInvalidArgument, err)
				assert.ErrorContains(t, err, "YYYY-MM")
				_, err = call(t, rc.SetBasePay, x.manager, &v1.SetBasePayRequest{EmployeeNumber: "E2001", EffectiveMonth: "2025-01", AmountMinor: 1})
				requireCode(t, connect.CodePermissionDenied, err)
			})

			var locked *v1.BonusRun
			t.Run("RunGolden", func(t *testing.T) {
				resp, err := call(t, rc.RunBonus, x.hr, &v1.RunBonusRequest{PolicyId: x.policyID, Period: x.month})
				require.NoError(t, err)
				run := resp.Run
				assert.Equal(t, v1.BonusRunState_BONUS_RUN_STATE_DRAFT, run.State)
				assert.EqualValues(t, 1, run.PolicyVersion)
				assert.Len(t, run.InputsHash, 64)
				// By hand: target variable pay 100,000.00; 55% unlinked =
				// 55,000.00; on-time 95% ≥ 90 → 100% of 15% = 15,000.00;
				// politeness 80% ≥ 75 → 50% of 10% = 5,000.00; clean truck
				// 60% → 0; hand-over 100% → 10,000.00; total 85,000.00.
				d := employee(t, run, "E2001")
				assert.EqualValues(t, 100_000_00, d.BasePayMinor)
				assert.EqualValues(t, 55_000_00, d.UnlinkedMinor)
				want := []struct {
					score, payout float64
					amount        int64
				}{{95, 1, 15_000_00}, {80, 0.5, 5_000_00}, {60, 0, 0}, {100, 1, 10_000_00}}
				require.Len(t, d.Components, 4)
				for i, w := range want {
					c := d.Components[i]
					assert.EqualValues(t, 20, c.Visits, c.Name)
					require.NotNil(t, c.ScorePercent, c.Name)
					assert.InDelta(t, w.score, *c.ScorePercent, 1e-9, c.Name)
					assert.Equal(t, w.payout, c.Payout, c.Name)
					assert.Equal(t, w.amount, c.AmountMinor, c.Name)
					assert.NotEmpty(t, c.Lines, c.Name)
				}
				assert.EqualValues(t, 85_000_00, d.TotalMinor)
				// The other driver had no audited delivery: every component
				// pays its default (0) and is flagged.
				other := employee(t, run, "E2002")
				assert.EqualValues(t, 49_500_00, other.TotalMinor)
				assert.True(t, other.Components[0].MinSampleDefault)
				assert.EqualValues(t, 2, run.Stats.Covered, "the policy covers the two drivers")
				assert.Empty(t, run.MissingBasePay)

				// Reproducible: the same inputs give a byte-identical result.
				again, err := call(t, rc.RunBonus, x.hr, &v1.RunBonusRequest{PolicyId: x.policyID, PolicyVersion: 1, Period: x.month})
				require.NoError(t, err)
				assert.NotEqual(t, run.Id, again.Run.Id)
				assert.Equal(t, run.InputsHash, again.Run.InputsHash)
				a, err := call(t, rc.GetBonusRun, x.hr, &v1.GetBonusRunRequest{RunId: run.Id})
				require.NoError(t, err)
				b, err := call(t, rc.GetBonusRun, x.hr, &v1.GetBonusRunRequest{RunId: again.Run.Id})
				require.NoError(t, err)
				require.NotEmpty(t, a.Run.ResultJson)
				assert.Equal(t, a.Run.ResultJson, b.Run.ResultJson)
				var decoded reports.Run
				require.NoError(t, json.Unmarshal([]byte(a.Run.ResultJson), &decoded))
				assert.Equal(t, run.InputsHash, decoded.InputsHash)

				approved, err := call(t, rc.ApproveBonusRun, x.hr, &v1.ApproveBonusRunRequest{RunId: run.Id})
				require.NoError(t, err)
				assert.Equal(t, v1.BonusRunState_BONUS_RUN_STATE_APPROVED, approved.Run.State)
				assert.NotNil(t, approved.Run.ApproveTime)
				locked = approved.Run
				// Approving the twin computed before the lock is refused.
				_, err = call(t, rc.ApproveBonusRun, x.hr, &v1.ApproveBonusRunRequest{RunId: again.Run.Id})
				requireCode(t, connect.CodeFailedPrecondition, err)

				// Re-running the closed month reproduces it: no difference.
				same, err := call(t, rc.RunBonus, x.hr, &v1.RunBonusRequest{PolicyId: x.policyID, Period: x.month})
				require.NoError(t, err)
				assert.Equal(t, run.Id, same.Run.ComparedRunId)
				assert.Empty(t, same.Run.Changes)
				assert.Equal(t, run.InputsHash, same.Run.InputsHash)
			})

			t.Run("LaterChange", func(t *testing.T) {
				require.NotNil(t, locked)
				// An admin reopens an approved visit (the late one): it no
				// longer counts, and the new run shows the difference.
				_, err := call(t, x.c.Review.ReopenVisit, x.admin, &v1.ReopenVisitRequest{VisitId: x.approved[7], Reason: "the customer disputes the time"})
				require.NoError(t, err)
				resp, err := call(t, rc.RunBonus, x.hr, &v1.RunBonusRequest{PolicyId: x.policyID, Period: x.month})
				require.NoError(t, err)
				run := resp.Run
				assert.Equal(t, locked.Id, run.ComparedRunId)
				assert.NotEqual(t, locked.InputsHash, run.InputsHash)
				var fields []string
				for _, c := range run.Changes {
					fields = append(fields, c.Field)
					if c.Component == "on-time delivery" && c.Field == "visits" {
						assert.Equal(t, "20", c.OldValue)
						assert.Equal(t, "19", c.NewValue)
					}
				}
				assert.Contains(t, fields, "inputs_hash")
				assert.Contains(t, fields, "score_percent")
				d := employee(t, run, "E2001")
				assert.EqualValues(t, 100, *d.Components[0].ScorePercent, "19 of 19 deliveries on time")

				approved, err := call(t, rc.ApproveBonusRun, x.hr, &v1.ApproveBonusRunRequest{RunId: run.Id})
				require.NoError(t, err)
				assert.Equal(t, v1.BonusRunState_BONUS_RUN_STATE_APPROVED, approved.Run.State)
				old, err := call(t, rc.GetBonusRun, x.hr, &v1.GetBonusRunRequest{RunId: locked.Id})
				require.NoError(t, err)
				assert.Equal(t, v1.BonusRunState_BONUS_RUN_STATE_SUPERSEDED, old.Run.State)
				_, err = call(t, rc.ApproveBonusRun, x.hr, &v1.ApproveBonusRunRequest{RunId: locked.Id})
				requireCode(t, connect.CodeFailedPrecondition, err)

				list, err := call(t, rc.ListBonusRuns, x.hr, &v1.ListBonusRunsRequest{PolicyId: x.policyID, Period: x.month})
				require.NoError(t, err)
				assert.Len(t, list.Runs, 4)
				assert.Empty(t, list.Runs[0].Employees, "lists carry no figures")
			})

			t.Run("BadInput", func(t *testing.T) {
				_, err := call(t, rc.RunBonus, x.hr, &v1.RunBonusRequest{PolicyId: x.policyID, Period: "2025-13"})
				requireCode(t, connect.CodeInvalidArgument, err)
				assert.ErrorContains(t, err, "YYYY-MM")
				_, err = call(t, rc.RunBonus, x.hr, &v1.RunBonusRequest{Period: x.month})
				requireCode(t, connect.CodeInvalidArgument, err)
				_, err = call(t, rc.RunBonus, x.hr, &v1.RunBonusRequest{PolicyId: "nope", Period: x.month})
				requireCode(t, connect.CodeNotFound, err)
				_, err = call(t, rc.RunBonus, x.hr, &v1.RunBonusRequest{PolicyId: x.policyID, PolicyVersion: 9, Period: x.month})
				requireCode(t, connect.CodeNotFound, err)
				_, err = call(t, rc.GetBonusRun, x.hr, &v1.GetBonusRunRequest{RunId: "nope"})
				requireCode(t, connect.CodeNotFound, err)
				_, _, err = downloadAudit(t, rc, x.manager, &v1.DownloadAuditWorkbookRequest{From: x.month, To: "2024-01"})
				requireCode(t, connect.CodeInvalidArgument, err)
				_, _, err = downloadAudit(t, rc, x.manager, &v1.DownloadAuditWorkbookRequest{From: x.month, To: x.month, StoreCode: "DEPOT-1", Region: "Moscow"})
				requireCode(t, connect.CodeInvalidArgument, err)
			})

			t.Run("Authorization", func(t *testing.T) {
				_, err := call(t, rc.RunBonus, x.manager, &v1.RunBonusRequest{PolicyId: x.policyID, Period: x.month})
				requireCode(t, connect.CodePermissionDenied, err)
				_, err = call(t, rc.ListBonusRuns, x.shopper, &v1.ListBonusRunsRequest{})
				requireCode(t, connect.CodePermissionDenied, err)
				_, err = downloadPayroll(t, rc, x.manager, locked.Id)
				requireCode(t, connect.CodePermissionDenied, err)
				_, _, err = downloadAudit(t, rc, x.shopper, &v1.DownloadAuditWorkbookRequest{From: x.month, To: x.month})
				requireCode(t, connect.CodePermissionDenied, err)
				// KIV-01 is not the demo manager's store.
				_, _, err = downloadAudit(t, rc, x.manager, &v1.DownloadAuditWorkbookRequest{From: x.month, To: x.month, StoreCode: "KIV-01"})
				requireCode(t, connect.CodeNotFound, err)
				_, _, err = downloadAudit(t, rc, x.hr, &v1.DownloadAuditWorkbookRequest{From: x.month, To: x.month, StoreCode: "KIV-01"})
				require.NoError(t, err, "HR reads every store")
			})

			t.Run("AuditWorkbook", func(t *testing.T) {
				data, progress, err := downloadAudit(t, rc, x.manager, &v1.DownloadAuditWorkbookRequest{From: x.month, To: x.month, StoreCode: "DEPOT-1"})
				require.NoError(t, err)
				require.NotEmpty(t, progress)
				last := progress[len(progress)-1]
				// 21 visits, 84 answers, 9 photos of dirty trucks.
				assert.EqualValues(t, 21+84+9, last.RowsTotal)
				assert.Equal(t, last.RowsTotal, last.RowsDone)
				f := openWorkbook(t, data)
				visits, err := f.GetRows("Visits")
				require.NoError(t, err)
				assert.Len(t, visits, 1+21, "every scored visit: approved, reopened and unreviewed")
				states := map[string]int{}
				for _, r := range visits[1:] {
					states[r[10]]++
				}
				assert.Equal(t, map[string]int{"approved": 19, "in_review": 1, "complete": 1}, states)
				answers, err := f.GetRows("Answers")
				require.NoError(t, err)
				assert.Len(t, answers, 1+84)
				evidence, err := f.GetRows("Evidence")
				require.NoError(t, err)
				assert.Len(t, evidence, 1+9)
				summary := rowWith(t, f, "Summary", 0, "DEPOT-1")
				assert.Equal(t, "21", summary[3])
				requireNumberCell(t, f, "Summary", "D2", 21)
				staff := rowWith(t, f, "By staff", 1, "Sergei Morozov")
				assert.Equal(t, "21", staff[3])
				clause := rowWith(t, f, "By clause", 0, "CLN-2")
				assert.Equal(t, "21", clause[3])
				requireNumberCell(t, f, "By clause", "H"+rowNumber(t, f, "By clause", "CLN-2"), 12.0/21)
			})

			t.Run("HTTP", func(t *testing.T) {
				get := func(path, token string) (*http.Response, []byte) {
					req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
					require.NoError(t, err)
					if token != "" {
						req.Header.Set("Authorization", "Bearer "+token)
					}
					resp, err := http.DefaultClient.Do(req)
					require.NoError(t, err)
					defer resp.Body.Close()
					body, err := io.ReadAll(resp.Body)
					require.NoError(t, err)
					return resp, body
				}
				path := "/reports/audit.xlsx?from=" + x.month + "&to=" + x.month + "&store=DEPOT-1"
				resp, body := get(path, x.manager)
				require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
				assert.Equal(t, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", resp.Header.Get("Content-Type"))
				assert.Contains(t, resp.Header.Get("Content-Disposition"), "audit-"+x.month+"-DEPOT-1.xlsx")
				visits, err := openWorkbook(t, body).GetRows("Visits")
				require.NoError(t, err)
				assert.Len(t, visits, 1+21)

				resp, body = get(path, "")
				assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
				assert.Contains(t, string(body), `"code":"unauthenticated"`)
				assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
				resp, _ = get(path, "not-a-token")
				assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
				resp, _ = get(path, x.shopper)
				assert.Equal(t, http.StatusForbidden, resp.StatusCode)
				resp, _ = get("/reports/audit.xlsx?from="+x.month+"&to="+x.month+"&store=KIV-01", x.manager)
				assert.Equal(t, http.StatusNotFound, resp.StatusCode)
				resp, body = get("/reports/audit.xlsx?from=March", x.manager)
				assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
				assert.Contains(t, string(body), "YYYY-MM")
				resp, body = get("/reports/audit.xlsx?from="+x.month+"&to="+x.month+"&shop=1", x.manager)
				assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
				assert.Contains(t, string(body), `unknown parameter \"shop\"`)

				runs, err := call(t, rc.ListBonusRuns, x.hr, &v1.ListBonusRunsRequest{PolicyId: x.policyID, Period: x.month})
				require.NoError(t, err)
				var current string
				for _, r := range runs.Runs {
					if r.State == v1.BonusRunState_BONUS_RUN_STATE_APPROVED {
						current = r.Id
					}
				}
				require.NotEmpty(t, current)
				resp, body = get("/reports/payroll/"+current+".xlsx", x.hr)
				require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
				f := openWorkbook(t, body)
				row := rowWith(t, f, "Payroll", 0, "E2001")
				assert.Equal(t, "Sergei Morozov", row[1])
				assert.Equal(t, "DEPOT-1", row[4], "stores are shown by code")
				n := rowNumber(t, f, "Payroll", "E2001")
				requireNumberCell(t, f, "Payroll", "F"+n, 100_000)
				requireNumberCell(t, f, "Payroll", "G"+n, 55_000)
				cols, err := f.GetCols("Payroll")
				require.NoError(t, err)
				totalCol, err := excelize.ColumnNumberToName(len(cols) - 1)
				require.NoError(t, err)
				// After the reopen: on time in 19 of 19, polite in 15 (78.9%),
				// clean in 11 (57.9%): the same 85,000.00.
				requireNumberCell(t, f, "Payroll", totalCol+n, 85_000)
				expl, err := f.GetRows("Explanation")
				require.NoError(t, err)
				assert.Greater(t, len(expl), 8)

				resp, _ = get("/reports/payroll/"+current+".xlsx", x.manager)
				assert.Equal(t, http.StatusForbidden, resp.StatusCode)
				resp, _ = get("/reports/payroll/"+current+".xlsx", "")
				assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
				resp, _ = get("/reports/payroll/nope.xlsx", x.hr)
				assert.Equal(t, http.StatusNotFound, resp.StatusCode)
				resp, _ = get("/reports/payroll/"+current+".pdf", x.hr)
				assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

				// The stream RPC gives the same workbook.
				streamed, err := downloadPayroll(t, rc, x.hr, current)
				require.NoError(t, err)
				row = rowWith(t, openWorkbook(t, streamed), "Payroll", 0, "E2001")
				assert.Equal(t, "Sergei Morozov", row[1])
			})
		})
	}
}

// rowNumber returns the 1-based number, as text, of the first row of a
// sheet whose first cell is value.
func rowNumber(tb testing.TB, f *excelize.File, sheet, value string) string {
	tb.Helper()
	rows, err := f.GetRows(sheet)
	require.NoError(tb, err)
	for i, r := range rows {
		if len(r) > 0 && r[0] == value {
			return strconv.Itoa(i + 1)
		}
	}
	tb.Fatalf("sheet %s has no row starting with %q", sheet, value)
	return ""
}
