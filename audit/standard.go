package audit

import "strings"

// Category groups standards for reporting ("politeness", "speed"). Any
// non-empty lower-case identifier is a category; the constants are the ones
// the demo pack uses.
type Category string

// The categories of the demo pack.
const (
	CategoryPoliteness     Category = "politeness"
	CategorySpeed          Category = "speed"
	CategoryMerchandising  Category = "merchandising"
	CategoryPriceTags      Category = "price_tags"
	CategoryBackOffice     Category = "back_office"
	CategoryCleanliness    Category = "cleanliness"
	CategoryDelivery       Category = "delivery"
	CategoryCompetence     Category = "competence"
	CategoryCommunication  Category = "communication"
	CategoryRecommendation Category = "recommendation"
)

// Standard is one clause of a company's corporate service standards, the
// thing a checklist question checks.
type Standard struct {
	Code     string   `json:"code"`     // unique within a pack ("POL-1")
	Clause   string   `json:"clause"`   // the requirement as written for staff
	Category Category `json:"category"` // how reports group it
}

// Validate returns EINVALID when the standard cannot be stored.
func (s *Standard) Validate() error {
	if p := s.problems(); len(p) > 0 {
		return Errorf(EINVALID, "standard %s: %s", s.Code, p[0].msg)
	}
	return nil
}

func (s *Standard) problems() []problem {
	var ps []problem
	if s.Code == "" {
		ps = append(ps, problem{field: "code", msg: `"code" is required`})
	}
	if strings.TrimSpace(s.Clause) == "" {
		ps = append(ps, problem{field: "clause", msg: `"clause" is required`})
	}
	if !identifier(string(s.Category)) {
		ps = append(ps, problem{field: "category", msg: `"category" must be a lower-case identifier such as "politeness"`})
	}
	ps = append(ps, lengthProblems("", text{"code", s.Code, MaxCodeLen}, text{"clause", s.Clause, MaxTextLen},
		text{"category", string(s.Category), MaxCodeLen})...)
	return ps
}

// identifier reports whether s is a non-empty lower-case identifier: a-z,
// 0-9 and underscores, starting with a letter.
func identifier(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// problem is one thing wrong with a standard or a checklist: path is where,
// relative to the value being validated ("sections[1].questions[3]"),
// field the offending key when there is one, msg what is wrong.
type problem struct {
	path  string
	field string
	msg   string
}

// String renders the problem as "path: msg".
func (p problem) String() string {
	if p.path == "" {
		return p.msg
	}
	return p.path + ": " + p.msg
}

// joinPath appends a child segment to a path: a key (".key") or an index
// ("[3]") given already formatted.
func joinPath(path, seg string) string {
	if seg == "" {
		return path
	}
	if path == "" || strings.HasPrefix(seg, "[") {
		return path + seg
	}
	return path + "." + seg
}
