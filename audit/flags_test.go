package audit

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestFlagVisit has a row per flag of the vocabulary: each fails when its
// flag's rule is removed, and every flag has one.
func TestFlagVisit(t *testing.T) {
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	store := &Store{ID: "st", Code: "MSK-01", Latitude: 55.7652, Longitude: 37.6050, GeofenceMeters: 150}
	inStore := &GeoPoint{Latitude: 55.7655, Longitude: 37.6052, AccuracyMeters: 10}
	farAway := &GeoPoint{Latitude: 55.7520, Longitude: 37.6175, AccuracyMeters: 10} // ~1.6 km
	ms := func(d time.Duration) *int64 { v := d.Milliseconds(); return &v }
	facts := func() VisitFacts {
		return VisitFacts{
			Visit: &Visit{
				ID: "v", StoreID: "st", AssignmentID: "a", StaffID: "cashier", StartedAt: start, FinishedAt: start.Add(20 * time.Minute),
				CheckIn: inStore, CheckOut: inStore,
				Answers: []Answer{{QuestionID: "greet", DurationMS: ms(25 * time.Second)}},
				Photos:  []Photo{{QuestionID: "tags", Index: 0, SHA256: "ab12", ExifTime: start.Add(5 * time.Minute), ExifPoint: inStore}},
			},
			Version: &ChecklistVersion{State: VersionPublished, Content: Checklist{Sections: []Section{{ID: "s", Questions: []Question{
				{ID: "greet", Type: QuestionTimer}, {ID: "tags", Type: QuestionPhoto},
			}}}}},
			Assignment:   &Assignment{ID: "a", State: AssignmentAccepted, WindowStart: start.Add(-time.Hour), WindowEnd: start.Add(time.Hour)},
			Store:        store,
			StaffStoreID: "st",
		}
	}
	tests := []struct {
		name   string
		change func(*VisitFacts)
		flags  []VisitFlag // the visit's
		proof  []VisitFlag // the codes of its proof flags
	}{
		{"clean visit", func(*VisitFacts) {}, nil, nil},
		{"unplanned", func(f *VisitFacts) { f.Assignment = nil }, []VisitFlag{FlagUnplanned}, nil},
		{"assignment cancelled", func(f *VisitFacts) { f.Assignment.State = AssignmentCancelled }, []VisitFlag{FlagAssignmentCancelled}, nil},
		{"assignment expired", func(f *VisitFacts) { f.Assignment.State = AssignmentExpired }, []VisitFlag{FlagAssignmentExpired}, nil},
		{"assignment done", func(f *VisitFacts) { f.Assignment.State = AssignmentDone }, []VisitFlag{FlagAssignmentDone}, nil},
		{"started before the window as claimed", func(f *VisitFacts) {
			// The measured offset puts the real start inside it.
			f.Visit.StartedAt = f.Assignment.WindowStart.Add(-5 * time.Minute)
			f.ClockOffset = 5 * time.Minute
		}, []VisitFlag{FlagOutsideWindow}, nil},
		{"started at the window's end, corrected", func(f *VisitFacts) { f.Visit.StartedAt = f.Assignment.WindowEnd },
			nil, []VisitFlag{FlagOutsideAssignmentWindow}},
		{"version retired", func(f *VisitFacts) { f.Version.State = VersionRetired }, []VisitFlag{FlagVersionRetired}, nil},
		{"assignment reassigned", func(f *VisitFacts) { f.Reassigned = true }, []VisitFlag{FlagAssignmentReassigned}, nil},
		{"correction", func(f *VisitFacts) { f.Correction = true }, []VisitFlag{FlagCorrection}, nil},
		{"a correction did not complete the assignment", func(f *VisitFacts) {
			f.Correction, f.Assignment.State = true, AssignmentDone
		}, []VisitFlag{FlagCorrection}, nil},
		{"staff not in store", func(f *VisitFacts) { f.StaffStoreID = "elsewhere" }, []VisitFlag{FlagStaffNotInStore}, nil},
		{"staff with no store", func(f *VisitFacts) { f.StaffStoreID = "" }, []VisitFlag{FlagStaffNotInStore}, nil},
		{"no staff named", func(f *VisitFacts) { f.Visit.StaffID, f.StaffStoreID = "", "elsewhere" }, nil, nil},
		{"clock skew", func(f *VisitFacts) { f.ClockOffset = ClockSkewLimit + time.Second }, []VisitFlag{FlagClockSkew}, []VisitFlag{FlagClockSkew}},
		{"clock skew behind", func(f *VisitFacts) { f.ClockOffset = -ClockSkewLimit - time.Second }, []VisitFlag{FlagClockSkew}, []VisitFlag{FlagClockSkew}},
		{"clock within the limit", func(f *VisitFacts) { f.ClockOffset = ClockSkewLimit }, nil, nil},
		{"photo reused", func(f *VisitFacts) { f.ReusedPhotos = []string{"ab12"} }, []VisitFlag{FlagPhotoReused}, []VisitFlag{FlagPhotoReused}},
		{"check-in far away", func(f *VisitFacts) { f.Visit.CheckIn = farAway }, nil, []VisitFlag{FlagCheckInOutsideGeofence}},
		{"check-out far away", func(f *VisitFacts) { f.Visit.CheckOut = farAway }, nil, []VisitFlag{FlagCheckOutOutsideGeofence}},
		{"timer implausible", func(f *VisitFacts) { f.Visit.Answers[0].DurationMS = ms(200 * time.Millisecond) }, nil, []VisitFlag{FlagTimerImplausible}},
		{"EXIF time far", func(f *VisitFacts) { f.Visit.Photos[0].ExifTime = start.Add(-72 * time.Hour) }, nil, []VisitFlag{FlagExifTimeFar}},
		{"EXIF position far", func(f *VisitFacts) { f.Visit.Photos[0].ExifPoint = farAway }, nil, []VisitFlag{FlagExifOutsideGeofence}},
	}
	covered := map[VisitFlag]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := facts()
			tc.change(&f)
			flags, proof := FlagVisit(f, ProofRules{})
			var codes []VisitFlag
			for _, p := range proof {
				codes = append(codes, p.Code)
			}
			if !reflect.DeepEqual(flags, tc.flags) || !reflect.DeepEqual(codes, tc.proof) {
				t.Fatalf("flags %v, proof %v; want %v, %v", flags, codes, tc.flags, tc.proof)
			}
		})
		for _, fl := range slices.Concat(tc.flags, tc.proof) {
			covered[fl] = true
		}
	}
	for _, fl := range []VisitFlag{
		FlagUnplanned, FlagAssignmentCancelled, FlagAssignmentExpired, FlagAssignmentDone, FlagOutsideWindow, FlagVersionRetired,
		FlagAssignmentReassigned, FlagCorrection, FlagStaffNotInStore,
		FlagCheckInOutsideGeofence, FlagCheckOutOutsideGeofence, FlagOutsideAssignmentWindow, FlagClockSkew, FlagPhotoReused,
		FlagTimerImplausible, FlagExifTimeFar, FlagExifOutsideGeofence,
	} {
		if !covered[fl] {
			t.Errorf("no row shows flag %s", fl)
		}
	}
}

// TestVisitStates shows the moves of a visit's state no reviewer makes.
func TestVisitStates(t *testing.T) {
	if got := ArrivalState(0); got != VisitComplete {
		t.Errorf("a visit missing no photo arrives %s", got)
	}
	if got := ArrivalState(1); got != VisitSubmitted {
		t.Errorf("a visit missing a photo arrives %s", got)
	}
	if to, ok := EvidenceTransition(VisitSubmitted, 0); !ok || to != VisitComplete {
		t.Errorf("the last photo verified: %s %v", to, ok)
	}
	for _, c := range []struct {
		from    VisitState
		missing int
	}{{VisitSubmitted, 1}, {VisitInReview, 0}, {VisitSuperseded, 0}} {
		if to, ok := EvidenceTransition(c.from, c.missing); ok {
			t.Errorf("%s missing %d moved to %s", c.from, c.missing, to)
		}
	}
	for _, st := range VisitStates {
		to, err := SupersedeTransition("v", st)
		if st.Correctable() != (err == nil) || err == nil && to != VisitSuperseded {
			t.Errorf("superseding a %s visit: %s, %v", st, to, err)
		}
		if err != nil && ErrorCode(err) != EPRECONDITION {
			t.Errorf("superseding a %s visit: %v", st, err)
		}
	}
}
