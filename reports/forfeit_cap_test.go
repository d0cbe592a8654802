package reports

import (
	"strings"
	"testing"
)

// TestCompute_ForfeitCap: a policy's forfeit cap holds what critical
// forfeits take from one employee in one period to a share of his base,
// paying the excess back component by component, and says so in the
// component's summary line. The driver's base is 100,000.00; on-time pays
// 15,000.00 and politeness 10,000.00 at 100 %.
func TestCompute_ForfeitCap(t *testing.T) {
	d := []string{"d1"}
	perfect := []Observation{
		ob("v1", day(3), d, "q-on-time", "delivery_time", 10, 10),
		ob("v1", day(3), d, "q-greet", "politeness", 2, 2),
		ob("v1", day(3), d, "q-truck", "cleanliness", 5, 5),
		ob("v1", day(3), d, "q-hand", "hand_over", 5, 5),
	}
	critical := func(list []Observation, idx ...int) []Observation {
		out := append([]Observation(nil), list...)
		for _, i := range idx {
			out[i].CriticalFailed = true
			out[i].Points = out[i].MaxPoints // the visit scores full marks, but failed a critical question
		}
		return out
	}
	for _, c := range []struct {
		name        string
		cap         float64
		forfeit     []int // components that forfeit on critical
		failed      []int // observations failing a critical question
		wantAmounts []int64
		wantBack    []int64
		capLine     []bool // which summary lines name the cap
	}{
		{"no critical failure", 0.2, []int{0, 1}, nil,
			[]int64{15_000_00, 10_000_00, 10_000_00, 10_000_00}, []int64{0, 0, 0, 0}, []bool{false, false, false, false}},
		{"forfeit without a cap takes everything", 0, []int{0}, []int{0},
			[]int64{0, 10_000_00, 10_000_00, 10_000_00}, []int64{0, 0, 0, 0}, []bool{false, false, false, false}},
		{"a forfeit under the cap is not touched", 0.2, []int{0}, []int{0},
			[]int64{0, 10_000_00, 10_000_00, 10_000_00}, []int64{0, 0, 0, 0}, []bool{false, false, false, false}},
		{"a 10 % cap pays 5,000.00 of the 15,000.00 back", 0.1, []int{0}, []int{0},
			[]int64{5_000_00, 10_000_00, 10_000_00, 10_000_00}, []int64{5_000_00, 0, 0, 0}, []bool{true, false, false, false}},
		{"two forfeits of 25,000.00 under a 20 % cap: 5,000.00 back to the first", 0.2, []int{0, 1}, []int{0, 1},
			[]int64{5_000_00, 0, 10_000_00, 10_000_00}, []int64{5_000_00, 0, 0, 0}, []bool{true, false, false, false}},
		{"a 5 % cap: 15,000.00 back to the first, 5,000.00 to the second", 0.05, []int{0, 1}, []int{0, 1},
			[]int64{15_000_00, 5_000_00, 10_000_00, 10_000_00}, []int64{15_000_00, 5_000_00, 0, 0}, []bool{true, true, false, false}},
		{"a zero cap share is no cap", 0, []int{0, 1}, []int{0, 1},
			[]int64{0, 0, 10_000_00, 10_000_00}, []int64{0, 0, 0, 0}, []bool{false, false, false, false}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := driverPolicy()
			p.ForfeitCap = c.cap
			for _, i := range c.forfeit {
				p.Components[i].ForfeitOnCritical = true
			}
			run, err := Compute(p, march, []Employee{driver}, obsSeq(critical(perfect, c.failed...)))
			if err != nil {
				t.Fatal(err)
			}
			e := run.Employees[0]
			total := e.UnlinkedMinor
			for i, comp := range e.Components {
				total += comp.AmountMinor
				if comp.AmountMinor != c.wantAmounts[i] || comp.ForfeitRestoredMinor != c.wantBack[i] {
					t.Errorf("%s: amount %d, paid back %d; want %d and %d", comp.Name, comp.AmountMinor, comp.ForfeitRestoredMinor, c.wantAmounts[i], c.wantBack[i])
				}
				summary := comp.Lines[0]
				if got := summary.ForfeitCapMinor != nil && strings.Contains(summary.Text, "forfeits capped at"); got != c.capLine[i] {
					t.Errorf("%s: summary %q names the cap: %v, want %v", comp.Name, summary.Text, got, c.capLine[i])
				}
				if c.capLine[i] && *summary.ForfeitCapMinor != amountMinor(driver.BasePayMinor, int64(c.cap*ppm), ppm) {
					t.Errorf("%s: cap %d on the line", comp.Name, *summary.ForfeitCapMinor)
				}
			}
			if total != e.TotalMinor {
				t.Errorf("parts add up to %d, total is %d", total, e.TotalMinor)
			}
		})
	}
	p := driverPolicy()
	p.ForfeitCap = 1.5
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "forfeit cap") {
		t.Errorf("a cap of 150 %%: %v", err)
	}
}
