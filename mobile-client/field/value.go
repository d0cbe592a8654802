package field

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// ParseValue reads an answer typed as text for question q: "na" for not
// applicable; yes/no (y/n, true/false) for yes_no; a number for scale,
// numeric and nps; a duration for timer ("25s", "1m30s", or a bare number
// in the question's unit); option values separated by commas for choice
// questions; anything for text. Photo questions take photos (AddPhoto),
// not text. Errors: EINVALID, saying what the question takes.
func ParseValue(q *audit.Question, text string) (Value, error) {
	t := strings.TrimSpace(text)
	switch strings.ToLower(t) {
	case "na", "n/a":
		return Value{NA: true}, nil
	}
	bad := func(want string) (Value, error) {
		return Value{}, audit.Errorf(audit.EINVALID, "question %s (%s) takes %s, not %q", q.ID, q.Type, want, text)
	}
	switch q.Type {
	case audit.QuestionYesNo:
		switch strings.ToLower(t) {
		case "yes", "y", "true":
			b := true
			return Value{Bool: &b}, nil
		case "no", "n", "false":
			b := false
			return Value{Bool: &b}, nil
		}
		return bad("yes or no (or na)")
	case audit.QuestionScale, audit.QuestionNumeric, audit.QuestionNPS:
		x, err := strconv.ParseFloat(strings.ReplaceAll(t, ",", "."), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			switch q.Type {
			case audit.QuestionScale:
				return bad(fmt.Sprintf("a whole number 1..%d", q.ScaleMax))
			case audit.QuestionNPS:
				return bad("a whole number 0..10")
			}
			return bad("a number" + unitSuffix(q.Unit))
		}
		return Value{Number: &x}, nil
	case audit.QuestionTimer:
		if d, err := time.ParseDuration(t); err == nil {
			ms := d.Milliseconds()
			return Value{DurationMS: &ms}, nil
		}
		x, err := strconv.ParseFloat(strings.ReplaceAll(t, ",", "."), 64)
		unit, ok := audit.TimerUnitMS(q.Unit)
		if err != nil || !ok || math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x*unit) > 1e15 {
			return bad(fmt.Sprintf("a duration like 25s or 1m30s, or a number%s (or use the timer)", unitSuffix(q.Unit)))
		}
		ms := int64(math.Round(x * unit))
		return Value{DurationMS: &ms}, nil
	case audit.QuestionSingleChoice, audit.QuestionMultiChoice:
		var values []string
		for _, part := range strings.Split(t, ",") {
			if p := strings.TrimSpace(part); p != "" {
				values = append(values, p)
			}
		}
		var known []string
		for _, o := range q.Options {
			known = append(known, o.Value)
		}
		if len(values) == 0 {
			return bad("option values separated by commas: " + strings.Join(known, ", "))
		}
		for i, v := range values {
			found := false
			for _, o := range q.Options {
				if o.Value == v || strings.EqualFold(o.Label, v) {
					values[i], found = o.Value, true
					break
				}
			}
			if !found {
				return Value{}, audit.Errorf(audit.EINVALID, "question %s has no option %q: use %s", q.ID, v, strings.Join(known, ", "))
			}
		}
		return Value{Choices: values}, nil
	case audit.QuestionText:
		if t == "" {
			return bad("some text")
		}
		return Value{Text: t}, nil
	case audit.QuestionPhoto:
		return bad("photos: add them with the photo command")
	}
	return bad("no value this client knows")
}

func unitSuffix(unit string) string {
	if unit == "" {
		return ""
	}
	return " in " + unit
}
