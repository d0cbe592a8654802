package reports

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// TableRow is one row with content of a table file (CSV or XLSX).
type TableRow struct {
	// Line is the row's number as a spreadsheet shows it: 1 for the first
	// row of the file (usually the header), counting blank rows, so that a
	// message naming it points at the row the user sees.
	Line  int
	Cells []string
}

// TableLimits bound what ReadTable reads; zero fields take the defaults.
type TableLimits struct {
	// MaxRows is the most rows with content, the header included
	// (default DefaultTableRows).
	MaxRows int
	// MaxUnpackedBytes is the most an XLSX workbook may unpack to, all its
	// parts together (default DefaultTableUnpackedBytes). Its shared
	// strings may take at most MaxSharedStringsBytes of it and every other
	// part but the worksheets, which are streamed, MaxPartBytes.
	MaxUnpackedBytes int64
}

// The default limits of ReadTable, and the fixed bounds of what an XLSX
// workbook's parts other than its worksheets may unpack to: those parts are
// held in memory, worksheets are streamed.
const (
	DefaultTableRows          = 200_001
	DefaultTableUnpackedBytes = 128 << 20
	MaxSharedStringsBytes     = 16 << 20
	MaxPartBytes              = 8 << 20
	// xlsxInMemoryBytes is the size above which excelize unpacks a
	// worksheet or the shared strings to a temporary file instead of
	// memory.
	xlsxInMemoryBytes = 4 << 20
)

// ReadTable yields the rows with content of a CSV or XLSX file (the first
// worksheet), in order, each with its row number in the file; blank rows
// are skipped but counted. The format is taken from the name's extension,
// or from the content when the extension says neither. CSV may start with
// Excel's UTF-8 byte order mark and use commas or semicolons between
// fields (whichever the first line has more of). XLSX cells are read raw
// (numbers as stored, not as formatted).
//
// Memory follows the rows the caller keeps, never the file's unpacked
// size: an XLSX worksheet is read as a stream, a workbook that would
// unpack to more than the limits is refused before anything is unpacked,
// and reading stops at the first row past MaxRows.
//
// A problem with the file ends the sequence with an error wrapping
// ErrInvalid, prefixed with the name: a file that does not parse, too many
// rows, a workbook that unpacks too large.
func ReadTable(name string, data []byte, lim TableLimits) iter.Seq2[TableRow, error] {
	if lim.MaxRows <= 0 {
		lim.MaxRows = DefaultTableRows
	}
	if lim.MaxUnpackedBytes <= 0 {
		lim.MaxUnpackedBytes = DefaultTableUnpackedBytes
	}
	return func(yield func(TableRow, error) bool) {
		read := readCSV
		if ext := strings.ToLower(filepath.Ext(name)); ext == ".xlsx" || (ext != ".csv" && bytes.HasPrefix(data, []byte("PK\x03\x04"))) {
			read = readXLSX
		}
		kept := 0
		err := read(data, lim, func(r TableRow) bool {
			if blankRow(r.Cells) {
				return true
			}
			if kept++; kept > lim.MaxRows {
				yield(TableRow{}, invalidf("%s: row %d: more than %d rows; at most %d", name, r.Line, lim.MaxRows, lim.MaxRows))
				return false
			}
			return yield(r, nil)
		})
		if err != nil {
			yield(TableRow{}, invalidf("%s: %v", name, err))
		}
	}
}

// readCSV calls row for each record; it stops when row returns false. A
// record's Line counts the blank lines before it (the reader skips them,
// a spreadsheet shows them as empty rows) and the line breaks inside the
// quoted fields of the records before it do not count.
func readCSV(data []byte, _ TableLimits, row func(TableRow) bool) error {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // Excel's UTF-8 byte order mark
	first, _, _ := bytes.Cut(data, []byte("\n"))
	r := csv.NewReader(bytes.NewReader(data))
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		r.Comma = ';'
	}
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	n, endLine := 0, 0 // the last record's spreadsheet row and its last text line
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		start, _ := r.FieldPos(0)
		last, _ := r.FieldPos(len(rec) - 1)
		n += 1 + max(start-endLine-1, 0)
		endLine = last + strings.Count(rec[len(rec)-1], "\n")
		if !row(TableRow{Line: n, Cells: rec}) {
			return nil
		}
	}
}

// readXLSX streams the first worksheet's rows to row; it stops when row
// returns false.
func readXLSX(data []byte, lim TableLimits, row func(TableRow) bool) error {
	if err := checkXLSXParts(data, lim); err != nil {
		return err
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		RawCellValue:      true,
		UnzipSizeLimit:    lim.MaxUnpackedBytes,
		UnzipXMLSizeLimit: min(lim.MaxUnpackedBytes, xlsxInMemoryBytes),
	})
	if err != nil {
		return fmt.Errorf("not a readable XLSX workbook: %v", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return errors.New("the workbook has no sheet")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return fmt.Errorf("sheet %q: %v", sheets[0], err)
	}
	defer rows.Close()
	// Next yields every row number in turn, empty ones too (their
	// Columns are nil), so counting calls gives the row's number.
	for line := 1; rows.Next(); line++ {
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return fmt.Errorf("sheet %q row %d: %v", sheets[0], line, err)
		}
		if !row(TableRow{Line: line, Cells: cells}) {
			return nil
		}
	}
	if err := rows.Error(); err != nil {
		return fmt.Errorf("sheet %q: %v", sheets[0], err)
	}
	return nil
}

// checkXLSXParts refuses a workbook whose parts, by the sizes its zip
// directory declares (which the zip reader holds them to), would unpack
// beyond the limits, before excelize unpacks anything.
func checkXLSXParts(data []byte, lim TableLimits) error {
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("not a readable XLSX workbook: %v", err)
	}
	var total uint64
	for _, f := range z.File {
		size := f.UncompressedSize64
		total += size
		if total > uint64(lim.MaxUnpackedBytes) {
			return fmt.Errorf("the workbook unpacks to more than %s, the limit", mib(lim.MaxUnpackedBytes))
		}
		name := strings.ToLower(strings.ReplaceAll(f.Name, "\\", "/"))
		switch {
		case strings.HasPrefix(name, "xl/worksheets/sheet") && path.Ext(name) == ".xml":
		case name == "xl/sharedstrings.xml":
			if size > MaxSharedStringsBytes {
				return fmt.Errorf("its shared strings unpack to more than %s, the limit", mib(MaxSharedStringsBytes))
			}
		case size > MaxPartBytes:
			return fmt.Errorf("part %s unpacks to more than %s, the limit", f.Name, mib(MaxPartBytes))
		}
	}
	return nil
}

// mib formats a byte count in MiB.
func mib(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) + " MiB" }

// HeaderKey returns the key a header cell is matched by, so that the
// ways people write one header meet: lower case, surrounding spaces and
// a trailing unit in parentheses dropped ("Радиус (м)" is "радиус"), "ё"
// as "е", and runs of spaces, dashes, dots and underscores as one "_"
// ("Табельный  номер" is "табельный_номер", "Back-office" is
// "back_office").
func HeaderKey(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if i := strings.LastIndexByte(h, '('); i > 0 && strings.HasSuffix(h, ")") {
		h = strings.TrimSpace(h[:i])
	}
	var b strings.Builder
	sep := false
	for _, r := range h {
		switch {
		case r == ' ' || r == '-' || r == '.' || r == '_' || r == '\u00a0':
			sep = b.Len() > 0
			continue
		case r == 'ё':
			r = 'е'
		}
		if sep {
			b.WriteByte('_')
			sep = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func blankRow(row []string) bool {
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
