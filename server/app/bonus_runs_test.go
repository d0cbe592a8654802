package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/server/storage/testdb"
)

// bonusFixture is the use cases over a fresh SQLite database holding one
// store (S01) with two cashiers (E1, E2) and a policy "cashiers" on them.
type bonusFixture struct {
	ctx   context.Context
	db    storage.Storage
	app   *app.App
	store *audit.Store
	staff []*audit.Staff
}

func newBonusFixture(t *testing.T) *bonusFixture {
	t.Helper()
	db := testdb.Open(t, nil)
	f := &bonusFixture{ctx: context.Background(), db: db, app: app.New(db, app.Options{})}
	f.store = &audit.Store{Code: "S01", Name: "First"}
	if err := f.app.CreateStore(f.ctx, f.store); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"E1", "E2"} {
		s := &audit.Staff{EmployeeNumber: n, Name: "Employee " + n, Position: "cashier", StoreID: f.store.ID}
		if err := f.app.CreateStaff(f.ctx, audit.Scope{All: true}, s); err != nil {
			t.Fatal(err)
		}
		f.staff = append(f.staff, s)
	}
	return f
}

func cashierPolicy() reports.Policy {
	return reports.Policy{
		ID: "cashiers", Name: "Cashiers", Positions: []string{"cashier"}, Base: reports.BasePay, UnlinkedShare: 0.9,
		Components: []reports.Component{{Name: "politeness", Share: 0.1, Categories: []string{"politeness"},
			Rule: reports.Rule{Thresholds: []reports.Threshold{{MinPercent: 90, Payout: 1}}}, MinVisits: 1, DefaultPayout: 0.5}},
	}
}

func (f *bonusFixture) createPolicy(t *testing.T, p reports.Policy) *storage.BonusPolicy {
	t.Helper()
	stored, _, err := f.app.CreatePolicy(f.ctx, p, "hr")
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func wantCode(t *testing.T, err error, code audit.Code, contains ...string) {
	t.Helper()
	if audit.ErrorCode(err) != code {
		t.Fatalf("error %v, want %s", err, code)
	}
	for _, s := range contains {
		if !strings.Contains(audit.ErrorMessage(err), s) {
			t.Errorf("error %q does not say %q", audit.ErrorMessage(err), s)
		}
	}
}

// TestRunBonus_ReuseStaleApproveSupersede walks a month's bonus runs
// through every rule of their life: an equal run is reused, a draft whose
// inputs changed is refused, an approval supersedes the approved run it
// was compared with, and a draft computed before another approval is
// refused.
func TestRunBonus_ReuseStaleApproveSupersede(t *testing.T) {
	f := newBonusFixture(t)
	f.createPolicy(t, cashierPolicy())
	if err := f.app.SetBasePay(f.ctx, []storage.BasePayRow{{EmployeeNumber: "E1", EffectiveMonth: "2026-01", AmountMinor: 100_000}}, "api", "hr"); err != nil {
		t.Fatal(err)
	}
	first, err := f.app.RunBonus(f.ctx, "cashiers", 0, "2026-03", "hr")
	if err != nil {
		t.Fatal(err)
	}
	if first.State != storage.RunDraft || first.Reused || first.PolicyVersion != 1 || first.Period != "2026-03" || first.InputsStamp == "" {
		t.Fatalf("first run %+v", first)
	}
	if len(first.Run.Employees) != 2 || strings.Join(first.MissingBasePay, ",") != "E2" {
		t.Fatalf("first run: %d employees, missing base pay %v; want 2 and [E2]", len(first.Run.Employees), first.MissingBasePay)
	}
	again, err := f.app.RunBonus(f.ctx, "cashiers", 0, "2026-03", "hr")
	if err != nil {
		t.Fatal(err)
	}
	if !again.Reused || again.ID != first.ID {
		t.Fatalf("the same inputs: run %s reused %v, want run %s reused", again.ID, again.Reused, first.ID)
	}

	// Base pay written for the month makes the draft stale.
	if err := f.app.SetBasePay(f.ctx, []storage.BasePayRow{{EmployeeNumber: "E2", EffectiveMonth: "2026-02", AmountMinor: 90_000}}, "api", "hr"); err != nil {
		t.Fatal(err)
	}
	_, err = f.app.ApproveBonusRun(f.ctx, first.ID, "hr", "")
	wantCode(t, err, audit.EPRECONDITION, "out of date")
	second, err := f.app.RunBonus(f.ctx, "cashiers", 0, "2026-03", "hr")
	if err != nil {
		t.Fatal(err)
	}
	if second.Reused || second.ID == first.ID || second.InputsStamp == first.InputsStamp || len(second.MissingBasePay) != 0 {
		t.Fatalf("after base pay changed: %+v", second)
	}
	approved, err := f.app.ApproveBonusRun(f.ctx, second.ID, "hr", "")
	if err != nil {
		t.Fatal(err)
	}
	if approved.State != storage.RunApproved || approved.ApprovedBy != "hr" || approved.ApprovedAt.IsZero() {
		t.Fatalf("approved run %+v", approved)
	}
	if again, err := f.app.ApproveBonusRun(f.ctx, second.ID, "someone", ""); err != nil || again.ApprovedBy != "hr" {
		t.Fatalf("approving again: %v, approved by %q; want a no-op", err, again.ApprovedBy)
	}
	// The approved run is reused when nothing changed.
	if r, err := f.app.RunBonus(f.ctx, "cashiers", 0, "2026-03", "hr"); err != nil || !r.Reused || r.ID != second.ID {
		t.Fatalf("run after approval: %v %+v, want the approved run reused", err, r)
	}

	// A change, two drafts compared with the approved run: approving one
	// supersedes it; the other was computed before that approval.
	f.staff[1].Name = "Employee Two"
	if _, err := f.app.UpdateStaff(f.ctx, audit.Scope{All: true}, f.staff[1]); err != nil {
		t.Fatal(err)
	}
	third, err := f.app.RunBonus(f.ctx, "cashiers", 0, "2026-03", "hr")
	if err != nil {
		t.Fatal(err)
	}
	if third.ComparedRunID != second.ID {
		t.Fatalf("third run compared with %q, want %s", third.ComparedRunID, second.ID)
	}
	if err := f.app.SetBasePay(f.ctx, []storage.BasePayRow{{EmployeeNumber: "E2", EffectiveMonth: "2026-03", AmountMinor: 95_000}}, "api", "hr"); err != nil {
		t.Fatal(err)
	}
	fourth, err := f.app.RunBonus(f.ctx, "cashiers", 0, "2026-03", "hr")
	if err != nil {
		t.Fatal(err)
	}
	if len(fourth.Changes) == 0 {
		t.Fatalf("fourth run lists no change from the approved run (base pay %d → %d)", int64(90_000), int64(95_000))
	}
	if _, err := f.app.ApproveBonusRun(f.ctx, fourth.ID, "hr", ""); err != nil {
		t.Fatal(err)
	}
	old, err := f.db.BonusRuns().Find(f.ctx, second.ID)
	if err != nil {
		t.Fatal(err)
	}
	if old.State != storage.RunSuperseded {
		t.Fatalf("the run approved before is %s, want superseded", old.State)
	}
	_, err = f.app.ApproveBonusRun(f.ctx, second.ID, "hr", "")
	wantCode(t, err, audit.EPRECONDITION, "superseded")
	_, err = f.app.ApproveBonusRun(f.ctx, third.ID, "hr", "")
	wantCode(t, err, audit.EPRECONDITION)

	runs, err := f.app.ListBonusRuns(f.ctx, storage.BonusRunFilter{PolicyID: "cashiers", Period: " 2026-03 "})
	if err != nil || len(runs) != 4 {
		t.Fatalf("list: %v, %d runs; want the 4 stored", err, len(runs))
	}
	_, err = f.app.ListBonusRuns(f.ctx, storage.BonusRunFilter{Period: "March"})
	wantCode(t, err, audit.EINVALID, "YYYY-MM")

	// One event per run stored and per approval; none for a run reused,
	// an approval repeated or refused.
	events, err := f.db.Outbox().List(f.ctx, storage.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		var b struct {
			Data struct {
				Run struct {
					ID         string `json:"id"`
					PolicyName string `json:"policy_name"`
				} `json:"run"`
			} `json:"data"`
		}
		if err := json.Unmarshal(e.Body, &b); err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Type+" "+b.Data.Run.ID)
		if b.Data.Run.PolicyName != cashierPolicy().Name {
			t.Errorf("event %s names policy %q, want %q", e.ID, b.Data.Run.PolicyName, cashierPolicy().Name)
		}
	}
	want := []string{app.EventBonusRunComputed + " " + first.ID, app.EventBonusRunComputed + " " + second.ID,
		app.EventBonusRunApproved + " " + second.ID, app.EventBonusRunComputed + " " + third.ID,
		app.EventBonusRunComputed + " " + fourth.ID, app.EventBonusRunApproved + " " + fourth.ID}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRunBonus_RefusesBadInput(t *testing.T) {
	f := newBonusFixture(t)
	_, err := f.app.RunBonus(f.ctx, "cashiers", 0, "2026-13", "hr")
	wantCode(t, err, audit.EINVALID, "period")
	_, err = f.app.RunBonus(f.ctx, "cashiers", -1, "2026-03", "hr")
	wantCode(t, err, audit.EINVALID, "negative")
	_, err = f.app.RunBonus(f.ctx, "cashiers", 0, "2026-03", "hr")
	wantCode(t, err, audit.ENOTFOUND, "cashiers")
	f.createPolicy(t, cashierPolicy())
	_, err = f.app.RunBonus(f.ctx, "cashiers", 2, "2026-03", "hr")
	wantCode(t, err, audit.ENOTFOUND, "version 2")
	_, err = f.app.ApproveBonusRun(f.ctx, "no-such-run", "hr", "")
	wantCode(t, err, audit.ENOTFOUND)
}

// TestPreviewBonus_StoresNothing previews an unsaved policy naming its
// store by code.
func TestPreviewBonus_StoresNothing(t *testing.T) {
	f := newBonusFixture(t)
	p := cashierPolicy()
	p.StoreIDs = []string{"S01"}
	run, missing, err := f.app.PreviewBonus(f.ctx, p, "2026-03")
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Employees) != 2 || len(missing) != 2 || run.Policy.StoreIDs[0] != f.store.ID {
		t.Fatalf("preview: %d employees, missing %v, stores %v", len(run.Employees), missing, run.Policy.StoreIDs)
	}
	if runs, err := f.db.BonusRuns().List(f.ctx, storage.BonusRunFilter{}); err != nil || len(runs) != 0 {
		t.Fatalf("a preview stored %d runs (%v)", len(runs), err)
	}
	if _, err := f.db.BonusPolicies().Versions(f.ctx, "cashiers"); audit.ErrorCode(err) != audit.ENOTFOUND {
		t.Fatalf("a preview stored the policy: %v", err)
	}
	p.StoreIDs = []string{"S99"}
	_, _, err = f.app.PreviewBonus(f.ctx, p, "2026-03")
	wantCode(t, err, audit.EINVALID, "S99")
	_, _, err = f.app.PreviewBonus(f.ctx, reports.Policy{ID: "x"}, "2026-03")
	wantCode(t, err, audit.EINVALID)
}

// TestWritePayroll writes each payroll file of a stored run.
func TestWritePayroll(t *testing.T) {
	f := newBonusFixture(t)
	f.createPolicy(t, cashierPolicy())
	run, err := f.app.RunBonus(f.ctx, "cashiers", 0, "2026-03", "hr")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.app.WritePayroll(f.ctx, run.ID, app.PayrollExportCSV, "en", nil, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff"))).ReadAll()
	if err != nil {
		r := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff")))
		r.Comma = ';'
		if rows, err = r.ReadAll(); err != nil {
			t.Fatalf("export is not CSV: %v\n%s", err, buf.String())
		}
	}
	text := buf.String()
	for _, want := range []string{"E1", "E2"} {
		if !strings.Contains(text, want) {
			t.Errorf("export does not list %s:\n%s", want, text)
		}
	}
	if len(rows) < 3 {
		t.Errorf("export has %d rows, want a header and the two cashiers", len(rows))
	}
	for _, format := range []app.PayrollFormat{app.PayrollWorkbook, app.PayrollExportXLSX} {
		buf.Reset()
		if err := f.app.WritePayroll(f.ctx, run.ID, format, "ru", nil, &buf); err != nil {
			t.Fatalf("format %d: %v", format, err)
		}
		if !bytes.HasPrefix(buf.Bytes(), []byte("PK")) {
			t.Errorf("format %d is not a workbook (%d bytes)", format, buf.Len())
		}
	}
	wantCode(t, f.app.WritePayroll(f.ctx, "no-such-run", app.PayrollWorkbook, "", nil, &buf), audit.ENOTFOUND)
	wantCode(t, f.app.WritePayroll(f.ctx, run.ID, app.PayrollExportCSV, "fr", nil, &buf), audit.EINVALID)
}
