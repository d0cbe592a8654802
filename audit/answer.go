package audit

import (
	"fmt"
	"math"
	"strings"
)

// Answer is what a shopper recorded for one question. Exactly one value
// field fits each question type: Bool (yes_no), Number (scale, numeric,
// nps), DurationMS (timer), Choices (single_choice, multi_choice), Text
// (text), PhotoHashes (photo). Note and PhotoHashes may accompany any
// answer as evidence. An answer without its value field is no answer.
type Answer struct {
	QuestionID  string   `json:"question_id"`
	NA          bool     `json:"na,omitempty"` // not applicable; only where the question allows it
	Bool        *bool    `json:"bool,omitempty"`
	Number      *float64 `json:"number,omitempty"`
	DurationMS  *int64   `json:"duration_ms,omitempty"`
	Choices     []string `json:"choices,omitempty"` // option values
	Text        string   `json:"text,omitempty"`
	Note        string   `json:"note,omitempty"`
	PhotoHashes []string `json:"photo_hashes,omitempty"` // hex SHA-256 of the photo bytes
}

// AnswerErrorKind classifies what is wrong with an answer, so that a
// client can point at the fix.
type AnswerErrorKind string

// The kinds of answer errors.
const (
	AnswerMissing         AnswerErrorKind = "missing"          // a required question has no answer
	AnswerUnknownQuestion AnswerErrorKind = "unknown_question" // no such question in the checklist
	AnswerDuplicate       AnswerErrorKind = "duplicate"        // more than one answer for a question
	AnswerWrongType       AnswerErrorKind = "wrong_type"       // the value does not fit the question type
	AnswerOutOfRange      AnswerErrorKind = "out_of_range"     // the value is outside what the question takes
	AnswerNANotAllowed    AnswerErrorKind = "na_not_allowed"   // N/A where the question does not allow it
	AnswerNoteRequired    AnswerErrorKind = "note_required"    // a rule or the answer demands a note
	AnswerPhotosRequired  AnswerErrorKind = "photos_required"  // a rule or a photo question demands photos
	AnswerBadPhotoHash    AnswerErrorKind = "bad_photo_hash"   // a photo hash is not hex SHA-256
)

// AnswerError is one validation error of a visit's answers. It is data,
// not a failure: a visit with answer errors still gets a (preview) score,
// and the server refuses to complete it.
type AnswerError struct {
	QuestionID string
	Kind       AnswerErrorKind
	Message    string
}

// Error implements the error interface.
func (e AnswerError) Error() string {
	return fmt.Sprintf("question %s: %s", e.QuestionID, e.Message)
}

// CheckAnswer validates one answer as it is recorded, against the
// question it answers: its type, range, N/A and the evidence its rules
// demand. It returns no errors for a valid answer.
func (c *Checklist) CheckAnswer(a Answer) []AnswerError {
	q, _, ok := c.Question(a.QuestionID)
	if !ok {
		return []AnswerError{{a.QuestionID, AnswerUnknownQuestion, fmt.Sprintf("no question %q in checklist %s", a.QuestionID, c.ID)}}
	}
	_, errs := q.evaluate(&a)
	return errs
}

// result is what one question's answer is worth.
type result struct {
	answered bool    // a valid value was given
	na       bool    // a valid N/A was given
	fraction float64 // 0..1 of the question's weight, for an answered scored question
	rating   *int    // the 0..10 rating of an nps question
}

// valueField names the value field each question type takes.
var valueField = map[QuestionType]string{
	QuestionYesNo: "bool", QuestionScale: "number", QuestionNumeric: "number", QuestionNPS: "number",
	QuestionTimer: "duration_ms", QuestionSingleChoice: "choices", QuestionMultiChoice: "choices",
	QuestionText: "text", QuestionPhoto: "photo_hashes",
}

// valueFields returns the value fields set in a, in a fixed order.
// PhotoHashes counts as a value only for photo questions.
func valueFields(q *Question, a *Answer) []string {
	var fs []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"bool", a.Bool != nil},
		{"number", a.Number != nil},
		{"duration_ms", a.DurationMS != nil},
		{"choices", a.Choices != nil},
		{"text", a.Text != ""},
		{"photo_hashes", q.Type == QuestionPhoto && len(a.PhotoHashes) > 0},
	} {
		if f.set {
			fs = append(fs, f.name)
		}
	}
	return fs
}

// evaluate judges an answer (nil for none) against the question: what it
// is worth and what is wrong with it. An answer whose value is wrong counts
// as no answer; an answer that lacks only evidence still counts.
func (q *Question) evaluate(a *Answer) (result, []AnswerError) {
	var errs []AnswerError
	fail := func(kind AnswerErrorKind, format string, args ...any) {
		errs = append(errs, AnswerError{q.ID, kind, fmt.Sprintf(format, args...)})
	}
	missing := func() (result, []AnswerError) {
		switch {
		case q.Type == QuestionPhoto && q.photosNeeded() > 0:
			fail(AnswerPhotosRequired, "%d photo(s) required", q.photosNeeded())
		case q.Required:
			fail(AnswerMissing, "an answer is required")
		}
		return result{}, errs
	}
	if a == nil {
		return missing()
	}
	for i, h := range a.PhotoHashes {
		if !isSHA256Hex(h) {
			fail(AnswerBadPhotoHash, "photo %d: %q is not a hex SHA-256 hash", i+1, h)
		}
	}
	fields := valueFields(q, a)
	want := valueField[q.Type]
	if a.NA {
		switch {
		case !q.AllowNA:
			fail(AnswerNANotAllowed, "N/A is not allowed")
		case len(fields) > 0:
			fail(AnswerWrongType, "an N/A answer must not carry a value (%s)", strings.Join(fields, ", "))
		default:
			return result{na: true}, errs
		}
		return result{}, errs
	}
	wrongType := false
	for _, f := range fields {
		if f != want {
			fail(AnswerWrongType, "%s question takes %q, not %q", q.Type, want, f)
			wrongType = true
		}
	}
	switch {
	case wrongType:
		return result{}, errs
	case len(fields) == 0:
		return missing()
	}
	r, kind, msg := q.judge(a)
	if kind != "" {
		fail(kind, "%s", msg)
		return result{}, errs
	}
	for _, rule := range q.Rules {
		if !rule.When.matches(q, a, r) {
			continue
		}
		if rule.Require.Note && strings.TrimSpace(a.Note) == "" {
			fail(AnswerNoteRequired, "a note is required for this answer")
		}
		if n := rule.Require.Photos; len(a.PhotoHashes) < n {
			fail(AnswerPhotosRequired, "%d photo(s) required for this answer, %d given", n, len(a.PhotoHashes))
		}
	}
	return r, errs
}

// MustAnswer reports whether a visit cannot be submitted without an answer
// to the question: a required question, or a photo question that needs
// photos (required or with a required_count).
func (q *Question) MustAnswer() bool {
	return q.Required || q.Type == QuestionPhoto && q.photosNeeded() > 0
}

// photosNeeded returns how many photos a photo question needs.
func (q *Question) photosNeeded() int {
	if q.Required && q.PhotoCount < 1 {
		return 1
	}
	return q.PhotoCount
}

// judge computes the worth of an answer whose value field fits the
// question's type. When the value is not acceptable it returns the kind of
// error and a message instead.
func (q *Question) judge(a *Answer) (r result, kind AnswerErrorKind, msg string) {
	r.answered = true
	switch q.Type {
	case QuestionYesNo:
		r.fraction = pass(*a.Bool != q.PassOnNo)
	case QuestionScale:
		k, isInt := wholeNumber(*a.Number)
		if !isInt || k < 1 || k > q.ScaleMax {
			return r, AnswerOutOfRange, fmt.Sprintf("scale answer must be a whole number 1..%d, not %v", q.ScaleMax, *a.Number)
		}
		r.fraction = q.stepPoints(k) / q.scaleTop()
	case QuestionNumeric:
		x := *a.Number
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return r, AnswerOutOfRange, "numeric answer must be a finite number"
		}
		r.fraction = pass(q.Target.Met(x))
	case QuestionTimer:
		if *a.DurationMS < 0 {
			return r, AnswerOutOfRange, fmt.Sprintf("duration must not be negative, not %d ms", *a.DurationMS)
		}
		r.fraction = pass(q.Target.Met(float64(*a.DurationMS) / timerUnits[q.Unit]))
	case QuestionSingleChoice, QuestionMultiChoice:
		if q.Type == QuestionSingleChoice && len(a.Choices) != 1 {
			return r, AnswerOutOfRange, fmt.Sprintf("single_choice answer takes exactly one option, not %d", len(a.Choices))
		}
		if len(a.Choices) == 0 {
			return r, AnswerOutOfRange, "multi_choice answer takes at least one option"
		}
		seen := map[string]bool{}
		var sum float64
		for _, v := range a.Choices {
			o, known := q.option(v)
			switch {
			case !known:
				return r, AnswerOutOfRange, fmt.Sprintf("no option %q", v)
			case seen[v]:
				return r, AnswerOutOfRange, fmt.Sprintf("option %q chosen twice", v)
			}
			seen[v] = true
			sum += o.Points
		}
		top := q.choiceMax()
		r.fraction = math.Min(sum, top) / top
	case QuestionNPS:
		k, isInt := wholeNumber(*a.Number)
		if !isInt || k < 0 || k > 10 {
			return r, AnswerOutOfRange, fmt.Sprintf("nps answer must be a whole number 0..10, not %v", *a.Number)
		}
		r.rating = &k
		r.fraction = float64(k) / 10
	case QuestionPhoto:
		if n := q.photosNeeded(); len(a.PhotoHashes) < n {
			return r, AnswerPhotosRequired, fmt.Sprintf("%d photo(s) required, %d given", n, len(a.PhotoHashes))
		}
	}
	return r, "", ""
}

// matches reports whether a rule's condition holds for a judged answer.
func (c Condition) matches(q *Question, a *Answer, r result) bool {
	switch {
	case c.Failed:
		return q.Scored() && r.fraction < 1
	case q.Type == QuestionYesNo:
		return (c.Answer == "yes") == *a.Bool
	default:
		for _, v := range a.Choices {
			if v == c.Answer {
				return true
			}
		}
		return false
	}
}

func pass(ok bool) float64 {
	if ok {
		return 1
	}
	return 0
}

// wholeNumber returns x as an int when it is a whole number of modest
// size.
func wholeNumber(x float64) (int, bool) {
	if x != math.Trunc(x) || math.Abs(x) > 1e9 {
		return 0, false
	}
	return int(x), true
}

// isSHA256Hex reports whether s is 64 lower-case hex digits.
func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
