package audit

import (
	"testing"

	"github.com/shopscore/shopscore/audit/demopack"
)

// TestScore_Delivery scores the driver example of MISSION-NOTES against the
// demo pack's delivery checklist. A driver's pay is 55% for trips and 45%
// for quality: 15% on-time delivery, 10% politeness, 10% clean truck, 10%
// hand-over; the checklist weighs its questions 15, 10, 10 and 10, so a
// question's points are the percentage points of pay it earns.
func TestScore_Delivery(t *testing.T) {
	p, err := ParsePack("demo-pack.json", demopack.JSON)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := p.Checklist("delivery")
	if !ok {
		t.Fatal("the demo pack has no delivery checklist")
	}
	v, err := Publish(NewDraft(c, 1), testTime)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("MixedVisit", func(t *testing.T) {
		// minutes_late 3 > 0       -> fails:           0 of 15
		// driver_polite yes        -> passes:         10 of 10
		// truck_clean no (+photo)  -> fails:           0 of 10
		// handover "unchecked"     -> 1 of 2 option points: 10 * 1/2 = 5 of 10
		// overall: (0 + 10 + 0 + 5) / (15 + 10 + 10 + 10) = 15/45 = 33.33%
		// so the driver earns 15 of the 45 quality percentage points of pay.
		// categories: delivery   = DLV-1 + DLV-2 = (0 + 5) / (15 + 10) = 20%
		//             politeness = 10/10 = 100%, cleanliness = 0/10 = 0%
		s := mustScore(t, v,
			number("minutes_late", 3),
			yes("driver_polite"),
			Answer{QuestionID: "truck_clean", Bool: boolp(false), PhotoHashes: []string{hashA}},
			Answer{QuestionID: "handover", Choices: []string{"unchecked"}},
		)
		equal(t, "errors", s.Errors, []AnswerError(nil))
		near(t, "points", s.Overall.Points, 15)
		near(t, "max", s.Overall.Max, 45)
		near(t, "overall", percent(s.Overall), 100.0/3)
		want := map[string]float64{"cleanliness": 0, "delivery": 20, "politeness": 100}
		for _, g := range s.Categories {
			near(t, "category "+g.Key, percent(g.Subtotal), want[g.Key])
		}
		equal(t, "categories", len(s.Categories), 3)
		wantStd := map[string]float64{"CLN-2": 0, "DLV-1": 0, "DLV-2": 50, "POL-1": 100}
		for _, g := range s.Standards {
			near(t, "standard "+g.Key, percent(g.Subtotal), wantStd[g.Key])
		}
		equal(t, "critical failures", len(s.CriticalFailures), 0)
	})
	t.Run("PerfectVisit", func(t *testing.T) {
		// Two minutes early counts as on time (target <= 0): 45/45 = 100%.
		s := mustScore(t, v,
			number("minutes_late", -2),
			yes("driver_polite"),
			yes("truck_clean"),
			Answer{QuestionID: "handover", Choices: []string{"checked"}},
		)
		near(t, "overall", percent(s.Overall), 100)
		equal(t, "complete", s.Complete(), true)
	})
	t.Run("DirtyTruckNeedsPhoto", func(t *testing.T) {
		s := mustScore(t, v,
			number("minutes_late", 0),
			yes("driver_polite"),
			no("truck_clean"),
			Answer{QuestionID: "handover", Choices: []string{"problem"}, Note: "two boxes crushed"},
		)
		// 15 + 10 + 0 + 0 = 25 of 45; both rules want a photo.
		near(t, "overall", percent(s.Overall), 2500.0/45)
		equal(t, "errors", errorKinds(s), []AnswerErrorKind{AnswerPhotosRequired, AnswerPhotosRequired})
	})
}
