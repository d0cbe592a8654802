package audit

import (
	"slices"
	"time"
)

// VisitFlag marks a recorded visit a manager should look at. Flags never
// make a visit lost and never change a score: what a shopper recorded is
// kept, and the flags inform the review.
//
// A visit carries two lists of them, both named from the one vocabulary
// below and both worked out by FlagVisit: its flags (on the receipt and
// the review list: what admitting it found) and its proof-of-visit flags
// (ProofFlag: a flag with what was measured, recomputed when the server
// learns more, such as the EXIF of verified photo bytes). A flag that
// both lists carry (FlagClockSkew, FlagPhotoReused) has one name and one
// rule.
type VisitFlag string

// The visit flags: admission (Admit).
const (
	FlagUnplanned           VisitFlag = "unplanned"            // no assignment
	FlagAssignmentCancelled VisitFlag = "assignment_cancelled" // the assignment was cancelled
	FlagAssignmentExpired   VisitFlag = "assignment_expired"   // the assignment expired
	FlagAssignmentDone      VisitFlag = "assignment_done"      // another visit completed the assignment
	FlagOutsideWindow       VisitFlag = "outside_window"       // started outside the assignment's window, as claimed
	FlagVersionRetired      VisitFlag = "version_retired"      // the checklist version has been retired
)

// The visit flags: what the server knows besides the visit (VisitFacts).
const (
	// FlagAssignmentReassigned marks a visit on an assignment that was
	// given to another shopper while this one's phone was offline.
	FlagAssignmentReassigned VisitFlag = "assignment_reassigned"
	// FlagCorrection marks a visit that replaces an earlier one.
	FlagCorrection VisitFlag = "correction"
	// FlagStaffNotInStore marks a visit naming a staff member who did not
	// work at the visited store on the visit's day.
	FlagStaffNotInStore VisitFlag = "staff_not_in_store"
)

// The visit flags: proof of visit (CheckProof), each also a ProofFlag code.
const (
	FlagCheckInOutsideGeofence  VisitFlag = "checkin_outside_geofence"
	FlagCheckOutOutsideGeofence VisitFlag = "checkout_outside_geofence"
	// FlagOutsideAssignmentWindow is FlagOutsideWindow judged on the
	// claimed start corrected by the device's measured clock offset.
	FlagOutsideAssignmentWindow VisitFlag = "outside_assignment_window"
	// FlagClockSkew marks a visit pushed by a device whose clock was off
	// the server's by more than ClockSkewLimit (ProofRules.MaxClockSkew).
	// It is in both lists.
	FlagClockSkew VisitFlag = "device_clock_skew"
	// FlagPhotoReused marks a visit with a photo (the same bytes) that
	// another visit references too, the visit it corrects aside
	// (docs/DESIGN.md §4 rule 6). It is in both lists; a ProofFlag per
	// reused photo.
	FlagPhotoReused         VisitFlag = "photo_reused"
	FlagTimerImplausible    VisitFlag = "timer_implausible"
	FlagExifTimeFar         VisitFlag = "exif_time_far"
	FlagExifOutsideGeofence VisitFlag = "exif_outside_geofence"
)

// ClockSkewLimit is the clock offset beyond which a visit is flagged
// FlagClockSkew, unless ProofRules say otherwise.
const ClockSkewLimit = 10 * time.Minute

// VisitFacts is what the server knows about a visit when it flags it:
// the visit, and what storage supplies about what it names.
type VisitFacts struct {
	Visit   *Visit
	Version *ChecklistVersion // the version it was recorded with
	// Assignment is the visit's assignment as its shopper held it (nil:
	// an unplanned visit).
	Assignment *Assignment
	// Reassigned: the assignment went to another shopper while this
	// one's phone was offline.
	Reassigned bool
	// Correction: the visit replaces CorrectsVisitID, an earlier visit of
	// the shopper's that may be replaced.
	Correction bool
	Store      *Store // the visited store
	// StaffStoreID is the store the staff member Visit.StaffID worked at
	// on the visit's day ("" for none); unused when the visit names none.
	StaffStoreID string
	// ClockOffset is the server's receipt time minus the device's clock
	// when it sent the visit (0 when unknown).
	ClockOffset time.Duration
	// ReusedPhotos are the hashes of the visit's photos that other visits
	// reference too, the visit it corrects aside.
	ReusedPhotos []string
}

// FlagVisit returns a visit's flags and its proof-of-visit flags, each in
// a stable order. It is pure: the caller gathers the facts, and the visit
// has been admitted (Admit) against f.Version and f.Assignment.
func FlagVisit(f VisitFacts, rules ProofRules) ([]VisitFlag, []ProofFlag) {
	v := f.Visit
	proof := CheckProof(ProofInput{Visit: v, Store: f.Store, Assignment: f.Assignment, Checklist: &f.Version.Content,
		ClockOffset: f.ClockOffset, ReusedHashes: f.ReusedPhotos}, rules)
	flags := admissionFlags(v, f.Version, f.Assignment)
	if f.Reassigned {
		flags = append(flags, FlagAssignmentReassigned)
	}
	if v.StaffID != "" && f.StaffStoreID != v.StoreID {
		flags = append(flags, FlagStaffNotInStore)
	}
	if f.Correction {
		// The corrected visit is what completed the assignment.
		flags = slices.DeleteFunc(flags, func(x VisitFlag) bool { return x == FlagAssignmentDone })
		flags = append(flags, FlagCorrection)
	}
	for _, both := range []VisitFlag{FlagClockSkew, FlagPhotoReused} {
		if slices.ContainsFunc(proof, func(p ProofFlag) bool { return p.Code == both }) {
			flags = append(flags, both)
		}
	}
	return flags, proof
}

// admissionFlags are the flags of a visit admitted against cv and a (nil
// for an unplanned visit): what changed while the device was offline.
func admissionFlags(v *Visit, cv *ChecklistVersion, a *Assignment) []VisitFlag {
	var flags []VisitFlag
	if cv.State == VersionRetired {
		flags = append(flags, FlagVersionRetired)
	}
	if a == nil {
		return append(flags, FlagUnplanned)
	}
	switch a.State {
	case AssignmentCancelled:
		flags = append(flags, FlagAssignmentCancelled)
	case AssignmentExpired:
		flags = append(flags, FlagAssignmentExpired)
	case AssignmentDone:
		flags = append(flags, FlagAssignmentDone)
	}
	if v.StartedAt.Before(a.WindowStart) || v.StartedAt.After(a.WindowEnd) {
		flags = append(flags, FlagOutsideWindow)
	}
	return flags
}
