package reports

import (
	"archive/zip"
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

// streamedRow returns the XML excelize's StreamWriter writes for one row
// (as row 2) of values, in a workbook with this package's styles.
func streamedRow(t *testing.T, height float64, values []any) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	_, err := newStyles(f)
	require.NoError(t, err)
	sw, err := f.NewStreamWriter("Sheet1")
	require.NoError(t, err)
	require.NoError(t, sw.SetRow("A1", []any{"header"}))
	var opts []excelize.RowOpts
	if height > 0 {
		opts = append(opts, excelize.RowOpts{Height: height})
	}
	require.NoError(t, sw.SetRow("A2", values, opts...))
	require.NoError(t, sw.Flush())
	var out bytes.Buffer
	require.NoError(t, f.Write(&out))
	sheet := readPart(t, out.Bytes(), "xl/worksheets/sheet1.xml")
	m := regexp.MustCompile(`(?s)<row r="2".*?</row>`).FindString(sheet)
	require.NotEmpty(t, m, "no row 2 in %s", sheet)
	return m
}

// firstDifference returns the first byte at which a and b differ, -1 if
// they are equal.
func firstDifference(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func readPart(t *testing.T, book []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	require.NoError(t, err)
	r, err := zr.Open(name)
	require.NoError(t, err)
	defer r.Close()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return string(b)
}

// TestAppendRow_AsExcelize checks that a row encoded by this package is
// byte for byte the row excelize's StreamWriter writes for the same
// values: every kind of value the workbooks write, and the text and
// numbers excelize treats specially.
func TestAppendRow_AsExcelize(t *testing.T) {
	moscow := time.FixedZone("MSK", 3*3600)
	long := strings.Repeat("абв", 12_000) // 36 000 characters, cut to 32 767
	cases := map[string][]any{
		"text": {"plain", `quote " and ' & <tag>`, "line\nbreak\tand\rreturn", " leading", "trailing\n",
			"Вежливость кассира", "emoji 😀", "bad \x01 byte \xff here", "_x0041_ and _x005F_x0041_ and _x00e9_", long},
		"numbers": {0.0, 1.0, -2.5, 0.6666666666666666, 2.0 / 3 * 1000, 123456789012345678.0, 1e21, 1e-7,
			math.NaN(), math.Inf(1), float32(0.1), 7, int64(-9), int32(3), uint8(4), uint64(1 << 40)},
		"flags":   {true, false, nil, []byte("bytes")},
		"times":   {time.Date(2026, 10, 3, 9, 15, 30, 500_000_000, time.UTC), time.Date(2026, 10, 3, 9, 15, 0, 0, moscow), time.Date(1899, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1900, 2, 28, 12, 0, 0, 0, time.UTC), time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC)},
		"styled":  {excelize.Cell{StyleID: 3, Value: 12}, excelize.Cell{StyleID: 7, Value: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, excelize.Cell{StyleID: 5}, excelize.Cell{StyleID: 2, Value: ""}, &excelize.Cell{StyleID: 4, Value: 0.25}},
		"formula": {excelize.Cell{Formula: `HYPERLINK("https://x.example/a?b=1&c=2","https://x.example/a?b=1&c=2")`, Value: "https://x.example/a?b=1&c=2"}, excelize.Cell{Formula: "SUM(A1:A2)", Value: 3.5}, excelize.Cell{Formula: "NOW()"}, excelize.Cell{Formula: "A1", Value: " spaced "}},
		"other":   {struct{ A int }{1}, uint(5)},
	}
	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f)
	require.NoError(t, err)
	for name, values := range cases {
		for _, height := range []float64{0, 45} {
			got, err := appendRow(nil, st, 2, height, values)
			require.NoError(t, err, name)
			want := streamedRow(t, height, values)
			if at := firstDifference(want, string(got)); at >= 0 {
				t.Errorf("%s, height %v: differs from excelize at byte %d: excelize %q, ours %q", name, height, at,
					want[max(at-40, 0):min(at+40, len(want))], string(got)[max(at-40, 0):min(at+40, len(got))])
			}
		}
	}
	// excelize drops text that reads as the escape of a lone surrogate;
	// this package keeps it as written.
	got, err := appendRow(nil, st, 2, 0, []any{"a _xD800_ b"})
	require.NoError(t, err)
	assert.Contains(t, string(got), "<t>a _xD800_ b</t>")
	_, err = appendRow(nil, st, 2, 0, []any{time.Second})
	require.Error(t, err, "a duration is refused rather than written differently from excelize")
}

// TestSpool_BoundedMemory checks that a streamed sheet keeps at most about
// spoolMemory of its rows in memory, the rest in a temporary file that is
// gone once the workbook is written, and that the spliced sheet reads
// back in full.
func TestSpool_BoundedMemory(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var out bytes.Buffer
	b, err := NewAuditWorkbook(&out, AuditOptions{Scope: "All stores"})
	require.NoError(t, err)
	at := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	for v := range 2_000 {
		require.NoError(t, b.AddVisit(VisitRow{VisitID: "v" + strings.Repeat("x", 20) + string(rune('a'+v%26)), StoreID: "S1", VisitedAt: at, Status: "approved", Points: 1, MaxPoints: 2}))
		for q := range 10 {
			require.NoError(t, b.AddAnswer(AnswerRow{VisitID: "v", StoreID: "S1", VisitedAt: at, QuestionID: "q" + string(rune('a'+q)),
				QuestionText: strings.Repeat("Текст вопроса ", 4), Value: "yes", Points: 1, MaxPoints: 1}))
		}
	}
	for _, s := range b.st.spools {
		assert.LessOrEqual(t, s.buf.Cap(), 2*spoolMemory+64<<10, "a spool holds %d bytes in memory", s.buf.Cap())
	}
	answers := b.answers.parts[0].spool
	require.NotNil(t, answers.file, "20 000 answers should have spilled to a temporary file")
	require.Greater(t, answers.size, int64(spoolMemory))
	require.NoError(t, b.Close())
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	var names []string
	for _, e := range left {
		names = append(names, filepath.Join(tmp, e.Name()))
	}
	assert.Empty(t, names, "temporary files left behind")

	book := openXLSX(t, out.Bytes())
	rows, err := book.GetRows(sheetAnswers)
	require.NoError(t, err)
	require.Len(t, rows, 1+20_000)
	assert.Equal(t, "Текст вопроса Текст вопроса Текст вопроса Текст вопроса ", rows[20_000][4])
	zr, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	require.NoError(t, err)
	for _, part := range zr.File {
		assert.NotContains(t, readPart(t, out.Bytes(), part.Name), string(spoolPrefix), "a placeholder row was left in %s", part.Name)
	}
}

// TestSplicer_LeavesLookalikes checks that a worksheet part which happens
// to contain text like a placeholder, but not this process's, passes
// through unchanged, and that a part without one does too.
func TestSplicer_LeavesLookalikes(t *testing.T) {
	for _, part := range []string{
		`<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>shopscore-rows-0</t></is></c></row></sheetData></worksheet>`,
		`<worksheet><sheetData/><headerFooter><oddFooter>&amp;Lshopscore-rows-0123456789abcdef-1</oddFooter></headerFooter></worksheet>`,
		`<worksheet><sheetData/></worksheet>`,
	} {
		var out bytes.Buffer
		s := &splicer{w: &out, spools: map[string]*spool{}}
		for i := 0; i < len(part); i += 7 {
			_, err := s.Write([]byte(part[i:min(i+7, len(part))]))
			require.NoError(t, err)
		}
		require.NoError(t, s.flush())
		assert.Equal(t, part, out.String())
	}
}
