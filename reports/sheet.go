package reports

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// MaxSheetRows is the number of rows an Excel worksheet holds, the header
// included.
const MaxSheetRows = excelize.TotalRows

// styles holds the style ids every workbook uses. Numbers are written as
// numbers and carry a number format; nothing numeric is written as text.
type styles struct {
	header   int // bold on grey, wrapped
	text     int // wrapped text, for long explanations
	integer  int // #,##0
	decimal  int // 0.00, for points
	money    int // #,##0.00, for amounts from minor units
	percent  int // 0.0%, for fractions
	datetime int // yyyy-mm-dd hh:mm
	date     int // yyyy-mm-dd
	month    int // yyyy-mm
	points   int // 0.0, for NPS
	delta    int // +0.0 pp, for changes in percentage points
	// decimalOrInt is 0.##, for answers without a unit; banner the large
	// framed red text across a draft; title a sheet's heading; totalMoney
	// a bold money total under a line.
	decimalOrInt, banner, title, totalMoney int

	// printHeader and printFooter are the header and footer (Excel's
	// &-codes) every sheet of the workbook prints with.
	printHeader, printFooter string
	// units holds the number styles of answers by unit ("min": 0.##" min").
	units map[string]int
	f     *excelize.File
	// timeStyle is excelize's style for a time written without one (0:
	// not made yet); spools hold the rows of every streamed sheet part.
	timeStyle int
	spools    []*spool
}

// defaultTime is the style excelize gives a time cell without a style.
func (st *styles) defaultTime() (int, error) {
	if st.timeStyle == 0 {
		id, err := st.f.NewStyle(&excelize.Style{NumFmt: 22})
		if err != nil {
			return 0, fmt.Errorf("reports: a time style: %w", err)
		}
		st.timeStyle = id
	}
	return st.timeStyle, nil
}

// release closes the workbook and removes the spooled rows of its sheets;
// st may be nil (a workbook without streamed sheets).
func release(f *excelize.File, st *styles) error {
	var errs []error
	if st != nil {
		for _, s := range st.spools {
			errs = append(errs, s.close())
		}
		st.spools = nil
	}
	if err := f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("reports: releasing the workbook: %w", err))
	}
	return errors.Join(errs...)
}

// unit returns the number style that shows a value with its unit: 12 with
// "min" is shown as "12 min", a number the reader can still sum.
func (st *styles) unit(u string) (int, error) {
	if u == "" {
		return st.decimalOrInt, nil
	}
	if id, ok := st.units[u]; ok {
		return id, nil
	}
	format := `0.##" ` + strings.ReplaceAll(u, `"`, `'`) + `"`
	id, err := st.f.NewStyle(&excelize.Style{CustomNumFmt: &format})
	if err != nil {
		return 0, fmt.Errorf("reports: a number style for unit %q: %w", u, err)
	}
	st.units[u] = id
	return id, nil
}

func newStyles(f *excelize.File) (*styles, error) {
	custom := func(format string) *excelize.Style { return &excelize.Style{CustomNumFmt: &format} }
	defs := []struct {
		id    *int
		style *excelize.Style
	}{
		{nil, nil},
		{nil, &excelize.Style{
			Font:      &excelize.Font{Bold: true},
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
			Alignment: &excelize.Alignment{WrapText: true, Vertical: "center"},
			Border:    []excelize.Border{{Type: "bottom", Color: "808080", Style: 1}},
		}},
		{nil, &excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
		{nil, &excelize.Style{NumFmt: 3}},
		{nil, &excelize.Style{NumFmt: 2}},
		{nil, &excelize.Style{NumFmt: 4}},
		{nil, custom("0.0%")},
		{nil, custom("yyyy-mm-dd hh:mm")},
		{nil, custom("yyyy-mm-dd")},
		{nil, custom("yyyy-mm")},
		{nil, custom("0.0")},
		{nil, custom(`+0.0" pp";-0.0" pp";0.0" pp"`)},
		{nil, custom(`0.##`)},
		{nil, &excelize.Style{
			Font:      &excelize.Font{Bold: true, Size: 28, Color: "C00000"},
			Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true},
			Border: []excelize.Border{{Type: "top", Color: "C00000", Style: 5}, {Type: "bottom", Color: "C00000", Style: 5},
				{Type: "left", Color: "C00000", Style: 5}, {Type: "right", Color: "C00000", Style: 5}},
		}},
		{nil, &excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}}},
		{nil, &excelize.Style{Font: &excelize.Font{Bold: true}, NumFmt: 4, Border: []excelize.Border{{Type: "top", Color: "000000", Style: 1}}}},
	}
	s := &styles{f: f, units: map[string]int{}}
	ids := []*int{nil, &s.header, &s.text, &s.integer, &s.decimal, &s.money, &s.percent, &s.datetime, &s.date, &s.month, &s.points, &s.delta,
		&s.decimalOrInt, &s.banner, &s.title, &s.totalMoney}
	for i, d := range defs {
		if d.style == nil {
			continue
		}
		id, err := f.NewStyle(d.style)
		if err != nil {
			return nil, fmt.Errorf("reports: creating a cell style: %w", err)
		}
		*ids[i] = id
	}
	return s, nil
}

// column describes one column of a streamed sheet.
type column struct {
	title string
	width float64
}

// sheetWriter streams rows into a sheet under a frozen header row and, when
// a sheet reaches maxRows (header included), continues on "<name> (2)",
// "<name> (3)" and so on, each with the same header. finish sets the
// autofilter over each part's rows and flushes it.
type sheetWriter struct {
	f       *excelize.File
	st      *styles
	name    string
	cols    []column
	maxRows int
	parts   []*sheetPart
	row     []byte // the row being encoded
}

type sheetPart struct {
	name     string
	sw       *excelize.StreamWriter
	rows     int // rows written, header included
	tableEnd int // the last row the autofilter covers; 0 means all rows
	spool    *spool
}

// newSheetWriter creates (or, for an existing empty sheet, takes over) the
// named sheet and writes its header.
func newSheetWriter(f *excelize.File, st *styles, name string, cols []column, maxRows int) (*sheetWriter, error) {
	s := &sheetWriter{f: f, st: st, name: name, cols: cols, maxRows: maxRows}
	if err := s.startPart(name); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *sheetWriter) startPart(name string) error {
	if idx, err := s.f.GetSheetIndex(name); err != nil {
		return fmt.Errorf("reports: sheet %q: %w", name, err)
	} else if idx < 0 {
		if _, err := s.f.NewSheet(name); err != nil {
			return fmt.Errorf("reports: creating sheet %q: %w", name, err)
		}
	}
	// The stream writer writes the sheet's properties when it starts:
	// fitting to the page (printSetup) must be set before it.
	fit := true
	if err := s.f.SetSheetProps(name, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return fmt.Errorf("reports: fitting %q to the page: %w", name, err)
	}
	sw, err := s.f.NewStreamWriter(name)
	if err != nil {
		return fmt.Errorf("reports: streaming sheet %q: %w", name, err)
	}
	for i, c := range s.cols {
		if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return fmt.Errorf("reports: sheet %q column %d width: %w", name, i+1, err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	}); err != nil {
		return fmt.Errorf("reports: freezing the header of %q: %w", name, err)
	}
	header := make([]any, len(s.cols))
	for i, c := range s.cols {
		header[i] = excelize.Cell{StyleID: s.st.header, Value: c.title}
	}
	lines := 2
	for _, c := range s.cols {
		// Bold titles: about 0.8 characters per unit of width.
		per := max(int(c.width*0.8), 1)
		lines = max(lines, (utf8.RuneCountInString(c.title)+per-1)/per)
	}
	if err := sw.SetRow("A1", header, excelize.RowOpts{Height: 15 * float64(lines)}); err != nil {
		return fmt.Errorf("reports: header of %q: %w", name, err)
	}
	// The data rows are encoded by this package (rows.go); excelize writes
	// a placeholder row where they go.
	sp := newSpool(len(s.st.spools))
	s.st.spools = append(s.st.spools, sp)
	if err := sw.SetRow("A2", []any{sp.token}); err != nil {
		return fmt.Errorf("reports: rows of %q: %w", name, err)
	}
	s.parts = append(s.parts, &sheetPart{name: name, sw: sw, rows: 1, spool: sp})
	return nil
}

// write appends one row; values are excelize.Cell or plain values, one per
// column (nil and "" leave a cell empty: an empty string is not written,
// which saves excelize an inline string per empty cell).
func (s *sheetWriter) write(values ...any) error {
	for i, v := range values {
		if v, ok := v.(string); ok && v == "" {
			values[i] = nil
		}
	}
	p := s.parts[len(s.parts)-1]
	if p.rows >= s.maxRows {
		if err := s.startPart(fmt.Sprintf("%s (%d)", s.name, len(s.parts)+1)); err != nil {
			return err
		}
		p = s.parts[len(s.parts)-1]
	}
	p.rows++
	height := 0.0
	if lines := s.wrappedLines(values); lines > 1 {
		// Spreadsheet programs do not grow a written row to its wrapped
		// text when they open the file: give it the height it needs.
		height = min(15*float64(lines), 409)
	}
	var err error
	if s.row, err = appendRow(s.row[:0], s.st, p.rows, height, values); err != nil {
		return fmt.Errorf("reports: writing sheet %q row %d: %w", p.name, p.rows, err)
	}
	if err := p.spool.write(s.row); err != nil {
		return fmt.Errorf("reports: writing sheet %q row %d: %w", p.name, p.rows, err)
	}
	return nil
}

// wrappedLines estimates the lines the row's wrapped text cells (the text
// style) take in their columns' widths: the most of any cell.
func (s *sheetWriter) wrappedLines(values []any) int {
	most := 1
	for i, v := range values {
		c, ok := v.(excelize.Cell)
		if !ok || c.StyleID != s.st.text || i >= len(s.cols) {
			continue
		}
		text, ok := c.Value.(string)
		if !ok {
			continue
		}
		// About one character per unit of column width in the default font.
		perLine := max(int(s.cols[i].width), 1)
		lines := 0
		for _, para := range strings.Split(text, "\n") {
			lines += max(1, (utf8.RuneCountInString(para)+perLine-1)/perLine)
		}
		most = max(most, lines)
	}
	return most
}

// endTable ends the filtered table at the last row written: rows written
// afterwards (notes under a table) stay outside the autofilter.
func (s *sheetWriter) endTable() {
	p := s.parts[len(s.parts)-1]
	p.tableEnd = p.rows
}

// names returns the sheet names of the parts in order.
func (s *sheetWriter) names() []string {
	var out []string
	for _, p := range s.parts {
		out = append(out, p.name)
	}
	return out
}

// finish sets the autofilter on every part and flushes it. Sheets must be
// in their final order before finish, because an autofilter is tied to its
// sheet's position.
func (s *sheetWriter) finish() error {
	for _, p := range s.parts {
		end := p.rows
		if p.tableEnd > 0 {
			end = p.tableEnd
		}
		last, err := excelize.CoordinatesToCellName(len(s.cols), end)
		if err != nil {
			return fmt.Errorf("reports: sheet %q: %w", p.name, err)
		}
		if err := s.f.AutoFilter(p.name, "A1:"+last, nil); err != nil {
			return fmt.Errorf("reports: autofilter on %q: %w", p.name, err)
		}
		if err := printSetup(s.f, s.st, p.name, true); err != nil {
			return err
		}
		if err := p.sw.Flush(); err != nil {
			return fmt.Errorf("reports: flushing sheet %q: %w", p.name, err)
		}
	}
	return nil
}

// printSetup makes a sheet print as people read it: A4 landscape, fit to
// one page wide (as many pages down as it takes), the header row repeated
// on every page when repeatHeader, and the workbook's print header and
// footer. A row never splits across pages across its width, so a row's
// first and last column (a name and a total) always print on one page.
func printSetup(f *excelize.File, st *styles, sheet string, repeatHeader bool) error {
	orientation, size, wide, tall := "landscape", 9, 1, 0
	if err := f.SetPageLayout(sheet, &excelize.PageLayoutOptions{
		Size: &size, Orientation: &orientation, FitToWidth: &wide, FitToHeight: &tall,
	}); err != nil {
		return fmt.Errorf("reports: page layout of %q: %w", sheet, err)
	}
	fit := true
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return fmt.Errorf("reports: fitting %q to the page: %w", sheet, err)
	}
	margin, top, edge := 0.5, 0.6, 0.3
	if st.printHeader != "" {
		top = 1.0 // room for a large header above the sheet
	}
	if err := f.SetPageMargins(sheet, &excelize.PageLayoutMarginsOptions{
		Left: &margin, Right: &margin, Top: &top, Bottom: &margin, Header: &edge, Footer: &edge,
	}); err != nil {
		return fmt.Errorf("reports: margins of %q: %w", sheet, err)
	}
	if st.printHeader != "" || st.printFooter != "" {
		if err := f.SetHeaderFooter(sheet, &excelize.HeaderFooterOptions{
			OddHeader: st.printHeader, OddFooter: st.printFooter,
		}); err != nil {
			return fmt.Errorf("reports: print header of %q: %w", sheet, err)
		}
	}
	if repeatHeader {
		if err := f.SetDefinedName(&excelize.DefinedName{
			Name: "_xlnm.Print_Titles", RefersTo: "'" + sheet + "'!$1:$1", Scope: sheet,
		}); err != nil {
			return fmt.Errorf("reports: repeating the header of %q: %w", sheet, err)
		}
	}
	return nil
}

// orderSheets moves the workbook's sheets into the given order; sheets not
// listed keep their relative order after the listed ones.
func orderSheets(f *excelize.File, order []string) error {
	for i, name := range order {
		list := f.GetSheetList()
		if i >= len(list) || list[i] == name {
			continue
		}
		if err := f.MoveSheet(name, list[i]); err != nil {
			return fmt.Errorf("reports: ordering sheet %q: %w", name, err)
		}
	}
	f.SetActiveSheet(0)
	return nil
}

// writeFile writes the finished workbook to w and releases it. The zip is
// written to w as it is made (excelize's own WriteTo would first build the
// whole file in memory), with the fast deflate of workbookDeflate.
func writeFile(f *excelize.File, st *styles, w io.Writer) error { return writeFileAs(f, st, w, false) }

// writeFileOrdered is writeFile for a workbook whose bytes must depend on
// its content only (a payroll: the same run, the same bytes). excelize
// writes streamed sheets in map order, so each part is kept in memory and
// the parts are zipped in name order: fine for workbooks the size of a
// staff list, not for the audit workbook's answers.
func writeFileOrdered(f *excelize.File, st *styles, w io.Writer) error {
	return writeFileAs(f, st, w, true)
}

func writeFileAs(f *excelize.File, st *styles, w io.Writer, ordered bool) error {
	var spools []*spool
	if st != nil {
		spools = st.spools
	}
	err := writeZip(f, w, workbookDeflate, ordered, spools)
	if rerr := release(f, st); err == nil {
		err = rerr
	}
	return err
}

// WriteWorkbook writes a workbook made by the caller to w the way this
// package writes its own (streamed, with the same compression), and
// releases it. Errors: any error writing to w.
func WriteWorkbook(f *excelize.File, w io.Writer) error { return writeFile(f, nil, w) }

// writeZip zips the workbook straight into w through excelize's zip-writer
// hook, compressing each part with deflate and putting the spooled rows of
// its streamed sheets in place; excelize's in-memory buffer stays empty.
func writeZip(f *excelize.File, w io.Writer, deflate zip.Compressor, ordered bool, spools []*spool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(bw)
		zw.RegisterCompressor(zip.Deflate, deflate)
		var out excelize.ZipWriter = zw
		if ordered {
			out = &orderedZip{zw: zw, parts: map[string]*bytes.Buffer{}}
		}
		z := &splicingZip{ZipWriter: out, spools: map[string]*spool{}}
		for _, s := range spools {
			z.spools[s.token] = s
		}
		return z
	})
	buf, err := f.WriteToBuffer()
	if err == nil && buf.Len() > 0 { // excelize wrote past the hook
		_, err = buf.WriteTo(bw)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("reports: writing the workbook: %w", err)
	}
	return nil
}

// orderedZip collects a workbook's parts and zips them in name order on
// Close.
type orderedZip struct {
	zw    *zip.Writer
	parts map[string]*bytes.Buffer
}

func (z *orderedZip) Create(name string) (io.Writer, error) {
	b := &bytes.Buffer{}
	z.parts[name] = b
	return b, nil
}

func (z *orderedZip) AddFS(fsys fs.FS) error { return z.zw.AddFS(fsys) }

func (z *orderedZip) Close() error {
	for _, name := range slices.Sorted(maps.Keys(z.parts)) {
		w, err := z.zw.Create(name)
		if err != nil {
			return err
		}
		if _, err := z.parts[name].WriteTo(w); err != nil {
			return err
		}
	}
	return z.zw.Close()
}

// workbookDeflate compresses the parts of every workbook at deflate's
// fastest level, on every core (parallelDeflate), with klauspost/compress:
// BenchmarkWorkbookDeflate measures it against the standard library and
// the default level (BENCHMARKS.md, W4). The output is the same size as
// the standard library's level 1; klauspost's writers can be reused with a
// new dictionary, which the parallel blocks need.
var workbookDeflate = newParallelDeflate(klauspostDeflater(flate.BestSpeed))

// cell wraps a value with a style.
func cell(style int, v any) excelize.Cell { return excelize.Cell{StyleID: style, Value: v} }

// money converts minor units (hundredths) to a number for a money cell.
func money(st *styles, minor int64) excelize.Cell {
	return cell(st.money, float64(minor)/100)
}

// yesNo formats a flag for a cell.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
