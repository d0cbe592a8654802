package audit

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestStore_ValidateNumbers(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(s *Store)
		ok   bool
	}{
		{"OK", func(s *Store) {}, true},
		{"LargestGeofence", func(s *Store) { s.GeofenceMeters = MaxGeofenceMeters }, true},
		{"NaNLatitude", func(s *Store) { s.Latitude = math.NaN() }, false},
		{"NaNLongitude", func(s *Store) { s.Longitude = math.NaN() }, false},
		{"InfiniteGeofence", func(s *Store) { s.GeofenceMeters = math.Inf(1) }, false},
		{"NaNGeofence", func(s *Store) { s.GeofenceMeters = math.NaN() }, false},
		{"HugeGeofence", func(s *Store) { s.GeofenceMeters = MaxGeofenceMeters + 1 }, false},
		{"LongCode", func(s *Store) { s.Code = strings.Repeat("C", MaxCodeLen+1) }, false},
		{"LongAddress", func(s *Store) { s.Address = strings.Repeat("a", MaxTextLen+1) }, false},
		{"BadUTF8Name", func(s *Store) { s.Name = "\xff" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Store{Code: "S-1", Name: "Store", Latitude: 55.7, Longitude: 37.6, GeofenceMeters: 150}
			tc.edit(&s)
			err := s.Validate()
			if tc.ok {
				equal(t, "error", err, nil)
				return
			}
			equal(t, "code", ErrorCode(err), EINVALID)
			if len(ErrorMessage(err)) > 200 {
				t.Errorf("the message repeats the value: %d bytes", len(ErrorMessage(err)))
			}
		})
	}
}

func TestVisit_ValidateSizes(t *testing.T) {
	start := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		edit func(v *Visit)
		ok   bool
	}{
		{"OK", func(v *Visit) {}, true},
		{"LongestNote", func(v *Visit) { v.Notes = strings.Repeat("n", MaxNoteLen) }, true},
		{"LongNote", func(v *Visit) { v.Notes = strings.Repeat("n", 3<<20) }, false},
		{"LongAnswerNote", func(v *Visit) { v.Answers[0].Note = strings.Repeat("n", MaxNoteLen+1) }, false},
		{"LongAnswerText", func(v *Visit) { v.Answers[0].Text = strings.Repeat("n", MaxNoteLen+1) }, false},
		{"LongChoice", func(v *Visit) { v.Answers[0].Choices = []string{strings.Repeat("c", MaxCodeLen+1)} }, false},
		{"LongID", func(v *Visit) { v.ID = strings.Repeat("v", MaxIDLen+1) }, false},
		{"LongStaffDescription", func(v *Visit) { v.StaffDescription = strings.Repeat("d", MaxNoteLen+1) }, false},
		{"NaNCheckIn", func(v *Visit) { v.CheckIn = &GeoPoint{Latitude: math.NaN(), Longitude: 37} }, false},
		{"CheckOutOutOfRange", func(v *Visit) { v.CheckOut = &GeoPoint{Latitude: 91, Longitude: 37} }, false},
		{"InfiniteAccuracy", func(v *Visit) { v.CheckIn = &GeoPoint{Latitude: 55, Longitude: 37, AccuracyMeters: math.Inf(1)} }, false},
		{"GoodCheckIn", func(v *Visit) { v.CheckIn = &GeoPoint{Latitude: -90, Longitude: 180, AccuracyMeters: 12} }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Visit{ID: "v1", StoreID: "s1", ShopperID: "u1", ChecklistID: "c1", ChecklistVersion: 1,
				ContentHash: hashA, Channel: ChannelStoreVisit, StartedAt: start, Answers: []Answer{yes("a")}}
			tc.edit(&v)
			err := v.Validate()
			if tc.ok {
				equal(t, "error", err, nil)
				return
			}
			equal(t, "code", ErrorCode(err), EINVALID)
			if len(ErrorMessage(err)) > 300 {
				t.Errorf("the message repeats the value: %d bytes", len(ErrorMessage(err)))
			}
		})
	}
}

func TestUser_ValidateLength(t *testing.T) {
	long := strings.Repeat("a", MaxEmailLen) + "@example.com"
	u := User{Email: long, Role: RoleShopper}
	err := u.Validate()
	equal(t, "code", ErrorCode(err), EINVALID)
	if strings.Contains(ErrorMessage(err), long) {
		t.Error("the message repeats the e-mail")
	}
}
