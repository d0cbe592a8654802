package reports

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNPS(t *testing.T) {
	for name, c := range map[string]struct {
		promoters, passives, detractors int64
		want                            float64
		ok                              bool
	}{
		"None":         {0, 0, 0, 0, false},
		"AllPromoters": {4, 0, 0, 100, true},
		"Mixed":        {5, 3, 2, 30, true}, // (5 − 2) / 10
		"Negative":     {1, 0, 3, -50, true},
		"Thirds":       {1, 1, 1, 0, true},
		"Rounded":      {2, 0, 1, 33.3333, true}, // 1/3, to four decimals of a point
	} {
		t.Run(name, func(t *testing.T) {
			got, ok := NPS(c.promoters, c.passives, c.detractors)
			assert.Equal(t, c.ok, ok)
			assert.InDelta(t, c.want, got, 1e-9)
		})
	}
}

func TestStoreMonths_Compare(t *testing.T) {
	const may, june = 2024*12 + 4, 2024*12 + 5
	sm := StoreMonths{
		{"a", may}:      {Visits: 2, Scored: 2, ScoreSum: 1.6, Passed: 1},
		{"a", june}:     {Visits: 1, Scored: 1, ScoreSum: 1, Passed: 1},
		{"b", june}:     {Visits: 3, Scored: 3, ScoreSum: 1.5},              // new in June
		{"c", may}:      {Visits: 1, Scored: 1, ScoreSum: 0.5},              // gone in June
		{"d", june}:     {Visits: 1},                                        // nothing scored
		{"d", may}:      {Visits: 1, Scored: 1, ScoreSum: 0.9, Passed: 1},   // so left out
		{"e", may}:      {Visits: 4, Scored: 4, ScoreSum: 3.2, Flagged: 2},  // outside the set below
		{"e", june}:     {Visits: 4, Scored: 4, ScoreSum: 2.4, Critical: 1}, //
		{"f", june - 5}: {Visits: 1, Scored: 1, ScoreSum: 1, Passed: 1},     // another month
	}
	c := sm.Compare(june, map[string]bool{"a": true, "b": true, "c": true, "d": true})
	assert.Equal(t, 1, c.Stores, "only a was audited in both months")
	assert.Equal(t, 3, c.LeftOut, "b, c and d")
	mean, _ := c.Current.Mean()
	prev, _ := c.Before.Mean()
	assert.InDelta(t, 1.0, mean, 1e-9)
	assert.InDelta(t, 0.8, prev, 1e-9)
	assert.Contains(t, c.Note(), "1 store(s) audited in both months; 3 store(s)")

	all := sm.Compare(june, nil)
	assert.Equal(t, 2, all.Stores, "a and e")
	mean, _ = all.Current.Mean()
	assert.InDelta(t, 3.4/5, mean, 1e-9, "pooled over the compared stores' visits")
	assert.Equal(t, "no store was audited in both months: nothing to compare", sm.Compare(may, nil).Note())
}

func TestRankedAndWorstFirst(t *testing.T) {
	assert.Equal(t, []string{"b", "a", "c", "z"}, Ranked(map[string]VisitFigures{
		"a": {Scored: 2, ScoreSum: 1.2}, "b": {Scored: 1, ScoreSum: 0.9}, "c": {Visits: 1}, "z": {Visits: 2},
	}), "best mean first, unscored last by key")
	assert.Equal(t, []string{"x", "w", "y"}, WorstFirst(map[string]AnswerFigures{
		"w": {Points: 3, MaxPoints: 4}, "x": {Points: 1, MaxPoints: 4}, "y": {NotApplicable: 3},
	}))
}
