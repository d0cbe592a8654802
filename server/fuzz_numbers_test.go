package server_test

import (
	"encoding/binary"
	"encoding/json"
	"iter"
	"math"
	"os"
	"testing"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/demo"
)

// answerSource turns fuzz bytes into answers: each call takes the next
// bytes, and an exhausted source gives zeros.
type answerSource []byte

func (s *answerSource) next(n int) []byte {
	out := make([]byte, n)
	m := copy(out, *s)
	*s = (*s)[m:]
	return out
}

func (s *answerSource) float() float64 {
	return math.Float64frombits(binary.LittleEndian.Uint64(s.next(8)))
}

// answer makes an answer of the question's type (or of another type,
// when the source says so) from the source.
func (s *answerSource) answer(q *audit.Question) audit.Answer {
	a := audit.Answer{QuestionID: q.ID}
	kind := s.next(1)[0]
	switch {
	case kind%17 == 0:
		a.NA = true
	case q.Type == audit.QuestionYesNo:
		a.Bool = new(kind%2 == 0)
	case q.Type == audit.QuestionTimer:
		a.DurationMS = new(int64(binary.LittleEndian.Uint64(s.next(8))))
	case q.Type == audit.QuestionSingleChoice || q.Type == audit.QuestionMultiChoice:
		for i, o := range q.Options {
			if kind>>(i%8)&1 == 1 {
				a.Choices = append(a.Choices, o.Value)
			}
		}
	case q.Type == audit.QuestionText:
		a.Text = "t"
	default:
		a.Number = new(s.float())
	}
	return a
}

// finiteJSON fails the test when v holds a number JSON cannot encode
// (NaN or an infinity), which is how a non-finite result would reach
// storage.
func finiteJSON(t *testing.T, what string, v any) {
	t.Helper()
	if _, err := json.Marshal(v); err != nil {
		t.Fatalf("%s holds a non-finite number: %v", what, err)
	}
}

// FuzzPackPolicyScore feeds a standards pack, a bonus policy and answers
// through the pack parser, the scoring engine, the policy parser and the
// bonus engine together. Whatever the parsers accept must give finite
// scores and finite pay: a non-finite number would make the visit or run
// impossible to store. Seeds: the demo pack and driver policy, and the
// edge cases that once got through (weights of 1e308, a half-life of
// 0.001 days).
func FuzzPackPolicyScore(f *testing.F) {
	demoPack, err := os.ReadFile("../audit/demopack/demo-pack.json")
	if err != nil {
		f.Fatal(err)
	}
	testPack, err := os.ReadFile("testdata/pack.json")
	if err != nil {
		f.Fatal(err)
	}
	policy := demo.DriverPolicy()
	demoPolicy, _ := json.Marshal(policy)
	policy.Components[0].Combine, policy.Components[0].HalfLifeDays = reports.CombineRecencyWeighted, 0.001
	tinyHalfLife, _ := json.Marshal(policy)
	policy.Components[0].HalfLifeDays = 1
	dayHalfLife, _ := json.Marshal(policy)
	huge := []byte(`{"format": "shopscore.pack/v1", "name": "p", "standards": [{"code": "S-1", "clause": "c", "category": "speed"}],
		"checklists": [{"id": "c", "name": "c", "channel": "store_visit", "critical_cap": {"percent": 0},
		"sections": [{"id": "s", "title": "s", "questions": [
			{"id": "a", "type": "yes_no", "text": "a", "standard": "S-1", "weight": 1e308},
			{"id": "b", "type": "yes_no", "text": "b", "standard": "S-1", "weight": 1e308},
			{"id": "n", "type": "numeric", "text": "n", "target": {"op": "<=", "value": 1e308}}]}]}]}`)
	answers := make([]byte, 64)
	for i := range answers {
		answers[i] = byte(i * 37)
	}
	f.Add(demoPack, demoPolicy, answers)
	f.Add(testPack, tinyHalfLife, answers)
	f.Add(huge, dayHalfLife, []byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0x7f})
	f.Add(huge, tinyHalfLife, []byte{0, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f})

	at := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	period := reports.Month(at)
	f.Fuzz(func(t *testing.T, packJSON, policyJSON, answerBytes []byte) {
		pack, err := audit.ParsePack("fuzz.json", packJSON)
		if err != nil {
			return
		}
		src := answerSource(answerBytes)
		var obs []reports.Observation
		for ci := range pack.Checklists {
			c := &pack.Checklists[ci]
			v, err := audit.Publish(audit.NewDraft(c, 1), at)
			if err != nil {
				continue
			}
			var as []audit.Answer
			for _, sec := range c.Sections {
				for qi := range sec.Questions {
					as = append(as, src.answer(&sec.Questions[qi]))
				}
			}
			score, err := audit.Score(v, as)
			if err != nil {
				t.Fatalf("a checklist the pack parser accepted cannot be scored: %v", err)
			}
			finiteJSON(t, "the score", score)
			for i, q := range score.Questions {
				obs = append(obs, reports.Observation{VisitID: c.ID, StoreID: "store", QuestionID: q.QuestionID,
					VisitedAt: period.From.Add(time.Duration(i) * 7 * time.Hour), Clause: q.StandardCode,
					Points: q.Points, MaxPoints: q.Max})
			}
		}
		p, err := app.ParsePolicy(policyJSON)
		if err != nil || p.Validate() != nil {
			return
		}
		employees := []reports.Employee{{StaffID: "e1", Name: "E", Position: "driver", Department: "logistics", StoreID: "store", BasePayMinor: 10_000_000}}
		seq := iter.Seq2[reports.Observation, error](func(yield func(reports.Observation, error) bool) {
			for _, o := range obs {
				if !yield(o, nil) {
					return
				}
			}
		})
		run, err := reports.Compute(p, period, employees, seq)
		if err != nil {
			t.Fatalf("a policy the parser accepted cannot be run: %v", err)
		}
		finiteJSON(t, "the bonus run", run)
	})
}
