package audit

import (
	"slices"
	"strings"
)

// VisitState is where a submitted visit is on the server.
//
// A visit arrives submitted, or complete when every photo it references is
// verified already; it becomes complete once the last one is (docs/DESIGN.md §3
// rule 11). A manager takes a complete visit into review, then approves it
// or returns it to the shopper with comments; an approved visit is
// published to reports. A returned visit is superseded when the shopper's
// correction (a new visit naming it) arrives. Pay may depend only on
// approved or published visits.
type VisitState string

// The states of a visit.
const (
	VisitSubmitted  VisitState = "submitted"
	VisitComplete   VisitState = "complete"
	VisitInReview   VisitState = "in_review"
	VisitApproved   VisitState = "approved"
	VisitReturned   VisitState = "returned"
	VisitPublished  VisitState = "published"
	VisitSuperseded VisitState = "superseded"
)

// VisitStates lists every visit state in lifecycle order.
var VisitStates = []VisitState{
	VisitSubmitted, VisitComplete, VisitInReview, VisitApproved, VisitReturned, VisitPublished, VisitSuperseded,
}

// Valid reports whether s is a known state.
func (s VisitState) Valid() bool { return slices.Contains(VisitStates, s) }

// Counts reports whether a visit in state s counts for pay and published
// reports: only approved and published visits do.
func (s VisitState) Counts() bool { return s == VisitApproved || s == VisitPublished }

// Correctable reports whether a shopper's correction may replace a visit in
// state s. An approved or published visit may already be paid on; it is
// reopened by an admin, never replaced from a phone.
func (s VisitState) Correctable() bool {
	return s == VisitSubmitted || s == VisitComplete || s == VisitInReview || s == VisitReturned
}

// ReviewAction is what a reviewer does to a visit.
type ReviewAction string

// The review actions.
const (
	ActionStartReview ReviewAction = "start_review"
	ActionApprove     ReviewAction = "approve"
	ActionReturn      ReviewAction = "return"
	ActionPublish     ReviewAction = "publish"
	ActionReopen      ReviewAction = "reopen"
)

// reviewRule is one row of the review state machine.
type reviewRule struct {
	from  []VisitState
	to    VisitState
	roles []Role
}

var reviewRules = map[ReviewAction]reviewRule{
	ActionStartReview: {from: []VisitState{VisitComplete}, to: VisitInReview, roles: []Role{RoleManager, RoleAdmin}},
	ActionApprove:     {from: []VisitState{VisitInReview}, to: VisitApproved, roles: []Role{RoleManager, RoleAdmin}},
	ActionReturn:      {from: []VisitState{VisitInReview}, to: VisitReturned, roles: []Role{RoleManager, RoleAdmin}},
	ActionPublish:     {from: []VisitState{VisitApproved}, to: VisitPublished, roles: []Role{RoleManager, RoleAdmin}},
	ActionReopen:      {from: []VisitState{VisitApproved, VisitPublished}, to: VisitInReview, roles: []Role{RoleAdmin}},
}

// stateWords and actionWords say states and actions as a person reads
// them, for the refusals below.
var (
	stateWords = map[VisitState]string{
		VisitSubmitted:  "waiting for evidence",
		VisitComplete:   "waiting for review",
		VisitInReview:   "in review",
		VisitApproved:   "approved",
		VisitReturned:   "returned to the shopper",
		VisitPublished:  "published",
		VisitSuperseded: "replaced by a correction",
	}
	actionWords = map[ReviewAction]string{
		ActionStartReview: "taken into review",
		ActionApprove:     "approved",
		ActionReturn:      "returned",
		ActionPublish:     "published",
		ActionReopen:      "reopened",
	}
)

// stateList says states as "in review" or "approved or published".
func stateList(states []VisitState) string {
	words := make([]string, len(states))
	for i, st := range states {
		words[i] = stateWords[st]
	}
	return strings.Join(words, " or ")
}

// ReviewTransition returns the state a visit in state from moves to when
// a user with role does action. It returns EINVALID for an unknown action,
// EFORBIDDEN when the role may not do it, and EPRECONDITION when the visit's
// state does not allow it (evidence still missing, already reviewed,
// superseded, ...).
func ReviewTransition(from VisitState, action ReviewAction, role Role) (VisitState, error) {
	rule, ok := reviewRules[action]
	if !ok {
		return "", Errorf(EINVALID, "unknown review action %q", action)
	}
	if !slices.Contains(rule.roles, role) {
		return "", Errorf(EFORBIDDEN, "a visit cannot be %s by a user with the %s role", actionWords[action], role)
	}
	if !slices.Contains(rule.from, from) {
		if from == VisitSubmitted {
			return "", Errorf(EPRECONDITION, "the visit still waits for evidence; it can be reviewed once every required photo is verified")
		}
		return "", Errorf(EPRECONDITION, "the visit is %s, so it cannot be %s: only a visit %s can be", stateWords[from], actionWords[action], stateList(rule.from))
	}
	return rule.to, nil
}

// ReviewComment is a reviewer's remark on one question, or on the whole
// visit when QuestionID is empty.
type ReviewComment struct {
	QuestionID string `json:"question_id,omitempty"`
	Text       string `json:"text"`
}

// CheckReturn validates the comments of a return against the checklist
// the visit was recorded with. It returns EINVALID when there is no
// comment, a comment is empty, or one names a question the checklist lacks.
func CheckReturn(c *Checklist, comments []ReviewComment) error {
	if len(comments) == 0 {
		return Errorf(EINVALID, "a returned visit needs at least one comment saying what to correct")
	}
	for i, cm := range comments {
		if cm.Text == "" {
			return Errorf(EINVALID, "comment %d is empty", i+1)
		}
		if cm.QuestionID != "" {
			if _, _, ok := c.Question(cm.QuestionID); !ok {
				return Errorf(EINVALID, "comment %d names question %q, which checklist %s does not have", i+1, cm.QuestionID, c.ID)
			}
		}
	}
	return nil
}
