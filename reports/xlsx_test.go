package reports

import (
	"archive/zip"
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

// openXLSX reads a written workbook back and closes it with the test.
func openXLSX(t *testing.T, b []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// raw returns a cell's stored value, unformatted.
func raw(t *testing.T, f *excelize.File, sheet, ref string) string {
	t.Helper()
	v, err := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
	require.NoError(t, err)
	return v
}

// assertNumber checks that a cell is stored as a number (not text) with the
// given value and number format (a built-in id, or a custom code).
func assertNumber(t *testing.T, f *excelize.File, sheet, ref string, want float64, format any) {
	t.Helper()
	typ, err := f.GetCellType(sheet, ref)
	require.NoError(t, err)
	assert.Contains(t, []excelize.CellType{excelize.CellTypeUnset, excelize.CellTypeNumber}, typ, "%s!%s is not a number", sheet, ref)
	got, err := strconv.ParseFloat(raw(t, f, sheet, ref), 64)
	require.NoError(t, err, "%s!%s", sheet, ref)
	assert.InDelta(t, want, got, 1e-9, "%s!%s", sheet, ref)
	id, err := f.GetCellStyle(sheet, ref)
	require.NoError(t, err)
	style, err := f.GetStyle(id)
	require.NoError(t, err)
	switch format := format.(type) {
	case int:
		assert.Equal(t, format, style.NumFmt, "%s!%s number format", sheet, ref)
	case string:
		require.NotNil(t, style.CustomNumFmt, "%s!%s has no custom number format", sheet, ref)
		assert.Equal(t, format, *style.CustomNumFmt, "%s!%s number format", sheet, ref)
	}
}

// assertTableSheet checks the frozen header row and the autofilter.
func assertTableSheet(t *testing.T, f *excelize.File, sheet, filterRange string) {
	t.Helper()
	panes, err := f.GetPanes(sheet)
	require.NoError(t, err)
	assert.True(t, panes.Freeze, "%s header is not frozen", sheet)
	assert.Equal(t, 1, panes.YSplit, sheet)
	idx, err := f.GetSheetIndex(sheet)
	require.NoError(t, err)
	found := false
	for _, d := range f.GetDefinedName() {
		if d.Name == "_xlnm._FilterDatabase" && d.Scope == sheet {
			found = true
			assert.Equal(t, "'"+sheet+"'!"+filterRange, d.RefersTo, "%s (index %d) autofilter", sheet, idx)
		}
	}
	assert.True(t, found, "%s has no autofilter", sheet)
	w, err := f.GetColWidth(sheet, "A")
	require.NoError(t, err)
	assert.Greater(t, w, 9.0, "%s column A width", sheet)
}

func TestWritePayroll(t *testing.T) {
	p := driverPolicy()
	p.Components[2].ForfeitOnCritical = true
	obs := driverObservations()
	obs[5].CriticalFailed = true
	olga := Employee{StaffID: "d2", EmployeeNumber: "E-002", Name: "Olga", Position: "driver", StoreID: "fleet", BasePayMinor: 1234_56}
	run := mustCompute(t, p, []Employee{driver, olga}, obs)

	renamed := driver
	renamed.Name = "Ivan A. Petrov"
	renamed.StoreID = "FLEET-1"
	meta := PayrollMeta{
		RunID: "run-1", State: "approved", CreatedAt: time.Date(2025, 4, 1, 9, 30, 0, 0, time.UTC), CreatedBy: "Olga Petrova",
		ApprovedAt: time.Date(2025, 4, 2, 10, 0, 0, 0, time.UTC), ApprovedBy: "Anna Ivanova",
		Location: time.FixedZone("MSK", 3*3600),
		Stores:   map[string]StoreName{"fleet": {Code: "FLEET-1", Name: "Fleet yard"}},
		QuestionText: func(visit, q string) string {
			if q == "q-thanks" {
				return "Did the driver thank you?"
			}
			return ""
		},
	}
	var buf bytes.Buffer
	require.NoError(t, WritePayroll(&buf, run, []Employee{renamed, olga}, meta))
	f := openXLSX(t, buf.Bytes())

	assert.Equal(t, []string{"Run", "Payroll", "Components", "Explanation", "Policy"}, f.GetSheetList())
	assert.Equal(t, "APPROVED", raw(t, f, "Run", "A2"))
	assert.Equal(t, "run-1", raw(t, f, "Run", "B6"))
	assert.Equal(t, "Anna Ivanova, 2025-04-02 13:00 (MSK)", raw(t, f, "Run", "B9"), "who approved it, when, in the organisation's time")
	assertNumber(t, f, "Run", "B11", 85_000+679.01, 4)
	// 4 fixed columns, base, unlinked, a column per component, total and
	// flags: 12 columns, A to L, with the total row under the table.
	assertTableSheet(t, f, "Payroll", "$A$1:$L$3")
	assert.Equal(t, "Employee number", raw(t, f, "Payroll", "A1"))
	assert.Equal(t, "on-time (15%)", raw(t, f, "Payroll", "G1"))
	assert.Equal(t, "Total", raw(t, f, "Payroll", "K1"))

	// Row 2 is d1, the driver of the golden example.
	assert.Equal(t, "E-001", raw(t, f, "Payroll", "A2"))
	assert.Equal(t, "Ivan A. Petrov", raw(t, f, "Payroll", "B2"))
	assert.Equal(t, "FLEET-1", raw(t, f, "Payroll", "D2"))
	assertNumber(t, f, "Payroll", "E2", 100_000, 4)
	assertNumber(t, f, "Payroll", "F2", 55_000, 4)
	assertNumber(t, f, "Payroll", "G2", 15_000, 4)
	assertNumber(t, f, "Payroll", "H2", 5_000, 4)
	assertNumber(t, f, "Payroll", "I2", 0, 4) // clean truck forfeited
	assertNumber(t, f, "Payroll", "J2", 10_000, 4)
	assertNumber(t, f, "Payroll", "K2", 85_000, 4)
	assert.Equal(t, "clean truck: critical forfeit", raw(t, f, "Payroll", "L2"))
	assertNumber(t, f, "Payroll", "F3", 679.01, 4) // 55% of 1 234.56 = 679.008 → 679.01
	assert.Contains(t, raw(t, f, "Payroll", "L3"), "on-time: too few visits, default paid")
	assertNumber(t, f, "Payroll", "K4", 85_000+679.01, 4)
	assert.Equal(t, "Total, 2 employee(s)", raw(t, f, "Payroll", "B4"))

	// Components: a row per employee and component.
	assertNumber(t, f, "Components", "E2", 2, 3)         // on-time visits
	assertNumber(t, f, "Components", "F2", 0.95, "0.0%") // on-time score
	assertNumber(t, f, "Components", "G2", 1, "0.0%")    // on-time payout
	assertNumber(t, f, "Components", "H2", 15_000, 4)
	assertNumber(t, f, "Components", "F3", 0.8, "0.0%")
	assertNumber(t, f, "Components", "G3", 0.5, "0.0%")
	assert.Equal(t, "", raw(t, f, "Components", "F6"), "Olga has no score")

	rows, err := f.GetRows("Explanation")
	require.NoError(t, err)
	// d1: each component a summary and two visit lines; d2: four summaries.
	require.Len(t, rows, 1+4*3+4)
	assert.Equal(t, []string{"E-001", "Ivan A. Petrov", "on-time"}, rows[1][:3])
	assert.Equal(t, []string{"FLEET-1", "Fleet yard"}, rows[2][3:5], "the store by code and name")
	assert.Equal(t, "2025-03-03 13:00", rows[2][5], "the visit time in the organisation's time zone")
	for _, r := range rows {
		for _, c := range r {
			assert.NotRegexp(t, `\bv[12]\b|\bfleet\b|\bd[12]\b`, c, "no ids for people")
		}
	}
	assert.Contains(t, rows[7][7], "critical failure")
	assert.Contains(t, strings.Join(rows[5], " "), "«Did the driver thank you?»", "questions by their text")
	assertTableSheet(t, f, "Explanation", "$A$1:$H$17")

	pol, err := f.GetRows("Policy")
	require.NoError(t, err)
	kv := map[string]string{}
	for _, r := range pol[1:] {
		if len(r) > 1 {
			kv[r[0]] = r[1]
		}
	}
	assert.Equal(t, "drivers", kv["Policy id"])
	assert.Equal(t, "1", kv["Version"])
	assert.Equal(t, run.InputsHash, kv["Inputs hash (SHA-256)"])
	assert.Equal(t, "2025-03-01", kv["Period from"])
	assert.Contains(t, pol[len(pol)-2][4], "thresholds: ≥ 90% pays 100%, ≥ 75% pays 50%, else 0")
	assertNumber(t, f, "Policy", "B15", 0.55, "0.0%")

	t.Run("PrintSetup", func(t *testing.T) {
		for _, sheet := range f.GetSheetList() {
			l, err := f.GetPageLayout(sheet)
			require.NoError(t, err)
			assert.Equal(t, "landscape", *l.Orientation, sheet)
			assert.Equal(t, 9, *l.Size, "%s: A4", sheet)
			assert.Equal(t, 1, *l.FitToWidth, sheet)
			assert.Equal(t, 0, *l.FitToHeight, sheet)
			props, err := f.GetSheetProps(sheet)
			require.NoError(t, err)
			assert.True(t, *props.FitToPage, sheet)
			hf, err := f.GetHeaderFooter(sheet)
			require.NoError(t, err)
			assert.NotContains(t, hf.OddHeader, "DRAFT", "%s: approved", sheet)
			assert.Contains(t, hf.OddFooter, "&P of &N", sheet)
		}
		props, err := f.GetDocProps()
		require.NoError(t, err)
		assert.Equal(t, "2025-04-01T09:30:00Z", props.Created, "the run's time, not the clock")
		assert.Equal(t, "Olga Petrova", props.Creator)
		assert.Equal(t, "run-1", props.Identifier)
		assert.Equal(t, "Anna Ivanova", props.LastModifiedBy)
	})
	t.Run("Reproducible", func(t *testing.T) {
		var again bytes.Buffer
		require.NoError(t, WritePayroll(&again, run, []Employee{renamed, olga}, meta))
		assert.True(t, bytes.Equal(buf.Bytes(), again.Bytes()), "the same run gives the same bytes")
	})
	t.Run("Draft", func(t *testing.T) {
		draft := meta
		draft.State, draft.ApprovedAt, draft.ApprovedBy = "draft", time.Time{}, ""
		var b bytes.Buffer
		require.NoError(t, WritePayroll(&b, run, nil, draft))
		f := openXLSX(t, b.Bytes())
		assert.True(t, strings.HasPrefix(raw(t, f, "Run", "A2"), "DRAFT"))
		assert.Equal(t, "not approved", raw(t, f, "Run", "B9"))
		for _, sheet := range f.GetSheetList() {
			hf, err := f.GetHeaderFooter(sheet)
			require.NoError(t, err)
			assert.Contains(t, hf.OddHeader, "DRAFT", sheet)
		}
	})
	t.Run("ErrNilRun", func(t *testing.T) {
		assert.ErrorIs(t, WritePayroll(io.Discard, nil, nil, PayrollMeta{}), ErrInvalid)
	})
	t.Run("ErrComponentMismatch", func(t *testing.T) {
		bad := *run
		bad.Policy.Components = bad.Policy.Components[:2]
		err := WritePayroll(io.Discard, &bad, nil, PayrollMeta{})
		assert.ErrorIs(t, err, ErrInvalid)
		assert.ErrorContains(t, err, `employee "d1" has 4 components, the policy 2`)
	})
}

func TestPayrollExport(t *testing.T) {
	run := mustCompute(t, driverPolicy(), []Employee{driver}, driverObservations())
	var b bytes.Buffer
	require.NoError(t, WritePayrollExportCSV(&b, run, nil, "ru"))
	lines := strings.Split(strings.TrimSuffix(b.String(), "\r\n"), "\r\n")
	assert.Equal(t, []string{
		"\ufeffТабельный номер;Сотрудник;Период;Показатель;Сумма",
		"E-001;Ivan Petrov;01.03.2025;DRIVERS_UNLINKED;55000,00",
		"E-001;Ivan Petrov;01.03.2025;DRIVERS_ON_TIME;15000,00",
		"E-001;Ivan Petrov;01.03.2025;DRIVERS_POLITENESS;5000,00",
		"E-001;Ivan Petrov;01.03.2025;DRIVERS_CLEAN_TRUCK;0,00",
		"E-001;Ivan Petrov;01.03.2025;DRIVERS_HAND_OVER;10000,00",
	}, lines)
	b.Reset()
	require.NoError(t, WritePayrollExportCSV(&b, run, nil, "en"))
	assert.Contains(t, b.String(), "employee_number,full_name,period,component_code,amount\r\nE-001,Ivan Petrov,2025-03-01,DRIVERS_UNLINKED,55000.00\r\n")
	assert.ErrorIs(t, WritePayrollExportCSV(io.Discard, run, nil, "de"), ErrInvalid)

	b.Reset()
	require.NoError(t, WritePayrollExportXLSX(&b, run, nil, "ru"))
	f := openXLSX(t, b.Bytes())
	assert.Equal(t, "Показатель", raw(t, f, "Payroll export", "D1"))
	assert.Equal(t, "E-001", raw(t, f, "Payroll export", "A2"))
	assertNumber(t, f, "Payroll export", "E3", 15_000, 4)
	assertNumber(t, f, "Payroll export", "C2", 45717, "dd.mm.yyyy") // 2025-03-01 as an Excel date
	assert.Equal(t, "ДРАЙВЕРЫ_ЧИСТЫЙ_ГРУЗОВИК", ComponentCode("драйверы", "чистый грузовик!"), "codes keep letters of any script")
}

func intp(v int) *int { return &v }

func TestAuditWorkbook(t *testing.T) {
	var progress [][2]int64
	var buf bytes.Buffer
	b, err := NewAuditWorkbook(&buf, AuditOptions{
		Scope: "Region North", Period: march, MaxRowsPerSheet: 4, MaxChartStores: 1,
		Total: 13, ProgressEvery: 5, Progress: func(done, total int64) { progress = append(progress, [2]int64{done, total}) },
	})
	require.NoError(t, err)

	anna := []StaffRef{{ID: "a", Name: "Anna", EmployeeNumber: "E-7"}}
	// February, before the period: only the trend and the change count it.
	require.NoError(t, b.AddPriorVisit(VisitRow{VisitID: "p1", StoreID: "s1", VisitedAt: day(1).AddDate(0, -1, 0), Points: 6, MaxPoints: 10}))
	visits := []VisitRow{
		{VisitID: "v1", StoreID: "s1", StoreName: "Tverskaya", Region: "North", VisitedAt: day(3), Staff: anna, Points: 9, MaxPoints: 10, Status: "approved", ChecklistVersion: 3},
		{VisitID: "v2", StoreID: "s1", StoreName: "Tverskaya", Region: "North", VisitedAt: day(20), Points: 5, MaxPoints: 10, CriticalFailed: true},
		{VisitID: "v3", StoreID: "s2", StoreName: "Arbat", VisitedAt: day(5), Staff: anna, Points: 10, MaxPoints: 10},
	}
	for _, v := range visits {
		require.NoError(t, b.AddVisit(v))
	}
	answers := []AnswerRow{
		{VisitID: "v1", StoreID: "s1", VisitedAt: day(3), QuestionID: "q-greet", QuestionText: "Greeted within 10 s?", Category: "politeness", Clause: "P-1", ClauseText: "Greet every customer", Value: "yes", Points: 1, MaxPoints: 1},
		{VisitID: "v1", StoreID: "s1", VisitedAt: day(3), QuestionID: "q-tags", Category: "price_tags", Clause: "T-1", Value: "12 min", Numeric: true, Number: 12, Unit: "min", Points: 0, MaxPoints: 1, Critical: true, CriticalFailed: false},
		{VisitID: "v1", StoreID: "s1", VisitedAt: day(3), QuestionID: "q-nps", Category: "recommendation", NPS: intp(10)},
		{VisitID: "v2", StoreID: "s1", VisitedAt: day(20), QuestionID: "q-greet", Category: "politeness", Clause: "P-1", Value: "no", Points: 0, MaxPoints: 1},
		{VisitID: "v2", StoreID: "s1", VisitedAt: day(20), QuestionID: "q-nps", Category: "recommendation", NPS: intp(3)},
		{VisitID: "v2", StoreID: "s1", VisitedAt: day(20), QuestionID: "q-clean", Category: "cleanliness", Clause: "C-1", Value: "n/a"},
		{VisitID: "v3", StoreID: "s2", VisitedAt: day(5), QuestionID: "q-greet", Category: "politeness", Clause: "P-1", Value: "yes", Points: 1, MaxPoints: 1},
		{VisitID: "v3", StoreID: "s2", VisitedAt: day(5), QuestionID: "q-nps", Category: "recommendation", NPS: intp(8)},
	}
	for _, a := range answers {
		require.NoError(t, b.AddAnswer(a))
	}
	hash := strings.Repeat("ab", 32)
	require.NoError(t, b.AddEvidence(EvidenceRow{VisitID: "v1", StoreID: "s1", QuestionID: "q-tags", PhotoID: "ph1", SHA256: hash, Link: "https://shopscore.example/photos/" + hash, TakenAt: day(3), SizeBytes: 204800, ContentType: "image/jpeg"}))
	require.NoError(t, b.AddEvidence(EvidenceRow{VisitID: "v2", SHA256: strings.ToUpper(hash), Link: "s3://bucket/" + hash}))
	require.NoError(t, b.Close())
	assert.ErrorIs(t, b.Close(), ErrClosed)
	assert.ErrorIs(t, b.AddVisit(visits[0]), ErrClosed)
	assert.Equal(t, [][2]int64{{5, 13}, {10, 13}, {13, 13}}, progress)

	f := openXLSX(t, buf.Bytes())
	assert.Equal(t, []string{"Summary", "By staff", "By clause", "By question", "Trend", "Categories", "Charts",
		"Visits", "Evidence", "Appeals", "Actions", "Answers", "Answers (2)", "Answers (3)"}, f.GetSheetList())
	assert.Equal(t, 0, f.GetActiveSheetIndex())

	t.Run("Summary", func(t *testing.T) {
		// Aggregates ignore the small row limit; the notes under the
		// table (scope, period, definitions) stay outside the filter.
		assert.Equal(t, []string{"Scope", "Region North"}, mustRow(t, f, "Summary", 6))
		assert.Equal(t, []string{"Period", "2025-03-01 to 2025-03-31"}, mustRow(t, f, "Summary", 7))
		assertTableSheet(t, f, "Summary", "$A$1:$K$3")
		assert.Equal(t, []string{"s1", "Tverskaya", "North"}, mustRow(t, f, "Summary", 2)[:3])
		assertNumber(t, f, "Summary", "D2", 2, 3)                               // visits
		assertNumber(t, f, "Summary", "E2", 0.7, "0.0%")                        // mean of 90% and 50%
		assertNumber(t, f, "Summary", "F2", 0.5, "0.0%")                        // v1 passes, v2 fails (critical)
		assertNumber(t, f, "Summary", "G2", 1, 3)                               // critical failures
		assertNumber(t, f, "Summary", "H2", 0, "0.0")                           // one promoter, one detractor
		assertNumber(t, f, "Summary", "I2", 2, 3)                               // NPS answers
		assertNumber(t, f, "Summary", "J2", 0.7, "0.0%")                        // March
		assertNumber(t, f, "Summary", "K2", 10, `+0.0" pp";-0.0" pp";0.0" pp"`) // 70% against February's 60%
		assert.Equal(t, "Score 2025-03", raw(t, f, "Summary", "J1"))
		assertNumber(t, f, "Summary", "H3", 0, "0.0")   // s2: a passive 8 only
		assert.Equal(t, "", raw(t, f, "Summary", "K3")) // s2 has no February
		assert.Equal(t, "All stores", raw(t, f, "Summary", "B4"))
		assertNumber(t, f, "Summary", "D4", 3, 3)
		assertNumber(t, f, "Summary", "H4", 0, "0.0")
	})
	t.Run("ByStaffClauseQuestion", func(t *testing.T) {
		assert.Equal(t, []string{"E-7", "Anna", "s1, s2"}, mustRow(t, f, "By staff", 2)[:3], "staff by employee number and name")
		assertNumber(t, f, "By staff", "E2", 0.95, "0.0%")
		assertTableSheet(t, f, "By staff", "$A$1:$G$2")

		// Worst first: T-1 (0%), P-1 (2 of 3), then C-1 with no scored answer.
		assert.Equal(t, "T-1", raw(t, f, "By clause", "A2"))
		assert.Equal(t, "P-1", raw(t, f, "By clause", "A3"))
		assert.Equal(t, "Greet every customer", raw(t, f, "By clause", "B3"))
		assertNumber(t, f, "By clause", "H3", 2.0/3, "0.0%")
		assert.Equal(t, "C-1", raw(t, f, "By clause", "A4"))
		assertNumber(t, f, "By clause", "E4", 1, 3) // not applicable

		assert.Equal(t, "q-clean", raw(t, f, "By question", "A2")) // sorted by category
	})
	t.Run("TrendAndCategories", func(t *testing.T) {
		assert.Equal(t, []string{"Month", "All stores", "Tverskaya", "Arbat"}, mustRow(t, f, "Trend", 1))
		assertNumber(t, f, "Trend", "A2", 45689, "yyyy-mm") // 2025-02-01
		assertNumber(t, f, "Trend", "B2", 0.6, "0.0%")
		assertNumber(t, f, "Trend", "B3", 0.8, "0.0%") // March: 90, 50, 100
		assert.Equal(t, "", raw(t, f, "Trend", "D2"))
		// Only categories with applicable answers: cleanliness was n/a and
		// the recommendation question scores no points.
		assert.Equal(t, []string{"Store", "Store name", "politeness", "price_tags"}, mustRow(t, f, "Categories", 1))
		assertNumber(t, f, "Categories", "C2", 0.5, "0.0%")
		assertNumber(t, f, "Categories", "D2", 0, "0.0%")
		assertNumber(t, f, "Categories", "C3", 1, "0.0%")
		assert.Equal(t, "", raw(t, f, "Categories", "D3"))
	})
	t.Run("RowsAndSplit", func(t *testing.T) {
		assertTableSheet(t, f, "Answers", "$A$1:$P$4")
		assertTableSheet(t, f, "Answers (2)", "$A$1:$P$4")
		assertTableSheet(t, f, "Answers (3)", "$A$1:$P$3")
		assert.Equal(t, "Visit", raw(t, f, "Answers (3)", "A1"))
		assert.Equal(t, "q-greet", raw(t, f, "Answers (3)", "D2"))
		assert.Equal(t, "q-nps", raw(t, f, "Answers (3)", "D3"))
		assertNumber(t, f, "Answers (3)", "H3", 8, 3) // the NPS answer as a number
		// A numeric answer is a number, its unit in the number format.
		assertNumber(t, f, "Answers", "H3", 12, `0.##" min"`)
		assert.Equal(t, "Anna (E-7)", raw(t, f, "Visits", "J2"))
		assertNumber(t, f, "Answers", "C2", 45719+10.0/24, "yyyy-mm-dd hh:mm")
		assertNumber(t, f, "Answers", "K3", 0, "0.0%")
		assert.Equal(t, "yes", raw(t, f, "Answers (2)", "L4")) // n/a
		assert.Equal(t, "", raw(t, f, "Answers (2)", "K4"))

		assertNumber(t, f, "Visits", "N2", 0.9, "0.0%")
		assertNumber(t, f, "Visits", "G2", 3, 3)
		assert.Equal(t, []string{"yes", "no"}, mustRow(t, f, "Visits", 3)[14:16])
		assertTableSheet(t, f, "Visits", "$A$1:$P$4")

		formula, err := f.GetCellFormula("Evidence", "F2")
		require.NoError(t, err)
		assert.Equal(t, `HYPERLINK("https://shopscore.example/photos/`+hash+`","https://shopscore.example/photos/`+hash+`")`, formula)
		assert.Equal(t, hash, raw(t, f, "Evidence", "E3"))
		assert.Equal(t, "s3://bucket/"+hash, raw(t, f, "Evidence", "F3"))
		assertNumber(t, f, "Evidence", "H2", 204800, 3)
	})
	t.Run("Charts", func(t *testing.T) {
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		require.NoError(t, err)
		charts := map[string]string{}
		for _, zf := range zr.File {
			if strings.HasPrefix(zf.Name, "xl/charts/chart") {
				rc, err := zf.Open()
				require.NoError(t, err)
				data, err := io.ReadAll(rc)
				require.NoError(t, err)
				charts[zf.Name] = string(data)
			}
		}
		require.Len(t, charts, 2)
		assert.Contains(t, charts["xl/charts/chart1.xml"], "<lineChart>")
		assert.Contains(t, charts["xl/charts/chart1.xml"], "&#39;Trend&#39;!$B$2:$B$3")
		assert.Contains(t, charts["xl/charts/chart1.xml"], "&#39;Trend&#39;!$C$2:$C$3")
		assert.NotContains(t, charts["xl/charts/chart1.xml"], "&#39;Trend&#39;!$D$2", "MaxChartStores is 1")
		assert.Contains(t, charts["xl/charts/chart2.xml"], "<barChart>")
		assert.Contains(t, charts["xl/charts/chart2.xml"], "&#39;Categories&#39;!$B$2:$B$2")
		// Each chart fills a printed page of its own.
		for _, sheet := range f.GetSheetList() {
			l, err := f.GetPageLayout(sheet)
			require.NoError(t, err)
			assert.Equal(t, "landscape", *l.Orientation, sheet)
			assert.Equal(t, 1, *l.FitToWidth, sheet)
		}
		drawing := ""
		for _, zf := range zr.File {
			if strings.HasPrefix(zf.Name, "xl/drawings/drawing") {
				rc, err := zf.Open()
				require.NoError(t, err)
				data, err := io.ReadAll(rc)
				require.NoError(t, err)
				drawing = string(data)
			}
		}
		// 960 by 560 px (15 columns, 28 rows): an A4 landscape page within
		// its margins; the second chart after a page break.
		assert.Contains(t, drawing, `<xdr:to><xdr:col>15</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>30</xdr:row>`)
		assert.Contains(t, drawing, `<xdr:from><xdr:col>0</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>32</xdr:row>`)
		ws := ""
		for _, zf := range zr.File {
			if zf.Name == "xl/worksheets/sheet7.xml" {
				rc, err := zf.Open()
				require.NoError(t, err)
				data, err := io.ReadAll(rc)
				require.NoError(t, err)
				ws = string(data)
			}
		}
		assert.Contains(t, ws, "<rowBreaks", "the second chart starts a page")
	})
}

func mustRow(t *testing.T, f *excelize.File, sheet string, n int) []string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	require.NoError(t, err)
	require.Greater(t, len(rows), n-1, "%s has no row %d", sheet, n)
	return rows[n-1]
}

func TestAuditWorkbook_BadInput(t *testing.T) {
	for name, opts := range map[string]AuditOptions{
		"ErrPassScore": {PassScore: 1.5},
		"ErrRowLimit":  {MaxRowsPerSheet: 1},
		"ErrTooMany":   {MaxRowsPerSheet: MaxSheetRows + 1},
		"ErrPeriod":    {Period: Period{From: march.To, To: march.From}},
		"ErrProgress":  {ProgressEvery: -1},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewAuditWorkbook(io.Discard, opts)
			assert.ErrorIs(t, err, ErrInvalid)
		})
	}

	var buf bytes.Buffer
	b, err := NewAuditWorkbook(&buf, AuditOptions{})
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		add  func() error
		want string
	}{
		"ErrVisitNoStore": {func() error { return b.AddVisit(VisitRow{VisitID: "v", VisitedAt: day(1)}) }, `visit row "v": store id is empty`},
		"ErrVisitPoints": {func() error {
			return b.AddVisit(VisitRow{VisitID: "v", StoreID: "s", VisitedAt: day(1), Points: 3, MaxPoints: 2})
		}, "points 3 exceed the maximum 2"},
		"ErrAnswerNoTime": {func() error { return b.AddAnswer(AnswerRow{VisitID: "v", StoreID: "s", QuestionID: "q"}) }, "visit time is missing"},
		"ErrAnswerNPS": {func() error {
			return b.AddAnswer(AnswerRow{VisitID: "v", StoreID: "s", QuestionID: "q", VisitedAt: day(1), NPS: intp(11)})
		}, "recommendation answer 11, want 0 to 10"},
		"ErrEvidenceHash": {func() error { return b.AddEvidence(EvidenceRow{VisitID: "v", SHA256: "xyz"}) }, `sha-256 "xyz" is not 64 hex digits`},
		"ErrPriorNoVisit": {func() error { return b.AddPriorVisit(VisitRow{StoreID: "s", VisitedAt: day(1)}) }, "visit id is empty"},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.add()
			assert.ErrorIs(t, err, ErrInvalid)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	// Bad rows are refused without spoiling the workbook: an empty report
	// is still written.
	require.NoError(t, b.Close())
	f := openXLSX(t, buf.Bytes())
	assert.Equal(t, []string{"Store", "Store name"}, mustRow(t, f, "Summary", 1)[:2])
	_, err = NewAuditWorkbook(nil, AuditOptions{})
	assert.ErrorIs(t, err, ErrInvalid)
}

func TestAuditWorkbook_SplitKeepsOrder(t *testing.T) {
	var buf bytes.Buffer
	b, err := NewAuditWorkbook(&buf, AuditOptions{MaxRowsPerSheet: 2})
	require.NoError(t, err)
	for i := range 3 {
		id := "v" + strconv.Itoa(i+1)
		require.NoError(t, b.AddVisit(VisitRow{VisitID: id, StoreID: "s1", VisitedAt: day(i + 1), Points: 1, MaxPoints: 1}))
		require.NoError(t, b.AddEvidence(EvidenceRow{VisitID: id, SHA256: strings.Repeat("0", 64)}))
	}
	require.NoError(t, b.AddAnswer(AnswerRow{VisitID: "v1", StoreID: "s1", VisitedAt: day(1), QuestionID: "q", Points: 1, MaxPoints: 1}))
	require.NoError(t, b.Close())

	f := openXLSX(t, buf.Bytes())
	assert.Equal(t, []string{"Summary", "By staff", "By clause", "By question", "Trend", "Categories", "Charts",
		"Visits", "Visits (2)", "Visits (3)", "Evidence", "Evidence (2)", "Evidence (3)", "Appeals", "Actions", "Answers"}, f.GetSheetList())
	for i, name := range []string{"Visits", "Visits (2)", "Visits (3)"} {
		assertTableSheet(t, f, name, "$A$1:$P$2")
		assert.Equal(t, "v"+strconv.Itoa(i+1), raw(t, f, name, "A2"))
	}
	assertTableSheet(t, f, "Evidence (3)", "$A$1:$J$2")
	assertTableSheet(t, f, "Answers", "$A$1:$P$2")
	assertTableSheet(t, f, "Summary", "$A$1:$K$2")
}

func TestAuditWorkbook_Actions(t *testing.T) {
	var buf bytes.Buffer
	b, err := NewAuditWorkbook(&buf, AuditOptions{Period: march})
	require.NoError(t, err)
	require.ErrorIs(t, b.AddAction(ActionRow{ActionID: "x"}), ErrInvalid, "no opening time")
	require.NoError(t, b.AddAction(ActionRow{ActionID: "x1", StoreCode: "S1", StoreName: "Тверская", QuestionID: "tags",
		QuestionText: "Ценники на месте?", Standard: "PR-1", Severity: "critical", State: "reopened", Owner: "Анна",
		OpenedAt: day(3), DueDate: "2026-03-06", Overdue: true, VisitID: "v1", ResolvedByVisitID: "v2", Note: "Напечатали"}))
	require.NoError(t, b.Close())
	f, err := excelize.OpenReader(&buf)
	require.NoError(t, err)
	rows, err := f.GetRows("Actions")
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, []string{"S1", "Тверская", "tags", "Ценники на месте?", "PR-1", "critical", "reopened", "Анна"}, rows[1][:8])
	assert.Equal(t, []string{"2026-03-06", "yes", "v1", "v2", "Напечатали", "x1"}, rows[1][9:])
}
