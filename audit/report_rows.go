package audit

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ReportVisit is a visit normalized for reports: what every backend
// stores in its report rows (one for the visit, one per question), worked
// out from the visit, its score and its checklist version alone. Both
// backends build their rows from it, so that reports read the same
// figures and texts from either.
type ReportVisit struct {
	VisitID, StoreID, StaffID string
	VisitedAt                 time.Time // the visit's start
	Points, Max               float64   // the overall score, after caps
	CriticalFailed            bool      // a critical question failed
	Answers                   []ReportAnswer
}

// ReportAnswer is one question of a visit, in checklist order.
type ReportAnswer struct {
	Ord                       int
	QuestionID, SectionID     string
	StandardCode, Category    string // the question's standard, and the standard's category
	Points, Max               float64
	NA, Failed                bool
	Critical, CriticalFailure bool // the question is critical, and it failed
	NPS                       *int // a 0-10 answer of an NPS question, else nil
	Answer, Note              string
	Value                     *float64 // the answer as a number, in Unit (answerNumber), else nil
	Unit                      string
}

// ReportRows returns the report rows of visit v at the store storeID,
// scored score against version cv.
func ReportRows(v *Visit, storeID string, score *VisitScore, cv *ChecklistVersion) *ReportVisit {
	answers := map[string]*Answer{}
	for i := range v.Answers {
		if _, dup := answers[v.Answers[i].QuestionID]; !dup {
			answers[v.Answers[i].QuestionID] = &v.Answers[i]
		}
	}
	criticalFailed := map[string]bool{}
	for _, f := range score.CriticalFailures {
		criticalFailed[f.QuestionID] = true
	}
	rv := &ReportVisit{VisitID: v.ID, StoreID: storeID, StaffID: v.StaffID, VisitedAt: v.StartedAt,
		Points: score.Overall.Points, Max: score.Overall.Max, CriticalFailed: len(score.CriticalFailures) > 0,
		Answers: make([]ReportAnswer, len(score.Questions))}
	for i, qs := range score.Questions {
		ra := &rv.Answers[i]
		*ra = ReportAnswer{Ord: i, QuestionID: qs.QuestionID, SectionID: qs.SectionID, StandardCode: qs.StandardCode,
			Points: qs.Points, Max: qs.Max, NA: qs.NA, Failed: qs.Failed, CriticalFailure: criticalFailed[qs.QuestionID]}
		if std, ok := cv.Content.Standard(qs.StandardCode); ok {
			ra.Category = string(std.Category)
		}
		q, _, _ := cv.Content.Question(qs.QuestionID)
		ra.Critical = q != nil && q.Critical
		a := answers[qs.QuestionID]
		if a == nil {
			continue
		}
		ra.Answer, ra.Note = answerText(q, a), a.Note
		if n, unit, ok := answerNumber(q, a); ok {
			ra.Value, ra.Unit = &n, unit
		}
		if q != nil && q.Type == QuestionNPS && a.Number != nil && !a.NA && *a.Number >= 0 && *a.Number <= 10 && *a.Number == float64(int64(*a.Number)) {
			n := int(*a.Number)
			ra.NPS = &n
		}
	}
	return rv
}

// answerNumber returns a numeric answer as a number and its unit, for
// the Answers sheet: a numeric, scale or NPS answer as given with the
// question's unit, a timer in its question's unit (Question.TimerValue).
// ok is false for other answers and for "not applicable".
func answerNumber(q *Question, a *Answer) (v float64, unit string, ok bool) {
	if a.NA {
		return 0, "", false
	}
	switch {
	case a.Number != nil && !math.IsNaN(*a.Number) && !math.IsInf(*a.Number, 0):
		if q != nil {
			unit = q.Unit
		}
		return *a.Number, unit, true
	case a.DurationMS != nil:
		v, unit := q.TimerValue(*a.DurationMS)
		return v, unit, true
	}
	return 0, "", false
}

// answerText renders an answer as the shopper gave it, for the Answers
// sheet: "yes", "4", "2.5 min", "Partly; I had to search", a text, "2
// photo(s)" or "n/a".
func answerText(q *Question, a *Answer) string {
	if a.NA {
		return "n/a"
	}
	unit := ""
	if q != nil && q.Unit != "" {
		unit = " " + q.Unit
	}
	switch {
	case a.Bool != nil:
		if *a.Bool {
			return "yes"
		}
		return "no"
	case a.Number != nil:
		return strconv.FormatFloat(*a.Number, 'f', -1, 64) + unit
	case a.DurationMS != nil:
		return (time.Duration(*a.DurationMS) * time.Millisecond).String()
	case len(a.Choices) > 0:
		labels := make([]string, len(a.Choices))
		for i, c := range a.Choices {
			labels[i] = c
			if q != nil {
				if j := slices.IndexFunc(q.Options, func(o Option) bool { return o.Value == c }); j >= 0 && q.Options[j].Label != "" {
					labels[i] = q.Options[j].Label
				}
			}
		}
		return strings.Join(labels, "; ")
	case a.Text != "":
		return a.Text
	case len(a.PhotoHashes) > 0:
		return strconv.Itoa(len(a.PhotoHashes)) + " photo(s)"
	}
	return ""
}
