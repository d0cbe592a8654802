package reports

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// The rows of a streamed sheet are encoded here, not by excelize's
// StreamWriter: its SetRow allocates a cell element, a cell name and an
// inline string for every cell, and it keeps each sheet's XML in a buffer
// that grows to 32 MiB before it moves to a temporary file, five such
// buffers for an audit workbook of 4 M answers (BENCHMARKS.md, W4).
// excelize still writes each sheet's frame (columns, panes, the header
// row, and after the rows the autofilter, page setup and header and
// footer); in place of the data rows it writes one placeholder row, and
// the zip hook (splicingZip) puts the spooled rows where that row is.
// The cells are written as excelize writes them, byte for byte
// (TestAppendRow_AsExcelize): the same types, inline strings escaped and
// cut to Excel's 32 767 characters the same way, numbers with at most 15
// significant digits, times as serial days.

// spoolMemory is the part of a sheet's rows kept in memory before they go
// to a temporary file.
const spoolMemory = 1 << 20

// spool holds the encoded rows of one sheet part.
type spool struct {
	token string // the placeholder excelize writes where the rows go
	buf   bytes.Buffer
	file  *os.File
	name  string // the temporary file's name, while it is still on disk
	size  int64  // bytes in file
}

// spoolPrefix begins every placeholder: text no data can contain, since
// data never goes through excelize's rows and the number is drawn per
// process, so that a sheet whose print header or cells (a sheet excelize
// writes whole) happen to say "shopscore-rows-" is left alone.
var spoolPrefix = fmt.Appendf(nil, "shopscore-rows-%016x-", rand.Uint64())

func newSpool(n int) *spool {
	return &spool{token: fmt.Sprintf("%s%d", spoolPrefix, n)}
}

func (s *spool) write(p []byte) error {
	s.buf.Write(p)
	if s.buf.Len() < spoolMemory {
		return nil
	}
	return s.spill()
}

// spill moves the buffered rows to the temporary file.
func (s *spool) spill() error {
	if s.file == nil {
		f, err := os.CreateTemp("", "shopscore-rows-")
		if err != nil {
			return fmt.Errorf("reports: a temporary file for sheet rows: %w", err)
		}
		s.file, s.name = f, f.Name()
		if os.Remove(s.name) == nil { // where the system allows it, nothing is left behind
			s.name = ""
		}
	}
	n, err := s.buf.WriteTo(s.file)
	s.size += n
	if err != nil {
		return fmt.Errorf("reports: spooling sheet rows: %w", err)
	}
	return nil
}

// reader returns the spooled rows.
func (s *spool) reader() (io.Reader, error) {
	if s.file == nil {
		return bytes.NewReader(s.buf.Bytes()), nil
	}
	if err := s.spill(); err != nil {
		return nil, err
	}
	return io.NewSectionReader(s.file, 0, s.size), nil
}

func (s *spool) close() error {
	s.buf = bytes.Buffer{}
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	if s.name != "" {
		err = errors.Join(err, os.Remove(s.name))
	}
	s.file = nil
	return err
}

// splicingZip is the zip writer excelize writes through: in every
// worksheet part it replaces the placeholder row of a spool with the
// spool's rows.
type splicingZip struct {
	excelize.ZipWriter
	spools map[string]*spool // by token
	open   *splicer
}

func (z *splicingZip) Create(name string) (io.Writer, error) {
	if err := z.end(); err != nil {
		return nil, err
	}
	w, err := z.ZipWriter.Create(name)
	if err != nil || !strings.HasPrefix(name, "xl/worksheets/") || len(z.spools) == 0 {
		return w, err
	}
	z.open = &splicer{w: w, spools: z.spools}
	return z.open, nil
}

func (z *splicingZip) Close() error {
	return errors.Join(z.end(), z.ZipWriter.Close())
}

// end finishes the part being written.
func (z *splicingZip) end() error {
	if z.open == nil {
		return nil
	}
	s := z.open
	z.open = nil
	return s.flush()
}

// splicer passes a worksheet part through, holding back its beginning
// until it has found the placeholder row (in the first few kilobytes:
// the sheet's frame and header row) or can tell there is none.
type splicer struct {
	w       io.Writer
	spools  map[string]*spool
	pending []byte
	through bool
}

// spliceWindow is how much of a part is searched for a placeholder.
const spliceWindow = 1 << 20

func (s *splicer) Write(p []byte) (int, error) {
	if s.through {
		return s.w.Write(p)
	}
	s.pending = append(s.pending, p...)
	done, err := s.splice(false)
	if err != nil {
		return 0, err
	}
	if done {
		s.through = true
	}
	return len(p), nil
}

// splice looks for the placeholder row in what is pending; when it has
// found it (or at the end of the part, or past the window) it writes what
// is pending with the rows in place of that row and reports true.
func (s *splicer) splice(atEnd bool) (bool, error) {
	at := bytes.Index(s.pending, spoolPrefix)
	if at < 0 {
		if !atEnd && len(s.pending) < spliceWindow {
			return false, nil
		}
		_, err := s.w.Write(s.pending)
		s.pending = nil
		return true, err
	}
	start := bytes.LastIndex(s.pending[:at], []byte("<row "))
	end := bytes.Index(s.pending[at:], []byte("</row>"))
	if end < 0 && !atEnd {
		return false, nil
	}
	tokEnd := at + len(spoolPrefix)
	for tokEnd < len(s.pending) && '0' <= s.pending[tokEnd] && s.pending[tokEnd] <= '9' {
		tokEnd++
	}
	sp := s.spools[string(s.pending[at:tokEnd])]
	if start < 0 || end < 0 || sp == nil {
		return false, fmt.Errorf("reports: a sheet's placeholder row %q has no rows", s.pending[at:tokEnd])
	}
	end += at + len("</row>")
	if _, err := s.w.Write(s.pending[:start]); err != nil {
		return false, err
	}
	r, err := sp.reader()
	if err != nil {
		return false, err
	}
	if _, err := io.Copy(s.w, r); err != nil {
		return false, err
	}
	_, err = s.w.Write(s.pending[end:])
	s.pending = nil
	return true, err
}

func (s *splicer) flush() error {
	if s.through {
		return nil
	}
	s.through = true
	_, err := s.splice(true)
	return err
}

// colNames holds the names of the first columns ("A", "B"...).
var colNames = func() []string {
	out := make([]string, 64)
	for i := range out {
		out[i], _ = excelize.ColumnNumberToName(i + 1)
	}
	return out
}()

func colName(i int) (string, error) {
	if i < len(colNames) {
		return colNames[i], nil
	}
	return excelize.ColumnNumberToName(i + 1)
}

// appendRow encodes one row (row numbers from 1) of cells, excelize.Cell
// or plain values from the first column on; nil leaves a cell out.
func appendRow(dst []byte, st *styles, row int, height float64, values []any) ([]byte, error) {
	dst = append(dst, `<row r="`...)
	dst = strconv.AppendInt(dst, int64(row), 10)
	dst = append(dst, '"')
	if height > 0 {
		dst = append(dst, ` ht="`...)
		dst = strconv.AppendFloat(dst, height, 'f', -1, 64)
		dst = append(dst, `" customHeight="1"`...)
	}
	dst = append(dst, '>')
	for i, v := range values {
		if v == nil {
			continue
		}
		ref, err := colName(i)
		if err != nil {
			return dst, err
		}
		if dst, err = appendCell(dst, st, ref, row, v); err != nil {
			return dst, fmt.Errorf("cell %s%d: %w", ref, row, err)
		}
	}
	return append(dst, `</row>`...), nil
}

// appendCell encodes one cell as excelize's StreamWriter would.
func appendCell(dst []byte, st *styles, col string, row int, v any) ([]byte, error) {
	style, formula := 0, ""
	switch c := v.(type) {
	case excelize.Cell:
		style, formula, v = c.StyleID, c.Formula, c.Value
	case *excelize.Cell:
		style, formula, v = c.StyleID, c.Formula, c.Value
	}
	var (
		kind    string // the cell's t attribute
		scratch [32]byte
		number  []byte // a <v> value already in its written form
		text    string // a string value
		isText  bool
	)
	digits := scratch[:0]
	switch v := v.(type) {
	case nil:
	case string:
		text, isText = v, true
	case []byte:
		text, isText = string(v), true
	case float64:
		number, text, isText = appendFloat(digits, v, 64)
	case float32:
		number, text, isText = appendFloat(digits, float64(v), 32)
	case int:
		number = strconv.AppendInt(digits, int64(v), 10)
	case int64:
		number = strconv.AppendInt(digits, v, 10)
	case int8, int16, int32:
		number = strconv.AppendInt(digits, reflect.ValueOf(v).Int(), 10)
	case uint, uint8, uint16, uint32, uint64:
		number = strconv.AppendUint(digits, reflect.ValueOf(v).Uint(), 10)
	case bool:
		kind, number = "b", []byte("0")
		if v {
			number = []byte("1")
		}
	case time.Time:
		serial, ok := excelTime(v)
		if !ok {
			_, offset := v.Zone()
			text, isText = v.Add(time.Duration(offset)*time.Second).Format(time.RFC3339Nano), true
			break
		}
		number = strconv.AppendFloat(digits, serial, 'f', -1, 64)
		if style == 0 {
			id, err := st.defaultTime()
			if err != nil {
				return dst, err
			}
			style = id
		}
	case time.Duration, []excelize.RichTextRun:
		return dst, fmt.Errorf("reports: a %T cell is not supported in a streamed sheet", v)
	default:
		text, isText = fmt.Sprint(v), true
	}
	asFormula := formula != "" && isText
	switch {
	case asFormula:
		kind = "str"
	case isText:
		kind = "inlineStr"
	case formula != "" && kind == "" && number == nil:
		kind = "str"
	}
	text = truncateCell(text)
	dst = append(dst, `<c`...)
	if asFormula && preserveSpace(text) {
		dst = append(dst, ` xml:space="preserve"`...)
	}
	dst = append(dst, ` r="`...)
	dst = append(dst, col...)
	dst = strconv.AppendInt(dst, int64(row), 10)
	dst = append(dst, '"')
	if style != 0 {
		dst = append(dst, ` s="`...)
		dst = strconv.AppendInt(dst, int64(style), 10)
		dst = append(dst, '"')
	}
	if kind != "" {
		dst = append(dst, ` t="`...)
		dst = append(dst, kind...)
		dst = append(dst, '"')
	}
	dst = append(dst, '>')
	if formula != "" {
		dst = append(dst, `<f>`...)
		dst = appendEscaped(dst, formula, false)
		dst = append(dst, `</f>`...)
	}
	switch {
	case asFormula:
		if text != "" {
			dst = append(dst, `<v>`...)
			dst = appendEscaped(dst, escapeBstr(text), false)
			dst = append(dst, `</v>`...)
		}
	case isText:
		dst = append(dst, `<is><t`...)
		if preserveSpace(text) {
			dst = append(dst, ` xml:space="preserve"`...)
		}
		dst = append(dst, '>')
		if strings.Contains(text, "_x") {
			var esc []byte
			esc = appendEscaped(esc, text, true)
			dst = append(dst, escapeBstr(string(esc))...)
		} else {
			dst = appendEscaped(dst, text, true)
		}
		dst = append(dst, `</t></is>`...)
	case number != nil:
		dst = append(dst, `<v>`...)
		dst = append(dst, number...)
		dst = append(dst, `</v>`...)
	}
	return append(dst, `</c>`...), nil
}

// appendFloat writes a number as excelize does: at most 15 significant
// digits, cut, not rounded; NaN and infinities become text.
func appendFloat(dst []byte, v float64, bits int) ([]byte, string, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, fmt.Sprint(v), true
	}
	s := strconv.AppendFloat(dst, v, 'f', -1, bits)
	if math.Abs(v) == math.MaxFloat64 {
		return s, "", false
	}
	point := bytes.IndexByte(s, '.')
	significant := 0
	for i, c := range s {
		if c < '0' || c > '9' || significant == 0 && c == '0' {
			continue
		}
		if significant++; significant <= 15 {
			continue
		}
		if point >= 0 && i > point {
			return bytes.TrimSuffix(s[:i], []byte(".")), "", false
		}
		end := point
		if end < 0 {
			end = len(s)
		}
		s = s[:end]
		for j := i; j < end; j++ {
			s[j] = '0'
		}
		return s, "", false
	}
	return s, "", false
}

var (
	excelEpoch     = time.Date(1899, time.December, 31, 0, 0, 0, 0, time.UTC)
	excelLeapStart = time.Date(1900, time.March, 1, 0, 0, 0, 0, time.UTC)
)

// excelTime is t's wall clock as Excel's serial day number (1900 dates,
// counting Excel's 29 February 1900 as excelize does); false for a time
// before 1900, which is written as text.
func excelTime(t time.Time) (float64, bool) {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	wall := time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC)
	if wall.Before(excelEpoch) {
		return 0, false
	}
	secs := wall.Unix() - excelEpoch.Unix()
	days := float64(secs / 86400)
	days += float64((secs%86400)*int64(time.Second)+int64(wall.Nanosecond())) / float64(24*time.Hour)
	if !wall.Before(excelLeapStart) {
		days++
	}
	return days, days > 0
}

// truncateCell cuts a string to the 32 767 UTF-16 units a cell holds.
func truncateCell(s string) string {
	if len(s) <= excelize.TotalCellChars { // a UTF-16 unit takes at least a byte
		return s
	}
	n := 0
	for i, r := range s {
		if n += utf16.RuneLen(r); n > excelize.TotalCellChars {
			return s[:i]
		}
	}
	return s
}

func preserveSpace(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte{s[0], s[len(s)-1]} {
		switch c {
		case '\t', '\n', '\r', ' ':
			return true
		}
	}
	return false
}

// appendEscaped escapes text for XML as encoding/xml.EscapeText does
// (characters XML cannot hold become U+FFFD); with rawNewline, line
// breaks stay as they are, as in excelize's inline strings.
func appendEscaped(dst []byte, s string, rawNewline bool) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		var esc string
		width := 1
		if c < utf8.RuneSelf {
			if esc = asciiEscapes[c]; c == '\n' && rawNewline {
				esc = ""
			}
		} else {
			r, n := utf8.DecodeRuneInString(s[i:])
			width = n
			if r == utf8.RuneError && n == 1 || !xmlChar(r) {
				esc = "\uFFFD"
			}
		}
		if esc != "" {
			dst = append(dst, s[last:i]...)
			dst = append(dst, esc...)
			last = i + width
		}
		i += width
	}
	return append(dst, s[last:]...)
}

// asciiEscapes holds encoding/xml's escapes of ASCII characters.
var asciiEscapes = func() (t [utf8.RuneSelf]string) {
	for c := range 0x20 {
		t[c] = "\uFFFD"
	}
	t['"'], t['\''], t['&'], t['<'], t['>'] = "&#34;", "&#39;", "&amp;", "&lt;", "&gt;"
	t['\t'], t['\n'], t['\r'] = "&#x9;", "&#xA;", "&#xD;"
	return t
}()

// xmlChar reports whether XML 1.0 can hold r (for r of 0x80 and above).
func xmlChar(r rune) bool {
	return r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

var bstrPattern = regexp.MustCompile(`_x[a-fA-F\d]{4}_`)

// escapeBstr escapes text that reads as an OOXML character escape
// (_xHHHH_) the way excelize does, by escaping its underscore, so that
// spreadsheet programs show it as written; unlike excelize, which drops
// the text of an escape that names no character (a lone surrogate), it
// keeps that text as it is.
func escapeBstr(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	cursor := 0
	for _, m := range bstrPattern.FindAllStringIndex(s, -1) {
		b.WriteString(s[cursor:m[0]])
		cursor = m[1]
		match := s[m[0]:m[1]]
		if match == "_x005F_" {
			if next := s[m[1]:]; len(next) >= 6 && bstrPattern.MatchString("_"+next[:6]) && validEscape(next[1:5]) {
				b.WriteString(match + "x005F" + match)
				continue
			}
			b.WriteString(match + "x005F_")
			continue
		}
		if validEscape(match[2:6]) {
			b.WriteString("_x005F")
		}
		b.WriteString(match)
	}
	b.WriteString(s[cursor:])
	return b.String()
}

// validEscape reports whether four hex digits name a Unicode character.
func validEscape(hex string) bool {
	n, err := strconv.ParseUint(hex, 16, 32)
	return err == nil && utf8.ValidRune(rune(n))
}
