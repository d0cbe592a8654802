package reports

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
)

// DefaultPassScore is the score (fraction 0-1) a visit without a critical
// failure needs to pass, in the audit workbook and the dashboards alike.
const DefaultPassScore = 0.8

// VisitFigures are the statistics of a group of visits, as the database
// sums them: visits, scored visits (something applicable) and the sum of
// their scores (fractions 0-1), passed visits, visits with a critical
// failure and flagged visits.
type VisitFigures struct {
	Visits, Scored, Passed, Critical, Flagged int64
	ScoreSum                                  float64
}

// Add adds another group's figures.
func (g *VisitFigures) Add(o VisitFigures) {
	g.Visits += o.Visits
	g.Scored += o.Scored
	g.Passed += o.Passed
	g.Critical += o.Critical
	g.Flagged += o.Flagged
	g.ScoreSum += o.ScoreSum
}

// Mean is the mean score of the scored visits, as the audit workbook's
// (each visit counts once); ok is false without scored visits.
func (g VisitFigures) Mean() (float64, bool) {
	if g.Scored == 0 {
		return 0, false
	}
	return g.ScoreSum / float64(g.Scored), true
}

// PassRate is the share of scored visits that passed.
func (g VisitFigures) PassRate() (float64, bool) {
	if g.Scored == 0 {
		return 0, false
	}
	return float64(g.Passed) / float64(g.Scored), true
}

// FlaggedShare is the share of visits with flags.
func (g VisitFigures) FlaggedShare() (float64, bool) {
	if g.Visits == 0 {
		return 0, false
	}
	return float64(g.Flagged) / float64(g.Visits), true
}

// StoreMonths holds visit figures by store and month (a month index,
// year*12 + month-1).
type StoreMonths map[StoreMonth]VisitFigures

// StoreMonth keys StoreMonths.
type StoreMonth struct {
	Store string
	Month int
}

// Comparison is a month against the one before it on the same stores:
// only the stores with a scored visit in both months count.
type Comparison struct {
	Month, Previous int
	// Stores compared, and stores with scored visits in one of the two
	// months only, left out.
	Stores, LeftOut int
	// The figures of the compared stores in each month.
	Current, Before VisitFigures
}

// Note says the rule for people.
func (c Comparison) Note() string {
	switch {
	case c.Stores == 0:
		return "no store was audited in both months: nothing to compare"
	case c.LeftOut == 0:
		return fmt.Sprintf("compared on the %d store(s) audited in both months", c.Stores)
	}
	return fmt.Sprintf("compared on the %d store(s) audited in both months; %d store(s) audited in only one of them left out", c.Stores, c.LeftOut)
}

// Compare compares month with the month before on the stores among
// stores (nil: all) audited (a scored visit) in both.
func (sm StoreMonths) Compare(month int, stores map[string]bool) Comparison {
	c := Comparison{Month: month, Previous: month - 1}
	seen := map[string]bool{}
	for k := range sm {
		if (k.Month == month || k.Month == month-1) && (stores == nil || stores[k.Store]) {
			seen[k.Store] = true
		}
	}
	for _, s := range slices.Sorted(maps.Keys(seen)) {
		cur, prev := sm[StoreMonth{s, month}], sm[StoreMonth{s, month - 1}]
		if cur.Scored == 0 || prev.Scored == 0 {
			if cur.Scored > 0 || prev.Scored > 0 {
				c.LeftOut++
			}
			continue
		}
		c.Stores++
		c.Current.Add(cur)
		c.Before.Add(prev)
	}
	return c
}

// Ranked orders keys by mean score, best first; those without a scored
// visit last, each group by key.
func Ranked(figures map[string]VisitFigures) []string {
	return orderedBy(figures, VisitFigures.Mean, true)
}

// orderedBy orders the keys of figures by the value measure gives, highest
// first when desc, lowest first otherwise; keys whose figure has no value
// (ok false) come last, and ties and the valueless keep key order.
func orderedBy[F any](figures map[string]F, measure func(F) (float64, bool), desc bool) []string {
	keys := slices.Sorted(maps.Keys(figures))
	slices.SortStableFunc(keys, func(a, b string) int {
		va, oka := measure(figures[a])
		vb, okb := measure(figures[b])
		switch {
		case oka && !okb:
			return -1
		case !oka && okb:
			return 1
		case !oka:
			return 0
		}
		if desc {
			return cmp.Compare(vb, va)
		}
		return cmp.Compare(va, vb)
	})
	return keys
}

// AnswerFigures are the statistics of applicable and not applicable
// answers of a category, clause or question.
type AnswerFigures struct {
	Answers, NotApplicable, CriticalFailures, Visits int64
	Points, MaxPoints                                float64
}

// Add adds another group's figures.
func (a *AnswerFigures) Add(o AnswerFigures) {
	a.Answers += o.Answers
	a.NotApplicable += o.NotApplicable
	a.CriticalFailures += o.CriticalFailures
	a.Visits += o.Visits
	a.Points += o.Points
	a.MaxPoints += o.MaxPoints
}

// Compliance is points over maximum points; ok is false without
// applicable answers.
func (a AnswerFigures) Compliance() (float64, bool) {
	if a.MaxPoints == 0 {
		return 0, false
	}
	return a.Points / a.MaxPoints, true
}

// WorstFirst orders keys by compliance, worst first; those without
// applicable answers last, each group by key (the audit workbook's By
// clause order).
func WorstFirst(figures map[string]AnswerFigures) []string {
	return orderedBy(figures, AnswerFigures.Compliance, false)
}

// NPS returns the net promoter score of the answers: promoters minus
// detractors in percent of all answers; ok is false without answers.
func NPS(promoters, passives, detractors int64) (float64, bool) {
	n := promoters + passives + detractors
	if n == 0 {
		return 0, false
	}
	return math.Round(float64(promoters-detractors)/float64(n)*1e6) / 1e4, true
}
