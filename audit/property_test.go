package audit

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"testing"
)

// randomChecklist builds a valid checklist with every question type,
// random weights, N/A permissions, critical flags, caps and rules.
func randomChecklist(r *rand.Rand) Checklist {
	c := Checklist{ID: "rnd", Name: "Random", Channel: Channels[r.Intn(len(Channels))], Standards: testStandards,
		CriticalCap: CriticalCap{Scope: []CapScope{"", CapVisit, CapSection}[r.Intn(3)], Percent: float64(r.Intn(101))}}
	n := 0
	for si := range 1 + r.Intn(4) {
		s := Section{ID: fmt.Sprintf("s%d", si), Title: "Section"}
		for range 1 + r.Intn(6) {
			n++
			q := Question{ID: fmt.Sprintf("q%d", n), Text: "Question", Type: QuestionTypes[r.Intn(len(QuestionTypes))],
				Weight: []float64{0, 0.5, 1, 2, 3.5, 10}[r.Intn(6)], AllowNA: r.Intn(2) == 0, Required: r.Intn(3) == 0,
				StandardCode: []string{"", "SPD-1", "POL-1"}[r.Intn(3)]}
			switch q.Type {
			case QuestionYesNo:
				q.PassOnNo = r.Intn(4) == 0
				if r.Intn(3) == 0 {
					q.Rules = []Rule{{When: Condition{Answer: "no"}, Require: Requirement{Note: true, Photos: r.Intn(2)}}}
				}
			case QuestionScale:
				q.ScaleMax = 2 + r.Intn(6)
				if r.Intn(2) == 0 {
					q.ScalePoints = make([]float64, q.ScaleMax)
					for i := range q.ScalePoints {
						q.ScalePoints[i] = float64(r.Intn(5))
					}
					q.ScalePoints[r.Intn(q.ScaleMax)] = 5
				}
			case QuestionNumeric, QuestionTimer:
				q.Target = &Target{Op: []Operator{AtMost, AtLeast}[r.Intn(2)], Value: float64(r.Intn(100))}
				q.Unit = []string{"ms", "s", "min", "h"}[r.Intn(4)]
			case QuestionSingleChoice, QuestionMultiChoice:
				for i := range 1 + r.Intn(5) {
					q.Options = append(q.Options, Option{Value: fmt.Sprintf("o%d", i), Points: float64(r.Intn(4))})
				}
				q.Options[0].Points = 1 + float64(r.Intn(3))
				if q.Type == QuestionMultiChoice && r.Intn(2) == 0 {
					q.MaxPoints = 1 + float64(r.Intn(6))
				}
				if r.Intn(3) == 0 {
					q.Rules = []Rule{{When: Condition{Failed: true}, Require: Requirement{Note: true}}}
				}
			case QuestionPhoto:
				q.PhotoCount = r.Intn(3)
			case QuestionNPS:
				q.ScoreNPS = r.Intn(2) == 0
			}
			q.Critical = q.Scored() && r.Intn(5) == 0
			s.Questions = append(s.Questions, q)
		}
		c.Sections = append(c.Sections, s)
	}
	return c
}

// randomAnswers answers most questions, validly or not, and adds an answer
// to an unknown question now and then.
func randomAnswers(r *rand.Rand, c *Checklist) []Answer {
	var as []Answer
	for _, s := range c.Sections {
		for _, q := range s.Questions {
			if r.Intn(6) == 0 {
				continue
			}
			a := Answer{QuestionID: q.ID}
			if r.Intn(4) == 0 {
				a.Note = "note"
			}
			for range r.Intn(3) {
				a.PhotoHashes = append(a.PhotoHashes, hashA)
			}
			switch {
			case q.AllowNA && r.Intn(5) == 0:
				a.NA, a.PhotoHashes = true, nil
			case r.Intn(12) == 0: // a value of a random, often wrong, kind
				a.Number = nump(float64(r.Intn(20) - 5))
			default:
				fillAnswer(r, &q, &a)
			}
			as = append(as, a)
		}
	}
	if r.Intn(4) == 0 {
		as = append(as, yes("unknown"))
	}
	return as
}

// fillAnswer gives a a value of the question's type, mostly in range.
func fillAnswer(r *rand.Rand, q *Question, a *Answer) {
	switch q.Type {
	case QuestionYesNo:
		a.Bool = boolp(r.Intn(2) == 0)
	case QuestionScale:
		a.Number = nump(float64(1 + r.Intn(q.ScaleMax)))
	case QuestionNumeric:
		a.Number = nump(float64(r.Intn(200)-50) / 2)
	case QuestionTimer:
		a.DurationMS = msp(int64(r.Intn(10_000_000)))
	case QuestionSingleChoice:
		a.Choices = []string{q.Options[r.Intn(len(q.Options))].Value}
	case QuestionMultiChoice:
		for _, o := range q.Options {
			if r.Intn(2) == 0 {
				a.Choices = append(a.Choices, o.Value)
			}
		}
		if len(a.Choices) == 0 {
			a.Choices = []string{q.Options[0].Value}
		}
	case QuestionText:
		a.Text = "text"
	case QuestionPhoto:
		a.PhotoHashes = append(a.PhotoHashes, hashA)
	case QuestionNPS:
		a.Number = nump(float64(r.Intn(11)))
	}
}

func checkRange(tb testing.TB, name string, s Subtotal) {
	tb.Helper()
	if s.Points < 0 || s.Points > s.Max+1e-9 {
		tb.Fatalf("%s: %v points of %v", name, s.Points, s.Max)
	}
	if s.Percent != nil && (*s.Percent < 0 || *s.Percent > 100) {
		tb.Fatalf("%s: percent %v", name, *s.Percent)
	}
	if (s.Percent == nil) != (s.Max == 0) {
		tb.Fatalf("%s: percent %v with max %v", name, s.Percent, s.Max)
	}
}

func TestScore_Properties(t *testing.T) {
	r := rand.New(rand.NewSource(20260501))
	for i := range 500 {
		c := randomChecklist(r)
		v, err := Publish(NewDraft(&c, 1), testTime)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		answers := randomAnswers(r, &c)
		s := mustScore(t, v, answers...)

		t.Run(fmt.Sprintf("%d/InRange", i), func(t *testing.T) {
			checkRange(t, "overall", s.Overall)
			for _, x := range s.Sections {
				checkRange(t, "section "+x.SectionID, x.Subtotal)
			}
			for _, g := range slices.Concat(s.Categories, s.Standards) {
				checkRange(t, "group "+g.Key, g.Subtotal)
			}
		})
		t.Run(fmt.Sprintf("%d/ShuffleKeepsScore", i), func(t *testing.T) {
			shuffled := slices.Clone(answers)
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if got := mustScore(t, v, shuffled...); !reflect.DeepEqual(got, s) {
				t.Fatalf("shuffled answers changed the score:\n%+v\n%+v", got, s)
			}
		})
		t.Run(fmt.Sprintf("%d/NAChangesNoOtherQuestion", i), func(t *testing.T) {
			for _, q := range s.Questions {
				question, _, _ := c.Question(q.QuestionID)
				if !question.AllowNA {
					continue
				}
				changed := slices.DeleteFunc(slices.Clone(answers), func(a Answer) bool { return a.QuestionID == q.QuestionID })
				changed = append(changed, na(q.QuestionID))
				got := mustScore(t, v, changed...)
				for j := range s.Questions {
					if s.Questions[j].QuestionID == q.QuestionID {
						equal(t, "na question max", got.Questions[j].Max, 0.0)
						continue
					}
					if !reflect.DeepEqual(got.Questions[j], s.Questions[j]) {
						t.Fatalf("N/A for %s changed %s: %+v, was %+v", q.QuestionID, s.Questions[j].QuestionID, got.Questions[j], s.Questions[j])
					}
				}
			}
		})
		t.Run(fmt.Sprintf("%d/HashStable", i), func(t *testing.T) {
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			var back Checklist
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			back.Standards = slices.Clone(back.Standards)
			slices.Reverse(back.Standards)
			h, err := back.ContentHash()
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "hash", h, v.ContentHash)
		})
	}
}
