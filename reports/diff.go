package reports

import (
	"fmt"
	"slices"
	"strconv"
)

// Change is one difference between two runs of the same policy and period,
// such as a locked run and a fresh re-run after a visit was reopened.
// StaffID is empty for run-level changes (policy version, inputs hash);
// Component is empty for changes to the employee as a whole.
type Change struct {
	StaffID   string `json:"staff_id,omitempty"`
	Name      string `json:"name,omitempty"`
	Component string `json:"component,omitempty"`
	// Field is one of "policy", "period", "inputs_hash", "employee",
	// "base_pay_minor", "unlinked_minor", "total_minor", "component",
	// "visits", "score_percent", "payout", "amount_minor",
	// "min_sample_default" or "critical_forfeit".
	Field string `json:"field"`
	// Old and New are the values formatted for people; "" means absent.
	Old string `json:"old"`
	New string `json:"new"`
}

// String formats the change on one line.
func (c Change) String() string {
	who := "run"
	if c.StaffID != "" {
		who = fmt.Sprintf("%s (%s)", c.StaffID, c.Name)
	}
	if c.Component != "" {
		who += " / " + c.Component
	}
	return fmt.Sprintf("%s: %s %q → %q", who, c.Field, c.Old, c.New)
}

// Diff lists the differences between a locked run and a fresh one: first
// run-level changes, then per employee (sorted by staff id) the employee's
// own fields and each component's, in the fresh run's component order. Two
// runs with the same inputs have no differences. A nil run is treated as
// empty.
func Diff(locked, fresh *Run) []Change {
	if locked == nil {
		locked = &Run{}
	}
	if fresh == nil {
		fresh = &Run{}
	}
	var out []Change
	add := func(c Change) { out = append(out, c) }
	pol := func(r *Run) string {
		if r.Policy.ID == "" {
			return ""
		}
		return fmt.Sprintf("%s v%d", r.Policy.ID, r.Policy.Version)
	}
	if a, b := pol(locked), pol(fresh); a != b {
		add(Change{Field: "policy", Old: a, New: b})
	}
	per := func(r *Run) string {
		if r.Period.From.IsZero() {
			return ""
		}
		return r.Period.From.Format("2006-01-02") + " – " + r.Period.To.Format("2006-01-02")
	}
	if a, b := per(locked), per(fresh); a != b {
		add(Change{Field: "period", Old: a, New: b})
	}
	if locked.InputsHash != fresh.InputsHash {
		add(Change{Field: "inputs_hash", Old: locked.InputsHash, New: fresh.InputsHash})
	}

	old := map[string]*EmployeeResult{}
	for i := range locked.Employees {
		old[locked.Employees[i].StaffID] = &locked.Employees[i]
	}
	seen := map[string]bool{}
	var ids []string
	for _, e := range fresh.Employees {
		ids = append(ids, e.StaffID)
		seen[e.StaffID] = true
	}
	for _, e := range locked.Employees {
		if !seen[e.StaffID] {
			ids = append(ids, e.StaffID)
		}
	}
	slices.Sort(ids)
	nw := map[string]*EmployeeResult{}
	for i := range fresh.Employees {
		nw[fresh.Employees[i].StaffID] = &fresh.Employees[i]
	}
	for _, id := range ids {
		a, b := old[id], nw[id]
		switch {
		case a == nil:
			add(Change{StaffID: id, Name: b.Name, Field: "employee", New: "added, total " + FormatMoney(b.TotalMinor)})
			continue
		case b == nil:
			add(Change{StaffID: id, Name: a.Name, Field: "employee", Old: "total " + FormatMoney(a.TotalMinor)})
			continue
		}
		cmpField := func(comp, field, x, y string) {
			if x != y {
				add(Change{StaffID: id, Name: b.Name, Component: comp, Field: field, Old: x, New: y})
			}
		}
		cmpField("", "base_pay_minor", FormatMoney(a.BasePayMinor), FormatMoney(b.BasePayMinor))
		cmpField("", "unlinked_minor", FormatMoney(a.UnlinkedMinor), FormatMoney(b.UnlinkedMinor))
		oldComp := map[string]*ComponentResult{}
		for i := range a.Components {
			oldComp[a.Components[i].Name] = &a.Components[i]
		}
		newNames := map[string]bool{}
		for i := range b.Components {
			y := &b.Components[i]
			newNames[y.Name] = true
			x := oldComp[y.Name]
			if x == nil {
				cmpField(y.Name, "component", "", "added, amount "+FormatMoney(y.AmountMinor))
				continue
			}
			cmpField(y.Name, "visits", strconv.Itoa(x.Visits), strconv.Itoa(y.Visits))
			cmpField(y.Name, "score_percent", formatScore(x.ScorePercent), formatScore(y.ScorePercent))
			cmpField(y.Name, "payout", formatFraction(x.Payout), formatFraction(y.Payout))
			cmpField(y.Name, "amount_minor", FormatMoney(x.AmountMinor), FormatMoney(y.AmountMinor))
			cmpField(y.Name, "min_sample_default", strconv.FormatBool(x.MinSampleDefault), strconv.FormatBool(y.MinSampleDefault))
			cmpField(y.Name, "critical_forfeit", strconv.FormatBool(x.CriticalForfeit), strconv.FormatBool(y.CriticalForfeit))
		}
		for i := range a.Components {
			if x := &a.Components[i]; !newNames[x.Name] {
				cmpField(x.Name, "component", "amount "+FormatMoney(x.AmountMinor), "")
			}
		}
		cmpField("", "total_minor", FormatMoney(a.TotalMinor), FormatMoney(b.TotalMinor))
	}
	return out
}

func formatScore(s *float64) string {
	if s == nil {
		return ""
	}
	return formatNumber(*s) + "%"
}
