package audit

// The moves of a visit's state that no reviewer makes: its arrival, its
// evidence completing it, and a correction replacing it (the reviewer's
// are ReviewTransition's).

// ArrivalState is the state a visit arrives in: complete when no photo it
// references is missing (its bytes are verified already, from another
// slot or visit), else submitted (docs/DESIGN.md §3 rule 11).
func ArrivalState(missing int) VisitState {
	if missing == 0 {
		return VisitComplete
	}
	return VisitSubmitted
}

// EvidenceTransition returns the state a visit in state from moves to now
// that missing of its photos remain unverified: a submitted visit becomes
// complete once none is missing. ok is false when the state stays.
func EvidenceTransition(from VisitState, missing int) (to VisitState, ok bool) {
	if from == VisitSubmitted && missing == 0 {
		return VisitComplete, true
	}
	return from, false
}

// SupersedeTransition returns the state the visit id, in state from, moves
// to when the shopper's correction replaces it. It returns EPRECONDITION
// when the visit was replaced already, or may count for pay already
// (approved or published: an admin reopens it first).
func SupersedeTransition(id string, from VisitState) (VisitState, error) {
	switch {
	case from == VisitSuperseded:
		return "", Errorf(EPRECONDITION, "visit %s has already been corrected by another visit", id)
	case !from.Correctable():
		return "", Errorf(EPRECONDITION, "visit %s is %s and may count for pay already; a manager or admin must reopen it before it can be corrected", id, from)
	}
	return VisitSuperseded, nil
}
