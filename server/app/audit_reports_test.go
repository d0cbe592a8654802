package app_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
)

func TestCheckAuditQuery(t *testing.T) {
	f := newBonusFixture(t)
	all := audit.Scope{All: true}
	for _, c := range []struct {
		q        app.AuditQuery
		code     audit.Code
		contains string
	}{
		{app.AuditQuery{Scope: all}, audit.EINVALID, "from is required"},
		{app.AuditQuery{Scope: all, From: "2026-03", To: "2026-02"}, audit.EINVALID, "before"},
		{app.AuditQuery{Scope: all, From: "2020-01", To: "2026-02"}, audit.EINVALID, "at most 36"},
		{app.AuditQuery{Scope: all, From: "2026-03", StoreCode: "S01", Region: "North"}, audit.EINVALID, "not both"},
		{app.AuditQuery{Scope: all, From: "2026-03", StoreCode: "S99"}, audit.ENOTFOUND, "S99"},
		{app.AuditQuery{Scope: audit.Scope{ManagerID: "someone-else"}, From: "2026-03", StoreCode: "S01"}, audit.ENOTFOUND, "S01"},
	} {
		wantCode(t, f.app.CheckAuditQuery(f.ctx, c.q), c.code, c.contains)
	}
	if err := f.app.CheckAuditQuery(f.ctx, app.AuditQuery{Scope: all, From: "2026-03", StoreCode: "S01"}); err != nil {
		t.Fatal(err)
	}
}

// TestWriteAuditWorkbook writes the workbook of a store's month and reads
// its summary back.
func TestWriteAuditWorkbook(t *testing.T) {
	f := newBonusFixture(t)
	var buf bytes.Buffer
	var done, total int64 = -1, -1
	err := f.app.WriteAuditWorkbook(f.ctx, app.AuditQuery{Scope: audit.Scope{All: true}, From: "2026-03", StoreCode: "S01", Location: time.UTC}, &buf,
		app.AuditWorkbookOptions{Progress: func(d, t int64) { done, total = d, t }})
	if err != nil {
		t.Fatal(err)
	}
	if done != 0 || total != 0 {
		t.Errorf("progress %d of %d, want 0 of 0 for a month without visits", done, total)
	}
	book, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	rows, err := book.GetRows("Summary")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		for _, c := range r {
			if c == "Store S01 (First)" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("the summary does not name the scope Store S01 (First): %q", rows)
	}
	wantCode(t, f.app.WriteAuditWorkbook(f.ctx, app.AuditQuery{Scope: audit.Scope{All: true}, From: "2026-03", StoreCode: "S99"}, &buf, app.AuditWorkbookOptions{}), audit.ENOTFOUND)
}
