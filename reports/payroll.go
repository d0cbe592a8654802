package reports

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// PayrollMeta says which stored run a payroll is of and how to name what
// the run holds by id. The figures always come from the run.
type PayrollMeta struct {
	RunID string
	// State is "draft", "approved" or "superseded"; anything but approved
	// prints DRAFT (or SUPERSEDED) across every page.
	State      string
	CreatedAt  time.Time
	CreatedBy  string // a person's name
	ApprovedAt time.Time
	ApprovedBy string
	// Location is the organisation's time zone for dates; nil means UTC.
	Location *time.Location
	// Stores names stores by id.
	Stores map[string]StoreName
	// QuestionText returns the text of a question of a visit ("" when
	// unknown, and the question id is shown); nil shows ids.
	QuestionText func(visitID, questionID string) string
	// OverrideReason is why the run was approved while appeals on its
	// visits were open, and Overridden names those appeals for people
	// (store, visit date, employee); both empty when none were.
	OverrideReason string
	Overridden     []string
	// Ruling says the ruling on an appeal that changed, before the run
	// was computed, an answer of the visit that counts for the
	// component ("ruling on appeal … by …: score 50.0% → 100.0%"), or
	// "" when none did: the Explanation sheet marks the figures it
	// changed. Nil marks nothing.
	Ruling func(visitID, component string) string
}

// ruling is meta.Ruling, "" without one.
func (m *PayrollMeta) ruling(visitID, component string) string {
	if m.Ruling == nil || visitID == "" {
		return ""
	}
	return m.Ruling(visitID, component)
}

// StoreName is a store's code and name.
type StoreName struct{ Code, Name string }

// approved reports whether the run is the locked one payroll pays.
func (m *PayrollMeta) approved() bool { return m.State == "approved" }

// stateText is the run's state in capitals, for people.
func (m *PayrollMeta) stateText() string {
	switch m.State {
	case "approved":
		return "APPROVED"
	case "superseded":
		return "SUPERSEDED: a later approved run replaced it; do not pay from this one"
	}
	return "DRAFT: not approved; do not pay from it"
}

func (m *PayrollMeta) loc() *time.Location {
	if m.Location == nil {
		return time.UTC
	}
	return m.Location
}

// store names a store for people: "DEPOT-1 Central depot".
func (m *PayrollMeta) store(id string) (code, name string) {
	if s, ok := m.Stores[id]; ok {
		return s.Code, s.Name
	}
	if id == "-" {
		return "", ""
	}
	return id, ""
}

// WritePayroll writes the payroll workbook of a bonus run to w, made to be
// printed and signed:
//
//   - "Run": the policy and its version, the period, the run id, its state
//     (a draft says DRAFT across the top, and every printed page of every
//     sheet says so in its header), who computed and who approved it when,
//     the totals, and lines to sign;
//   - "Payroll": a row per employee with number, name, position, store,
//     base pay, the unlinked amount, each component's amount and the
//     total, then the flags, and a total row;
//   - "Components": a row per employee and component: share, visits,
//     score, payout and amount;
//   - "Explanation": a row per explanation line, naming the employee by
//     name and number, the component, the visit's store by code and name
//     and its time, the score, and the text with question texts, wrapped;
//   - "Policy": the policy, its version, the period and the inputs hash,
//     then a row per component.
//
// Every sheet prints A4 landscape, one page wide, with its header row on
// every page; a row never splits across pages, so an employee's name and
// total print on the same page. Amounts are numbers with two decimals,
// percentages fractions with a percent format. The document properties
// carry the run's creation time (not the clock: the same run gives the
// same bytes), its creator and the run id.
//
// employees, when not nil, supply the current display fields (number, name,
// position, department, store code) by staff id. WritePayroll returns an
// error wrapping ErrInvalid for a nil run or a run whose employees disagree
// with its policy's components.
func WritePayroll(w io.Writer, run *Run, employees []Employee, meta PayrollMeta) error {
	if err := checkPayrollRun(run); err != nil {
		return err
	}
	display := displayEmployees(run, employees)

	f := excelize.NewFile()
	var st *styles
	ok := false
	defer func() {
		if !ok {
			_ = release(f, st)
		}
	}()
	if err := f.SetSheetName("Sheet1", "Run"); err != nil {
		return fmt.Errorf("reports: naming the run sheet: %w", err)
	}
	var err error
	st, err = newStyles(f)
	if err != nil {
		return err
	}
	p := &run.Policy
	title := fmt.Sprintf("Payroll: %s, version %d, %s", p.Name, p.Version, run.Period.From.Format("2006-01"))
	st.printFooter = "&L" + escapeHeader(title) + "&RPage &P of &N"
	if !meta.approved() {
		word := "DRAFT"
		if meta.State == "superseded" {
			word = "SUPERSEDED"
		}
		st.printHeader = `&C&"-,Bold"&20&KC00000` + word + ` - NOT FOR PAYMENT`
	}
	props := &excelize.DocProperties{
		Title:       title,
		Subject:     fmt.Sprintf("Bonus run %s (%s)", meta.RunID, strings.ToLower(strings.SplitN(meta.stateText(), ":", 2)[0])),
		Description: fmt.Sprintf("Bonus run %s of policy %s version %d for %s; inputs hash %s", meta.RunID, p.ID, p.Version, run.Period.From.Format("2006-01"), run.InputsHash),
		Creator:     cmp.Or(meta.CreatedBy, "shopscore"),
		Identifier:  meta.RunID,
		Keywords:    "payroll; bonus run " + meta.RunID,
		Category:    "payroll",
	}
	if !meta.CreatedAt.IsZero() {
		props.Created = meta.CreatedAt.UTC().Format(time.RFC3339)
		props.Modified = props.Created
	}
	if !meta.ApprovedAt.IsZero() {
		props.Modified = meta.ApprovedAt.UTC().Format(time.RFC3339)
		props.LastModifiedBy = meta.ApprovedBy
	}
	if err := f.SetDocProps(props); err != nil {
		return fmt.Errorf("reports: payroll properties: %w", err)
	}

	// About 160 characters wide: A4 landscape prints it at 80% or more.
	cols := []column{
		{"Employee number", 11}, {"Name", 24}, {"Position", 12}, {"Store", 10},
		{"Base pay", 12}, {fmt.Sprintf("Unlinked (%s)", formatFraction(p.UnlinkedShare)), 12},
	}
	for _, c := range p.Components {
		cols = append(cols, column{fmt.Sprintf("%s (%s)", c.Name, formatFraction(c.Share)), 12})
	}
	cols = append(cols, column{"Total", 13}, column{"Flags", 24})
	pay, err := newSheetWriter(f, st, "Payroll", cols, MaxSheetRows)
	if err != nil {
		return err
	}
	comps, err := newSheetWriter(f, st, "Components", []column{
		{"Employee number", 12}, {"Name", 26}, {"Component", 20}, {"Share", 8}, {"Visits", 8},
		{"Score", 9}, {"Payout", 9}, {"Amount", 13}, {"Flag", 34},
	}, MaxSheetRows)
	if err != nil {
		return err
	}
	expl, err := newSheetWriter(f, st, "Explanation", []column{
		{"Employee number", 12}, {"Name", 22}, {"Component", 16}, {"Store", 11}, {"Store name", 20},
		{"Visit time", 16}, {"Score", 8}, {"Explanation", 80},
	}, MaxSheetRows)
	if err != nil {
		return err
	}

	var base, unlinked, total int64
	compTotals := make([]int64, len(p.Components))
	// People find an employee by number; the run lists them by staff id.
	order := slices.Clone(run.Employees)
	slices.SortStableFunc(order, func(a, b EmployeeResult) int {
		return strings.Compare(display[a.StaffID].EmployeeNumber, display[b.StaffID].EmployeeNumber)
	})
	for i := range order {
		e := &order[i]
		d := display[e.StaffID]
		row := []any{d.EmployeeNumber, d.Name, d.Position, d.StoreID, money(st, e.BasePayMinor), money(st, e.UnlinkedMinor)}
		var flags []string
		for ci, c := range e.Components {
			row = append(row, money(st, c.AmountMinor))
			compTotals[ci] += c.AmountMinor
			flag := componentFlag(&c)
			if flag != "" {
				flags = append(flags, c.Name+": "+flag)
			}
			var score any
			if c.ScorePercent != nil {
				score = cell(st.percent, *c.ScorePercent/100)
			}
			if err := comps.write(d.EmployeeNumber, d.Name, c.Name, cell(st.percent, c.Share), cell(st.integer, c.Visits),
				score, cell(st.percent, c.Payout), money(st, c.AmountMinor), flag); err != nil {
				return err
			}
			ruled := 0
			for _, l := range c.Lines {
				if meta.ruling(l.VisitID, c.Name) != "" {
					ruled++
				}
			}
			for li, l := range c.Lines {
				if li == 0 && l.VisitID == "" && ruled > 0 {
					l.Text += fmt.Sprintf(" [RULING: %d visit(s) below changed by a ruling on an appeal]", ruled)
				}
				if err := expl.write(explanationRow(st, &meta, d, c.Name, &l)...); err != nil {
					return err
				}
			}
		}
		base, unlinked, total = base+e.BasePayMinor, unlinked+e.UnlinkedMinor, total+e.TotalMinor
		row = append(row, money(st, e.TotalMinor), cell(st.text, strings.Join(flags, "; ")))
		if err := pay.write(row...); err != nil {
			return err
		}
	}
	// The total stays under the table, outside the filter.
	pay.endTable()
	totals := []any{nil, cell(st.totalMoney, fmt.Sprintf("Total, %d employee(s)", len(run.Employees))), nil, nil,
		cell(st.totalMoney, float64(base)/100), cell(st.totalMoney, float64(unlinked)/100)}
	for _, t := range compTotals {
		totals = append(totals, cell(st.totalMoney, float64(t)/100))
	}
	if err := pay.write(append(totals, cell(st.totalMoney, float64(total)/100))...); err != nil {
		return err
	}

	pol, err := newSheetWriter(f, st, "Policy", []column{
		{"Field", 22}, {"Value", 40}, {"Categories", 20}, {"Clauses", 16}, {"Rule", 40},
		{"Forfeit on critical", 10}, {"Min visits", 8}, {"Default payout", 10}, {"Combine", 22},
	}, MaxSheetRows)
	if err != nil {
		return err
	}
	for _, kv := range [][2]any{
		{"Policy id", p.ID},
		{"Version", cell(st.integer, p.Version)},
		{"Name", p.Name},
		{"Base", p.Base},
		{"Covers positions", listOrAll(p.Positions)},
		{"Covers departments", listOrAll(p.Departments)},
		{"Covers stores", listOrAll(storeCodes(&meta, p.StoreIDs))},
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
			strings.Join(c.Categories, ", "), strings.Join(c.Clauses, ", "), cell(st.text, c.Rule.describe()),
			yesNo(c.ForfeitOnCritical), cell(st.integer, c.MinVisits), cell(st.percent, c.DefaultPayout), combine); err != nil {
			return err
		}
	}

	if err := writeRunSheet(f, st, run, &meta, title, total); err != nil {
		return err
	}
	for _, s := range []*sheetWriter{pay, comps, expl, pol} {
		if err := s.finish(); err != nil {
			return err
		}
	}
	f.SetActiveSheet(0)
	ok = true
	return writeFileOrdered(f, st, w)
}

// checkPayrollRun refuses a nil run or one whose employees disagree with
// its policy's components. Errors: ErrInvalid.
func checkPayrollRun(run *Run) error {
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
	return nil
}

// displayEmployees returns each employee of the run as people see him:
// the current fields of employees by staff id when given, else the run's;
// an employee without a number is shown by his staff id.
func displayEmployees(run *Run, employees []Employee) map[string]Employee {
	byID := map[string]*Employee{}
	for i := range employees {
		byID[employees[i].StaffID] = &employees[i]
	}
	out := make(map[string]Employee, len(run.Employees))
	for _, e := range run.Employees {
		d := Employee{StaffID: e.StaffID, EmployeeNumber: e.EmployeeNumber, Name: e.Name, Position: e.Position,
			Department: e.Department, StoreID: e.StoreID}
		if cur := byID[e.StaffID]; cur != nil {
			d = *cur
		}
		d.EmployeeNumber = cmp.Or(d.EmployeeNumber, e.StaffID)
		out[e.StaffID] = d
	}
	return out
}

// componentFlag says, for people, why a component paid what it paid when
// the rule was not applied to a score.
func componentFlag(c *ComponentResult) string {
	switch {
	case c.CriticalForfeit:
		return "critical forfeit"
	case c.MinSampleDefault:
		return "too few visits, default paid"
	}
	return ""
}

// explanationRow is one row of the Explanation sheet: the employee, the
// component, the visit's store and time, its score and the line in words,
// questions named by their text.
func explanationRow(st *styles, meta *PayrollMeta, d Employee, component string, l *Line) []any {
	var code, name string
	var at, score any
	text := l.Text
	if l.VisitID != "" {
		code, name = meta.store(l.StoreID)
		if l.VisitedAt != nil {
			at = cell(st.datetime, l.VisitedAt.In(meta.loc()))
		}
		if l.ScorePercent != nil {
			score = cell(st.percent, *l.ScorePercent/100)
		}
		text = visitLineText(meta, component, l)
		if r := meta.ruling(l.VisitID, component); r != "" {
			text = "[RULING] " + text + ". Changed by the " + r
		}
	}
	if l.VisitID == "" {
		// A component's summary: bold, above its visits.
		return []any{cell(st.header, d.EmployeeNumber), cell(st.header, d.Name), cell(st.header, component),
			cell(st.header, nil), cell(st.header, nil), cell(st.header, nil), cell(st.header, nil), cell(st.text, text)}
	}
	return []any{d.EmployeeNumber, d.Name, component, code, name, at, score, cell(st.text, text)}
}

// visitLineText says what a visit scored and which questions lost points,
// by their text: "1 of 2 points over 2 question(s); lost: «Was the driver
// polite?» −1 of 1".
func visitLineText(meta *PayrollMeta, component string, l *Line) string {
	question := func(id string) string {
		if meta.QuestionText != nil {
			if t := meta.QuestionText(l.VisitID, id); t != "" {
				return "«" + t + "»"
			}
		}
		return id
	}
	// The summary of the line without its component and time, which the
	// columns carry.
	text := l.Text
	if i := strings.Index(text, ": "); i >= 0 && strings.HasPrefix(text, component) {
		text = text[i+2:]
		if j := strings.Index(text, ": "); j >= 0 && strings.HasPrefix(text, "visit on ") {
			text = text[j+2:]
		}
	}
	if k := strings.Index(text, "; points lost on"); k >= 0 {
		text = text[:k]
	} else if k := strings.Index(text, "; critical failure on"); k >= 0 {
		text = text[:k]
	}
	var parts []string
	if len(l.Lost) > 0 {
		lost := make([]string, len(l.Lost))
		for i, q := range l.Lost {
			lost[i] = fmt.Sprintf("%s −%s of %s", question(q.QuestionID), formatNumber(q.Lost), formatNumber(q.Max))
		}
		parts = append(parts, "points lost: "+strings.Join(lost, "; "))
	}
	if len(l.Critical) > 0 {
		crit := make([]string, len(l.Critical))
		for i, q := range l.Critical {
			crit[i] = question(q)
		}
		parts = append(parts, "critical failure: "+strings.Join(crit, "; "))
	}
	if len(parts) > 0 {
		text += ". " + strings.Join(parts, ". ")
	}
	return text
}

// storeCodes names stores by code for people.
func storeCodes(meta *PayrollMeta, ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		code, name := meta.store(id)
		out[i] = strings.TrimSpace(code + " " + name)
	}
	return out
}

// writeRunSheet writes the first sheet: what the workbook is, whether it
// may be paid from, who approved it, and lines to sign.
func writeRunSheet(f *excelize.File, st *styles, run *Run, meta *PayrollMeta, title string, total int64) error {
	const sheet = "Run"
	set := func(ref string, v any, style int) error {
		if err := f.SetCellValue(sheet, ref, v); err != nil {
			return fmt.Errorf("reports: run sheet %s: %w", ref, err)
		}
		if style != 0 {
			if err := f.SetCellStyle(sheet, ref, ref, style); err != nil {
				return fmt.Errorf("reports: run sheet %s: %w", ref, err)
			}
		}
		return nil
	}
	for i, width := range []float64{26, 30, 22, 22} {
		col := string(rune('A' + i))
		if err := f.SetColWidth(sheet, col, col, width); err != nil {
			return fmt.Errorf("reports: run sheet width: %w", err)
		}
	}
	if err := set("A1", title, st.title); err != nil {
		return err
	}
	if err := f.MergeCell(sheet, "A2", "D2"); err != nil {
		return fmt.Errorf("reports: run sheet: %w", err)
	}
	if err := set("A2", meta.stateText(), st.banner); err != nil {
		return err
	}
	height := 40.0
	if !meta.approved() {
		height = 80
	}
	if err := f.SetRowHeight(sheet, 2, height); err != nil {
		return fmt.Errorf("reports: run sheet: %w", err)
	}
	loc := meta.loc()
	when := func(t time.Time, by string) any {
		if t.IsZero() {
			return "not approved"
		}
		return fmt.Sprintf("%s, %s (%s)", cmp.Or(by, "unknown"), t.In(loc).Format("2006-01-02 15:04"), loc)
	}
	p := &run.Policy
	rows := [][2]any{
		{"Policy", fmt.Sprintf("%s (%s), version %d", p.Name, p.ID, p.Version)},
		{"Period", fmt.Sprintf("%s: %s to %s", run.Period.From.Format("2006-01"), run.Period.From.Format("2006-01-02"),
			run.Period.To.AddDate(0, 0, -1).Format("2006-01-02"))},
		{"Run id", meta.RunID},
		{"State", strings.SplitN(meta.stateText(), ":", 2)[0]},
		{"Computed by", when(meta.CreatedAt, meta.CreatedBy)},
		{"Approved by", when(meta.ApprovedAt, meta.ApprovedBy)},
		{"Employees", cell(st.integer, len(run.Employees))},
		{"Total to pay", money(st, total)},
		{"Inputs hash (SHA-256)", run.InputsHash},
	}
	if meta.OverrideReason != "" {
		rows = append(rows, [2]any{"Approved over open appeals", fmt.Sprintf("%d appeal(s) open at approval: %s", len(meta.Overridden), strings.Join(meta.Overridden, "; "))},
			[2]any{"Override reason", meta.OverrideReason})
	}
	for i, kv := range rows {
		r := i + 4
		if err := set(fmt.Sprintf("A%d", r), kv[0], st.header); err != nil {
			return err
		}
		v, style := kv[1], 0
		if c, ok := v.(excelize.Cell); ok {
			v, style = c.Value, c.StyleID
		}
		if err := set(fmt.Sprintf("B%d", r), v, style); err != nil {
			return err
		}
	}
	sign := len(rows) + 6
	for i, label := range []string{"Checked by (HR)", "Approved by", "Date"} {
		r := sign + 2*i
		if err := set(fmt.Sprintf("A%d", r), label, 0); err != nil {
			return err
		}
		if err := f.SetCellStyle(sheet, fmt.Sprintf("B%d", r), fmt.Sprintf("C%d", r), st.totalMoney); err != nil {
			return fmt.Errorf("reports: run sheet: %w", err)
		}
	}
	if err := set(fmt.Sprintf("A%d", sign+7), "The Payroll sheet lists every employee's pay; Components, Explanation and Policy say how each figure was reached.", 0); err != nil {
		return err
	}
	return printSetup(f, st, sheet, false)
}

// escapeHeader escapes '&' in text for an Excel print header or footer.
func escapeHeader(s string) string { return strings.ReplaceAll(s, "&", "&&") }

func listOrAll(list []string) string {
	if len(list) == 0 {
		return "all"
	}
	return strings.Join(slices.Clone(list), ", ")
}
