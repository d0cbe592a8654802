package audit

import (
	"fmt"
	"slices"
	"strings"
)

// Subtotal is points earned out of a maximum. Percent is nil when nothing
// in the group was applicable (every question N/A, unanswered or
// unscored): such a group is not applicable, neither 0 nor 100.
type Subtotal struct {
	Points  float64
	Max     float64
	Percent *float64 // 0..100, nil when Max is 0
}

func (s *Subtotal) add(points, max float64) {
	s.Points += points
	s.Max += max
}

// finish computes Percent from Points and Max.
func (s *Subtotal) finish() {
	s.Percent = nil
	if s.Max <= 0 {
		return
	}
	p := min(max(100*s.Points/s.Max, 0), 100)
	s.Percent = &p
}

// capAt lowers the points to at most percent of the maximum and reports
// whether it did.
func (s *Subtotal) capAt(percent float64) bool {
	limit := s.Max * percent / 100
	if s.Max <= 0 || s.Points <= limit {
		return false
	}
	s.Points = limit
	return true
}

// QuestionScore is what one question contributed. Max is the question's
// weight when it was answered and scored, 0 otherwise.
type QuestionScore struct {
	QuestionID   string
	SectionID    string
	StandardCode string
	Answered     bool // a valid value was given
	NA           bool // a valid N/A was given
	Failed       bool // answered, scored, and earned less than full points
	Points       float64
	Max          float64
}

// SectionScore is the score of one section, after any critical cap.
type SectionScore struct {
	SectionID string
	Title     string
	Subtotal
	Capped bool // a failed critical question capped the section
}

// GroupScore is the score of the questions sharing a key: a standard's code
// or a category. Group scores are never capped: they show compliance with
// each clause as observed.
type GroupScore struct {
	Key string
	Subtotal
}

// CriticalFailure names a critical question that failed.
type CriticalFailure struct {
	QuestionID   string
	SectionID    string
	StandardCode string
}

// VisitScore is the score of one visit's answers against a checklist
// version. Sections and Questions follow the checklist's order;
// Categories and Standards are sorted by key and leave out questions
// without a standard.
type VisitScore struct {
	ChecklistID      string
	Version          int
	ContentHash      string
	Overall          Subtotal // after critical caps
	Capped           bool     // a failed critical question capped the whole visit
	Sections         []SectionScore
	Categories       []GroupScore
	Standards        []GroupScore
	Questions        []QuestionScore
	NPS              *int // the rating of the first answered nps question
	CriticalFailures []CriticalFailure
	Errors           []AnswerError // in checklist order, then unknown questions by ID
}

// Complete reports whether the answers are free of validation errors: only
// then may a visit be submitted as done.
func (s *VisitScore) Complete() bool { return len(s.Errors) == 0 }

// Score scores a visit's answers against a checklist version. It is a pure
// function of its arguments: the same version and the same answers, in any
// order, give the same score, on the server (authoritative) and on the
// phone (preview). Problems with the answers are reported in
// VisitScore.Errors, never as an error: answers with a wrong value and
// duplicate answers count as unanswered, and unanswered questions are left
// out of the maximum. It returns EINVALID when v is nil or its content is
// invalid, and EPRECONDITION when a published version's content no longer
// matches its hash.
func Score(v *ChecklistVersion, answers []Answer) (*VisitScore, error) {
	sc, err := NewScorer(v)
	if err != nil {
		return nil, err
	}
	return sc.Score(answers), nil
}

// Scorer scores visits against one checklist version, which NewScorer
// checks once (its hash and its content) instead of once per visit: for a
// caller that scores many visits on the same version, such as a push. The
// version must not change while the Scorer is in use (published versions
// never do).
type Scorer struct{ v *ChecklistVersion }

// NewScorer checks v for scoring. It returns EINVALID when v is nil or its
// content is invalid, and EPRECONDITION when a published version's content
// no longer matches its hash.
func NewScorer(v *ChecklistVersion) (*Scorer, error) {
	if v == nil {
		return nil, Errorf(EINVALID, "score: no checklist version")
	}
	if err := v.Verify(); err != nil {
		return nil, err
	}
	if err := v.Content.Validate(); err != nil {
		return nil, err
	}
	return &Scorer{v: v}, nil
}

// Score scores a visit's answers as the package's Score does.
func (sc *Scorer) Score(answers []Answer) *VisitScore {
	v := sc.v
	c := &v.Content
	s := &VisitScore{ChecklistID: v.ChecklistID, Version: v.Version, ContentHash: v.ContentHash}

	byID := map[string][]*Answer{}
	for i := range answers {
		byID[answers[i].QuestionID] = append(byID[answers[i].QuestionID], &answers[i])
	}
	known := map[string]bool{}
	categories, standards := map[string]*Subtotal{}, map[string]*Subtotal{}
	group := func(m map[string]*Subtotal, key string, points, max float64) {
		if m[key] == nil {
			m[key] = &Subtotal{}
		}
		m[key].add(points, max)
	}
	for _, sec := range c.Sections {
		ss := SectionScore{SectionID: sec.ID, Title: sec.Title}
		failedCritical := false
		for qi := range sec.Questions {
			q := &sec.Questions[qi]
			known[q.ID] = true
			var r result
			switch as := byID[q.ID]; len(as) {
			case 0, 1:
				var a *Answer
				if len(as) == 1 {
					a = as[0]
				}
				var errs []AnswerError
				r, errs = q.evaluate(a)
				s.Errors = append(s.Errors, errs...)
			default:
				s.Errors = append(s.Errors, AnswerError{q.ID, AnswerDuplicate, fmt.Sprintf("%d answers given; exactly one counts, so none does", len(as))})
			}
			qs := QuestionScore{QuestionID: q.ID, SectionID: sec.ID, StandardCode: q.StandardCode, Answered: r.answered, NA: r.na}
			if r.answered && q.Scored() {
				qs.Max = q.weight()
				qs.Points = q.weight() * r.fraction
				qs.Failed = r.fraction < 1
			}
			if r.rating != nil && s.NPS == nil {
				s.NPS = r.rating
			}
			if qs.Failed && q.Critical {
				failedCritical = true
				s.CriticalFailures = append(s.CriticalFailures, CriticalFailure{q.ID, sec.ID, q.StandardCode})
			}
			ss.add(qs.Points, qs.Max)
			if std, ok := c.Standard(q.StandardCode); ok {
				group(standards, std.Code, qs.Points, qs.Max)
				group(categories, string(std.Category), qs.Points, qs.Max)
			}
			s.Questions = append(s.Questions, qs)
		}
		if failedCritical && c.CriticalCap.scope() == CapSection {
			ss.Capped = ss.capAt(c.CriticalCap.Percent)
		}
		ss.finish()
		s.Overall.add(ss.Points, ss.Max)
		s.Sections = append(s.Sections, ss)
	}
	if len(s.CriticalFailures) > 0 && c.CriticalCap.scope() == CapVisit {
		s.Capped = s.Overall.capAt(c.CriticalCap.Percent)
	}
	s.Overall.finish()
	s.Categories = groups(categories)
	s.Standards = groups(standards)

	var unknown []string
	for id := range byID {
		if !known[id] {
			unknown = append(unknown, id)
		}
	}
	slices.Sort(unknown)
	for _, id := range unknown {
		s.Errors = append(s.Errors, AnswerError{id, AnswerUnknownQuestion, fmt.Sprintf("no question %q in checklist %s", id, c.ID)})
	}
	return s
}

// groups returns the subtotals sorted by key, percentages computed.
func groups(m map[string]*Subtotal) []GroupScore {
	out := make([]GroupScore, 0, len(m))
	for k, st := range m {
		g := GroupScore{Key: k, Subtotal: *st}
		g.finish()
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b GroupScore) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// NPS returns the net promoter score of 0..10 ratings: the percentage of
// promoters (9-10) minus the percentage of detractors (0-6), in -100..100.
// ok is false when there are no ratings. Ratings outside 0..10 are
// ignored.
func NPS(ratings []int) (score float64, ok bool) {
	var n, promoters, detractors int
	for _, r := range ratings {
		switch {
		case r < 0 || r > 10:
			continue
		case r >= 9:
			promoters++
		case r <= 6:
			detractors++
		}
		n++
	}
	if n == 0 {
		return 0, false
	}
	return 100 * float64(promoters-detractors) / float64(n), true
}
