package reports

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// The pay bases a Policy may apply its shares to.
const (
	// BaseTargetVariable means the shares split the employee's target
	// variable pay.
	BaseTargetVariable = "target_variable"
	// BasePay means the shares split the employee's base pay.
	BasePay = "base_pay"
)

// The ways a Component combines the scores of several visits.
const (
	// CombineMean gives every visit the same weight.
	CombineMean = "mean"
	// CombineRecencyWeighted weighs a visit by 2^(-age/half-life), where age
	// is measured from the end of the period, so later visits count more.
	CombineRecencyWeighted = "recency_weighted"
)

// The half-lives a recency-weighted Component may have, in days. Below a
// day, the weight of a visit a month old underflows to zero and the
// period's score is undefined; beyond ten years the weighting is a mean.
const (
	MinHalfLifeDays = 1
	MaxHalfLifeDays = 3650
)

// ppm is the scale of shares and payout fractions: they are held as whole
// parts per million so that amounts are computed exactly in integers.
const ppm = 1_000_000

// Policy is one version of a bonus policy, owned by HR. It says whom it
// covers and how an employee's base (target variable pay or base pay) is
// split: UnlinkedShare is paid in full (it rewards volume, which audits do
// not measure), and each Component pays its Share times a payout fraction
// that its Rule derives from the audit score. UnlinkedShare plus the
// components' shares must equal 1.
type Policy struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	Name    string `json:"name"`

	// Positions, Departments and StoreIDs filter the employees the policy
	// covers; an empty list matches everyone.
	Positions   []string `json:"positions,omitempty"`
	Departments []string `json:"departments,omitempty"`
	StoreIDs    []string `json:"store_ids,omitempty"`

	// Base is BaseTargetVariable or BasePay; it names what
	// Employee.BasePayMinor holds for the employees this policy covers.
	Base string `json:"base"`

	// UnlinkedShare is the share of the base paid regardless of audits
	// (0.55 in the driver example).
	UnlinkedShare float64     `json:"unlinked_share"`
	Components    []Component `json:"components"`

	// ExplanationLimit caps the visit lines listed per component in a run's
	// explanation; the number left out is reported. Zero means 10.
	ExplanationLimit int `json:"explanation_limit,omitempty"`

	// ForfeitCap caps what critical-failure forfeits take from one
	// employee in one period, as a fraction (0-1, at most six decimals)
	// of his base: 0.2 means they take at most 20 % of it, and what they
	// would take beyond is paid back, component by component in the
	// policy's order. Zero means no cap: a forfeit takes the whole
	// component.
	ForfeitCap float64 `json:"forfeit_cap,omitempty"`
}

// Component is one quality-linked part of a Policy.
type Component struct {
	Name  string  `json:"name"`
	Share float64 `json:"share"`

	// Categories and Clauses select the observations the component is
	// judged on: an observation matches when its category is listed in
	// Categories or its clause in Clauses. At least one must be non-empty.
	Categories []string `json:"categories,omitempty"`
	Clauses    []string `json:"clauses,omitempty"`

	// Rule turns the period score into a payout fraction.
	Rule Rule `json:"rule"`

	// ForfeitOnCritical makes a failed critical question in any matching
	// observation of the period pay 0 for the component.
	ForfeitOnCritical bool `json:"forfeit_on_critical,omitempty"`

	// MinVisits is the number of visits needed before the component is
	// judged; with fewer, DefaultPayout is paid and the result is flagged.
	// A component with no visit at all always pays DefaultPayout.
	MinVisits     int     `json:"min_visits,omitempty"`
	DefaultPayout float64 `json:"default_payout"`

	// Combine is CombineMean (the default when empty) or
	// CombineRecencyWeighted, which needs HalfLifeDays > 0.
	Combine      string  `json:"combine,omitempty"`
	HalfLifeDays float64 `json:"half_life_days,omitempty"`
}

// Rule maps a score in percent (0-100) to a payout fraction (0-1). Exactly
// one of Thresholds and Linear is set.
type Rule struct {
	// Thresholds pay the Payout of the highest MinPercent the score reaches,
	// and 0 below them all.
	Thresholds []Threshold `json:"thresholds,omitempty"`
	// Linear pays 0 at or below From, 1 at or above To, and in proportion
	// between them.
	Linear *Linear `json:"linear,omitempty"`
}

// Threshold is one step of a threshold Rule.
type Threshold struct {
	MinPercent float64 `json:"min_percent"`
	Payout     float64 `json:"payout"`
}

// Linear is a linear Rule: payout 0 at From percent, 1 at To percent.
type Linear struct {
	From float64 `json:"from"`
	To   float64 `json:"to"`
}

// Validate reports every problem of the policy at once, as an error wrapping
// ErrInvalid, or nil when the policy can be run.
func (p *Policy) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, invalidf(format, args...)) }
	if strings.TrimSpace(p.ID) == "" {
		add("policy id is empty")
	}
	if p.Version < 1 {
		add("policy %q: version %d, want 1 or more", p.ID, p.Version)
	}
	if p.Base != BaseTargetVariable && p.Base != BasePay {
		add("policy %q: base %q, want %q or %q", p.ID, p.Base, BaseTargetVariable, BasePay)
	}
	if p.ExplanationLimit < 0 {
		add("policy %q: explanation limit %d is negative", p.ID, p.ExplanationLimit)
	}
	for _, f := range []struct {
		name string
		list []string
	}{{"positions", p.Positions}, {"departments", p.Departments}, {"store ids", p.StoreIDs}} {
		for _, v := range f.list {
			if strings.TrimSpace(v) == "" {
				add("policy %q: %s contain an empty value", p.ID, f.name)
				break
			}
		}
	}
	unlinked, err := sharePPM(p.UnlinkedShare)
	if err != nil {
		add("policy %q: unlinked share: %v", p.ID, err)
	}
	if _, err := sharePPM(p.ForfeitCap); err != nil {
		add("policy %q: forfeit cap: %v", p.ID, err)
	}
	if len(p.Components) == 0 {
		add("policy %q: no components", p.ID)
	}
	sum := unlinked
	names := map[string]bool{}
	for i, c := range p.Components {
		where := fmt.Sprintf("policy %q: component %d (%q)", p.ID, i+1, c.Name)
		if strings.TrimSpace(c.Name) == "" {
			add("%s: name is empty", where)
		} else if names[c.Name] {
			add("%s: name used by an earlier component", where)
		}
		names[c.Name] = true
		s, err := sharePPM(c.Share)
		if err != nil {
			add("%s: share: %v", where, err)
		} else if s == 0 {
			add("%s: share is 0", where)
		}
		sum += s
		if len(c.Categories) == 0 && len(c.Clauses) == 0 {
			add("%s: no categories or clauses to judge it on", where)
		}
		if slices.Contains(c.Categories, "") || slices.Contains(c.Clauses, "") {
			add("%s: empty category or clause", where)
		}
		if err := c.Rule.validate(); err != nil {
			add("%s: rule: %v", where, err)
		}
		if c.MinVisits < 0 {
			add("%s: min visits %d is negative", where, c.MinVisits)
		}
		if !fraction(c.DefaultPayout) {
			add("%s: default payout %v, want 0 to 1", where, c.DefaultPayout)
		}
		switch c.Combine {
		case "", CombineMean:
			if c.HalfLifeDays != 0 {
				add("%s: half-life set but combine is %q", where, CombineMean)
			}
		case CombineRecencyWeighted:
			if !(c.HalfLifeDays >= MinHalfLifeDays && c.HalfLifeDays <= MaxHalfLifeDays) {
				add("%s: recency weighting needs a half-life of %v to %v days, got %v", where, MinHalfLifeDays, MaxHalfLifeDays, c.HalfLifeDays)
			}
		default:
			add("%s: combine %q, want %q or %q", where, c.Combine, CombineMean, CombineRecencyWeighted)
		}
	}
	if sum != ppm && len(errs) == 0 {
		var comps []string
		for _, c := range p.Components {
			comps = append(comps, fmt.Sprintf("%s %s", c.Name, formatFraction(c.Share)))
		}
		add("policy %q: shares sum to %s (unlinked %s + %s), want 100%%", p.ID,
			formatPPM(sum), formatFraction(p.UnlinkedShare), strings.Join(comps, " + "))
	}
	return errors.Join(errs...)
}

func (r *Rule) validate() error {
	switch {
	case len(r.Thresholds) > 0 && r.Linear != nil:
		return fmt.Errorf("both thresholds and linear are set, want one")
	case len(r.Thresholds) == 0 && r.Linear == nil:
		return fmt.Errorf("neither thresholds nor linear is set, want one")
	case r.Linear != nil:
		if !percent(r.Linear.From) || !percent(r.Linear.To) {
			return fmt.Errorf("linear from %v to %v, want percentages 0 to 100", r.Linear.From, r.Linear.To)
		}
		if r.Linear.From >= r.Linear.To {
			return fmt.Errorf("linear from %v is not below to %v", r.Linear.From, r.Linear.To)
		}
	default:
		seen := map[float64]bool{}
		for i, t := range r.Thresholds {
			if !percent(t.MinPercent) {
				return fmt.Errorf("threshold %d: min percent %v, want 0 to 100", i+1, t.MinPercent)
			}
			if !fraction(t.Payout) {
				return fmt.Errorf("threshold %d: payout %v, want 0 to 1", i+1, t.Payout)
			}
			if seen[t.MinPercent] {
				return fmt.Errorf("threshold %d: min percent %v listed twice", i+1, t.MinPercent)
			}
			seen[t.MinPercent] = true
		}
	}
	return nil
}

// payout applies the rule to a score in percent and returns the payout in
// parts per million.
func (r *Rule) payout(score float64) int64 {
	if r.Linear != nil {
		f := (score - r.Linear.From) / (r.Linear.To - r.Linear.From)
		return int64(math.Round(math.Min(1, math.Max(0, f)) * ppm))
	}
	best, found := 0.0, false
	var pay float64
	for _, t := range r.Thresholds {
		if score >= t.MinPercent && (!found || t.MinPercent > best) {
			best, pay, found = t.MinPercent, t.Payout, true
		}
	}
	return int64(math.Round(pay * ppm))
}

// describe returns the rule in words, for explanations and the Policy sheet.
func (r *Rule) describe() string {
	if r.Linear != nil {
		return fmt.Sprintf("linear: %s%% pays 0, %s%% pays 100%%", formatNumber(r.Linear.From), formatNumber(r.Linear.To))
	}
	ts := slices.Clone(r.Thresholds)
	slices.SortFunc(ts, func(a, b Threshold) int { return cmpFloat(b.MinPercent, a.MinPercent) })
	var parts []string
	for _, t := range ts {
		parts = append(parts, fmt.Sprintf("≥ %s%% pays %s", formatNumber(t.MinPercent), formatFraction(t.Payout)))
	}
	return "thresholds: " + strings.Join(parts, ", ") + ", else 0"
}

// covers reports whether the policy applies to the employee.
func (p *Policy) covers(e *Employee) bool {
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	return in(p.Positions, e.Position) && in(p.Departments, e.Department) && in(p.StoreIDs, e.StoreID)
}

// Matches reports whether an observation (an answer) with the category
// and clause (its standard's code) counts for the component.
func (c *Component) Matches(category, clause string) bool {
	return (category != "" && slices.Contains(c.Categories, category)) ||
		(clause != "" && slices.Contains(c.Clauses, clause))
}

// sharePPM converts a fraction 0-1 with at most six decimals to parts per
// million.
func sharePPM(f float64) (int64, error) {
	if !fraction(f) {
		return 0, fmt.Errorf("%v, want 0 to 1", f)
	}
	v := math.Round(f * ppm)
	if math.Abs(v-f*ppm) > 1e-6 {
		return 0, fmt.Errorf("%v has more than six decimals", f)
	}
	return int64(v), nil
}

func fraction(f float64) bool { return f >= 0 && f <= 1 }
func percent(f float64) bool  { return f >= 0 && f <= 100 }

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// formatNumber formats a float without trailing zeros.
func formatNumber(f float64) string { return fmt.Sprint(f) }

// formatFraction formats a fraction as a percentage: 0.155 → "15.5%".
func formatFraction(f float64) string {
	return formatNumber(math.Round(f*1e6)/1e4) + "%"
}

// formatPPM formats parts per million as a percentage.
func formatPPM(v int64) string { return formatFraction(float64(v) / ppm) }
