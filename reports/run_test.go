package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// march is the period of the golden tests.
var march = Period{
	From: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
	To:   time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC),
}

func day(d int) time.Time { return time.Date(2025, 3, d, 10, 0, 0, 0, time.UTC) }

func thresholds9075() Rule {
	return Rule{Thresholds: []Threshold{{MinPercent: 90, Payout: 1}, {MinPercent: 75, Payout: 0.5}}}
}

// driverPolicy is the source documents' example: 55% for the number of
// trips (not audited), 15% on-time delivery, 10% politeness, 10% clean
// truck, 10% hand-over quality; ≥ 90% pays the component in full, ≥ 75%
// half, anything less nothing.
func driverPolicy() Policy {
	comp := func(name string, share float64, category string) Component {
		return Component{Name: name, Share: share, Categories: []string{category}, Rule: thresholds9075()}
	}
	return Policy{
		ID: "drivers", Version: 1, Name: "Delivery drivers", Positions: []string{"driver"},
		Base: BaseTargetVariable, UnlinkedShare: 0.55,
		Components: []Component{
			comp("on-time", 0.15, "delivery_time"),
			comp("politeness", 0.10, "politeness"),
			comp("clean truck", 0.10, "cleanliness"),
			comp("hand-over", 0.10, "hand_over"),
		},
	}
}

func obsSeq(list []Observation) iter.Seq2[Observation, error] {
	return func(yield func(Observation, error) bool) {
		for _, o := range list {
			if !yield(o, nil) {
				return
			}
		}
	}
}

func ob(visit string, at time.Time, staff []string, q, category string, points, max float64) Observation {
	return Observation{VisitID: visit, StoreID: "fleet", StaffIDs: staff, VisitedAt: at, QuestionID: q,
		Category: category, Points: points, MaxPoints: max}
}

var driver = Employee{StaffID: "d1", EmployeeNumber: "E-001", Name: "Ivan Petrov", Position: "driver",
	Department: "logistics", StoreID: "fleet", BasePayMinor: 100_000_00}

// driverObservations give the period scores of the issue: on-time 95%
// (visits of 100% and 90%), politeness 80%, cleanliness 60%, hand-over 100%.
func driverObservations() []Observation {
	d := []string{"d1"}
	return []Observation{
		ob("v1", day(3), d, "q-on-time", "delivery_time", 10, 10),
		ob("v2", day(17), d, "q-on-time", "delivery_time", 9, 10),
		ob("v1", day(3), d, "q-greet", "politeness", 2, 2),
		ob("v1", day(3), d, "q-thanks", "politeness", 2, 3),
		ob("v2", day(17), d, "q-greet", "politeness", 8, 10),
		ob("v1", day(3), d, "q-truck", "cleanliness", 3, 5),
		ob("v2", day(17), d, "q-truck", "cleanliness", 6, 10),
		ob("v1", day(3), d, "q-hand-over", "hand_over", 1, 1),
		ob("v2", day(17), d, "q-hand-over", "hand_over", 1, 1),
		ob("v2", day(17), d, "q-na", "hand_over", 0, 0),
	}
}

func mustCompute(t *testing.T, p Policy, emps []Employee, obs []Observation) *Run {
	t.Helper()
	run, err := Compute(p, march, emps, obsSeq(obs))
	require.NoError(t, err)
	return run
}

func TestCompute_DriverExample(t *testing.T) {
	run := mustCompute(t, driverPolicy(), []Employee{driver}, driverObservations())
	require.Len(t, run.Employees, 1)
	e := run.Employees[0]

	// Base 100 000.00 (10 000 000 minor units):
	//   unlinked    55% × 100 000.00                    = 55 000.00
	//   on-time     95% ≥ 90 → 100% × 15% × 100 000.00   = 15 000.00
	//   politeness  80% ≥ 75 →  50% × 10% × 100 000.00   =  5 000.00
	//   clean truck 60% < 75 →   0% × 10% × 100 000.00   =      0.00
	//   hand-over  100% ≥ 90 → 100% × 10% × 100 000.00   = 10 000.00
	//   total 55 000 + 15 000 + 5 000 + 0 + 10 000       = 85 000.00
	assert.Equal(t, int64(55_000_00), e.UnlinkedMinor)
	want := []struct {
		name   string
		score  float64
		payout float64
		amount int64
	}{
		{"on-time", 95, 1, 15_000_00},
		{"politeness", 80, 0.5, 5_000_00},
		{"clean truck", 60, 0, 0},
		{"hand-over", 100, 1, 10_000_00},
	}
	require.Len(t, e.Components, len(want))
	for i, w := range want {
		c := e.Components[i]
		assert.Equal(t, w.name, c.Name)
		assert.Equal(t, 2, c.Visits, w.name)
		require.NotNil(t, c.ScorePercent, w.name)
		assert.Equal(t, w.score, *c.ScorePercent, w.name)
		assert.Equal(t, w.payout, c.Payout, w.name)
		assert.Equal(t, w.amount, c.AmountMinor, w.name)
		assert.False(t, c.MinSampleDefault, w.name)
		assert.False(t, c.CriticalForfeit, w.name)
	}
	assert.Equal(t, int64(85_000_00), e.TotalMinor)

	lines := e.Components[1].Lines
	require.Len(t, lines, 3) // summary + two visits
	assert.Contains(t, lines[0].Text, "score 80% (mean)")
	assert.Contains(t, lines[0].Text, "= 5,000.00")
	assert.Equal(t, "v1", lines[1].VisitID)
	assert.Contains(t, lines[1].Text, "q-thanks (−1 of 3)")
	assert.Equal(t, "v2", lines[2].VisitID)

	assert.Equal(t, int64(10), run.Stats.Observations)
	assert.Equal(t, int64(9), run.Stats.Used)
	assert.Equal(t, int64(1), run.Stats.NotApplicable)
	assert.Len(t, run.InputsHash, 64)
}

func TestCompute_MinSample(t *testing.T) {
	p := driverPolicy()
	p.Components[0].MinVisits = 3
	p.Components[0].DefaultPayout = 0.5
	p.Components[1].DefaultPayout = 0.25 // judged: two visits meet the default minimum of one
	obs := driverObservations()
	obs = slices.DeleteFunc(obs, func(o Observation) bool { return o.Category == "cleanliness" })
	p.Components[2].DefaultPayout = 1

	run := mustCompute(t, p, []Employee{driver}, obs)
	c := run.Employees[0].Components
	assert.True(t, c[0].MinSampleDefault)
	assert.Equal(t, 0.5, c[0].Payout)
	assert.Equal(t, int64(7_500_00), c[0].AmountMinor) // 50% × 15% × 100 000.00
	require.NotNil(t, c[0].ScorePercent)
	assert.Equal(t, 95.0, *c[0].ScorePercent)
	assert.Contains(t, c[0].Lines[0].Text, "2 visit(s), 3 required: default payout 50% used")

	assert.False(t, c[1].MinSampleDefault)
	assert.Equal(t, 0.5, c[1].Payout)

	// No cleanliness observation at all: no score, the default is paid.
	assert.True(t, c[2].MinSampleDefault)
	assert.Nil(t, c[2].ScorePercent)
	assert.Equal(t, 0, c[2].Visits)
	assert.Equal(t, int64(10_000_00), c[2].AmountMinor)
	assert.Equal(t, int64(55_000_00+7_500_00+5_000_00+10_000_00+10_000_00), run.Employees[0].TotalMinor)
}

func TestCompute_CriticalForfeit(t *testing.T) {
	p := driverPolicy()
	p.Components[0].ForfeitOnCritical = true
	obs := driverObservations()
	obs[0].CriticalFailed = true // v1 q-on-time, though it scored full points
	obs[2].CriticalFailed = true // v1 q-greet: politeness does not forfeit

	run := mustCompute(t, p, []Employee{driver}, obs)
	c := run.Employees[0].Components
	assert.True(t, c[0].CriticalForfeit)
	assert.Equal(t, 0.0, c[0].Payout)
	assert.Equal(t, int64(0), c[0].AmountMinor)
	assert.Regexp(t, `critical failure \(q-on-time on \d{4}-\d\d-\d\d \d\d:\d\d UTC\): component forfeited`, c[0].Lines[0].Text)
	assert.Equal(t, []string{"q-on-time"}, c[0].Lines[1].Critical, "the visit line names the failed question")
	assert.False(t, c[1].CriticalForfeit)
	assert.Equal(t, int64(5_000_00), c[1].AmountMinor)
	assert.Contains(t, c[1].Lines[1].Text, "critical failure on q-greet")
	assert.Equal(t, int64(70_000_00), run.Employees[0].TotalMinor)

	// Forfeiture wins over the minimum sample.
	p.Components[0].MinVisits = 5
	p.Components[0].DefaultPayout = 1
	run = mustCompute(t, p, []Employee{driver}, obs)
	assert.True(t, run.Employees[0].Components[0].CriticalForfeit)
	assert.False(t, run.Employees[0].Components[0].MinSampleDefault)
	assert.Equal(t, int64(0), run.Employees[0].Components[0].AmountMinor)
}

func TestCompute_StoreLevelAttribution(t *testing.T) {
	p := Policy{ID: "store", Version: 2, Base: BasePay, UnlinkedShare: 0.8, Positions: []string{"seller", "cashier"},
		Components: []Component{{Name: "price tags", Share: 0.2, Clauses: []string{"PT-1"}, Rule: thresholds9075()}}}
	emps := []Employee{
		{StaffID: "a", Name: "Anna", Position: "seller", StoreID: "s1", BasePayMinor: 50_000_00},
		{StaffID: "b", Name: "Boris", Position: "cashier", StoreID: "s1", BasePayMinor: 40_000_00},
		{StaffID: "c", Name: "Clara", Position: "seller", StoreID: "s2", BasePayMinor: 50_000_00},
		{StaffID: "m", Name: "Max", Position: "manager", StoreID: "s1", BasePayMinor: 90_000_00},
	}
	at := day(10)
	obs := []Observation{
		{VisitID: "v1", StoreID: "s1", VisitedAt: at, QuestionID: "q-tags", Clause: "PT-1", Points: 9, MaxPoints: 10},
		{VisitID: "v1", StoreID: "s1", StaffIDs: []string{"a"}, VisitedAt: at, QuestionID: "q-tag-a", Clause: "PT-1", Points: 0, MaxPoints: 10},
		{VisitID: "v2", StoreID: "s2", StaffIDs: []string{"zz"}, VisitedAt: at, QuestionID: "q-tags", Clause: "PT-1", Points: 1, MaxPoints: 1},
		{VisitID: "v3", StoreID: "s3", VisitedAt: at, QuestionID: "q-tags", Clause: "PT-1", Points: 1, MaxPoints: 1},
		{VisitID: "v1", StoreID: "s1", VisitedAt: at, QuestionID: "q-other", Clause: "X-9", Points: 1, MaxPoints: 1},
	}
	run := mustCompute(t, p, emps, obs)
	require.Len(t, run.Employees, 3, "the manager is not covered")
	byID := map[string]EmployeeResult{}
	for _, e := range run.Employees {
		byID[e.StaffID] = e
	}
	// Anna: the store-level 9/10 plus her own 0/10 in the same visit = 45%.
	assert.Equal(t, 45.0, *byID["a"].Components[0].ScorePercent)
	assert.Equal(t, 1, byID["a"].Components[0].Visits)
	assert.Equal(t, int64(0), byID["a"].Components[0].AmountMinor)
	// Boris: store-level only, 90% → full 20% of 40 000.00 = 8 000.00.
	assert.Equal(t, 90.0, *byID["b"].Components[0].ScorePercent)
	assert.Equal(t, int64(8_000_00), byID["b"].Components[0].AmountMinor)
	// Clara: nothing counts for her store; the observation names someone else.
	assert.Equal(t, 0, byID["c"].Components[0].Visits)
	assert.Equal(t, RunStats{Employees: 4, Covered: 3, Observations: 5, Used: 2, Unattributed: 2, Unmatched: 1}, run.Stats)
}

func TestCompute_RecencyWeighted(t *testing.T) {
	p := driverPolicy()
	p.Components[0].Combine = CombineRecencyWeighted
	p.Components[0].HalfLifeDays = 7
	early := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC) // 29 days before the period's end
	late := time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC) // 1 day before it
	d := []string{"d1"}
	obs := []Observation{
		ob("early", early, d, "q-on-time", "delivery_time", 0, 10),
		ob("late", late, d, "q-on-time", "delivery_time", 10, 10),
	}
	run := mustCompute(t, p, []Employee{driver}, obs)
	c := run.Employees[0].Components[0]
	wEarly, wLate := math.Exp2(-29.0/7), math.Exp2(-1.0/7)
	want := math.Round(100*wLate/(wEarly+wLate)*1e6) / 1e6 // ≈ 94.57, a plain mean would be 50
	require.NotNil(t, c.ScorePercent)
	assert.Equal(t, want, *c.ScorePercent)
	assert.Equal(t, 1.0, c.Payout) // ≥ 90; the plain mean, 50%, would pay nothing
	assert.Contains(t, c.Lines[0].Text, "recency-weighted, half-life 7 days")
	assert.Contains(t, c.Lines[1].Text, "weight 0.057")
}

func TestCompute_LinearRuleAndRounding(t *testing.T) {
	p := driverPolicy()
	p.Components[1].Rule = Rule{Linear: &Linear{From: 60, To: 95}}
	e := driver
	e.BasePayMinor = 333_33 // odd base to exercise rounding
	run := mustCompute(t, p, []Employee{e}, driverObservations())
	c := run.Employees[0].Components[1]
	// 80% is 20/35 of the way: payout 0.571429 (six decimals).
	assert.Equal(t, 0.571429, c.Payout)
	// 33 333 × 0.10 × 0.571429 = 1 904.764... → 1 905 minor units.
	assert.Equal(t, int64(1905), c.AmountMinor)
	var sum int64 = run.Employees[0].UnlinkedMinor
	for _, c := range run.Employees[0].Components {
		sum += c.AmountMinor
	}
	assert.Equal(t, sum, run.Employees[0].TotalMinor)
}

func TestRoundHalfAway(t *testing.T) {
	for _, tc := range []struct {
		num, den, want int64
	}{{5, 10, 1}, {15, 10, 2}, {14, 10, 1}, {-5, 10, -1}, {-15, 10, -2}, {-14, 10, -1}, {0, 10, 0}} {
		assert.Equal(t, tc.want, roundHalfAway(big.NewInt(tc.num), big.NewInt(tc.den)), "%d/%d", tc.num, tc.den)
	}
	// 1 minor unit × 50% share × 100% payout is exactly half: away from zero.
	assert.Equal(t, int64(1), amountMinor(1, 500_000, 1_000_000))
}

func TestCompute_Reproducible(t *testing.T) {
	p := driverPolicy()
	emps := []Employee{driver, {StaffID: "d2", Name: "Olga", Position: "driver", StoreID: "fleet", BasePayMinor: 80_000_00}}
	obs := driverObservations()
	obs = append(obs, ob("v3", day(20), nil, "q-truck", "cleanliness", 4, 5), ob("v4", day(5), []string{"d2", "d1"}, "q-greet", "politeness", 1, 3))

	encode := func(r *Run) []byte {
		b, err := json.Marshal(r)
		require.NoError(t, err)
		return b
	}
	first := mustCompute(t, p, emps, obs)
	second := mustCompute(t, p, emps, obs)
	assert.Equal(t, encode(first), encode(second))
	assert.Equal(t, first.InputsHash, second.InputsHash)

	rng := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		sh := slices.Clone(obs)
		rng.Shuffle(len(sh), func(i, j int) { sh[i], sh[j] = sh[j], sh[i] })
		for i := range sh {
			sh[i].StaffIDs = slices.Clone(sh[i].StaffIDs)
			slices.Reverse(sh[i].StaffIDs)
			sh[i].VisitedAt = sh[i].VisitedAt.In(time.FixedZone("MSK", 3*3600))
		}
		em := slices.Clone(emps)
		slices.Reverse(em)
		again, err := Compute(p, march, em, obsSeq(sh))
		require.NoError(t, err)
		assert.Equal(t, string(encode(first)), string(encode(again)))
	}

	changed := slices.Clone(obs)
	changed[1].Points = 8
	other := mustCompute(t, p, emps, changed)
	assert.NotEqual(t, first.InputsHash, other.InputsHash)

	// A duplicated observation changes the hash: the digest is a multiset.
	dup := mustCompute(t, p, emps, append(slices.Clone(obs), obs[0], obs[0]))
	assert.NotEqual(t, first.InputsHash, dup.InputsHash)
}

func TestDiff(t *testing.T) {
	p := driverPolicy()
	locked := mustCompute(t, p, []Employee{driver}, driverObservations())
	assert.Empty(t, Diff(locked, mustCompute(t, p, []Employee{driver}, driverObservations())))

	// Visit v2 is reopened: it no longer counts.
	obs := slices.DeleteFunc(driverObservations(), func(o Observation) bool { return o.VisitID == "v2" })
	olga := Employee{StaffID: "d2", Name: "Olga", Position: "driver", StoreID: "fleet", BasePayMinor: 10_00}
	fresh := mustCompute(t, p, []Employee{driver, olga}, obs)
	changes := Diff(locked, fresh)

	var got []string
	for _, c := range changes {
		got = append(got, c.String())
	}
	text := strings.Join(got, "\n")
	assert.Equal(t, "inputs_hash", changes[0].Field)
	// People read names and employee numbers, scores to one decimal with
	// the change in percentage points, money with its signed difference.
	assert.Contains(t, text, `Ivan Petrov (E-001) / on-time: visits 2 → 1 (−1)`)
	assert.Contains(t, text, `Ivan Petrov (E-001) / on-time: score 95.0% → 100.0% (+5.0 pp)`)
	assert.NotContains(t, text, "d1", "no staff ids")
	// v1 alone still scores politeness 80% and cleanliness 60%: unchanged
	// fields are not listed, and neither is the unchanged total.
	assert.NotContains(t, text, "politeness: score")
	assert.NotContains(t, text, "(E-001): total")
	assert.Contains(t, text, `Olga: employee added, total 5.50`)

	// Now politeness drops: v1 had 4 of 5 points (80%); q-thanks gets 1 of 3.
	obs[2].Points = 1
	fresh = mustCompute(t, p, []Employee{driver}, obs)
	changes = Diff(locked, fresh)
	got = got[:0]
	for _, c := range changes {
		got = append(got, c.String())
	}
	text = strings.Join(got, "\n")
	assert.Contains(t, text, `Ivan Petrov (E-001) / politeness: score 80.0% → 60.0% (−20.0 pp)`)
	assert.Contains(t, text, `Ivan Petrov (E-001) / politeness: payout 50.0% → 0.0% (−50.0 pp)`)
	assert.Contains(t, text, `Ivan Petrov (E-001) / politeness: amount 5,000.00 → 0.00 (−5,000.00)`)
	assert.Contains(t, text, `Ivan Petrov (E-001): total 85,000.00 → 80,000.00 (−5,000.00)`)
	for _, c := range changes {
		if c.Field == "total_minor" {
			assert.Equal(t, int64(85_000_00), *c.OldMinor, "money for screens in minor units")
			assert.Equal(t, int64(80_000_00), *c.NewMinor)
		}
	}

	p.Version = 2
	assert.Equal(t, "policy", Diff(locked, mustCompute(t, p, []Employee{driver}, driverObservations()))[0].Field)
}

func TestPolicy_Validate(t *testing.T) {
	ok := driverPolicy()
	require.NoError(t, ok.Validate())

	for name, tc := range map[string]struct {
		edit func(p *Policy)
		want string
	}{
		"ErrSharesSum": {func(p *Policy) { p.UnlinkedShare = 0.5 },
			`shares sum to 95% (unlinked 50% + on-time 15% + politeness 10% + clean truck 10% + hand-over 10%), want 100%`},
		"ErrNoID":          {func(p *Policy) { p.ID = " " }, "policy id is empty"},
		"ErrVersion":       {func(p *Policy) { p.Version = 0 }, "version 0, want 1 or more"},
		"ErrBase":          {func(p *Policy) { p.Base = "salary" }, `base "salary"`},
		"ErrNoComponents":  {func(p *Policy) { p.Components = nil; p.UnlinkedShare = 1 }, "no components"},
		"ErrDuplicateName": {func(p *Policy) { p.Components[1].Name = "on-time" }, `component 2 ("on-time"): name used by an earlier component`},
		"ErrNoSelector":    {func(p *Policy) { p.Components[0].Categories = nil }, "no categories or clauses"},
		"ErrBothRules": {func(p *Policy) { p.Components[0].Rule.Linear = &Linear{From: 1, To: 2} },
			"both thresholds and linear are set"},
		"ErrNoRule":         {func(p *Policy) { p.Components[0].Rule = Rule{} }, "neither thresholds nor linear"},
		"ErrLinearOrder":    {func(p *Policy) { p.Components[0].Rule = Rule{Linear: &Linear{From: 90, To: 60}} }, "linear from 90 is not below to 60"},
		"ErrThresholdPay":   {func(p *Policy) { p.Components[0].Rule.Thresholds[0].Payout = 1.5 }, "threshold 1: payout 1.5, want 0 to 1"},
		"ErrThresholdTwice": {func(p *Policy) { p.Components[0].Rule.Thresholds[1].MinPercent = 90 }, "min percent 90 listed twice"},
		"ErrShareDecimals":  {func(p *Policy) { p.Components[0].Share = 0.1500001 }, "has more than six decimals"},
		"ErrCombine":        {func(p *Policy) { p.Components[0].Combine = "median" }, `combine "median"`},
		"ErrHalfLife":       {func(p *Policy) { p.Components[0].Combine = CombineRecencyWeighted }, "needs a half-life of 1 to 3650 days"},
		"ErrTinyHalfLife": {func(p *Policy) {
			p.Components[0].Combine, p.Components[0].HalfLifeDays = CombineRecencyWeighted, 0.001
		}, "needs a half-life of 1 to 3650 days, got 0.001"},
		"ErrNaNHalfLife": {func(p *Policy) {
			p.Components[0].Combine, p.Components[0].HalfLifeDays = CombineRecencyWeighted, math.NaN()
		}, "needs a half-life"},
		"ErrNaNShare":      {func(p *Policy) { p.Components[0].Share = math.NaN() }, "share: NaN, want 0 to 1"},
		"ErrDefaultPayout": {func(p *Policy) { p.Components[0].DefaultPayout = -0.1 }, "default payout -0.1, want 0 to 1"},
		"ErrMinVisits":     {func(p *Policy) { p.Components[0].MinVisits = -1 }, "min visits -1 is negative"},
	} {
		t.Run(name, func(t *testing.T) {
			p := driverPolicy()
			tc.edit(&p)
			err := p.Validate()
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
			_, err = Compute(p, march, nil, obsSeq(nil))
			assert.ErrorIs(t, err, ErrInvalid)
		})
	}
}

func TestCompute_BadInput(t *testing.T) {
	p := driverPolicy()
	t.Run("ErrPeriod", func(t *testing.T) {
		_, err := Compute(p, Period{From: march.To, To: march.From}, nil, obsSeq(nil))
		assert.ErrorIs(t, err, ErrInvalid)
		assert.ErrorContains(t, err, "from is not before to")
	})
	t.Run("ErrDuplicateEmployee", func(t *testing.T) {
		_, err := Compute(p, march, []Employee{driver, driver}, obsSeq(nil))
		assert.ErrorIs(t, err, ErrInvalid)
		assert.ErrorContains(t, err, `employee "d1": listed twice`)
	})
	t.Run("ErrNegativeBase", func(t *testing.T) {
		e := driver
		e.BasePayMinor = -1
		_, err := Compute(p, march, []Employee{e}, obsSeq(nil))
		assert.ErrorContains(t, err, "base pay -1 is negative")
	})
	for name, tc := range map[string]struct {
		edit func(o *Observation)
		want string
	}{
		"ErrPointsAboveMax": {func(o *Observation) { o.Points = 11 }, "observation 2: reports: visit \"v2\" question \"q-on-time\": points 11 exceed the maximum 10"},
		"ErrNaN":            {func(o *Observation) { o.Points = math.NaN() }, "are not finite"},
		"ErrNoVisit":        {func(o *Observation) { o.VisitID = "" }, "visit id is empty"},
		"ErrNoTime":         {func(o *Observation) { o.VisitedAt = time.Time{} }, "visit time is missing"},
		"ErrTimeMismatch":   {func(o *Observation) { o.VisitedAt = day(18) }, `visit "v2": observations disagree on the visit time`},
		"ErrEmptyStaff":     {func(o *Observation) { o.StaffIDs = []string{""} }, "staff ids contain an empty value"},
	} {
		t.Run(name, func(t *testing.T) {
			obs := driverObservations()
			if name == "ErrTimeMismatch" {
				extra := obs[1]
				extra.QuestionID = "q-on-time-2"
				obs = append(obs, extra)
				tc.edit(&obs[len(obs)-1])
			} else {
				tc.edit(&obs[1])
			}
			_, err := Compute(p, march, []Employee{driver}, obsSeq(obs))
			assert.ErrorIs(t, err, ErrInvalid)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	t.Run("ErrIterator", func(t *testing.T) {
		boom := errors.New("connection reset")
		seq := func(yield func(Observation, error) bool) {
			if yield(driverObservations()[0], nil) {
				yield(Observation{}, boom)
			}
		}
		_, err := Compute(p, march, []Employee{driver}, seq)
		assert.ErrorIs(t, err, boom)
		assert.ErrorContains(t, err, "reading observation 2")
	})
	t.Run("OutsidePeriod", func(t *testing.T) {
		obs := append(driverObservations(), ob("v0", march.To, []string{"d1"}, "q-on-time", "delivery_time", 0, 10))
		run := mustCompute(t, p, []Employee{driver}, obs)
		assert.Equal(t, int64(1), run.Stats.OutsidePeriod)
		assert.Equal(t, int64(85_000_00), run.Employees[0].TotalMinor)
	})
}

func TestCompute_ExplanationLimit(t *testing.T) {
	p := driverPolicy()
	p.ExplanationLimit = 2
	var obs []Observation
	for d := 1; d <= 5; d++ {
		obs = append(obs, ob("v"+string(rune('0'+d)), day(d), []string{"d1"}, "q-on-time", "delivery_time", 10, 10))
	}
	c := mustCompute(t, p, []Employee{driver}, obs).Employees[0].Components[0]
	assert.Equal(t, 3, c.OmittedVisits)
	require.Len(t, c.Lines, 4) // summary, two visits, the omission
	assert.Equal(t, "v1", c.Lines[1].VisitID)
	assert.Equal(t, "v2", c.Lines[2].VisitID)
	assert.Equal(t, "on-time: 3 more visit(s) not listed", c.Lines[3].Text)
}

// TestInputsHash_Batched: a run large enough to hash its observations on
// the hashing goroutine, in several batches and a remainder, has the hash
// of the same observations hashed one at a time on the caller's
// goroutine, in any order; a run that fails half way leaves no goroutine
// behind (stop returns).
func TestInputsHash_Batched(t *testing.T) {
	p := driverPolicy()
	emps := []Employee{driver}
	var obs []Observation
	for i := range 3*hashBatch + 17 {
		obs = append(obs, ob(fmt.Sprintf("v%05d", i/40), day(1+(i/40)%28), []string{"d1"}, fmt.Sprintf("q%d", i%40), "politeness", float64(i%5), 5))
	}
	run := mustCompute(t, p, emps, obs)

	sorted := slices.Clone(emps)
	ref := newInputsHasher(&p, Period{From: march.From.UTC(), To: march.To.UTC()}, sorted)
	for i := len(obs) - 1; i >= 0; i-- {
		ref.hash(&obs[i])
	}
	assert.Equal(t, ref.sum(), run.InputsHash)
	assert.Equal(t, int64(len(obs)), run.Stats.Observations)

	bad := slices.Clone(obs)
	bad[2*hashBatch+5].MaxPoints = -1
	_, err := Compute(p, march, emps, obsSeq(bad))
	require.Error(t, err)
}
