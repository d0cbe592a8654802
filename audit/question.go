package audit

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// maxScale is the largest "scale_max" a scale question may have.
const maxScale = 100

// QuestionType says what kind of answer a question takes and how it is
// scored.
type QuestionType string

// The question types.
const (
	// QuestionYesNo takes a yes or a no. "yes" passes unless the question
	// sets PassOnNo.
	QuestionYesNo QuestionType = "yes_no"
	// QuestionScale takes a whole number 1..ScaleMax; ScalePoints gives the
	// points of each step (default: step k earns k-1).
	QuestionScale QuestionType = "scale"
	// QuestionNumeric takes a number in Unit, judged against Target: full
	// points when met, none otherwise.
	QuestionNumeric QuestionType = "numeric"
	// QuestionTimer takes a duration in milliseconds measured on the phone,
	// judged against Target expressed in Unit (ms, s, min or h).
	QuestionTimer QuestionType = "timer"
	// QuestionSingleChoice takes exactly one option; it earns that option's
	// points.
	QuestionSingleChoice QuestionType = "single_choice"
	// QuestionMultiChoice takes one or more options; it earns the sum of
	// their points, capped at MaxPoints.
	QuestionMultiChoice QuestionType = "multi_choice"
	// QuestionText takes free text and is never scored.
	QuestionText QuestionType = "text"
	// QuestionPhoto takes photos (their SHA-256 hashes) as evidence and is
	// never scored; fewer than RequiredCount photos is a validation error.
	QuestionPhoto QuestionType = "photo"
	// QuestionNPS takes a whole number 0..10 ("would you recommend"). It is
	// reported as the visit's NPS rating and scored only when ScoreNPS is
	// set, as value/10 of the question's points.
	QuestionNPS QuestionType = "nps"
)

// QuestionTypes lists every question type, in a stable order.
var QuestionTypes = []QuestionType{
	QuestionYesNo, QuestionScale, QuestionNumeric, QuestionTimer,
	QuestionSingleChoice, QuestionMultiChoice, QuestionText, QuestionPhoto, QuestionNPS,
}

// Valid reports whether t is one of the known question types.
func (t QuestionType) Valid() bool {
	for _, x := range QuestionTypes {
		if t == x {
			return true
		}
	}
	return false
}

// Operator compares a measured value with a target.
type Operator string

// The operators of a target.
const (
	AtMost  Operator = "<=" // the measure passes when it is at most the target ("queue <= 5 min")
	AtLeast Operator = ">=" // the measure passes when it is at least the target
)

// Target is the pass mark of a numeric or timer question.
type Target struct {
	Op    Operator `json:"op"`
	Value float64  `json:"value"`
}

// Met reports whether the measured value x meets the target.
func (t Target) Met(x float64) bool {
	if t.Op == AtLeast {
		return x >= t.Value
	}
	return x <= t.Value
}

// String renders the target as "<= 30".
func (t Target) String() string {
	return fmt.Sprintf("%s %v", t.Op, t.Value)
}

// timerUnits gives the milliseconds in one unit a timer target may use.
var timerUnits = map[string]float64{"ms": 1, "s": 1000, "min": 60 * 1000, "h": 60 * 60 * 1000}

// TimerUnitMS returns the milliseconds in one unit a timer question may
// use (ms, s, min or h), and false for any other unit: the one table the
// server (scoring, reports) and the field client (typed answers) share.
func TimerUnitMS(unit string) (float64, bool) {
	ms, ok := timerUnits[unit]
	return ms, ok
}

// TimerValue converts a timer answer in milliseconds to the question's
// unit (ms, s, min or h), as its target is written, and returns that unit;
// a question without a known unit gets seconds.
func (q *Question) TimerValue(ms int64) (float64, string) {
	if q != nil {
		if per, ok := timerUnits[q.Unit]; ok {
			return float64(ms) / per, q.Unit
		}
	}
	return float64(ms) / 1000, "s"
}

// Option is one choice of a single_choice or multi_choice question.
type Option struct {
	Value  string  `json:"value"` // the stable key recorded in answers
	Label  string  `json:"label"`
	Points float64 `json:"points"` // >= 0
}

// Rule makes an answer demand more evidence: when the answer matches When,
// the shopper must also give what Require lists.
type Rule struct {
	When    Condition   `json:"when"`
	Require Requirement `json:"require"`
}

// Condition selects the answers a Rule applies to. Exactly one of its
// fields is set.
type Condition struct {
	// Answer matches a yes_no answer ("yes" or "no") or a chosen option's
	// value.
	Answer string `json:"answer,omitempty"`
	// Failed matches any answer of a scored question that earns less than
	// its full points.
	Failed bool `json:"failed,omitempty"`
}

// Requirement is the evidence a Rule asks for.
type Requirement struct {
	Note   bool `json:"note,omitempty"`   // a non-blank note
	Photos int  `json:"photos,omitempty"` // at least this many photos
}

// Question is one item of a checklist. Its points are Weight times the
// fraction of the answer's worth (1 for a pass, 0 for a fail, in between
// for scales, choices and scored NPS); N/A and unanswered questions are left
// out of both the points and the maximum.
type Question struct {
	ID           string       `json:"id"` // stable key within the checklist
	Type         QuestionType `json:"type"`
	Text         string       `json:"text"`
	StandardCode string       `json:"standard,omitempty"` // the clause it checks
	Weight       float64      `json:"weight,omitempty"`   // > 0; 0 means 1
	Critical     bool         `json:"critical,omitempty"` // a failure caps the score (see CriticalCap)
	Required     bool         `json:"required,omitempty"`
	// OpensAction makes a failed answer open a corrective action when the
	// visit is approved (a critical question always does: ActionSeverity).
	OpensAction bool `json:"opens_action,omitempty"`
	AllowNA     bool `json:"allow_na,omitempty"`

	PassOnNo    bool      `json:"pass_on_no,omitempty"`     // yes_no
	ScaleMax    int       `json:"scale_max,omitempty"`      // scale: N >= 2
	ScalePoints []float64 `json:"scale_points,omitempty"`   // scale: N entries, >= 0
	Unit        string    `json:"unit,omitempty"`           // numeric: free text; timer: ms, s, min or h
	Target      *Target   `json:"target,omitempty"`         // numeric, timer
	Options     []Option  `json:"options,omitempty"`        // single_choice, multi_choice
	MaxPoints   float64   `json:"max_points,omitempty"`     // multi_choice: cap; 0 means the sum of the options
	PhotoCount  int       `json:"required_count,omitempty"` // photo: photos needed
	ScoreNPS    bool      `json:"score_nps,omitempty"`      // nps

	Rules []Rule `json:"rules,omitempty"`
}

// Scored reports whether the question contributes points.
func (q *Question) Scored() bool {
	switch q.Type {
	case QuestionText, QuestionPhoto:
		return false
	case QuestionNPS:
		return q.ScoreNPS
	}
	return true
}

// MaxScore is the most points the question can earn: its weight when it
// is scored, 0 otherwise.
func (q *Question) MaxScore() float64 {
	if !q.Scored() {
		return 0
	}
	return q.weight()
}

// weight returns the question's weight with the default applied.
func (q *Question) weight() float64 {
	if q.Weight == 0 {
		return 1
	}
	return q.Weight
}

// option returns the option with the given value.
func (q *Question) option(value string) (Option, bool) {
	for _, o := range q.Options {
		if o.Value == value {
			return o, true
		}
	}
	return Option{}, false
}

// stepPoints returns the points of scale step k (1-based).
func (q *Question) stepPoints(k int) float64 {
	if len(q.ScalePoints) > 0 {
		return q.ScalePoints[k-1]
	}
	return float64(k - 1)
}

// scaleTop returns the points of the best scale step.
func (q *Question) scaleTop() float64 {
	if len(q.ScalePoints) == 0 {
		return float64(q.ScaleMax - 1)
	}
	return slices.Max(q.ScalePoints)
}

// choiceMax returns the points a full-marks choice answer earns.
func (q *Question) choiceMax() float64 {
	var m float64
	for _, o := range q.Options {
		if q.Type == QuestionSingleChoice {
			m = math.Max(m, o.Points)
		} else {
			m += o.Points
		}
	}
	if q.Type == QuestionMultiChoice && q.MaxPoints > 0 {
		m = math.Min(m, q.MaxPoints)
	}
	return m
}

// typeFields says which question types each type-specific field applies to.
var typeFields = []struct {
	name  string
	set   func(q *Question) bool
	types []QuestionType
}{
	{"pass_on_no", func(q *Question) bool { return q.PassOnNo }, []QuestionType{QuestionYesNo}},
	{"scale_points", func(q *Question) bool { return q.ScalePoints != nil }, []QuestionType{QuestionScale}},
	{"unit", func(q *Question) bool { return q.Unit != "" }, []QuestionType{QuestionNumeric, QuestionTimer}},
	{"target", func(q *Question) bool { return q.Target != nil }, []QuestionType{QuestionNumeric, QuestionTimer}},
	{"options", func(q *Question) bool { return q.Options != nil }, []QuestionType{QuestionSingleChoice, QuestionMultiChoice}},
	{"max_points", func(q *Question) bool { return q.MaxPoints != 0 }, []QuestionType{QuestionMultiChoice}},
	{"required_count", func(q *Question) bool { return q.PhotoCount != 0 }, []QuestionType{QuestionPhoto}},
	{"score_nps", func(q *Question) bool { return q.ScoreNPS }, []QuestionType{QuestionNPS}},
	{"scale_max", func(q *Question) bool { return q.ScaleMax != 0 }, []QuestionType{QuestionScale}},
}

// problems lists everything wrong with the question's definition, with
// paths relative to the question. Unknown standard codes and duplicate IDs
// are the checklist's concern.
func (q *Question) problems() []problem {
	var ps []problem
	add := func(field, format string, args ...any) {
		ps = append(ps, problem{field: field, msg: fmt.Sprintf(format, args...)})
	}
	if q.ID == "" {
		add("id", `"id" is required`)
	} else if strings.ContainsFunc(q.ID, func(r rune) bool { return r <= ' ' }) {
		add("id", `"id" %q must not contain spaces`, q.ID)
	}
	if strings.TrimSpace(q.Text) == "" {
		add("text", `"text" is required`)
	}
	ps = append(ps, lengthProblems("", text{"id", q.ID, MaxIDLen}, text{"text", q.Text, MaxTextLen},
		text{"standard", q.StandardCode, MaxCodeLen}, text{"unit", q.Unit, MaxCodeLen})...)
	if !q.Type.Valid() {
		add("type", `unknown question type %q (want one of %s)`, q.Type, joinTypes(QuestionTypes))
		return ps
	}
	if !InRange(q.Weight, 0, MaxWeight) {
		add("weight", `"weight" must be > 0 and at most %d`, MaxWeight)
	}
	for _, f := range typeFields {
		if f.set(q) && !hasType(f.types, q.Type) {
			add(f.name, "%q applies only to %s questions", f.name, joinTypes(f.types))
		}
	}
	if q.Critical && !q.Scored() {
		add("critical", "%s question is not scored and cannot be critical", q.Type)
	}
	if q.OpensAction && !q.Scored() {
		add("opens_action", "%s question is not scored and never fails, so it cannot open an action", q.Type)
	}
	switch q.Type {
	case QuestionScale:
		switch {
		case q.ScaleMax < 2 || q.ScaleMax > maxScale:
			add("scale_max", `scale question needs "scale_max" >= 2 and <= %d`, maxScale)
		case q.ScalePoints != nil && len(q.ScalePoints) != q.ScaleMax:
			add("scale_points", `"scale_points" has %d entries, want "scale_max" = %d`, len(q.ScalePoints), q.ScaleMax)
		case q.ScalePoints != nil && !pointsOK(q.ScalePoints):
			add("scale_points", `"scale_points" must be 0 to %d with at least one > 0`, MaxPoints)
		}
	case QuestionNumeric, QuestionTimer:
		if q.Type == QuestionTimer {
			if _, ok := timerUnits[q.Unit]; !ok {
				add("unit", `timer question needs "unit" ms, s, min or h, not %q`, q.Unit)
			}
		}
		switch {
		case q.Target == nil:
			add("target", `%s question needs a "target" such as {"op": "<=", "value": 30}`, q.Type)
		case q.Target.Op != AtMost && q.Target.Op != AtLeast:
			add("target", `target "op" must be "<=" or ">=", not %q`, q.Target.Op)
		case !InRange(math.Abs(q.Target.Value), 0, MaxTargetValue):
			add("target", `target "value" must be a finite number of magnitude at most %g`, MaxTargetValue)
		case q.Type == QuestionTimer && q.Target.Value < 0:
			add("target", `timer target "value" must not be negative`)
		}
	case QuestionSingleChoice, QuestionMultiChoice:
		ps = append(ps, q.optionProblems()...)
		if !InRange(q.MaxPoints, 0, MaxPoints) {
			add("max_points", `"max_points" must be > 0 and at most %d`, MaxPoints)
		}
	case QuestionPhoto:
		if q.PhotoCount < 0 || q.PhotoCount > MaxPhotosPerQuestion {
			add("required_count", `"required_count" must be 0 to %d`, MaxPhotosPerQuestion)
		}
	}
	for i, r := range q.Rules {
		for _, p := range q.ruleProblems(r) {
			p.path = joinPath(fmt.Sprintf("rules[%d]", i), p.path)
			ps = append(ps, p)
		}
	}
	return ps
}

func (q *Question) optionProblems() []problem {
	if len(q.Options) == 0 {
		return []problem{{field: "options", msg: fmt.Sprintf(`%s question needs "options"`, q.Type)}}
	}
	var ps []problem
	seen := map[string]bool{}
	points := make([]float64, len(q.Options))
	for i, o := range q.Options {
		path := fmt.Sprintf("options[%d]", i)
		switch {
		case o.Value == "":
			ps = append(ps, problem{path: path, field: "value", msg: `option needs a "value"`})
		case seen[o.Value]:
			ps = append(ps, problem{path: path, field: "value", msg: fmt.Sprintf("duplicate option value %q", o.Value)})
		}
		ps = append(ps, lengthProblems(path, text{"value", o.Value, MaxCodeLen}, text{"label", o.Label, MaxNameLen})...)
		seen[o.Value] = true
		points[i] = o.Points
	}
	if !pointsOK(points) {
		ps = append(ps, problem{field: "options", msg: fmt.Sprintf(`option "points" must be 0 to %d with at least one > 0`, MaxPoints)})
	}
	return ps
}

func (q *Question) ruleProblems(r Rule) []problem {
	var ps []problem
	add := func(path, field, msg string) { ps = append(ps, problem{path: path, field: field, msg: msg}) }
	switch {
	case r.When.Answer == "" && !r.When.Failed:
		add("when", "", `rule needs "when" with "answer" or "failed"`)
	case r.When.Answer != "" && r.When.Failed:
		add("when", "", `rule "when" takes "answer" or "failed", not both`)
	case r.When.Failed && !q.Scored():
		add("when", "failed", fmt.Sprintf(`%s question is not scored and never fails`, q.Type))
	case r.When.Answer != "":
		switch q.Type {
		case QuestionYesNo:
			if r.When.Answer != "yes" && r.When.Answer != "no" {
				add("when", "answer", fmt.Sprintf(`yes_no question has no answer %q (want "yes" or "no")`, r.When.Answer))
			}
		case QuestionSingleChoice, QuestionMultiChoice:
			if _, ok := q.option(r.When.Answer); !ok {
				add("when", "answer", fmt.Sprintf(`question has no option %q`, r.When.Answer))
			}
		default:
			add("when", "answer", fmt.Sprintf(`"answer" conditions apply to yes_no and choice questions, not %s`, q.Type))
		}
	}
	switch {
	case r.Require.Photos < 0 || r.Require.Photos > MaxPhotosPerQuestion:
		add("require", "photos", fmt.Sprintf(`"photos" must be 0 to %d`, MaxPhotosPerQuestion))
	case !r.Require.Note && r.Require.Photos == 0:
		add("require", "", `rule must require a "note" or "photos"`)
	}
	return ps
}

// pointsOK reports whether every value is within 0..MaxPoints and one is
// > 0.
func pointsOK(ps []float64) bool {
	pos := false
	for _, p := range ps {
		if !InRange(p, 0, MaxPoints) {
			return false
		}
		pos = pos || p > 0
	}
	return pos
}

func hasType(ts []QuestionType, t QuestionType) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

func joinTypes(ts []QuestionType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}
