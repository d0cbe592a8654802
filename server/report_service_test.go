package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
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
	"github.com/shopscore/shopscore/server/demo"
)

// testDriverPolicy is the driver example under its own id: 55% unlinked,
// 15/10/10/10 for on-time, politeness, clean truck and hand-over, judged
// on the delivery checklist's clauses; ≥ 90% pays in full, ≥ 75% half.
func testDriverPolicy(id string) string {
	p := demo.DriverPolicy()
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
				assert.EqualValues(t, other.BasePayMinor*55/100, other.TotalMinor, "55% unlinked, nothing more")
				assert.True(t, other.Components[0].MinSampleDefault)
				assert.EqualValues(t, 2, run.Stats.Covered, "the policy covers the two drivers")
				assert.Empty(t, run.MissingBasePay)

				assert.False(t, resp.Reused)
				assert.Len(t, run.InputsStamp, 64)
				assert.Equal(t, "Olga Petrova (HR)", run.CreatedByName)
				// The explanation names stores and questions for people.
				line := d.Components[1].Explanation[1]
				assert.Equal(t, "DEPOT-1", line.StoreCode)
				assert.Equal(t, "Logistics depot", line.StoreName)
				assert.NotNil(t, line.VisitTime)
				assert.NotContains(t, line.Text, line.VisitId, "no visit ids in the text")

				// The same inputs: the stored draft is reused, not copied.
				again, err := call(t, rc.RunBonus, x.hr, &v1.RunBonusRequest{PolicyId: x.policyID, PolicyVersion: 1, Period: x.month})
				require.NoError(t, err)
				assert.True(t, again.Reused)
				assert.Equal(t, run.Id, again.Run.Id)
				list, err := call(t, rc.ListBonusRuns, x.hr, &v1.ListBonusRunsRequest{PolicyId: x.policyID, Period: x.month})
				require.NoError(t, err)
				assert.Len(t, list.Runs, 1, "one stored run")
				a, err := call(t, rc.GetBonusRun, x.hr, &v1.GetBonusRunRequest{RunId: run.Id})
				require.NoError(t, err)
				require.NotEmpty(t, a.Run.ResultJson)
				var decoded reports.Run
				require.NoError(t, json.Unmarshal([]byte(a.Run.ResultJson), &decoded))
				assert.Equal(t, run.InputsHash, decoded.InputsHash)
				// A preview of the same policy computes the same figures and
				// stores nothing.
				preview, err := call(t, rc.PreviewBonus, x.hr, &v1.PreviewBonusRequest{PolicyJson: testDriverPolicy(x.policyID), Period: x.month})
				require.NoError(t, err)
				assert.Empty(t, preview.Run.Id)
				assert.Equal(t, run.InputsHash, preview.Run.InputsHash)
				assert.EqualValues(t, 85_000_00, employee(t, preview.Run, "E2001").TotalMinor)

				approved, err := call(t, rc.ApproveBonusRun, x.hr, &v1.ApproveBonusRunRequest{RunId: run.Id})
				require.NoError(t, err)
				assert.Equal(t, v1.BonusRunState_BONUS_RUN_STATE_APPROVED, approved.Run.State)
				assert.NotNil(t, approved.Run.ApproveTime)
				assert.Equal(t, "Olga Petrova (HR)", approved.Run.ApprovedByName, "the person who approved it")
				locked = approved.Run

				// Re-running the closed month reproduces it: the approved run.
				same, err := call(t, rc.RunBonus, x.hr, &v1.RunBonusRequest{PolicyId: x.policyID, Period: x.month})
				require.NoError(t, err)
				assert.True(t, same.Reused)
				assert.Equal(t, run.Id, same.Run.Id)
				assert.Equal(t, v1.BonusRunState_BONUS_RUN_STATE_APPROVED, same.Run.State)
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
						assert.Equal(t, "E2001", c.EmployeeNumber)
						assert.Equal(t, "Sergei Morozov (E2001) / on-time delivery: visits 20 → 19 (−1)", c.Text)
					}
					if c.Component == "politeness" && c.Field == "score_percent" {
						// 16 of 20, then 15 of 19: rounded for people.
						assert.Equal(t, "Sergei Morozov (E2001) / politeness: score 80.0% → 78.9% (−1.1 pp)", c.Text)
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
				assert.Len(t, list.Runs, 2)
				assert.Empty(t, list.Runs[0].Employees, "lists carry no figures")
				locked = approved.Run
			})

			t.Run("StaleDraft", func(t *testing.T) {
				// A draft that differs from the locked run: Dmitri Lebedev's
				// target pay changes.
				_, err := call(t, rc.SetBasePay, x.hr, &v1.SetBasePayRequest{EmployeeNumber: "E2002", Kind: v1.PayKind_PAY_KIND_TARGET_VARIABLE,
					EffectiveMonth: x.month, AmountMinor: 95_000_00})
				require.NoError(t, err)
				draft, err := call(t, rc.RunBonus, x.hr, &v1.RunBonusRequest{PolicyId: x.policyID, Period: x.month})
				require.NoError(t, err)
				require.False(t, draft.Reused)
				require.Equal(t, v1.BonusRunState_BONUS_RUN_STATE_DRAFT, draft.Run.State)

				// A visit it read leaves the approved state and comes back:
				// the content is the same, the draft is not what was approved.
				visit := x.approved[3]
				_, err = call(t, x.c.Review.ReopenVisit, x.admin, &v1.ReopenVisitRequest{VisitId: visit, Reason: "checking the photo"})
				require.NoError(t, err)
				_, err = call(t, x.c.Review.ApproveVisit, x.manager, &v1.ApproveVisitRequest{VisitId: visit})
				require.NoError(t, err)
				_, err = call(t, rc.ApproveBonusRun, x.hr, &v1.ApproveBonusRunRequest{RunId: draft.Run.Id})
				requireCode(t, connect.CodeFailedPrecondition, err)
				assert.ErrorContains(t, err, "changed after it was computed")
				got, err := call(t, rc.GetBonusRun, x.hr, &v1.GetBonusRunRequest{RunId: draft.Run.Id})
				require.NoError(t, err)
				assert.Equal(t, v1.BonusRunState_BONUS_RUN_STATE_DRAFT, got.Run.State, "nothing changed")

				// Run again: the same figures, read afresh, a new draft.
				fresh, err := call(t, rc.RunBonus, x.hr, &v1.RunBonusRequest{PolicyId: x.policyID, Period: x.month})
				require.NoError(t, err)
				assert.False(t, fresh.Reused, "the stamp differs: not the stale draft")
				assert.NotEqual(t, draft.Run.Id, fresh.Run.Id)
				assert.Equal(t, draft.Run.InputsHash, fresh.Run.InputsHash)
				assert.NotEqual(t, draft.Run.InputsStamp, fresh.Run.InputsStamp)

				// Base pay written again, even with the same amount, makes it
				// stale too.
				_, err = call(t, rc.SetBasePay, x.hr, &v1.SetBasePayRequest{EmployeeNumber: "E2002", Kind: v1.PayKind_PAY_KIND_TARGET_VARIABLE,
					EffectiveMonth: x.month, AmountMinor: 95_000_00})
				require.NoError(t, err)
				_, err = call(t, rc.ApproveBonusRun, x.hr, &v1.ApproveBonusRunRequest{RunId: fresh.Run.Id})
				requireCode(t, connect.CodeFailedPrecondition, err)

				last, err := call(t, rc.RunBonus, x.hr, &v1.RunBonusRequest{PolicyId: x.policyID, Period: x.month})
				require.NoError(t, err)
				approved, err := call(t, rc.ApproveBonusRun, x.hr, &v1.ApproveBonusRunRequest{RunId: last.Run.Id})
				require.NoError(t, err)
				assert.Equal(t, v1.BonusRunState_BONUS_RUN_STATE_APPROVED, approved.Run.State)
				assert.EqualValues(t, 95_000_00, employee(t, approved.Run, "E2002").BasePayMinor)
				locked = approved.Run
			})

			t.Run("PolicyEditor", func(t *testing.T) {
				p := demo.DriverPolicy()
				p.ID = x.policyID
				for i := range p.Components {
					p.Components[i].DefaultPayout = 0
				}
				// The components share one rule: give politeness its own.
				p.Components[1].Rule.Thresholds = []reports.Threshold{{MinPercent: 90, Payout: 1}, {MinPercent: 75, Payout: 0.4}}
				body, err := json.Marshal(p)
				require.NoError(t, err)
				check, err := call(t, rc.ValidatePolicy, x.hr, &v1.ValidatePolicyRequest{PolicyJson: string(body)})
				require.NoError(t, err)
				assert.Empty(t, check.Problems)
				assert.False(t, check.Unchanged)
				assert.EqualValues(t, 2, check.NextVersion)
				bad, err := call(t, rc.ValidatePolicy, x.hr, &v1.ValidatePolicyRequest{PolicyJson: `{"id":"x","name":"x","base":"base_pay","unlinked_share":0.5,"components":[{"name":"a","share":0.4,"categories":["politeness"],"rule":{}}]}`})
				require.NoError(t, err, "problems are answers, not errors")
				assert.Len(t, bad.Problems, 1, "%v", bad.Problems)
				assert.Contains(t, bad.Problems[0], "neither thresholds nor linear")

				created, err := call(t, rc.CreatePolicy, x.hr, &v1.CreatePolicyRequest{PolicyJson: string(body)})
				require.NoError(t, err)
				assert.True(t, created.Created)
				assert.EqualValues(t, 2, created.Policy.Version)
				same, err := call(t, rc.ValidatePolicy, x.hr, &v1.ValidatePolicyRequest{PolicyJson: string(body)})
				require.NoError(t, err)
				assert.True(t, same.Unchanged)

				got, err := call(t, rc.GetPolicy, x.hr, &v1.GetPolicyRequest{PolicyId: x.policyID})
				require.NoError(t, err)
				assert.EqualValues(t, 2, got.Policy.Version)
				assert.Equal(t, []int32{1, 2}, got.Versions)
				assert.Equal(t, "Olga Petrova (HR)", got.Policy.CreatedByName)
				diff, err := call(t, rc.DiffPolicies, x.hr, &v1.DiffPoliciesRequest{PolicyId: x.policyID, FromVersion: 1})
				require.NoError(t, err)
				require.Len(t, diff.Changes, 1)
				assert.Equal(t, "components[politeness].rule.thresholds[2].payout", diff.Changes[0].Path)
				assert.Equal(t, "0.5", diff.Changes[0].OldValue)
				assert.Equal(t, "0.4", diff.Changes[0].NewValue)
				_, err = call(t, rc.DiffPolicies, x.hr, &v1.DiffPoliciesRequest{PolicyId: x.policyID, FromVersion: 7})
				requireCode(t, connect.CodeNotFound, err)
				_, err = call(t, rc.GetPolicy, x.manager, &v1.GetPolicyRequest{PolicyId: x.policyID})
				requireCode(t, connect.CodePermissionDenied, err)

				pay, err := call(t, rc.ListBasePay, x.hr, &v1.ListBasePayRequest{Month: x.month, Kind: v1.PayKind_PAY_KIND_TARGET_VARIABLE})
				require.NoError(t, err)
				entries := map[string]*v1.BasePayEntry{}
				for _, e := range pay.Entries {
					entries[e.EmployeeNumber] = e
				}
				require.Contains(t, entries, "E2002")
				assert.True(t, entries["E2002"].Set)
				assert.EqualValues(t, 95_000_00, entries["E2002"].AmountMinor)
				assert.Equal(t, x.month, entries["E2002"].EffectiveMonth)
				assert.Equal(t, "Olga Petrova (HR)", entries["E2002"].UpdatedBy)
				assert.Equal(t, "DEPOT-1", entries["E2002"].StoreCode)
				assert.False(t, entries["E1001"].Set, "a cashier without target pay is listed, unset")
				_, err = call(t, rc.ListBasePay, x.hr, &v1.ListBasePayRequest{Month: "May"})
				requireCode(t, connect.CodeInvalidArgument, err)
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
				assert.Equal(t, "E2001", staff[0], "staff by employee number")
				clause := rowWith(t, f, "By clause", 0, "CLN-2")
				assert.Equal(t, "21", clause[3])
				// Numbers are numbers: minutes late in its unit, not text.
				late := rowNumber(t, f, "Answers", visits[1][0])
				requireNumberCell(t, f, "Answers", "H"+late, 0)
				typ, err := f.GetCellType("Answers", "H"+late)
				require.NoError(t, err)
				assert.NotEqual(t, excelize.CellTypeInlineString, typ)
				style, err := f.GetCellStyle("Answers", "H"+late)
				require.NoError(t, err)
				st, err := f.GetStyle(style)
				require.NoError(t, err)
				require.NotNil(t, st.CustomNumFmt)
				assert.Equal(t, `0.##" min"`, *st.CustomNumFmt)
				// Times in the organisation's time zone (Europe/Moscow, UTC+3):
				// the first delivery started at 09:00 UTC.
				shown, err := f.GetCellValue("Visits", "E2")
				require.NoError(t, err)
				assert.Equal(t, x.month+"-01 12:00", shown)
				layout, err := f.GetPageLayout("Answers")
				require.NoError(t, err)
				assert.Equal(t, "landscape", *layout.Orientation)
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
				// One rule with the CLI: to defaults to from.
				resp, body = get("/reports/audit.xlsx?from="+x.month+"&store=DEPOT-1", x.manager)
				require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
				assert.Contains(t, resp.Header.Get("Content-Disposition"), "audit-"+x.month+"-DEPOT-1.xlsx")
				visits, err = openWorkbook(t, body).GetRows("Visits")
				require.NoError(t, err)
				assert.Len(t, visits, 1+21)
				resp, body = get("/reports/audit.xlsx?to="+x.month, x.manager)
				assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
				assert.Contains(t, string(body), "from is required")
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
				assert.Equal(t, "DEPOT-1", row[3], "stores are shown by code")
				n := rowNumber(t, f, "Payroll", "E2001")
				requireNumberCell(t, f, "Payroll", "E"+n, 100_000)
				requireNumberCell(t, f, "Payroll", "F"+n, 55_000)
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
				requirePayrollForPeople(t, f, body, current, "APPROVED")
				_, again := get("/reports/payroll/"+current+".xlsx", x.hr)
				assert.Equal(t, body, again, "the same run gives the same bytes")

				// The flat export for payroll systems, in Russian by default.
				resp, body = get("/reports/payroll-export/"+current+".csv", x.hr)
				require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
				assert.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
				csv := string(body)
				assert.True(t, strings.HasPrefix(csv, "\ufeffТабельный номер;Сотрудник;Период;Показатель;Сумма\r\n"), csv)
				first := x.month[5:] + "." + x.month[:4]
				assert.Contains(t, csv, "E2001;Sergei Morozov;01."+first+";"+reports.ComponentCode(x.policyID, "on-time delivery")+";15000,00\r\n")
				assert.Contains(t, csv, "E2001;Sergei Morozov;01."+first+";"+reports.ComponentCode(x.policyID, "unlinked")+";55000,00\r\n")
				assert.Contains(t, csv, "E2001;Sergei Morozov;01."+first+";"+reports.ComponentCode(x.policyID, "clean truck")+";0,00\r\n")
				assert.Equal(t, 1+2*5, strings.Count(csv, "\r\n"), "a row per employee and component, the unlinked share included")
				resp, body = get("/reports/payroll-export/"+current+".csv?locale=en", x.hr)
				require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
				assert.Contains(t, string(body), "E2001,Sergei Morozov,"+x.month+"-01,"+reports.ComponentCode(x.policyID, "on-time delivery")+",15000.00\r\n")
				resp, _ = get("/reports/payroll-export/"+current+".csv?locale=fr", x.hr)
				assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
				resp, _ = get("/reports/payroll-export/"+current+".csv", x.manager)
				assert.Equal(t, http.StatusForbidden, resp.StatusCode)
				resp, body = get("/reports/payroll-export/"+current+".xlsx", x.hr)
				require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
				ex := openWorkbook(t, body)
				assert.Equal(t, "Табельный номер", rowWith(t, ex, "Payroll export", 0, "Табельный номер")[0])
				en := rowNumber(t, ex, "Payroll export", "E2001")
				requireNumberCell(t, ex, "Payroll export", "E"+en, 55_000)
				typ, err := ex.GetCellType("Payroll export", "C"+en)
				require.NoError(t, err)
				assert.NotEqual(t, excelize.CellTypeInlineString, typ, "the period is a date")
				streamedExport, err := downloadExport(t, rc, x.hr, &v1.DownloadPayrollExportRequest{RunId: current, Format: v1.PayrollExportFormat_PAYROLL_EXPORT_FORMAT_CSV})
				require.NoError(t, err)
				assert.Equal(t, csv, string(streamedExport))

				// A draft says so on every page.
				var draft string
				for _, r := range runs.Runs {
					if r.State == v1.BonusRunState_BONUS_RUN_STATE_DRAFT {
						draft = r.Id
					}
				}
				require.NotEmpty(t, draft)
				resp, body = get("/reports/payroll/"+draft+".xlsx", x.hr)
				require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
				requirePayrollForPeople(t, openWorkbook(t, body), body, draft, "DRAFT")

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

// requirePayrollForPeople checks what makes a payroll workbook one a
// person can sign: the Run sheet first naming the run and its state, the
// print setup of every sheet, the document properties, and an explanation
// without ids.
func requirePayrollForPeople(t *testing.T, f *excelize.File, data []byte, runID, state string) {
	t.Helper()
	sheets := f.GetSheetList()
	assert.Equal(t, []string{"Run", "Payroll", "Components", "Explanation", "Policy"}, sheets)
	banner, err := f.GetCellValue("Run", "A2")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(banner, state), "the state across the top: %q", banner)
	assert.Equal(t, runID, rowWith(t, f, "Run", 0, "Run id")[1])
	assert.Contains(t, rowWith(t, f, "Run", 0, "Policy")[1], "version ")
	approvedBy := rowWith(t, f, "Run", 0, "Approved by")[1]
	if state == "APPROVED" {
		assert.Contains(t, approvedBy, "Olga Petrova (HR), ")
	} else {
		assert.Equal(t, "not approved", approvedBy)
	}
	props, err := f.GetDocProps()
	require.NoError(t, err)
	assert.Equal(t, runID, props.Identifier)
	assert.Equal(t, "Olga Petrova (HR)", props.Creator)
	created, err := time.Parse(time.RFC3339, props.Created)
	require.NoError(t, err, "created %q", props.Created)
	assert.WithinDuration(t, time.Now(), created, time.Hour, "the run's creation time")
	for _, sheet := range sheets {
		layout, err := f.GetPageLayout(sheet)
		require.NoError(t, err)
		assert.Equal(t, "landscape", *layout.Orientation, sheet)
		assert.Equal(t, 1, *layout.FitToWidth, "%s: one page wide", sheet)
		assert.Equal(t, 0, *layout.FitToHeight, "%s: as many pages down as it takes", sheet)
		hf, err := f.GetHeaderFooter(sheet)
		require.NoError(t, err)
		if state == "DRAFT" {
			assert.Contains(t, hf.OddHeader, "DRAFT", "%s: DRAFT on every printed page", sheet)
		} else {
			assert.NotContains(t, hf.OddHeader, "DRAFT", sheet)
		}
	}
	titles := map[string]string{}
	for _, d := range f.GetDefinedName() {
		if d.Name == "_xlnm.Print_Titles" {
			titles[d.Scope] = d.RefersTo
		}
	}
	assert.Equal(t, "'Payroll'!$1:$1", titles["Payroll"], "the header row repeats on every page")
	assert.Equal(t, "'Explanation'!$1:$1", titles["Explanation"])
	rows, err := f.GetRows("Explanation")
	require.NoError(t, err)
	uuidLike := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	visitRows := 0
	for _, r := range rows[1:] {
		for _, c := range r {
			assert.False(t, uuidLike.MatchString(c), "no ids for people: %q", c)
		}
		if len(r) > 5 && r[3] != "" {
			visitRows++
			assert.Equal(t, "DEPOT-1", r[3])
			assert.Equal(t, "Logistics depot", r[4])
		}
	}
	assert.Greater(t, visitRows, 10)
	n := rowNumber(t, f, "Explanation", "E2001")
	typ, err := f.GetCellType("Explanation", "F"+strconv.Itoa(mustAtoi(t, n)+1))
	require.NoError(t, err)
	assert.NotEqual(t, excelize.CellTypeInlineString, typ, "visit times are dates")
	assert.NotEmpty(t, data)
}

func mustAtoi(tb testing.TB, s string) int {
	tb.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(tb, err)
	return n
}

func downloadExport(tb testing.TB, rc shopscorev1connect.ReportServiceClient, token string, req *v1.DownloadPayrollExportRequest) ([]byte, error) {
	tb.Helper()
	stream, err := rc.DownloadPayrollExport(context.Background(), withToken(connect.NewRequest(req), token))
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	var buf bytes.Buffer
	for stream.Receive() {
		if ch, ok := stream.Msg().Message.(*v1.DownloadPayrollExportResponse_Chunk); ok {
			buf.Write(ch.Chunk)
		}
	}
	return buf.Bytes(), stream.Err()
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
