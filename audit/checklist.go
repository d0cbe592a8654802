package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Section is a titled group of questions; it gets its own score.
type Section struct {
	ID        string     `json:"id"` // unique within the checklist
	Title     string     `json:"title"`
	Questions []Question `json:"questions"`
}

// CapScope says what a failed critical question caps.
type CapScope string

// The scopes of a critical cap.
const (
	CapVisit   CapScope = "visit"   // the whole visit's percentage
	CapSection CapScope = "section" // the percentage of the failed question's section
)

// CriticalCap limits the score when a critical question fails: the
// section or the whole visit, as Scope says, scores at most Percent. The
// zero value caps the whole visit at 0.
type CriticalCap struct {
	Scope   CapScope `json:"scope,omitempty"` // "" means visit
	Percent float64  `json:"percent"`         // 0..100
}

func (c CriticalCap) scope() CapScope {
	if c.Scope == "" {
		return CapVisit
	}
	return c.Scope
}

// Checklist is what a shopper fills for one channel: sections of
// questions, each checking a clause of the corporate standards. Standards
// holds the clauses the questions reference, so that a published version is
// self-contained.
type Checklist struct {
	ID             string      `json:"id"`
	Name           string      `json:"name"`
	Channel        Channel     `json:"channel"`
	AllowUnplanned bool        `json:"allow_unplanned,omitempty"` // a shopper may start a visit without an assignment
	CriticalCap    CriticalCap `json:"critical_cap"`
	Sections       []Section   `json:"sections"`
	Standards      []Standard  `json:"standards,omitempty"`
}

// Question returns the question with the given ID and the index of its
// section.
func (c *Checklist) Question(id string) (*Question, int, bool) {
	for si := range c.Sections {
		for qi := range c.Sections[si].Questions {
			if q := &c.Sections[si].Questions[qi]; q.ID == id {
				return q, si, true
			}
		}
	}
	return nil, -1, false
}

// Standard returns the standard with the given code.
func (c *Checklist) Standard(code string) (Standard, bool) {
	for _, s := range c.Standards {
		if s.Code == code {
			return s, true
		}
	}
	return Standard{}, false
}

// QuestionCount returns how many questions the checklist has, over all
// its sections.
func (c *Checklist) QuestionCount() int {
	n := 0
	for _, s := range c.Sections {
		n += len(s.Questions)
	}
	return n
}

// Validate returns EINVALID listing every problem of the checklist when it
// cannot be published or scored.
func (c *Checklist) Validate() error {
	ps := c.problems()
	if len(ps) == 0 {
		return nil
	}
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.String()
	}
	return Errorf(EINVALID, "checklist %s: %s", c.ID, strings.Join(msgs, "; "))
}

// problems lists everything wrong with the checklist, in document order,
// with paths relative to the checklist. Questions may only reference the
// standards in c.Standards.
func (c *Checklist) problems() []problem {
	var ps []problem
	standards := map[string]bool{}
	for i, s := range c.Standards {
		path := fmt.Sprintf("standards[%d]", i)
		for _, p := range s.problems() {
			p.path = path
			ps = append(ps, p)
		}
		if standards[s.Code] {
			ps = append(ps, problem{path: path, field: "code", msg: fmt.Sprintf("duplicate standard code %q", s.Code)})
		}
		standards[s.Code] = true
	}
	return append(ps, c.bodyProblems(standards)...)
}

// bodyProblems lists everything wrong with the checklist but its
// standards, given the codes of the standards its questions may reference.
func (c *Checklist) bodyProblems(standards map[string]bool) []problem {
	var ps []problem
	add := func(path, field, format string, args ...any) {
		ps = append(ps, problem{path: path, field: field, msg: fmt.Sprintf(format, args...)})
	}
	if c.ID == "" {
		add("", "id", `"id" is required`)
	}
	if strings.TrimSpace(c.Name) == "" {
		add("", "name", `"name" is required`)
	}
	ps = append(ps, lengthProblems("", text{"id", c.ID, MaxIDLen}, text{"name", c.Name, MaxNameLen})...)
	if !c.Channel.Valid() {
		add("", "channel", `unknown channel %q (want one of %s)`, c.Channel, joinChannels())
	}
	if s := c.CriticalCap.Scope; s != "" && s != CapVisit && s != CapSection {
		add("critical_cap", "scope", `critical cap "scope" must be "visit" or "section", not %q`, s)
	}
	if p := c.CriticalCap.Percent; p < 0 || p > 100 || math.IsNaN(p) {
		add("critical_cap", "percent", `critical cap "percent" must be within 0..100`)
	}
	if len(c.Sections) == 0 {
		add("", "sections", `checklist needs at least one section`)
	}
	sections, questions := map[string]bool{}, map[string]bool{}
	for si, s := range c.Sections {
		spath := fmt.Sprintf("sections[%d]", si)
		switch {
		case s.ID == "":
			add(spath, "id", `section needs an "id"`)
		case sections[s.ID]:
			add(spath, "id", "duplicate section id %q", s.ID)
		}
		sections[s.ID] = true
		if strings.TrimSpace(s.Title) == "" {
			add(spath, "title", `section needs a "title"`)
		}
		ps = append(ps, lengthProblems(spath, text{"id", s.ID, MaxIDLen}, text{"title", s.Title, MaxNameLen})...)
		if len(s.Questions) == 0 {
			add(spath, "questions", `section needs at least one question`)
		}
		for qi := range s.Questions {
			q := &s.Questions[qi]
			qpath := fmt.Sprintf("%s.questions[%d]", spath, qi)
			for _, p := range q.problems() {
				p.path = joinPath(qpath, p.path)
				ps = append(ps, p)
			}
			if q.ID != "" && questions[q.ID] {
				add(qpath, "id", "duplicate question id %q", q.ID)
			}
			questions[q.ID] = true
			if q.StandardCode != "" && !standards[q.StandardCode] {
				add(qpath, "standard", "unknown standard %q", q.StandardCode)
			}
		}
	}
	return ps
}

func joinChannels() string {
	s := make([]string, len(Channels))
	for i, c := range Channels {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// Clone returns a deep copy of the checklist.
func (c *Checklist) Clone() Checklist {
	out := *c
	out.Standards = slices.Clone(c.Standards)
	out.Sections = slices.Clone(c.Sections)
	for si := range out.Sections {
		qs := slices.Clone(out.Sections[si].Questions)
		for qi := range qs {
			q := &qs[qi]
			q.ScalePoints = slices.Clone(q.ScalePoints)
			q.Options = slices.Clone(q.Options)
			q.Rules = slices.Clone(q.Rules)
			if q.Target != nil {
				t := *q.Target
				q.Target = &t
			}
		}
		out.Sections[si].Questions = qs
	}
	return out
}

// CanonicalJSON returns the canonical encoding of the checklist's content:
// defaults made explicit (weights), standards sorted by code, fields in
// declaration order, no maps and no insignificant whitespace. Equal content
// always encodes to equal bytes. It returns EINVALID when the content holds
// a value JSON cannot encode (NaN or an infinity).
func (c *Checklist) CanonicalJSON() ([]byte, error) {
	n := c.Clone()
	slices.SortStableFunc(n.Standards, func(a, b Standard) int { return strings.Compare(a.Code, b.Code) })
	for si := range n.Sections {
		for qi := range n.Sections[si].Questions {
			q := &n.Sections[si].Questions[qi]
			q.Weight = q.weight()
		}
	}
	b, err := json.Marshal(&n)
	if err != nil {
		return nil, Errorf(EINVALID, "checklist %s: content cannot be encoded: %v", c.ID, err)
	}
	return b, nil
}

// ContentHash returns the hex SHA-256 of the checklist's CanonicalJSON.
// It returns EINVALID when the content cannot be encoded.
func (c *Checklist) ContentHash() (string, error) {
	b, err := c.CanonicalJSON()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// VersionState is the life-cycle state of a checklist version.
type VersionState string

// The states of a checklist version. Only a draft may change; a published
// version is immutable and may only be retired.
const (
	VersionDraft     VersionState = "draft"
	VersionPublished VersionState = "published"
	VersionRetired   VersionState = "retired"
)

// ChecklistVersion is one numbered version of a checklist's content. Visits
// record the version and its ContentHash and are scored against it.
type ChecklistVersion struct {
	ChecklistID string
	Version     int // 1, 2, ...
	State       VersionState
	Content     Checklist
	ContentHash string    // set on publish
	PublishedAt time.Time // set on publish
}

// NewDraft returns a draft version of the checklist holding a copy of its
// content.
func NewDraft(c *Checklist, version int) *ChecklistVersion {
	return &ChecklistVersion{ChecklistID: c.ID, Version: version, State: VersionDraft, Content: c.Clone()}
}

// Publish returns the published version of a draft: a deep copy of its
// content, validated and hashed, stamped with at. The draft itself is left
// unchanged. It returns EPRECONDITION when v is not a draft and EINVALID
// when the content is invalid or its version number is not positive.
func Publish(v *ChecklistVersion, at time.Time) (*ChecklistVersion, error) {
	if v.State != VersionDraft {
		return nil, Errorf(EPRECONDITION, "checklist %s version %d is %s; only a draft can be published", v.ChecklistID, v.Version, v.State)
	}
	if v.Version < 1 {
		return nil, Errorf(EINVALID, "checklist %s: version must be >= 1, not %d", v.ChecklistID, v.Version)
	}
	if v.Content.ID != v.ChecklistID {
		return nil, Errorf(EINVALID, "checklist %s: content has id %q", v.ChecklistID, v.Content.ID)
	}
	if err := v.Content.Validate(); err != nil {
		return nil, err
	}
	hash, err := v.Content.ContentHash()
	if err != nil {
		return nil, err
	}
	return &ChecklistVersion{
		ChecklistID: v.ChecklistID,
		Version:     v.Version,
		State:       VersionPublished,
		Content:     v.Content.Clone(),
		ContentHash: hash,
		PublishedAt: at,
	}, nil
}

// Retire returns a copy of a published version in the retired state: it
// still scores the visits recorded against it, but takes no new ones.
//
// Checklists belong to the whole organisation, so retiring one reaches
// every store that uses it. A caller whose scope is not the whole
// organisation (a manager) may retire a version only while none of its
// pending (open or accepted) assignments is at a store outside his scope;
// foreign lists the codes of those stores, and when it is not empty Retire
// returns EFORBIDDEN naming them: an admin, or the manager of those
// stores once their assignments are done or cancelled, may retire it. It
// returns EPRECONDITION when v is not published.
func Retire(v *ChecklistVersion, scope Scope, foreign []string) (*ChecklistVersion, error) {
	if v.State != VersionPublished {
		return nil, Errorf(EPRECONDITION, "checklist %s version %d is %s; only a published version can be retired", v.ChecklistID, v.Version, v.State)
	}
	if !scope.All && len(foreign) > 0 {
		return nil, Errorf(EFORBIDDEN, "checklist %s version %d has pending assignments at stores you do not manage (%s); an admin may retire it",
			v.ChecklistID, v.Version, strings.Join(foreign, ", "))
	}
	out := *v
	out.Content = v.Content.Clone()
	out.State = VersionRetired
	return &out, nil
}

// Verify checks that a published or retired version still holds the
// content it was published with. It returns EPRECONDITION when the content
// no longer matches ContentHash (published versions are immutable) and
// EINVALID when the content cannot be encoded. A draft always verifies.
func (v *ChecklistVersion) Verify() error {
	if v.State == VersionDraft {
		return nil
	}
	hash, err := v.Content.ContentHash()
	if err != nil {
		return err
	}
	if hash != v.ContentHash {
		return Errorf(EPRECONDITION, "checklist %s version %d: content does not match its hash %s; published versions are immutable", v.ChecklistID, v.Version, v.ContentHash)
	}
	return nil
}
