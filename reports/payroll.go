package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// WritePayroll writes the payroll workbook of a bonus run to w:
//
//   - "Payroll": a row per employee with number, name, position,
//     department, store, base pay, the unlinked amount, then for each
//     component its visits, score %, payout % and amount, then the total
//     and the flags;
//   - "Explanation": a row per explanation line, naming the employee, the
//     component and the visit;
//   - "Policy": the policy, its version, the period and the inputs hash,
//     then a row per component.
//
// Amounts are numbers with two decimals (from minor units), percentages are
// fractions with a percent format; every sheet has a frozen header row, an
// autofilter and set column widths.
//
// employees, when not nil, supply the current display fields (number, name,
// position, department, store) by staff id; the figures always come from
// the run. WritePayroll returns an error wrapping ErrInvalid for a nil run
// or a run whose employees disagree with its policy's components.
func WritePayroll(w io.Writer, run *Run, employees []Employee) error {
	if run == nil {
		return invalidf("payroll: run is nil")
	}
	for _, e := range run.Employees {
		if len(e.Components) != len(run.Policy.Components) {
			return invalidf("payroll: employee %q has %d components, the policy %d", e.StaffID, len(e.Components), len(run.Policy.Components))
		}
		for i, c := range e.Components {
			if c.Name != run.Policy.Components[i].Name {
				return invalidf("payroll: employee %q component %d is %q, the policy's is %q", e.StaffID, i+1, c.Name, run.Policy.Components[i].Name)
			}
		}
	}
	display := map[string]*Employee{}
	for i := range employees {
		display[employees[i].StaffID] = &employees[i]
	}

	f := excelize.NewFile()
	ok := false
	defer func() {
		if !ok {
			_ = f.Close()
		}
	}()
	if err := f.SetSheetName("Sheet1", "Payroll"); err != nil {
		return fmt.Errorf("reports: naming the payroll sheet: %w", err)
	}
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	if err := f.SetDocProps(&excelize.DocProperties{
		Title:       fmt.Sprintf("Payroll: %s v%d", run.Policy.Name, run.Policy.Version),
		Subject:     fmt.Sprintf("Bonus run %s – %s", run.Period.From.Format("2006-01-02"), run.Period.To.Format("2006-01-02")),
		Description: "Inputs hash " + run.InputsHash,
		Creator:     "shopscore",
	}); err != nil {
		return fmt.Errorf("reports: payroll properties: %w", err)
	}

	cols := []column{
		{"Employee number", 14}, {"Name", 28}, {"Position", 18}, {"Department", 18}, {"Store", 12},
		{"Base pay", 14}, {fmt.Sprintf("Unlinked (%s)", formatFraction(run.Policy.UnlinkedShare)), 14},
	}
	for _, c := range run.Policy.Components {
		share := formatFraction(c.Share)
		cols = append(cols,
			column{fmt.Sprintf("%s (%s) visits", c.Name, share), 10},
			column{fmt.Sprintf("%s score %%", c.Name), 11},
			column{fmt.Sprintf("%s payout %%", c.Name), 11},
			column{fmt.Sprintf("%s amount", c.Name), 14},
		)
	}
	cols = append(cols, column{"Total", 15}, column{"Flags", 40})
	pay, err := newSheetWriter(f, st, "Payroll", cols, MaxSheetRows)
	if err != nil {
		return err
	}
	expl, err := newSheetWriter(f, st, "Explanation", []column{
		{"Employee number", 14}, {"Name", 28}, {"Component", 18}, {"Visit", 22}, {"Explanation", 110},
	}, MaxSheetRows)
	if err != nil {
		return err
	}

	for i := range run.Employees {
		e := &run.Employees[i]
		number, name, position, department, store := e.EmployeeNumber, e.Name, e.Position, e.Department, e.StoreID
		if d := display[e.StaffID]; d != nil {
			number, name, position, department, store = d.EmployeeNumber, d.Name, d.Position, d.Department, d.StoreID
		}
		if number == "" {
			number = e.StaffID
		}
		row := []any{number, name, position, department, store, money(st, e.BasePayMinor), money(st, e.UnlinkedMinor)}
		var flags []string
		for _, c := range e.Components {
			var score any
			if c.ScorePercent != nil {
				score = cell(st.percent, *c.ScorePercent/100)
			}
			row = append(row, cell(st.integer, c.Visits), score, cell(st.percent, c.Payout), money(st, c.AmountMinor))
			if c.CriticalForfeit {
				flags = append(flags, c.Name+": critical forfeit")
			}
			if c.MinSampleDefault {
				flags = append(flags, c.Name+": too few visits, default paid")
			}
			for _, l := range c.Lines {
				if err := expl.write(number, name, c.Name, l.VisitID, cell(st.text, l.Text)); err != nil {
					return err
				}
			}
		}
		row = append(row, money(st, e.TotalMinor), strings.Join(flags, "; "))
		if err := pay.write(row...); err != nil {
			return err
		}
	}

	pol, err := newSheetWriter(f, st, "Policy", []column{
		{"Field", 24}, {"Value", 60}, {"Categories", 30}, {"Clauses", 30}, {"Rule", 50},
		{"Forfeit on critical", 12}, {"Min visits", 10}, {"Default payout", 12}, {"Combine", 28},
	}, MaxSheetRows)
	if err != nil {
		return err
	}
	p := &run.Policy
	for _, kv := range [][2]any{
		{"Policy id", p.ID},
		{"Version", cell(st.integer, p.Version)},
		{"Name", p.Name},
		{"Base", p.Base},
		{"Covers positions", listOrAll(p.Positions)},
		{"Covers departments", listOrAll(p.Departments)},
		{"Covers stores", listOrAll(p.StoreIDs)},
		{"Period from", cell(st.date, run.Period.From)},
		{"Period to (exclusive)", cell(st.date, run.Period.To)},
		{"Inputs hash (SHA-256)", run.InputsHash},
		{"Employees covered", cell(st.integer, run.Stats.Covered)},
		{"Observations read", cell(st.integer, run.Stats.Observations)},
		{"Observations used", cell(st.integer, run.Stats.Used)},
		{"Unlinked share", cell(st.percent, p.UnlinkedShare)},
	} {
		if err := pol.write(kv[0], kv[1]); err != nil {
			return err
		}
	}
	for _, c := range p.Components {
		combine := c.Combine
		if c.Combine == CombineRecencyWeighted {
			combine = fmt.Sprintf("%s, half-life %s days", c.Combine, formatNumber(c.HalfLifeDays))
		}
		if err := pol.write("Component: "+c.Name, cell(st.percent, c.Share),
			strings.Join(c.Categories, ", "), strings.Join(c.Clauses, ", "), c.Rule.describe(),
			yesNo(c.ForfeitOnCritical), cell(st.integer, c.MinVisits), cell(st.percent, c.DefaultPayout), combine); err != nil {
			return err
		}
	}

	for _, s := range []*sheetWriter{pay, expl, pol} {
		if err := s.finish(); err != nil {
			return err
		}
	}
	f.SetActiveSheet(0)
	ok = true
	return writeFile(f, w)
}

func listOrAll(list []string) string {
	if len(list) == 0 {
		return "all"
	}
	return strings.Join(list, ", ")
}
