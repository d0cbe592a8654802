package reports

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Change is one difference between two runs of the same policy and period,
// such as a locked run and a fresh re-run after a visit was reopened.
// StaffID is empty for run-level changes (policy version, inputs hash);
// Component is empty for changes to the employee as a whole.
type Change struct {
	StaffID        string `json:"staff_id,omitempty"`
	EmployeeNumber string `json:"employee_number,omitempty"`
	Name           string `json:"name,omitempty"`
	Component      string `json:"component,omitempty"`
	// Field is one of "policy", "period", "inputs_hash", "employee",
	// "base_pay_minor", "unlinked_minor", "total_minor", "component",
	// "visits", "score_percent", "payout", "amount_minor",
	// "min_sample_default" or "critical_forfeit".
	Field string `json:"field"`
	// Old and New are the values formatted for people (money with two
	// decimals, scores and payouts in percent to one decimal); "" means
	// absent. Delta is the change, signed: "+5,000.00", "−10.5 pp", "+1".
	Old   string `json:"old"`
	New   string `json:"new"`
	Delta string `json:"delta,omitempty"`
	// OldMinor and NewMinor hold money fields in minor units, OldPercent
	// and NewPercent scores and payouts in percent, unrounded, for screens
	// that format numbers in the reader's locale.
	OldMinor   *int64   `json:"old_minor,omitempty"`
	NewMinor   *int64   `json:"new_minor,omitempty"`
	OldPercent *float64 `json:"old_percent,omitempty"`
	NewPercent *float64 `json:"new_percent,omitempty"`
	// Causes are the rulings on appeals that changed visits of the
	// employee's after the compared run was approved (CiteCauses).
	Causes []Cause `json:"causes,omitempty"`
}

// Cause is a ruling on an appeal against a visit, named for people: the
// reason a figure differs from an approved run's.
type Cause struct {
	AppealID    string    `json:"appeal_id"`
	VisitID     string    `json:"visit_id"`
	StoreID     string    `json:"store_id"`
	StoreCode   string    `json:"store_code,omitempty"`
	StoreName   string    `json:"store_name,omitempty"`
	StaffID     string    `json:"staff_id,omitempty"` // "" for a visit that names nobody
	VisitedAt   time.Time `json:"visited_at"`
	RuledAt     time.Time `json:"ruled_at"`
	RuledBy     string    `json:"ruled_by,omitempty"` // the judge's name
	Upheld      int       `json:"upheld"`             // questions upheld
	Questions   int       `json:"questions"`          // questions appealed
	ScoreBefore *float64  `json:"score_before,omitempty"`
	ScoreAfter  *float64  `json:"score_after,omitempty"`
}

// String names the ruling on one line: "appeal A (visit of 2026-03-05 at
// S01 First, ruled 2026-04-02 by Maria Ivanova: 1 of 2 question(s)
// upheld, score 50.0% → 100.0%)".
func (c Cause) String() string {
	store := cmp.Or(strings.TrimSpace(c.StoreCode+" "+c.StoreName), c.StoreID)
	out := fmt.Sprintf("appeal %s (visit of %s at %s, ruled %s", c.AppealID, c.VisitedAt.UTC().Format("2006-01-02"), store, c.RuledAt.UTC().Format("2006-01-02"))
	if c.RuledBy != "" {
		out += " by " + c.RuledBy
	}
	out += fmt.Sprintf(": %d of %d question(s) upheld", c.Upheld, c.Questions)
	if c.ScoreBefore != nil && c.ScoreAfter != nil {
		out += fmt.Sprintf(", score %s → %s", formatPercent(c.ScoreBefore), formatPercent(c.ScoreAfter))
	}
	return out + ")"
}

// CiteCauses gives each employee's change in changes the rulings among
// causes that touched his visits: a visit that names him, or one that
// names nobody at his store in the fresh run. Run-level changes cite
// nothing.
func CiteCauses(changes []Change, fresh *Run, causes []Cause) {
	if len(causes) == 0 {
		return
	}
	store := map[string]string{}
	if fresh != nil {
		for _, e := range fresh.Employees {
			store[e.StaffID] = e.StoreID
		}
	}
	for i := range changes {
		c := &changes[i]
		if c.StaffID == "" {
			continue
		}
		for _, k := range causes {
			if k.StaffID == c.StaffID || (k.StaffID == "" && k.StoreID == store[c.StaffID]) {
				c.Causes = append(c.Causes, k)
			}
		}
	}
}

// fieldNames are the fields of a Change as people read them.
var fieldNames = map[string]string{
	"policy": "policy", "period": "period", "inputs_hash": "inputs", "employee": "employee",
	"base_pay_minor": "base pay", "unlinked_minor": "unlinked amount", "total_minor": "total",
	"component": "component", "visits": "visits", "score_percent": "score", "payout": "payout",
	"amount_minor": "amount", "min_sample_default": "too few visits (default paid)", "critical_forfeit": "critical forfeit",
}

// String formats the change on one line for people, naming the employee
// by name and employee number: "Sergei Morozov (E2001) / on-time delivery:
// score 95.0% → 100.0% (+5.0 pp)".
func (c Change) String() string {
	who := "run"
	if c.StaffID != "" {
		who = c.Name
		if c.EmployeeNumber != "" {
			who = fmt.Sprintf("%s (%s)", c.Name, c.EmployeeNumber)
		}
	}
	if c.Component != "" {
		who += " / " + c.Component
	}
	field := cmp.Or(fieldNames[c.Field], c.Field)
	switch {
	case c.Field == "inputs_hash":
		return who + ": the approved visits or base pay read are not the same"
	case c.Old == "":
		return fmt.Sprintf("%s: %s %s", who, field, c.New) + c.causeText()
	case c.New == "":
		return fmt.Sprintf("%s: %s removed (was %s)", who, field, c.Old) + c.causeText()
	}
	out := fmt.Sprintf("%s: %s %s → %s", who, field, c.Old, c.New)
	if c.Delta != "" {
		out += " (" + c.Delta + ")"
	}
	return out + c.causeText()
}

// causeText is "; because of appeal …" for a change with causes.
func (c Change) causeText() string {
	if len(c.Causes) == 0 {
		return ""
	}
	parts := make([]string, len(c.Causes))
	for i, k := range c.Causes {
		parts[i] = k.String()
	}
	return "; because of the ruling on " + strings.Join(parts, "; ")
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
			add(Change{StaffID: id, EmployeeNumber: b.EmployeeNumber, Name: b.Name, Field: "employee", New: "added, total " + FormatMoney(b.TotalMinor),
				NewMinor: &b.TotalMinor})
			continue
		case b == nil:
			add(Change{StaffID: id, EmployeeNumber: a.EmployeeNumber, Name: a.Name, Field: "employee", Old: "total " + FormatMoney(a.TotalMinor),
				OldMinor: &a.TotalMinor})
			continue
		}
		base := Change{StaffID: id, EmployeeNumber: b.EmployeeNumber, Name: b.Name}
		cmpField := func(comp, field, x, y string) {
			if x != y {
				c := base
				c.Component, c.Field, c.Old, c.New = comp, field, x, y
				add(c)
			}
		}
		cmpMoney := func(comp, field string, x, y int64) {
			if x != y {
				c := base
				c.Component, c.Field, c.Old, c.New, c.Delta = comp, field, FormatMoney(x), FormatMoney(y), signed(FormatMoney(y-x), y-x)
				c.OldMinor, c.NewMinor = &x, &y
				add(c)
			}
		}
		cmpPercent := func(comp, field string, x, y *float64) {
			switch {
			case x == nil && y == nil, x != nil && y != nil && *x == *y:
				return
			}
			c := base
			c.Component, c.Field, c.Old, c.New = comp, field, formatPercent(x), formatPercent(y)
			c.OldPercent, c.NewPercent = x, y
			if x != nil && y != nil {
				d := math.Round((*y-*x)*10) / 10
				c.Delta = signed(strconv.FormatFloat(math.Abs(d), 'f', 1, 64)+" pp", int64(math.Copysign(1, d)*math.Ceil(math.Abs(d))))
			}
			add(c)
		}
		cmpMoney("", "base_pay_minor", a.BasePayMinor, b.BasePayMinor)
		cmpMoney("", "unlinked_minor", a.UnlinkedMinor, b.UnlinkedMinor)
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
			if x.Visits != y.Visits {
				c := base
				c.Component, c.Field, c.Old, c.New = y.Name, "visits", strconv.Itoa(x.Visits), strconv.Itoa(y.Visits)
				c.Delta = signed(strconv.Itoa(abs(y.Visits-x.Visits)), int64(y.Visits-x.Visits))
				add(c)
			}
			cmpPercent(y.Name, "score_percent", x.ScorePercent, y.ScorePercent)
			xp, yp := x.Payout*100, y.Payout*100
			cmpPercent(y.Name, "payout", &xp, &yp)
			cmpMoney(y.Name, "amount_minor", x.AmountMinor, y.AmountMinor)
			cmpField(y.Name, "min_sample_default", strconv.FormatBool(x.MinSampleDefault), strconv.FormatBool(y.MinSampleDefault))
			cmpField(y.Name, "critical_forfeit", strconv.FormatBool(x.CriticalForfeit), strconv.FormatBool(y.CriticalForfeit))
		}
		for i := range a.Components {
			if x := &a.Components[i]; !newNames[x.Name] {
				cmpField(x.Name, "component", "amount "+FormatMoney(x.AmountMinor), "")
			}
		}
		cmpMoney("", "total_minor", a.TotalMinor, b.TotalMinor)
	}
	return out
}

// formatPercent formats a percentage for people, to one decimal: "88.9%".
func formatPercent(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(math.Round(*p*10)/10, 'f', 1, 64) + "%"
}

// signed puts the sign of sign before a magnitude: "+5,000.00", "−1".
// magnitude may carry a leading '-', which is replaced.
func signed(magnitude string, sign int64) string {
	magnitude = strings.TrimPrefix(magnitude, "-")
	switch {
	case sign > 0:
		return "+" + magnitude
	case sign < 0:
		return "−" + magnitude
	}
	return magnitude
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
