package reports

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// VisitIndex is what the reports keep of one stored visit (every backend
// stores it as its report_visits row and visit_answers rows), worked out
// from the visit, its score and its checklist version alone, so that a
// push can do it before it takes the writer.
type VisitIndex struct {
	VisitID, StoreID, StaffID string
	VisitedAt                 time.Time // the visit's start, as claimed
	Points, Max               float64
	CriticalFailed            bool
	Answers                   []IndexedAnswer // one per scored question, in checklist order
}

// IndexedAnswer is one scored question of a visit as reports read it.
type IndexedAnswer struct {
	QuestionID, SectionID, StandardCode string
	Category                            string // the standard's category, "" when none
	Points, Max                         float64
	NA, Failed                          bool
	Critical                            bool // the question is critical
	CriticalFailure                     bool // and it failed
	// NPS is a whole 0-10 answer of a recommendation question, nil for
	// any other.
	NPS *int64
	// Answer is the answer as the shopper gave it (answerText), Note his
	// note.
	Answer, Note string
	// Value is a numeric answer as a number in Unit (answerNumber), nil
	// for other answers.
	Value *float64
	Unit  string
}

// IndexVisit returns the report rows of visit v of store storeID, scored
// score against cv.
func IndexVisit(v *audit.Visit, storeID string, score *audit.VisitScore, cv *audit.ChecklistVersion) *VisitIndex {
	answers := map[string]*audit.Answer{}
	for i := range v.Answers {
		if _, dup := answers[v.Answers[i].QuestionID]; !dup {
			answers[v.Answers[i].QuestionID] = &v.Answers[i]
		}
	}
	criticalFailed := map[string]bool{}
	for _, f := range score.CriticalFailures {
		criticalFailed[f.QuestionID] = true
	}
	ix := &VisitIndex{VisitID: v.ID, StoreID: storeID, StaffID: v.StaffID, VisitedAt: v.StartedAt.UTC().Truncate(time.Millisecond),
		Points: score.Overall.Points, Max: score.Overall.Max, CriticalFailed: len(score.CriticalFailures) > 0,
		Answers: make([]IndexedAnswer, 0, len(score.Questions))}
	for _, qs := range score.Questions {
		row := IndexedAnswer{QuestionID: qs.QuestionID, SectionID: qs.SectionID, StandardCode: qs.StandardCode,
			Points: qs.Points, Max: qs.Max, NA: qs.NA, Failed: qs.Failed, CriticalFailure: criticalFailed[qs.QuestionID]}
		if std, ok := cv.Content.Standard(qs.StandardCode); ok {
			row.Category = string(std.Category)
		}
		q, _, _ := cv.Content.Question(qs.QuestionID)
		row.Critical = q != nil && q.Critical
		if a := answers[qs.QuestionID]; a != nil {
			row.Answer, row.Note = answerText(q, a), a.Note
			if n, u, ok := answerNumber(q, a); ok {
				row.Value, row.Unit = &n, u
			}
			if q != nil && q.Type == audit.QuestionNPS && a.Number != nil && !a.NA && *a.Number >= 0 && *a.Number <= 10 && *a.Number == float64(int64(*a.Number)) {
				nps := int64(*a.Number)
				row.NPS = &nps
			}
		}
		ix.Answers = append(ix.Answers, row)
	}
	return ix
}

// answerNumber returns a numeric answer as a number and its unit, for
// the Answers sheet: a numeric, scale or NPS answer as given with the
// question's unit, a timer in its question's unit (audit.Question.TimerValue). ok is false for other
// answers and for "not applicable".
func answerNumber(q *audit.Question, a *audit.Answer) (v float64, unit string, ok bool) {
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
func answerText(q *audit.Question, a *audit.Answer) string {
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
				if j := slices.IndexFunc(q.Options, func(o audit.Option) bool { return o.Value == c }); j >= 0 && q.Options[j].Label != "" {
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
