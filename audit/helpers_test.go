package audit

import (
	"math"
	"reflect"
	"testing"
	"time"
)

// equal fails the test when got and want differ.
func equal[T any](tb testing.TB, name string, got, want T) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("%s = %#v, want %#v", name, got, want)
	}
}

// near fails the test when got and want differ by more than 1e-9.
func near(tb testing.TB, name string, got, want float64) {
	tb.Helper()
	if math.Abs(got-want) > 1e-9 {
		tb.Errorf("%s = %v, want %v", name, got, want)
	}
}

// percent returns a subtotal's percentage, or -1 when it is not applicable.
func percent(s Subtotal) float64 {
	if s.Percent == nil {
		return -1
	}
	return *s.Percent
}

func boolp(b bool) *bool                 { return &b }
func nump(x float64) *float64            { return &x }
func msp(x int64) *int64                 { return &x }
func yes(id string) Answer               { return Answer{QuestionID: id, Bool: boolp(true)} }
func no(id string) Answer                { return Answer{QuestionID: id, Bool: boolp(false)} }
func na(id string) Answer                { return Answer{QuestionID: id, NA: true} }
func number(id string, x float64) Answer { return Answer{QuestionID: id, Number: nump(x)} }

// hashA is a well-formed photo hash.
const hashA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

var testStandards = []Standard{
	{Code: "SPD-1", Clause: "Be fast.", Category: CategorySpeed},
	{Code: "POL-1", Clause: "Be polite.", Category: CategoryPoliteness},
}

// mustPublish publishes a checklist as version 1 and fails the test on
// error.
func mustPublish(tb testing.TB, c Checklist) *ChecklistVersion {
	tb.Helper()
	if c.ID == "" {
		c.ID = "c1"
	}
	if c.Name == "" {
		c.Name = "Test"
	}
	if c.Channel == "" {
		c.Channel = ChannelStoreVisit
	}
	if c.Standards == nil {
		c.Standards = testStandards
	}
	v, err := Publish(NewDraft(&c, 1), testTime)
	if err != nil {
		tb.Fatalf("Publish: %v", err)
	}
	return v
}

// oneSection publishes a checklist of one section "s" holding qs.
func oneSection(tb testing.TB, qs ...Question) *ChecklistVersion {
	tb.Helper()
	return mustPublish(tb, Checklist{Sections: []Section{{ID: "s", Title: "Section", Questions: qs}}})
}

// mustScore scores the answers and fails the test on error.
func mustScore(tb testing.TB, v *ChecklistVersion, answers ...Answer) *VisitScore {
	tb.Helper()
	s, err := Score(v, answers)
	if err != nil {
		tb.Fatalf("Score: %v", err)
	}
	return s
}

// errorKinds lists the kinds of a score's answer errors.
func errorKinds(s *VisitScore) []AnswerErrorKind {
	var ks []AnswerErrorKind
	for _, e := range s.Errors {
		ks = append(ks, e.Kind)
	}
	return ks
}

// questionCase is one answer to a one-question checklist and what it must
// be worth.
type questionCase struct {
	name   string
	answer *Answer // nil for no answer
	points float64
	max    float64
	failed bool
	errs   []AnswerErrorKind
}

// runQuestionCases scores each case against a checklist holding q alone.
func runQuestionCases(t *testing.T, q Question, cases []questionCase) {
	t.Helper()
	v := oneSection(t, q)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var answers []Answer
			if tc.answer != nil {
				answers = append(answers, *tc.answer)
			}
			s := mustScore(t, v, answers...)
			qs := s.Questions[0]
			near(t, "points", qs.Points, tc.points)
			near(t, "max", qs.Max, tc.max)
			equal(t, "failed", qs.Failed, tc.failed)
			equal(t, "errors", errorKinds(s), tc.errs)
			if tc.max > 0 {
				near(t, "overall percent", percent(s.Overall), 100*tc.points/tc.max)
			} else {
				equal(t, "overall percent", percent(s.Overall), -1.0)
			}
		})
	}
}

func ans(a Answer) *Answer { return &a }

func nan() float64 { return math.NaN() }

// testTime is the publication time of test versions.
var testTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
