package reports

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

// readAll collects what ReadTable yields: the rows, and the error that
// ended them.
func readAll(name string, data []byte, lim TableLimits) ([]TableRow, error) {
	var rows []TableRow
	for r, err := range ReadTable(name, data, lim) {
		if err != nil {
			return rows, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func TestReadTable_CSV(t *testing.T) {
	for name, tc := range map[string]struct {
		data string
		want []TableRow
	}{
		"SemicolonsBOM": {"\xef\xbb\xbfa;b\n1;2\n", []TableRow{{1, []string{"a", "b"}}, {2, []string{"1", "2"}}}},
		"Commas":        {"a,b\r\n1,2\r\n", []TableRow{{1, []string{"a", "b"}}, {2, []string{"1", "2"}}}},
		// A spreadsheet shows blank lines as rows; a quoted line break
		// stays inside its row.
		"BlankLinesCount": {"a,b\n\n\n1,2\n", []TableRow{{1, []string{"a", "b"}}, {4, []string{"1", "2"}}}},
		"QuotedBreaks":    {"a,b\n\"x\ny\",2\n3,\"p\nq\nr\"\n\n4,5\n", []TableRow{{1, []string{"a", "b"}}, {2, []string{"x\ny", "2"}}, {3, []string{"3", "p\nq\nr"}}, {5, []string{"4", "5"}}}},
		"BlankCells":      {"a,b\n,\n1,2\n", []TableRow{{1, []string{"a", "b"}}, {3, []string{"1", "2"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := readAll("t.csv", []byte(tc.data), TableLimits{})
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	t.Run("ErrTooManyRows", func(t *testing.T) {
		got, err := readAll("t.csv", []byte("h\n1\n\n2\n3\n"), TableLimits{MaxRows: 3})
		require.ErrorIs(t, err, ErrInvalid)
		assert.EqualError(t, err, "reports: t.csv: row 5: more than 3 rows; at most 3")
		assert.Len(t, got, 3, "the rows before the limit")
	})
	t.Run("ErrSyntax", func(t *testing.T) {
		_, err := readAll("t.csv", []byte("a,b\n\"open,2\n"), TableLimits{})
		require.ErrorIs(t, err, ErrInvalid)
		assert.Contains(t, err.Error(), "t.csv: ")
	})
}

func TestReadTable_XLSX(t *testing.T) {
	f := excelize.NewFile()
	sheet := f.GetSheetName(0)
	require.NoError(t, f.SetSheetRow(sheet, "A1", &[]any{"number", "amount"}))
	require.NoError(t, f.SetSheetRow(sheet, "A2", &[]any{"E1", 1.5}))
	require.NoError(t, f.SetSheetRow(sheet, "B5", &[]any{7})) // rows 3 and 4 empty, A5 empty
	var buf bytes.Buffer
	require.NoError(t, f.Write(&buf))
	got, err := readAll("t.xlsx", buf.Bytes(), TableLimits{})
	require.NoError(t, err)
	assert.Equal(t, []TableRow{{1, []string{"number", "amount"}}, {2, []string{"E1", "1.5"}}, {5, []string{"", "7"}}}, got)
}

// bombXLSX writes a minimal workbook whose only sheet has a header and
// then rows of two cells, up to the given row: distinct employee numbers,
// or the same row again and again, deflated at the best ratio (a million
// such rows are ~100 KiB that unpack to ~70 MiB).
func bombXLSX(tb testing.TB, rows int, distinct bool) []byte {
	tb.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	z.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestCompression) })
	part := func(name, body string) {
		w, err := z.Create(name)
		require.NoError(tb, err)
		_, err = io.WriteString(w, body)
		require.NoError(tb, err)
	}
	part("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`)
	part("_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	part("xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	part("xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`)
	w, err := z.Create("xl/worksheets/sheet1.xml")
	require.NoError(tb, err)
	bw := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprint(bw, `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	fmt.Fprint(bw, `<row r="1"><c r="A1" t="inlineStr"><is><t>employee_number</t></is></c><c r="B1" t="inlineStr"><is><t>base_pay</t></is></c></row>`)
	for r := 2; r <= rows; r++ {
		if distinct {
			fmt.Fprintf(bw, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>E%07d</t></is></c><c r="B%d"><v>55000</v></c></row>`, r, r, r, r)
		} else { // the same bytes again and again: what a bomb is made of
			fmt.Fprint(bw, `<row><c t="inlineStr"><is><t>E1</t></is></c><c><v>55000</v></c></row>`)
		}
	}
	fmt.Fprint(bw, `</sheetData></worksheet>`)
	require.NoError(tb, bw.Flush())
	require.NoError(tb, z.Close())
	return buf.Bytes()
}

// peakHeap runs f and returns the most heap it saw in use above what was
// in use before, sampled every millisecond.
func peakHeap(f func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	stop, peak := make(chan struct{}), make(chan uint64)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var most uint64
		for {
			metrics.Read(s)
			most = max(most, s[0].Value.Uint64())
			select {
			case <-stop:
				peak <- most
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(stop)
	return max(<-peak, base) - base
}

func TestReadTable_XLSXBomb(t *testing.T) {
	// A million rows: ~1 MiB that unpacks to ~100 MiB. Reading all of it
	// into memory at once took hundreds of MiB; streamed, reading stops at
	// the limit and the heap holds the rows kept.
	bomb := bombXLSX(t, 1_000_000, false)
	t.Logf("bomb: %d KiB", len(bomb)>>10)

	t.Run("StopsAtTheRowLimit", func(t *testing.T) {
		var rows []TableRow
		var err error
		peak := peakHeap(func() { rows, err = readAll("bomb.xlsx", bomb, TableLimits{MaxRows: 1000}) })
		require.ErrorIs(t, err, ErrInvalid)
		assert.Contains(t, err.Error(), "bomb.xlsx: row 1001: more than 1000 rows")
		assert.Len(t, rows, 1000)
		assert.Equal(t, TableRow{Line: 1000, Cells: []string{"E1", "55000"}}, rows[999])
		assert.Less(t, peak, uint64(32<<20), "peak heap %d MiB", peak>>20)
	})
	t.Run("BasePayRefused", func(t *testing.T) {
		var err error
		peak := peakHeap(func() { _, err = ParseBasePay("bomb.xlsx", bomb, nil) })
		require.ErrorIs(t, err, ErrInvalid)
		assert.Contains(t, err.Error(), "more than 200001 rows")
		// What is kept is at most 200 000 rows of pay and the duplicate
		// check, and at most 100 problems.
		assert.Less(t, peak, uint64(64<<20), "peak heap %d MiB", peak>>20)
	})
	t.Run("RefusedUnopenedBeyondTheUnpackedLimit", func(t *testing.T) {
		var err error
		peak := peakHeap(func() { _, err = readAll("bomb.xlsx", bomb, TableLimits{MaxUnpackedBytes: 16 << 20}) })
		require.ErrorIs(t, err, ErrInvalid)
		assert.Contains(t, err.Error(), "bomb.xlsx: the workbook unpacks to more than 16 MiB, the limit")
		assert.Less(t, peak, uint64(8<<20), "peak heap %d MiB", peak>>20)
	})
	t.Run("AWorkbookOfNormalSizeStillImports", func(t *testing.T) {
		ok := bombXLSX(t, 5000, true)
		rows, err := readAll("ok.xlsx", ok, TableLimits{})
		require.NoError(t, err)
		assert.Len(t, rows, 5000)
		got, err := ParseBasePay("ok.xlsx", ok, nil)
		require.NoError(t, err)
		assert.Len(t, got, 4999)
		assert.Equal(t, PayRow{EmployeeNumber: "E0005000", AmountMinor: 5_500_000, Row: 5000}, got[4998])
	})
	t.Run("ProblemsAreCapped", func(t *testing.T) {
		_, err := ParseBasePay("dup.xlsx", bombXLSX(t, 1000, false), nil)
		require.ErrorIs(t, err, ErrInvalid)
		assert.Contains(t, err.Error(), "dup.xlsx: row 3: employee E1 is listed again (first on row 2)")
		assert.Contains(t, err.Error(), "dup.xlsx: row 102: employee E1 is listed again")
		assert.NotContains(t, err.Error(), "row 103:")
		assert.Contains(t, err.Error(), "dup.xlsx: and 898 more problem(s)")
	})
}

func TestReadTable_XLSXParts(t *testing.T) {
	build := func(name string, size int) []byte {
		var buf bytes.Buffer
		z := zip.NewWriter(&buf)
		w, err := z.Create(name)
		require.NoError(t, err)
		_, err = w.Write(make([]byte, size))
		require.NoError(t, err)
		require.NoError(t, z.Close())
		return buf.Bytes()
	}
	_, err := readAll("s.xlsx", build("xl/sharedStrings.xml", MaxSharedStringsBytes+1), TableLimits{})
	assert.ErrorContains(t, err, "its shared strings unpack to more than 16 MiB, the limit")
	_, err = readAll("s.xlsx", build("xl/styles.xml", MaxPartBytes+1), TableLimits{})
	assert.ErrorContains(t, err, "part xl/styles.xml unpacks to more than 8 MiB, the limit")
}

func TestHeaderKey(t *testing.T) {
	for in, want := range map[string]string{
		"employee_number":     "employee_number",
		" Employee Number ":   "employee_number",
		"Табельный  номер":    "табельный_номер",
		"Back-office":         "back_office",
		"Радиус (м)":          "радиус",
		"Geofence meters (m)": "geofence_meters",
		"Объём":               "объем",
		"__code__":            "code",
		"\u00a0Код\u00a0":     "код",
		"(m)":                 "(m)",
		"tab.number":          "tab_number",
	} {
		if got := HeaderKey(in); got != want {
			t.Errorf("HeaderKey(%q) = %q, want %q", in, got, want)
		}
	}
}
