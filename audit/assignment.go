package audit

import (
	"strings"
	"time"
)

// AssignmentState is where an assignment is in its life cycle.
type AssignmentState string

// The states of an assignment. Cancelled, expired and done are final.
const (
	AssignmentOpen      AssignmentState = "open"      // offered, not yet taken
	AssignmentAccepted  AssignmentState = "accepted"  // the shopper took it
	AssignmentCancelled AssignmentState = "cancelled" // withdrawn by a manager
	AssignmentExpired   AssignmentState = "expired"   // the window closed without a visit
	AssignmentDone      AssignmentState = "done"      // a visit was submitted
)

// AssignmentStates lists every assignment state, in a stable order.
var AssignmentStates = []AssignmentState{
	AssignmentOpen, AssignmentAccepted, AssignmentCancelled, AssignmentExpired, AssignmentDone,
}

// assignmentTransitions lists the legal moves from each state. An accepted
// assignment may be released back to open.
var assignmentTransitions = map[AssignmentState][]AssignmentState{
	AssignmentOpen:     {AssignmentAccepted, AssignmentCancelled, AssignmentExpired},
	AssignmentAccepted: {AssignmentOpen, AssignmentDone, AssignmentCancelled, AssignmentExpired},
}

// Valid reports whether s is one of the known states.
func (s AssignmentState) Valid() bool {
	for _, x := range AssignmentStates {
		if s == x {
			return true
		}
	}
	return false
}

// Final reports whether no transition leaves s.
func (s AssignmentState) Final() bool {
	return s.Valid() && len(assignmentTransitions[s]) == 0
}

// CanTransition reports whether an assignment may move from s to to.
func (s AssignmentState) CanTransition(to AssignmentState) bool {
	for _, x := range assignmentTransitions[s] {
		if x == to {
			return true
		}
	}
	return false
}

// Assignment asks a shopper to audit a store with a checklist version
// within a time window.
type Assignment struct {
	ID               string
	StoreID          string
	ChecklistID      string
	ChecklistVersion int
	Channel          Channel
	WindowStart      time.Time
	WindowEnd        time.Time
	ShopperID        string // empty while open to any shopper
	State            AssignmentState
	CancelReason     string
	CreatedBy        string // the manager or admin who created it
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Validate returns EINVALID when the assignment cannot be stored.
func (a *Assignment) Validate() error {
	var missing []string
	for _, f := range []struct{ name, v string }{{"id", a.ID}, {"store", a.StoreID}, {"checklist", a.ChecklistID}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	switch {
	case len(missing) > 0:
		return Errorf(EINVALID, "assignment %s: %s required", a.ID, strings.Join(missing, ", "))
	case a.ChecklistVersion < 1:
		return Errorf(EINVALID, "assignment %s: checklist version must be >= 1", a.ID)
	case !a.Channel.Valid():
		return Errorf(EINVALID, "assignment %s: unknown channel %q", a.ID, a.Channel)
	case a.WindowStart.IsZero() || !a.WindowEnd.After(a.WindowStart):
		return Errorf(EINVALID, "assignment %s: the window must end after it starts", a.ID)
	case !a.State.Valid():
		return Errorf(EINVALID, "assignment %s: unknown state %q", a.ID, a.State)
	case a.State != AssignmentOpen && a.ShopperID == "" && a.State != AssignmentCancelled && a.State != AssignmentExpired:
		return Errorf(EINVALID, "assignment %s: a %s assignment needs a shopper", a.ID, a.State)
	}
	return nil
}

// Transition moves the assignment to state to. It returns EINVALID for an
// unknown state and EPRECONDITION for a move the life cycle forbids
// (open→accepted→done, with cancellation and expiry from open or accepted,
// and release from accepted to open); the assignment is unchanged then.
func (a *Assignment) Transition(to AssignmentState) error {
	if !to.Valid() {
		return Errorf(EINVALID, "assignment %s: unknown state %q", a.ID, to)
	}
	if !a.State.CanTransition(to) {
		return Errorf(EPRECONDITION, "assignment %s is %s and cannot become %s", a.ID, a.State, to)
	}
	a.State = to
	return nil
}
