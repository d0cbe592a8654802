package audit

import (
	"math"
	"reflect"
	"testing"
	"time"
)

func TestDistanceMeters(t *testing.T) {
	// One degree of latitude is about 111.2 km everywhere.
	if d := DistanceMeters(55, 37, 56, 37); math.Abs(d-111195) > 100 {
		t.Fatalf("one degree of latitude = %.0f m", d)
	}
	if d := DistanceMeters(55.7652, 37.6050, 55.7652, 37.6050); d != 0 {
		t.Fatalf("same point = %v m", d)
	}
	// Tverskaya 12 to the Kremlin: about 1.4 km.
	if d := DistanceMeters(55.7652, 37.6050, 55.7520, 37.6175); d < 1500 || d > 1800 {
		t.Fatalf("Tverskaya to the Kremlin = %.0f m", d)
	}
}

func TestCheckProof(t *testing.T) {
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	store := &Store{Code: "MSK-01", Latitude: 55.7652, Longitude: 37.6050, GeofenceMeters: 150}
	inStore := &GeoPoint{Latitude: 55.7655, Longitude: 37.6052, AccuracyMeters: 10}
	farAway := &GeoPoint{Latitude: 55.7520, Longitude: 37.6175, AccuracyMeters: 10} // ~1.6 km
	assignment := &Assignment{WindowStart: start.Add(-time.Hour), WindowEnd: start.Add(24 * time.Hour)}
	checklist := &Checklist{ID: "c", Sections: []Section{{ID: "s", Questions: []Question{
		{ID: "greet", Type: QuestionTimer}, {ID: "tags", Type: QuestionPhoto},
	}}}}
	ms := func(d time.Duration) *int64 { v := d.Milliseconds(); return &v }
	good := func() *Visit {
		return &Visit{
			StartedAt: start, FinishedAt: start.Add(20 * time.Minute), CheckIn: inStore, CheckOut: inStore,
			Answers: []Answer{{QuestionID: "greet", DurationMS: ms(25 * time.Second)}},
			Photos:  []Photo{{QuestionID: "tags", Index: 0, SHA256: "ab12", ExifTime: start.Add(5 * time.Minute), ExifPoint: inStore}},
		}
	}
	base := func(v *Visit) ProofInput {
		return ProofInput{Visit: v, Store: store, Assignment: assignment, Checklist: checklist}
	}
	codes := func(flags []ProofFlag) []VisitFlag {
		var out []VisitFlag
		for _, f := range flags {
			if f.Detail == "" {
				t.Errorf("flag %s has no detail", f.Code)
			}
			out = append(out, f.Code)
		}
		return out
	}

	tests := []struct {
		name   string
		change func(*ProofInput)
		want   []VisitFlag
	}{
		{"clean visit", func(*ProofInput) {}, nil},
		{"check-in far away", func(in *ProofInput) { in.Visit.CheckIn = farAway }, []VisitFlag{FlagCheckInOutsideGeofence}},
		{"check-out far away", func(in *ProofInput) { in.Visit.CheckOut = farAway }, []VisitFlag{FlagCheckOutOutsideGeofence}},
		{"poor accuracy widens the fence", func(in *ProofInput) {
			in.Visit.CheckIn = &GeoPoint{Latitude: 55.7680, Longitude: 37.6050, AccuracyMeters: 200} // ~310 m
		}, nil},
		{"no fix, no flag", func(in *ProofInput) { in.Visit.CheckIn, in.Visit.CheckOut = nil, nil }, nil},
		{"before the window", func(in *ProofInput) { in.Visit.StartedAt = start.Add(-2 * time.Hour) }, []VisitFlag{FlagOutsideAssignmentWindow}},
		{"clock offset moves the start into the window", func(in *ProofInput) {
			in.Visit.StartedAt = start.Add(-2 * time.Hour)
			in.ClockOffset = 2 * time.Hour
		}, []VisitFlag{FlagClockSkew}},
		{"clock skew", func(in *ProofInput) { in.ClockOffset = -11 * time.Minute }, []VisitFlag{FlagClockSkew}},
		{"small skew is fine", func(in *ProofInput) { in.ClockOffset = 9 * time.Minute }, nil},
		{"photo reused", func(in *ProofInput) { in.ReusedHashes = []string{"ab12", "ab12"} }, []VisitFlag{FlagPhotoReused}},
		{"timer too short", func(in *ProofInput) { in.Visit.Answers[0].DurationMS = ms(200 * time.Millisecond) }, []VisitFlag{FlagTimerImplausible}},
		{"timer too long", func(in *ProofInput) { in.Visit.Answers[0].DurationMS = ms(3 * time.Hour) }, []VisitFlag{FlagTimerImplausible}},
		{"EXIF time far", func(in *ProofInput) { in.Visit.Photos[0].ExifTime = start.Add(-72 * time.Hour) }, []VisitFlag{FlagExifTimeFar}},
		{"no EXIF, no flag", func(in *ProofInput) { in.Visit.Photos[0].ExifTime, in.Visit.Photos[0].ExifPoint = time.Time{}, nil }, nil},
		{"EXIF position far", func(in *ProofInput) { in.Visit.Photos[0].ExifPoint = farAway }, []VisitFlag{FlagExifOutsideGeofence}},
		{"unplanned visits have no window", func(in *ProofInput) {
			in.Assignment = nil
			in.Visit.StartedAt = start.Add(-48 * time.Hour)
			in.Visit.Photos = nil
		}, nil},
		{"store without a fence", func(in *ProofInput) { in.Store = &Store{Code: "X"}; in.Visit.CheckIn = farAway }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := base(good())
			tc.change(&in)
			got := codes(CheckProof(in, ProofRules{}))
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("flags = %v, want %v", got, tc.want)
			}
		})
	}
}
