package reports

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/xuri/excelize/v2"
)

// ExportRow is one row of the flat payroll export: one amount of one
// employee for one pay component of a month.
type ExportRow struct {
	EmployeeNumber string
	FullName       string
	Period         Period
	ComponentCode  string
	AmountMinor    int64
}

// exportLocale holds what differs between the export's languages.
type exportLocale struct {
	header    []string
	comma     rune   // CSV field separator
	decimal   string // decimal separator
	date      string // Go layout of the period's first day
	dateExcel string // its Excel number format
}

var exportLocales = map[string]exportLocale{
	"ru": {
		header: []string{"Табельный номер", "Сотрудник", "Период", "Показатель", "Сумма"},
		comma:  ';', decimal: ",", date: "02.01.2006", dateExcel: "dd.mm.yyyy",
	},
	"en": {
		header: []string{"employee_number", "full_name", "period", "component_code", "amount"},
		comma:  ',', decimal: ".", date: "2006-01-02", dateExcel: "yyyy-mm-dd",
	},
}

// ExportLocales are the locales the flat export speaks; "" means "ru".
func ExportLocales() []string { return []string{"ru", "en"} }

func locale(name string) (exportLocale, error) {
	l, ok := exportLocales[cmp.Or(strings.ToLower(name), "ru")]
	if !ok {
		return l, invalidf("payroll export: locale %q, want ru or en", name)
	}
	return l, nil
}

// ComponentCode is the code of a policy's pay component in the flat
// export: the policy id and the component's name in capitals, anything but
// letters and digits as one underscore ("drivers", "on-time delivery" →
// "DRIVERS_ON_TIME_DELIVERY"). The unlinked share's code is
// "<POLICY>_UNLINKED".
func ComponentCode(policyID, component string) string {
	var b strings.Builder
	under := false
	for _, r := range policyID + " " + component {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToUpper(r))
			under = false
			continue
		}
		under = true
	}
	return b.String()
}

// ExportRows returns the flat export's rows of a run, by employee number,
// each employee's unlinked amount first and then his components in the
// policy's order; zero amounts are listed too, so that a payroll system
// overwrites an earlier import. employees supply the current numbers and
// names by staff id, as for WritePayroll.
func ExportRows(run *Run, employees []Employee) ([]ExportRow, error) {
	if err := checkPayrollRun(run); err != nil {
		return nil, err
	}
	display := displayEmployees(run, employees)
	emps := slices.Clone(run.Employees)
	slices.SortFunc(emps, func(a, b EmployeeResult) int {
		return cmp.Or(strings.Compare(display[a.StaffID].EmployeeNumber, display[b.StaffID].EmployeeNumber), strings.Compare(a.StaffID, b.StaffID))
	})
	var out []ExportRow
	for _, e := range emps {
		d := display[e.StaffID]
		row := ExportRow{EmployeeNumber: d.EmployeeNumber, FullName: d.Name, Period: run.Period}
		row.ComponentCode, row.AmountMinor = ComponentCode(run.Policy.ID, "unlinked"), e.UnlinkedMinor
		out = append(out, row)
		for _, c := range e.Components {
			row.ComponentCode, row.AmountMinor = ComponentCode(run.Policy.ID, c.Name), c.AmountMinor
			out = append(out, row)
		}
	}
	return out, nil
}

// formatAmount formats minor units with two decimals and no thousands
// separator, as payroll systems import them: 1500000 → "15000,00" in ru.
func formatAmount(minor int64, decimal string) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return sign + strconv.FormatInt(minor/100, 10) + decimal + fmt.Sprintf("%02d", minor%100)
}

// exportRows returns the locale's conventions and the rows of a flat
// export, for both of its formats.
func exportRows(run *Run, employees []Employee, loc string) (exportLocale, []ExportRow, error) {
	l, err := locale(loc)
	if err != nil {
		return l, nil, err
	}
	rows, err := ExportRows(run, employees)
	return l, rows, err
}

// WritePayrollExportCSV writes the flat export of a run as CSV: a header
// row, then one row per employee and component (ExportRows). In "ru"
// (the default) the header is Russian, fields are separated by semicolons,
// amounts have a decimal comma and the period is its first day as
// DD.MM.YYYY, with a UTF-8 byte order mark so Excel reads it; "en" uses
// English column names, commas, a decimal point and YYYY-MM-DD. Errors:
// ErrInvalid (the run, the locale), and any error writing to w.
func WritePayrollExportCSV(w io.Writer, run *Run, employees []Employee, loc string) error {
	l, rows, err := exportRows(run, employees, loc)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if l.decimal == "," {
		bw.WriteString("\ufeff")
	}
	cw := csv.NewWriter(bw)
	cw.Comma = l.comma
	cw.UseCRLF = true
	if err := cw.Write(l.header); err != nil {
		return fmt.Errorf("reports: payroll export: %w", err)
	}
	for _, r := range rows {
		if err := cw.Write([]string{r.EmployeeNumber, r.FullName, r.Period.From.Format(l.date), r.ComponentCode,
			formatAmount(r.AmountMinor, l.decimal)}); err != nil {
			return fmt.Errorf("reports: payroll export: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("reports: payroll export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("reports: payroll export: %w", err)
	}
	return nil
}

// WritePayrollExportXLSX writes the flat export of a run as a one-sheet
// workbook with the same columns as WritePayrollExportCSV: the employee
// number as text, the period as a date, the amount as a number with two
// decimals. Errors: as WritePayrollExportCSV.
func WritePayrollExportXLSX(w io.Writer, run *Run, employees []Employee, loc string) error {
	l, rows, err := exportRows(run, employees, loc)
	if err != nil {
		return err
	}
	f := excelize.NewFile()
	var st *styles
	ok := false
	defer func() {
		if !ok {
			_ = release(f, st)
		}
	}()
	const sheet = "Payroll export"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("reports: payroll export: %w", err)
	}
	st, err = newStyles(f)
	if err != nil {
		return err
	}
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: &l.dateExcel})
	if err != nil {
		return fmt.Errorf("reports: payroll export: %w", err)
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return fmt.Errorf("reports: payroll export: %w", err)
	}
	widths := []float64{16, 30, 12, 34, 14}
	cols := make([]column, len(l.header))
	for i, h := range l.header {
		cols[i] = column{h, widths[i]}
	}
	sw, err := newSheetWriter(f, st, sheet, cols, MaxSheetRows)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := sw.write(cell(text, r.EmployeeNumber), r.FullName, cell(date, r.Period.From), r.ComponentCode,
			money(st, r.AmountMinor)); err != nil {
			return err
		}
	}
	if err := sw.finish(); err != nil {
		return err
	}
	ok = true
	return writeFileOrdered(f, st, w)
}
