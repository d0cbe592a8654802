package audit

// RemovalReason is why an assignment left a shopper's device: the
// tombstone his feed carries instead of the assignment (docs/DESIGN.md §3
// rule 8).
type RemovalReason string

// The reasons an assignment leaves a shopper's device.
const (
	RemovalCancelled  RemovalReason = "cancelled"  // a manager cancelled it
	RemovalReassigned RemovalReason = "reassigned" // it was given to another shopper
	RemovalExpired    RemovalReason = "expired"    // its window closed without a visit
)

// RemovalReasons lists every removal reason.
var RemovalReasons = []RemovalReason{RemovalCancelled, RemovalReassigned, RemovalExpired}

// RemovalFor says whether assignment a has left shopperID, and why: given
// to someone else, cancelled or expired. false means the shopper still
// has it and is sent the assignment itself.
func RemovalFor(a *Assignment, shopperID string) (RemovalReason, bool) {
	switch {
	case a.ShopperID != shopperID:
		return RemovalReassigned, true
	case a.State == AssignmentCancelled:
		return RemovalCancelled, true
	case a.State == AssignmentExpired:
		return RemovalExpired, true
	}
	return "", false
}

// AssignmentState is the state a removal leaves the assignment in on the
// device: cancelled or expired; "" for a reassignment, which leaves the
// state as it was (the assignment is hidden all the same).
func (r RemovalReason) AssignmentState() AssignmentState {
	switch r {
	case RemovalCancelled:
		return AssignmentCancelled
	case RemovalExpired:
		return AssignmentExpired
	}
	return ""
}
