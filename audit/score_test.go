package audit

import (
	"testing"
)

func TestScore_YesNo(t *testing.T) {
	t.Run("YesPasses", func(t *testing.T) {
		runQuestionCases(t, Question{ID: "q", Type: QuestionYesNo, Text: "Greeted?", Required: true}, []questionCase{
			{name: "Yes", answer: ans(yes("q")), points: 1, max: 1},
			{name: "No", answer: ans(no("q")), points: 0, max: 1, failed: true},
			{name: "Missing", answer: nil, errs: []AnswerErrorKind{AnswerMissing}},
			{name: "NoteOnlyIsNoAnswer", answer: ans(Answer{QuestionID: "q", Note: "hm"}), errs: []AnswerErrorKind{AnswerMissing}},
			{name: "NANotAllowed", answer: ans(na("q")), errs: []AnswerErrorKind{AnswerNANotAllowed}},
			{name: "WrongType", answer: ans(number("q", 1)), errs: []AnswerErrorKind{AnswerWrongType}},
			{name: "TextIsWrongType", answer: ans(Answer{QuestionID: "q", Bool: boolp(true), Text: "x"}), errs: []AnswerErrorKind{AnswerWrongType}},
		})
	})
	t.Run("PassOnNo", func(t *testing.T) {
		runQuestionCases(t, Question{ID: "q", Type: QuestionYesNo, Text: "Any dirt?", PassOnNo: true, AllowNA: true, Weight: 3}, []questionCase{
			{name: "No", answer: ans(no("q")), points: 3, max: 3},
			{name: "Yes", answer: ans(yes("q")), points: 0, max: 3, failed: true},
			{name: "NA", answer: ans(na("q"))},
			{name: "NAWithValue", answer: ans(Answer{QuestionID: "q", NA: true, Bool: boolp(true)}), errs: []AnswerErrorKind{AnswerWrongType}},
			{name: "MissingNotRequired", answer: nil},
		})
	})
}

func TestScore_Scale(t *testing.T) {
	t.Run("DefaultPoints", func(t *testing.T) {
		// Step k earns k-1 of 4: step 3 is 2/4 of the weight 2.
		runQuestionCases(t, Question{ID: "q", Type: QuestionScale, Text: "Rate", ScaleMax: 5, Weight: 2}, []questionCase{
			{name: "Top", answer: ans(number("q", 5)), points: 2, max: 2},
			{name: "Middle", answer: ans(number("q", 3)), points: 1, max: 2, failed: true},
			{name: "Bottom", answer: ans(number("q", 1)), points: 0, max: 2, failed: true},
			{name: "Zero", answer: ans(number("q", 0)), errs: []AnswerErrorKind{AnswerOutOfRange}},
			{name: "TooHigh", answer: ans(number("q", 6)), errs: []AnswerErrorKind{AnswerOutOfRange}},
			{name: "Fraction", answer: ans(number("q", 2.5)), errs: []AnswerErrorKind{AnswerOutOfRange}},
		})
	})
	t.Run("PointsPerStep", func(t *testing.T) {
		// Steps earn 0, 0, 1, 2, 4 of 4.
		runQuestionCases(t, Question{ID: "q", Type: QuestionScale, Text: "Rate", ScaleMax: 5, ScalePoints: []float64{0, 0, 1, 2, 4}}, []questionCase{
			{name: "Step2", answer: ans(number("q", 2)), points: 0, max: 1, failed: true},
			{name: "Step4", answer: ans(number("q", 4)), points: 0.5, max: 1, failed: true},
			{name: "Step5", answer: ans(number("q", 5)), points: 1, max: 1},
		})
	})
}

func TestScore_Numeric(t *testing.T) {
	t.Run("AtMost", func(t *testing.T) {
		runQuestionCases(t, Question{ID: "q", Type: QuestionNumeric, Text: "Queue minutes", Unit: "min", Target: &Target{AtMost, 5}}, []questionCase{
			{name: "Under", answer: ans(number("q", 4.5)), points: 1, max: 1},
			{name: "Exactly", answer: ans(number("q", 5)), points: 1, max: 1},
			{name: "Over", answer: ans(number("q", 5.01)), points: 0, max: 1, failed: true},
			{name: "Duration", answer: ans(Answer{QuestionID: "q", DurationMS: msp(1)}), errs: []AnswerErrorKind{AnswerWrongType}},
		})
	})
	t.Run("AtLeast", func(t *testing.T) {
		runQuestionCases(t, Question{ID: "q", Type: QuestionNumeric, Text: "Products advised", Target: &Target{AtLeast, 2}, Weight: 4}, []questionCase{
			{name: "Met", answer: ans(number("q", 2)), points: 4, max: 4},
			{name: "Missed", answer: ans(number("q", 1)), points: 0, max: 4, failed: true},
		})
	})
}

func TestScore_Timer(t *testing.T) {
	runQuestionCases(t, Question{ID: "q", Type: QuestionTimer, Text: "Greeted within", Unit: "s", Target: &Target{AtMost, 30}}, []questionCase{
		{name: "Fast", answer: ans(Answer{QuestionID: "q", DurationMS: msp(12_345)}), points: 1, max: 1},
		{name: "Exactly30s", answer: ans(Answer{QuestionID: "q", DurationMS: msp(30_000)}), points: 1, max: 1},
		{name: "Slow", answer: ans(Answer{QuestionID: "q", DurationMS: msp(30_001)}), points: 0, max: 1, failed: true},
		{name: "Negative", answer: ans(Answer{QuestionID: "q", DurationMS: msp(-1)}), errs: []AnswerErrorKind{AnswerOutOfRange}},
		{name: "Number", answer: ans(number("q", 10)), errs: []AnswerErrorKind{AnswerWrongType}},
	})
}

func TestScore_SingleChoice(t *testing.T) {
	q := Question{ID: "q", Type: QuestionSingleChoice, Text: "Signs", Weight: 2, Options: []Option{
		{Value: "clear", Points: 2}, {Value: "partial", Points: 1}, {Value: "none", Points: 0},
	}}
	runQuestionCases(t, q, []questionCase{
		{name: "Best", answer: ans(Answer{QuestionID: "q", Choices: []string{"clear"}}), points: 2, max: 2},
		{name: "Partial", answer: ans(Answer{QuestionID: "q", Choices: []string{"partial"}}), points: 1, max: 2, failed: true},
		{name: "Worst", answer: ans(Answer{QuestionID: "q", Choices: []string{"none"}}), points: 0, max: 2, failed: true},
		{name: "Two", answer: ans(Answer{QuestionID: "q", Choices: []string{"clear", "none"}}), errs: []AnswerErrorKind{AnswerOutOfRange}},
		{name: "Unknown", answer: ans(Answer{QuestionID: "q", Choices: []string{"maybe"}}), errs: []AnswerErrorKind{AnswerOutOfRange}},
	})
}

func TestScore_MultiChoice(t *testing.T) {
	opts := []Option{{Value: "a", Points: 1}, {Value: "b", Points: 2}, {Value: "c", Points: 3}, {Value: "none", Points: 0}}
	t.Run("SumOfOptions", func(t *testing.T) {
		runQuestionCases(t, Question{ID: "q", Type: QuestionMultiChoice, Text: "Clean areas", Options: opts}, []questionCase{
			{name: "All", answer: ans(Answer{QuestionID: "q", Choices: []string{"a", "b", "c"}}), points: 1, max: 1},
			{name: "Some", answer: ans(Answer{QuestionID: "q", Choices: []string{"c", "a"}}), points: 4.0 / 6, max: 1, failed: true},
			{name: "None", answer: ans(Answer{QuestionID: "q", Choices: []string{"none"}}), points: 0, max: 1, failed: true},
			{name: "Empty", answer: ans(Answer{QuestionID: "q", Choices: []string{}}), errs: []AnswerErrorKind{AnswerOutOfRange}},
			{name: "Twice", answer: ans(Answer{QuestionID: "q", Choices: []string{"a", "a"}}), errs: []AnswerErrorKind{AnswerOutOfRange}},
		})
	})
	t.Run("CappedAtMax", func(t *testing.T) {
		// Sum capped at 4: a+c = 4 is full marks, b alone 2/4.
		runQuestionCases(t, Question{ID: "q", Type: QuestionMultiChoice, Text: "Extras offered", Options: opts, MaxPoints: 4, Weight: 2}, []questionCase{
			{name: "OverCap", answer: ans(Answer{QuestionID: "q", Choices: []string{"a", "b", "c"}}), points: 2, max: 2},
			{name: "AtCap", answer: ans(Answer{QuestionID: "q", Choices: []string{"a", "c"}}), points: 2, max: 2},
			{name: "Half", answer: ans(Answer{QuestionID: "q", Choices: []string{"b"}}), points: 1, max: 2, failed: true},
		})
	})
}

func TestScore_Text(t *testing.T) {
	runQuestionCases(t, Question{ID: "q", Type: QuestionText, Text: "Comments", Required: true}, []questionCase{
		{name: "Given", answer: ans(Answer{QuestionID: "q", Text: "fine"})},
		{name: "Missing", answer: nil, errs: []AnswerErrorKind{AnswerMissing}},
		{name: "Bool", answer: ans(yes("q")), errs: []AnswerErrorKind{AnswerWrongType}},
	})
}

func TestScore_Photo(t *testing.T) {
	runQuestionCases(t, Question{ID: "q", Type: QuestionPhoto, Text: "Shelf photos", PhotoCount: 2}, []questionCase{
		{name: "Enough", answer: ans(Answer{QuestionID: "q", PhotoHashes: []string{hashA, hashA}})},
		{name: "TooFew", answer: ans(Answer{QuestionID: "q", PhotoHashes: []string{hashA}}), errs: []AnswerErrorKind{AnswerPhotosRequired}},
		{name: "None", answer: nil, errs: []AnswerErrorKind{AnswerPhotosRequired}},
		{name: "BadHash", answer: ans(Answer{QuestionID: "q", PhotoHashes: []string{hashA, "IMG_001.jpg"}}), errs: []AnswerErrorKind{AnswerBadPhotoHash}},
	})
}

func TestScore_NPS(t *testing.T) {
	t.Run("Unscored", func(t *testing.T) {
		v := oneSection(t,
			Question{ID: "q", Type: QuestionNPS, Text: "Recommend?"},
			Question{ID: "y", Type: QuestionYesNo, Text: "Greeted?"})
		s := mustScore(t, v, number("q", 7), yes("y"))
		equal(t, "nps", *s.NPS, 7)
		near(t, "max", s.Overall.Max, 1)
		near(t, "percent", percent(s.Overall), 100)
	})
	t.Run("Scored", func(t *testing.T) {
		runQuestionCases(t, Question{ID: "q", Type: QuestionNPS, Text: "Recommend?", ScoreNPS: true, Weight: 5}, []questionCase{
			{name: "Ten", answer: ans(number("q", 10)), points: 5, max: 5},
			{name: "Seven", answer: ans(number("q", 7)), points: 3.5, max: 5, failed: true},
			{name: "Zero", answer: ans(number("q", 0)), points: 0, max: 5, failed: true},
			{name: "Eleven", answer: ans(number("q", 11)), errs: []AnswerErrorKind{AnswerOutOfRange}},
		})
	})
	t.Run("NotAnswered", func(t *testing.T) {
		s := mustScore(t, oneSection(t, Question{ID: "q", Type: QuestionNPS, Text: "Recommend?"}))
		equal(t, "nps", s.NPS, (*int)(nil))
	})
}

func TestNPS(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ratings []int
		want    float64
		ok      bool
	}{
		{"Empty", nil, 0, false},
		{"AllPromoters", []int{9, 10}, 100, true},
		{"Mixed", []int{10, 9, 8, 7, 6, 0}, 0, true}, // 2 promoters, 2 detractors of 6
		{"MostlyDetractors", []int{1, 2, 3, 10}, -50, true},
		{"IgnoresOutOfRange", []int{11, -1, 10}, 100, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := NPS(tc.ratings)
			equal(t, "ok", ok, tc.ok)
			near(t, "nps", got, tc.want)
		})
	}
}

func TestScore_Weights(t *testing.T) {
	// Weights 1, 2 and 3; the weight-2 question fails: (1+3)/6 = 66.67%.
	v := oneSection(t,
		Question{ID: "a", Type: QuestionYesNo, Text: "A"},
		Question{ID: "b", Type: QuestionYesNo, Text: "B", Weight: 2},
		Question{ID: "c", Type: QuestionYesNo, Text: "C", Weight: 3})
	s := mustScore(t, v, yes("a"), no("b"), yes("c"))
	near(t, "points", s.Overall.Points, 4)
	near(t, "max", s.Overall.Max, 6)
	near(t, "percent", percent(s.Overall), 400.0/6)
}

func TestScore_NA(t *testing.T) {
	v := mustPublish(t, Checklist{Sections: []Section{
		{ID: "s1", Title: "One", Questions: []Question{
			{ID: "a", Type: QuestionYesNo, Text: "A", AllowNA: true, StandardCode: "SPD-1"},
			{ID: "b", Type: QuestionYesNo, Text: "B", Weight: 3, StandardCode: "POL-1"},
		}},
		{ID: "s2", Title: "Two", Questions: []Question{
			{ID: "c", Type: QuestionYesNo, Text: "C", AllowNA: true, StandardCode: "SPD-1"},
			{ID: "d", Type: QuestionScale, Text: "D", ScaleMax: 3, AllowNA: true},
		}},
	}})
	t.Run("RemovesFromMax", func(t *testing.T) {
		s := mustScore(t, v, na("a"), no("b"), yes("c"), number("d", 2))
		near(t, "s1 max", s.Sections[0].Max, 3)
		equal(t, "s1 percent", percent(s.Sections[0].Subtotal), 0.0)
		near(t, "s2 percent", percent(s.Sections[1].Subtotal), 75) // (1 + 0.5) / 2
		near(t, "overall", percent(s.Overall), 100*1.5/5)
		equal(t, "a counted", s.Questions[0].NA && s.Questions[0].Max == 0, true)
	})
	t.Run("AllNASectionIsNotApplicable", func(t *testing.T) {
		s := mustScore(t, v, yes("a"), yes("b"), na("c"), na("d"))
		equal(t, "s2 percent", s.Sections[1].Percent, (*float64)(nil))
		near(t, "s2 max", s.Sections[1].Max, 0)
		near(t, "overall", percent(s.Overall), 100)
		// SPD-1 still has question a; the speed category likewise.
		equal(t, "standards", len(s.Standards), 2)
		near(t, "SPD-1", percent(s.Standards[1].Subtotal), 100)
	})
	t.Run("EverythingNA", func(t *testing.T) {
		v := oneSection(t, Question{ID: "a", Type: QuestionYesNo, Text: "A", AllowNA: true})
		s := mustScore(t, v, na("a"))
		equal(t, "overall", s.Overall.Percent, (*float64)(nil))
		equal(t, "section", s.Sections[0].Percent, (*float64)(nil))
	})
}

func TestScore_Groups(t *testing.T) {
	v := oneSection(t,
		Question{ID: "a", Type: QuestionYesNo, Text: "A", StandardCode: "SPD-1"},
		Question{ID: "b", Type: QuestionYesNo, Text: "B", StandardCode: "POL-1", Weight: 2},
		Question{ID: "c", Type: QuestionYesNo, Text: "C", StandardCode: "SPD-1"},
		Question{ID: "d", Type: QuestionYesNo, Text: "D"})
	s := mustScore(t, v, yes("a"), no("b"), no("c"), yes("d"))
	equal(t, "standard keys", []string{s.Standards[0].Key, s.Standards[1].Key}, []string{"POL-1", "SPD-1"})
	near(t, "POL-1", percent(s.Standards[0].Subtotal), 0)
	near(t, "SPD-1", percent(s.Standards[1].Subtotal), 50)
	equal(t, "category keys", []string{s.Categories[0].Key, s.Categories[1].Key}, []string{"politeness", "speed"})
	near(t, "speed", percent(s.Categories[1].Subtotal), 50)
	near(t, "overall", percent(s.Overall), 40) // (1+0+0+1)/5
}

func TestScore_CriticalCap(t *testing.T) {
	sections := func() []Section {
		return []Section{
			{ID: "s1", Title: "One", Questions: []Question{
				{ID: "crit", Type: QuestionYesNo, Text: "Price at till matches tag?", Critical: true},
				{ID: "a", Type: QuestionYesNo, Text: "A", Weight: 3},
			}},
			{ID: "s2", Title: "Two", Questions: []Question{
				{ID: "b", Type: QuestionYesNo, Text: "B", Weight: 4},
			}},
		}
	}
	t.Run("VisitDefaultCapsAtZero", func(t *testing.T) {
		v := mustPublish(t, Checklist{Sections: sections()})
		s := mustScore(t, v, no("crit"), yes("a"), yes("b"))
		equal(t, "capped", s.Capped, true)
		near(t, "overall", percent(s.Overall), 0)
		near(t, "s1 uncapped", percent(s.Sections[0].Subtotal), 75)
		equal(t, "failures", s.CriticalFailures, []CriticalFailure{{QuestionID: "crit", SectionID: "s1"}})
	})
	t.Run("VisitCapAtPercent", func(t *testing.T) {
		v := mustPublish(t, Checklist{Sections: sections(), CriticalCap: CriticalCap{Scope: CapVisit, Percent: 50}})
		s := mustScore(t, v, no("crit"), yes("a"), yes("b"))
		near(t, "overall", percent(s.Overall), 50) // 7/8 = 87.5% capped to 50%
		near(t, "points", s.Overall.Points, 4)
	})
	t.Run("VisitCapBelowScoreLeavesIt", func(t *testing.T) {
		v := mustPublish(t, Checklist{Sections: sections(), CriticalCap: CriticalCap{Scope: CapVisit, Percent: 50}})
		s := mustScore(t, v, no("crit"), no("a"), yes("b"))
		equal(t, "capped", s.Capped, false)
		near(t, "overall", percent(s.Overall), 50) // 4/8 is already 50%
	})
	t.Run("SectionCap", func(t *testing.T) {
		v := mustPublish(t, Checklist{Sections: sections(), CriticalCap: CriticalCap{Scope: CapSection, Percent: 25}})
		s := mustScore(t, v, no("crit"), yes("a"), yes("b"))
		// s1 earns 3/4 = 75%, capped to 25% = 1 point; s2 earns 4/4; overall 5/8.
		equal(t, "s1 capped", s.Sections[0].Capped, true)
		near(t, "s1", percent(s.Sections[0].Subtotal), 25)
		equal(t, "s2 capped", s.Sections[1].Capped, false)
		near(t, "s2", percent(s.Sections[1].Subtotal), 100)
		equal(t, "visit capped", s.Capped, false)
		near(t, "overall", percent(s.Overall), 62.5)
	})
	t.Run("PassedCriticalCapsNothing", func(t *testing.T) {
		v := mustPublish(t, Checklist{Sections: sections()})
		s := mustScore(t, v, yes("crit"), no("a"), yes("b"))
		equal(t, "failures", len(s.CriticalFailures), 0)
		near(t, "overall", percent(s.Overall), 62.5)
	})
	t.Run("GroupsAreNotCapped", func(t *testing.T) {
		v := mustPublish(t, Checklist{Sections: []Section{{ID: "s", Title: "S", Questions: []Question{
			{ID: "crit", Type: QuestionYesNo, Text: "C", Critical: true, StandardCode: "POL-1"},
			{ID: "a", Type: QuestionYesNo, Text: "A", StandardCode: "SPD-1"},
		}}}})
		s := mustScore(t, v, no("crit"), yes("a"))
		near(t, "overall", percent(s.Overall), 0)
		near(t, "SPD-1", percent(s.Standards[1].Subtotal), 100)
	})
}

func TestScore_Rules(t *testing.T) {
	q := Question{ID: "q", Type: QuestionYesNo, Text: "Price tags present?", Rules: []Rule{
		{When: Condition{Answer: "no"}, Require: Requirement{Note: true, Photos: 1}},
	}}
	runQuestionCases(t, q, []questionCase{
		{name: "YesNeedsNothing", answer: ans(yes("q")), points: 1, max: 1},
		{name: "NoWithEvidence", answer: ans(Answer{QuestionID: "q", Bool: boolp(false), Note: "shelf 4", PhotoHashes: []string{hashA}}), max: 1, failed: true},
		{name: "NoWithoutEvidence", answer: ans(no("q")), max: 1, failed: true, errs: []AnswerErrorKind{AnswerNoteRequired, AnswerPhotosRequired}},
		{name: "BlankNote", answer: ans(Answer{QuestionID: "q", Bool: boolp(false), Note: "  ", PhotoHashes: []string{hashA}}), max: 1, failed: true, errs: []AnswerErrorKind{AnswerNoteRequired}},
	})
	t.Run("Failed", func(t *testing.T) {
		q := Question{ID: "q", Type: QuestionTimer, Text: "Greeted within", Unit: "s", Target: &Target{AtMost, 30},
			Rules: []Rule{{When: Condition{Failed: true}, Require: Requirement{Note: true}}}}
		runQuestionCases(t, q, []questionCase{
			{name: "Passed", answer: ans(Answer{QuestionID: "q", DurationMS: msp(1000)}), points: 1, max: 1},
			{name: "FailedNeedsNote", answer: ans(Answer{QuestionID: "q", DurationMS: msp(60_000)}), max: 1, failed: true, errs: []AnswerErrorKind{AnswerNoteRequired}},
		})
	})
	t.Run("ChoiceAnswer", func(t *testing.T) {
		q := Question{ID: "q", Type: QuestionMultiChoice, Text: "Problems", Options: []Option{{Value: "ok", Points: 1}, {Value: "damaged", Points: 0}},
			Rules: []Rule{{When: Condition{Answer: "damaged"}, Require: Requirement{Photos: 2}}}}
		runQuestionCases(t, q, []questionCase{
			{name: "Other", answer: ans(Answer{QuestionID: "q", Choices: []string{"ok"}}), points: 1, max: 1},
			{name: "Chosen", answer: ans(Answer{QuestionID: "q", Choices: []string{"ok", "damaged"}, PhotoHashes: []string{hashA}}), points: 1, max: 1, errs: []AnswerErrorKind{AnswerPhotosRequired}},
		})
	})
}

func TestScore_ValidationErrors(t *testing.T) {
	v := oneSection(t,
		Question{ID: "a", Type: QuestionYesNo, Text: "A", Required: true},
		Question{ID: "b", Type: QuestionYesNo, Text: "B", Required: true},
		Question{ID: "c", Type: QuestionNumeric, Text: "C", Target: &Target{AtMost, 1}})
	s := mustScore(t, v, yes("b"), no("b"), Answer{QuestionID: "c", Bool: boolp(true)}, yes("zz"), yes("x"))
	equal(t, "errors", s.Errors, []AnswerError{
		{"a", AnswerMissing, "an answer is required"},
		{"b", AnswerDuplicate, "2 answers given; exactly one counts, so none does"},
		{"c", AnswerWrongType, `numeric question takes "number", not "bool"`},
		{"x", AnswerUnknownQuestion, `no question "x" in checklist c1`},
		{"zz", AnswerUnknownQuestion, `no question "zz" in checklist c1`},
	})
	equal(t, "complete", s.Complete(), false)
	equal(t, "nothing counted", s.Overall.Percent, (*float64)(nil))
	equal(t, "error text", s.Errors[0].Error(), "question a: an answer is required")
}

func TestChecklist_CheckAnswer(t *testing.T) {
	v := oneSection(t, Question{ID: "tags", Type: QuestionYesNo, Text: "Tags?", Rules: []Rule{
		{When: Condition{Answer: "no"}, Require: Requirement{Photos: 1}},
	}})
	c := &v.Content
	equal(t, "valid", len(c.CheckAnswer(yes("tags"))), 0)
	equal(t, "needs photo", c.CheckAnswer(no("tags")), []AnswerError{{"tags", AnswerPhotosRequired, "1 photo(s) required for this answer, 0 given"}})
	equal(t, "unknown", c.CheckAnswer(yes("nope"))[0].Kind, AnswerUnknownQuestion)
}

func TestScore_Refuses(t *testing.T) {
	t.Run("Nil", func(t *testing.T) {
		_, err := Score(nil, nil)
		equal(t, "code", ErrorCode(err), EINVALID)
	})
	t.Run("InvalidDraft", func(t *testing.T) {
		_, err := Score(&ChecklistVersion{ChecklistID: "c", Version: 1, State: VersionDraft, Content: Checklist{ID: "c"}}, nil)
		equal(t, "code", ErrorCode(err), EINVALID)
	})
	t.Run("TamperedVersion", func(t *testing.T) {
		v := oneSection(t, Question{ID: "a", Type: QuestionYesNo, Text: "A"})
		v.Content.Sections[0].Questions[0].Weight = 10
		_, err := Score(v, nil)
		equal(t, "code", ErrorCode(err), EPRECONDITION)
	})
}
