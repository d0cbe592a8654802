package audit

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// A corrective action is the follow-up of a failed question (issue 16):
// a failed critical question always opens one when its visit is approved,
// and a question marked OpensAction does too. The store's manager owns it
// by default; he starts it, records it done with a note and, if he likes,
// photos of the fix; the next approved visit of the store on the same
// question verifies it when the question passes and reopens it when it
// fails (or a manager does so by hand).

// ActionState is where a corrective action is.
type ActionState string

// The states of an action.
const (
	ActionOpen       ActionState = "open"        // opened by a failed question, nobody working on it yet
	ActionInProgress ActionState = "in_progress" // the owner is fixing it
	ActionDone       ActionState = "done"        // the owner says it is fixed
	ActionVerified   ActionState = "verified"    // a passing visit (or a manager) confirmed the fix: final
	ActionReopened   ActionState = "reopened"    // a failing visit (or a manager) found it not fixed
)

// ActionStates lists the states in the order the console shows them.
var ActionStates = []ActionState{ActionOpen, ActionInProgress, ActionDone, ActionVerified, ActionReopened}

// Unresolved reports whether an action in state s still waits for its
// owner (open, in progress or reopened): the states that can be overdue.
func (s ActionState) Unresolved() bool {
	return s == ActionOpen || s == ActionInProgress || s == ActionReopened
}

// ActionStep is what moves an action.
type ActionStep string

// The steps of an action.
const (
	StepStart  ActionStep = "start"  // the owner starts working on it
	StepDone   ActionStep = "done"   // the owner records the fix (a note, optional photos)
	StepVerify ActionStep = "verify" // the fix is confirmed
	StepReopen ActionStep = "reopen" // the fix is found wanting
)

// actionRules says from which states each step moves an action and to
// which.
var actionRules = map[ActionStep]struct {
	from []ActionState
	to   ActionState
}{
	StepStart:  {from: []ActionState{ActionOpen, ActionReopened}, to: ActionInProgress},
	StepDone:   {from: []ActionState{ActionOpen, ActionInProgress, ActionReopened}, to: ActionDone},
	StepVerify: {from: []ActionState{ActionDone}, to: ActionVerified},
	StepReopen: {from: []ActionState{ActionDone, ActionVerified}, to: ActionReopened},
}

var actionStateWords = map[ActionState]string{
	ActionOpen: "open", ActionInProgress: "in progress", ActionDone: "done", ActionVerified: "verified", ActionReopened: "reopened",
}

// ActionTransition returns the state an action in state from moves to on
// step. Errors: EINVALID (an unknown step), EPRECONDITION (the state does
// not allow the step), naming both.
func ActionTransition(from ActionState, step ActionStep) (ActionState, error) {
	rule, ok := actionRules[step]
	if !ok {
		return "", Errorf(EINVALID, "unknown action step %q (want start, done, verify or reopen)", step)
	}
	if !slices.Contains(rule.from, from) {
		words := make([]string, len(rule.from))
		for i, s := range rule.from {
			words[i] = actionStateWords[s]
		}
		return "", Errorf(EPRECONDITION, "the action is %s, so it cannot be moved by %q: only an action %s can be",
			actionStateWords[from], step, strings.Join(words, " or "))
	}
	return rule.to, nil
}

// Severity is how urgent an action is; the organisation gives each a
// number of days to fix it (OrgSettings.ActionDays).
type Severity string

// The severities: a failed critical question's action is critical; the
// action of a question marked OpensAction is major.
const (
	SeverityCritical Severity = "critical"
	SeverityMajor    Severity = "major"
)

// Default days to fix an action, by severity, for an organisation that set
// none, and the most it may set.
const (
	DefaultActionDaysCritical = 3
	DefaultActionDaysMajor    = 14
	MaxActionDays             = 365
)

// ActionSeverity returns whether a failed answer to q opens an action and
// of which severity: critical questions always do, others when the
// checklist marks them OpensAction.
func ActionSeverity(q *Question) (Severity, bool) {
	switch {
	case q.Critical:
		return SeverityCritical, true
	case q.OpensAction:
		return SeverityMajor, true
	}
	return "", false
}

// ActionDueDate returns the day (YYYY-MM-DD, in loc) by which an action of
// severity sev opened at opened must be done: the day it was opened in
// the organisation's time zone plus the organisation's days for sev.
func ActionDueDate(s OrgSettings, sev Severity, opened time.Time, loc *time.Location) string {
	y, m, d := opened.In(loc).Date()
	return time.Date(y, m, d+s.ActionDays(sev), 12, 0, 0, 0, loc).Format(time.DateOnly)
}

// Today returns the day now falls on in loc (YYYY-MM-DD).
func Today(now time.Time, loc *time.Location) string { return now.In(loc).Format(time.DateOnly) }

// ActionOverdue reports whether an action in state st due on due
// (YYYY-MM-DD) is overdue on the day today (YYYY-MM-DD, the
// organisation's time zone): unresolved after its due day has ended.
func ActionOverdue(st ActionState, due, today string) bool {
	return st.Unresolved() && due != "" && today > due
}

// MaxActionNote bounds an action's notes and reasons, and MaxActionProof
// its proof photos.
const (
	MaxActionNote  = MaxTextLen
	MaxActionProof = MaxPhotosPerQuestion
)

// Action is one corrective action.
type Action struct {
	ID       string
	State    ActionState
	Severity Severity
	// The store, the question (by the checklist's id and the question's,
	// which stay the same across versions) with its text and standard
	// clause, and the visit whose failed answer opened it.
	StoreID, StoreCode, StoreName string
	ChecklistID                   string
	QuestionID, QuestionText      string
	StandardCode                  string
	VisitID                       string
	VisitedAt                     time.Time
	// OwnerID is the user who must fix it ("" when the store had no
	// manager), with his name.
	OwnerID, OwnerName string
	DueDate            string // YYYY-MM-DD, organisation time zone
	OpenedAt           time.Time
	// Note is the owner's account of the fix (set when done); Proof its
	// photos.
	Note  string
	Proof []ActionProof
	// ResolvedByVisitID is the visit that last verified or reopened it.
	ResolvedByVisitID string
	UpdatedAt         time.Time
	// Overdue is computed when read: unresolved past its due day in the
	// organisation's time zone.
	Overdue bool
	History []ActionChange
}

// ActionProof is one photo of an action's fix, verified through the same
// content-addressed path as visits' photos.
type ActionProof struct {
	Index       int
	SHA256      string
	Size        int64
	ContentType string
	FileName    string
	Verified    bool
}

// ActionChange is one recorded move of an action (or of its owner).
type ActionChange struct {
	At         time.Time
	ActorID    string // "" for the system (a visit's approval, the overdue tick)
	ActorName  string
	ActorRole  string
	From, To   ActionState
	Note       string
	VisitID    string // the visit that moved it, when one did
	OwnerID    string // the new owner, on a reassignment
	OwnerName  string
	Reassigned bool
}

// CheckActionProof validates the photos declared as an action's proof.
// Errors: EINVALID naming the file.
func CheckActionProof(ps []ActionProof) error {
	if len(ps) > MaxActionProof {
		return Errorf(EINVALID, "an action takes at most %d proof photos, not %d", MaxActionProof, len(ps))
	}
	seen := map[string]bool{}
	for i, p := range ps {
		name := fmt.Sprintf("proof photo %d", i+1)
		if p.FileName != "" {
			name = fmt.Sprintf("proof photo %d (%s)", i+1, p.FileName)
		}
		switch {
		case !isHexSHA256(p.SHA256):
			return Errorf(EINVALID, "%s: sha256 %q is not 64 hex digits", name, p.SHA256)
		case seen[strings.ToLower(p.SHA256)]:
			return Errorf(EINVALID, "%s: the same photo is declared twice", name)
		case p.Size <= 0 || p.Size > MaxPhotoBytes:
			return Errorf(EINVALID, "%s: size %d bytes is outside 1..%d", name, p.Size, MaxPhotoBytes)
		case !slices.Contains(PhotoContentTypes, p.ContentType):
			return Errorf(EINVALID, "%s: type %q is not a photo type (%s)", name, p.ContentType, strings.Join(PhotoContentTypes, ", "))
		case len(p.FileName) > MaxNameLen:
			return Errorf(EINVALID, "%s: file name longer than %d bytes", name, MaxNameLen)
		}
		seen[strings.ToLower(p.SHA256)] = true
	}
	return nil
}

// isHexSHA256 reports whether s is a hex SHA-256 (either case).
func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}
