package reports

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// PayRow is one employee's base (or target variable) pay for a period, in
// minor units (hundredths), with the file row it was read from.
type PayRow struct {
	EmployeeNumber string
	AmountMinor    int64
	Row            int // the row in the file, as a spreadsheet numbers it
}

// maxBasePayRows bounds an import: far more than any organisation's staff.
// maxProblems bounds the problems listed; the rest are counted.
const (
	maxBasePayRows = 200_000
	maxProblems    = 100
)

// ParseBasePay reads base pay from a CSV or XLSX file as HR exports it
// (read with ReadTable): a header row naming an employee-number column
// ("employee_number", "employee", "tab_number") and an amount column
// ("base_pay", "amount", "pay"), in any order and case; then one row per
// employee, at most 200 000. Amounts may use a comma or a point for
// decimals (at most two digits) and spaces as thousands separators
// ("55 000,50"). When known is not nil, an employee number it does not
// know is a problem of its row too.
//
// Every problem is reported in one pass, with the file name and the row as
// the file numbers it (the first 100, then how many more), in one error
// wrapping ErrInvalid: an unknown header,
// a missing or malformed amount, a negative amount, an employee listed
// twice, an unknown employee, an empty file, a file too large.
func ParseBasePay(name string, data []byte, known func(employeeNumber string) bool) ([]PayRow, error) {
	numCol, amountCol := -1, -1
	header := false
	var problems []string
	more := 0
	problem := func(format string, args ...any) {
		if len(problems) == maxProblems {
			more++
			return
		}
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	var out []PayRow
	seen := map[string]int{}
	for row, err := range ReadTable(name, data, TableLimits{MaxRows: maxBasePayRows + 1}) {
		if err != nil {
			return nil, err
		}
		if !header {
			header = true
			for i, h := range row.Cells {
				switch HeaderKey(h) {
				case "employee_number", "employee", "employee_no", "tab_number", "number":
					numCol = i
				case "base_pay", "amount", "pay", "base", "target_variable_pay":
					amountCol = i
				}
			}
			if numCol < 0 || amountCol < 0 {
				return nil, invalidf("%s: row %d: want a header naming an employee_number column and a base_pay (or amount) column, got %q", name, row.Line, row.Cells)
			}
			continue
		}
		line := row.Line
		cell := func(c int) string {
			if c < len(row.Cells) {
				return strings.TrimSpace(row.Cells[c])
			}
			return ""
		}
		num := cell(numCol)
		if num == "" {
			problem("%s: row %d: employee number is empty", name, line)
			continue
		}
		if prev, dup := seen[num]; dup {
			problem("%s: row %d: employee %s is listed again (first on row %d)", name, line, num, prev)
			continue
		}
		seen[num] = line
		amount, err := parseMinor(cell(amountCol))
		if err != nil {
			problem("%s: row %d: employee %s: %v", name, line, num, err)
		}
		if known != nil && !known(num) {
			problem("%s: row %d: no staff with employee number %s", name, line, num)
			continue
		}
		if err == nil {
			out = append(out, PayRow{EmployeeNumber: num, AmountMinor: amount, Row: line})
		}
	}
	if !header {
		return nil, invalidf("%s: the file is empty; want a header row and one row per employee", name)
	}
	if more > 0 {
		problems = append(problems, fmt.Sprintf("%s: and %d more problem(s)", name, more))
	}
	if len(problems) > 0 {
		return nil, invalidf("%s", strings.Join(problems, "\n"))
	}
	if len(out) == 0 {
		return nil, invalidf("%s: no employee rows after the header", name)
	}
	return out, nil
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
