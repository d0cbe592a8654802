package reports

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/xuri/excelize/v2"
)

// PayRow is one employee's base (or target variable) pay for a period, in
// minor units (hundredths).
type PayRow struct {
	EmployeeNumber string
	AmountMinor    int64
}

// maxBasePayRows bounds an import: far more than any organisation's staff.
const maxBasePayRows = 200_000

// ParseBasePay reads base pay from a CSV or XLSX file as HR exports it: a
// header row naming an employee-number column ("employee_number",
// "employee", "tab_number") and an amount column ("base_pay", "amount",
// "pay"), in any order and case; then one row per employee. CSV may use
// commas or semicolons between fields. Amounts may use a comma or a point
// for decimals (at most two digits) and spaces as thousands separators
// ("55 000,50"). The format is taken from the name's extension, or from the
// content when the extension says neither.
//
// Every problem is reported, with the file name and row, in one error
// wrapping ErrInvalid: an unknown header, a missing or malformed amount, a
// negative amount, an employee listed twice, an empty file.
func ParseBasePay(name string, data []byte) ([]PayRow, error) {
	var rows [][]string
	var err error
	switch ext := strings.ToLower(filepath.Ext(name)); {
	case ext == ".xlsx" || (ext != ".csv" && bytes.HasPrefix(data, []byte("PK\x03\x04"))):
		rows, err = xlsxRows(data)
	default:
		rows, err = csvRows(data)
	}
	if err != nil {
		return nil, invalidf("%s: %v", name, err)
	}
	if len(rows) == 0 {
		return nil, invalidf("%s: the file is empty; want a header row and one row per employee", name)
	}
	if len(rows)-1 > maxBasePayRows {
		return nil, invalidf("%s: %d rows; at most %d", name, len(rows)-1, maxBasePayRows)
	}
	numCol, amountCol := -1, -1
	for i, h := range rows[0] {
		switch normalizeHeader(h) {
		case "employee_number", "employee", "employee_no", "tab_number", "number":
			numCol = i
		case "base_pay", "amount", "pay", "base", "target_variable_pay":
			amountCol = i
		}
	}
	if numCol < 0 || amountCol < 0 {
		return nil, invalidf("%s: row 1: want a header naming an employee_number column and a base_pay (or amount) column, got %q", name, rows[0])
	}
	var problems []string
	var out []PayRow
	seen := map[string]int{}
	for i, row := range rows[1:] {
		line := i + 2
		if blankRow(row) {
			continue
		}
		cell := func(c int) string {
			if c < len(row) {
				return strings.TrimSpace(row[c])
			}
			return ""
		}
		num := cell(numCol)
		if num == "" {
			problems = append(problems, fmt.Sprintf("%s: row %d: employee number is empty", name, line))
			continue
		}
		if prev, dup := seen[num]; dup {
			problems = append(problems, fmt.Sprintf("%s: row %d: employee %s is listed again (first on row %d)", name, line, num, prev))
			continue
		}
		seen[num] = line
		amount, err := parseMinor(cell(amountCol))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: row %d: employee %s: %v", name, line, num, err))
			continue
		}
		out = append(out, PayRow{EmployeeNumber: num, AmountMinor: amount})
	}
	if len(problems) > 0 {
		return nil, invalidf("%s", strings.Join(problems, "\n"))
	}
	if len(out) == 0 {
		return nil, invalidf("%s: no employee rows after the header", name)
	}
	return out, nil
}

func csvRows(data []byte) ([][]string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // Excel's UTF-8 byte order mark
	first, _, _ := bytes.Cut(data, []byte("\n"))
	r := csv.NewReader(bytes.NewReader(data))
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		r.Comma = ';'
	}
	r.FieldsPerRecord = -1
	var rows [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		rows = append(rows, rec)
	}
}

func xlsxRows(data []byte) ([][]string, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fmt.Errorf("not a readable XLSX workbook: %v", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, errors.New("the workbook has no sheet")
	}
	return f.GetRows(sheets[0], excelize.Options{RawCellValue: true})
}

func normalizeHeader(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '.' {
			return '_'
		}
		return r
	}, h)
}

func blankRow(row []string) bool {
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// parseMinor reads a decimal amount into hundredths without floating point:
// "55000", "55 000,5", "55000.50", "1e3" (Excel's raw numbers) are accepted.
func parseMinor(s string) (int64, error) {
	clean := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '\u00a0' || r == '\u202f' || r == '\'' {
			return -1
		}
		return r
	}, s)
	if clean == "" {
		return 0, errors.New("the amount is empty")
	}
	if strings.ContainsAny(clean, "eE") { // a raw number in scientific notation
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("%q is not an amount", s)
		}
		clean = strconv.FormatFloat(f, 'f', -1, 64)
	}
	clean = strings.Replace(clean, ",", ".", 1)
	whole, frac, _ := strings.Cut(clean, ".")
	if strings.HasPrefix(whole, "-") {
		return 0, fmt.Errorf("%q is negative", s)
	}
	if len(frac) > 2 {
		if strings.Trim(frac[2:], "0") != "" {
			return 0, fmt.Errorf("%q has more than two decimals", s)
		}
		frac = frac[:2]
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || whole == "" && frac == "00" {
		return 0, fmt.Errorf("%q is not an amount", s)
	}
	if n > math.MaxInt64/1000 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n, nil
}
