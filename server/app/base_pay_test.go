package app_test

import (
	"testing"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// TestSetBasePay_AllOrNothing refuses a batch with any bad row, naming
// every one, and stores nothing of it.
func TestSetBasePay_AllOrNothing(t *testing.T) {
	f := newBonusFixture(t)
	err := f.app.SetBasePay(f.ctx, []storage.BasePayRow{
		{EmployeeNumber: "E1", EffectiveMonth: "2026-03", AmountMinor: 100},
		{EmployeeNumber: " ", EffectiveMonth: "2026-03"},
		{EmployeeNumber: "E2", Kind: "bonus", EffectiveMonth: "2026-03"},
		{EmployeeNumber: "E2", EffectiveMonth: "2026-03", AmountMinor: -1},
		{EmployeeNumber: "E2", EffectiveMonth: "March"},
	}, "api", "hr")
	wantCode(t, err, audit.EINVALID, "row 2: employee number is empty", `row 3 (employee E2): kind "bonus"`, "row 4 (employee E2): amount -1 is negative", "row 5 (employee E2)")
	err = f.app.SetBasePay(f.ctx, []storage.BasePayRow{
		{EmployeeNumber: "E1", EffectiveMonth: "2026-03", AmountMinor: 100},
		{EmployeeNumber: "E404", EffectiveMonth: "2026-03", AmountMinor: 100, Row: 9},
	}, "api", "hr")
	wantCode(t, err, audit.EINVALID, "row 9: E404", "nothing was stored")
	wantCode(t, f.app.SetBasePay(f.ctx, nil, "api", "hr"), audit.EINVALID)
	entries, err := f.app.ListBasePay(f.ctx, "2026-03", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Set {
			t.Fatalf("a refused batch stored %s's pay: %+v", e.EmployeeNumber, e)
		}
	}

	if err := f.app.SetBasePay(f.ctx, []storage.BasePayRow{{EmployeeNumber: " E1 ", EffectiveMonth: " 2026-03", AmountMinor: 100},
		{EmployeeNumber: "E2", Kind: storage.PayKindTargetVariable, EffectiveMonth: "2026-01", AmountMinor: 50}}, "api", "hr"); err != nil {
		t.Fatal(err)
	}
	entries, err = f.app.ListBasePay(f.ctx, "2026-04", storage.PayKindBase)
	if err != nil || len(entries) != 2 || !entries[0].Set || entries[0].AmountMinor != 100 || entries[0].EffectiveMonth != "2026-03" || entries[1].Set {
		t.Fatalf("base pay in April: %v %+v", err, entries)
	}
	if entries, _ := f.app.ListBasePay(f.ctx, "2026-02", storage.PayKindBase); entries[0].Set {
		t.Fatalf("pay from March is in force in February: %+v", entries[0])
	}
	if entries, _ := f.app.ListBasePay(f.ctx, "2026-02", storage.PayKindTargetVariable); !entries[1].Set || entries[1].AmountMinor != 50 {
		t.Fatalf("target variable pay: %+v", entries)
	}
	_, err = f.app.ListBasePay(f.ctx, "2026-02", "bonus")
	wantCode(t, err, audit.EINVALID, "kind")
	_, err = f.app.ListBasePay(f.ctx, "", "")
	wantCode(t, err, audit.EINVALID, "month")
}

// TestImportBasePay reads a file against the current staff.
func TestImportBasePay(t *testing.T) {
	f := newBonusFixture(t)
	n, err := f.app.ImportBasePay(f.ctx, "pay.csv", []byte("employee_number;base_pay\nE1;100 000,50\nE2;90000\n"), storage.PayKindBase, "2026-03", "hr")
	if err != nil || n != 2 {
		t.Fatalf("import: %d, %v", n, err)
	}
	entries, err := f.app.ListBasePay(f.ctx, "2026-03", "")
	if err != nil || entries[0].AmountMinor != 100_000_50 || entries[0].Source != "pay.csv" || entries[1].AmountMinor != 90_000_00 {
		t.Fatalf("after import: %v %+v", err, entries)
	}
	_, err = f.app.ImportBasePay(f.ctx, "pay.csv", []byte("employee_number,amount\nE9,5\nE1,-3\n"), storage.PayKindBase, "2026-03", "hr")
	wantCode(t, err, audit.EINVALID, "E9")
	_, err = f.app.ImportBasePay(f.ctx, "", nil, storage.PayKindBase, "2026-03", "hr")
	wantCode(t, err, audit.EINVALID, "base-pay: the file is empty")
	_, err = f.app.ImportBasePay(f.ctx, "pay.csv", []byte("employee_number,amount\nE1,5\n"), storage.PayKindBase, "soon", "hr")
	wantCode(t, err, audit.EINVALID, "effective_month")
}
