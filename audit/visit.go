package audit

import (
	"slices"
	"strings"
	"time"
)

// Visit is one audit a shopper recorded: a store visit, a call, an e-mail
// thread. The device makes its ID. It records the checklist version and its
// content hash, and is validated and scored against that version.
type Visit struct {
	ID               string // client UUID
	AssignmentID     string // empty for an unplanned visit
	StoreID          string
	ShopperID        string
	ChecklistID      string
	ChecklistVersion int
	ContentHash      string
	Channel          Channel
	StartedAt        time.Time // the device's claim
	FinishedAt       time.Time // the device's claim; zero while in progress
	Answers          []Answer
	Photos           []Photo   // every photo the answers reference, with what it must be
	StaffID          string    // the staff member served, when the shopper could tell
	StaffDescription string    // otherwise, how the shopper describes him
	CheckIn          *GeoPoint // where the device was at the start, when known
	CheckOut         *GeoPoint // and at the end
	Notes            string
	CorrectsVisitID  string // a correction replaces this visit
}

// GeoPoint is a GPS fix supplied by the device: a signal, not proof.
type GeoPoint struct {
	Latitude       float64
	Longitude      float64
	AccuracyMeters float64
	Time           time.Time // the device's claim
}

// Photo is one photo of a visit: the slot it fills (question and position
// in the answer's PhotoHashes) and the exact bytes it must be.
type Photo struct {
	QuestionID  string
	Index       int
	SHA256      string // hex
	Size        int64
	ContentType string
	CapturedAt  time.Time // the device's claim
	ExifTime    time.Time // zero when the photo has no EXIF time
	ExifPoint   *GeoPoint // nil when the photo has no EXIF position
}

// Validate returns EINVALID when the visit cannot be stored.
func (v *Visit) Validate() error {
	if err := v.validateSizes(); err != nil {
		return err
	}
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"id", v.ID}, {"store", v.StoreID}, {"shopper", v.ShopperID}, {"checklist", v.ChecklistID},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	switch {
	case len(missing) > 0:
		return Errorf(EINVALID, "visit %s: %s required", v.ID, strings.Join(missing, ", "))
	case v.ChecklistVersion < 1:
		return Errorf(EINVALID, "visit %s: checklist version must be >= 1", v.ID)
	case !isSHA256Hex(v.ContentHash):
		return Errorf(EINVALID, "visit %s: content hash %q is not a hex SHA-256", v.ID, v.ContentHash)
	case !v.Channel.Valid():
		return Errorf(EINVALID, "visit %s: unknown channel %q", v.ID, v.Channel)
	case v.StartedAt.IsZero():
		return Errorf(EINVALID, "visit %s: start time required", v.ID)
	case !v.FinishedAt.IsZero() && v.FinishedAt.Before(v.StartedAt):
		return Errorf(EINVALID, "visit %s: finished before it started", v.ID)
	}
	return v.validatePhotos()
}

// validateSizes checks the lengths of what the shopper typed or the device
// made, and that every position is a possible GPS fix.
func (v *Visit) validateSizes() error {
	prefix := "visit"
	if err := checkLengths(prefix,
		text{"id", v.ID, MaxIDLen}, text{"assignment", v.AssignmentID, MaxIDLen}, text{"store", v.StoreID, MaxIDLen},
		text{"checklist", v.ChecklistID, MaxIDLen}, text{"staff", v.StaffID, MaxIDLen},
		text{"corrected visit", v.CorrectsVisitID, MaxIDLen},
		text{"staff description", v.StaffDescription, MaxNoteLen}, text{"notes", v.Notes, MaxNoteLen}); err != nil {
		return err
	}
	for _, a := range v.Answers {
		ts := []text{{"answer question id", a.QuestionID, MaxIDLen},
			{"answer to " + a.QuestionID + ": note", a.Note, MaxNoteLen}, {"answer to " + a.QuestionID + ": text", a.Text, MaxNoteLen}}
		for _, c := range a.Choices {
			ts = append(ts, text{"answer to " + a.QuestionID + ": choice", c, MaxCodeLen})
		}
		if err := checkLengths(prefix, ts...); err != nil {
			return err
		}
	}
	for _, g := range []struct {
		what string
		p    *GeoPoint
	}{{"check-in", v.CheckIn}, {"check-out", v.CheckOut}} {
		if g.p != nil && !g.p.Valid() {
			return Errorf(EINVALID, "visit %s: %s position %v, %v (accuracy %v m) is not a possible GPS fix", v.ID, g.what, g.p.Latitude, g.p.Longitude, g.p.AccuracyMeters)
		}
	}
	for _, p := range v.Photos {
		if p.ExifPoint != nil && !p.ExifPoint.Valid() {
			return Errorf(EINVALID, "visit %s: photo %s[%d] position is not a possible GPS fix", v.ID, p.QuestionID, p.Index)
		}
	}
	return nil
}

// MaxPhotoBytes bounds one photo.
const MaxPhotoBytes = 32 << 20

// PhotoContentTypes are the photo formats accepted as evidence.
var PhotoContentTypes = []string{"image/jpeg", "image/png", "image/heic", "image/webp"}

// validatePhotos checks that Photos describes exactly the photos the
// answers reference, slot by slot, and that each is a plausible photo.
func (v *Visit) validatePhotos() error {
	type slot struct {
		q string
		i int
	}
	want := map[slot]string{}
	for _, a := range v.Answers {
		for i, h := range a.PhotoHashes {
			want[slot{a.QuestionID, i}] = h
		}
	}
	seen := map[slot]bool{}
	for _, p := range v.Photos {
		k := slot{p.QuestionID, p.Index}
		h, ok := want[k]
		switch {
		case !ok:
			return Errorf(EINVALID, "visit %s: photo %s[%d] is not referenced by an answer", v.ID, p.QuestionID, p.Index)
		case seen[k]:
			return Errorf(EINVALID, "visit %s: photo %s[%d] is described twice", v.ID, p.QuestionID, p.Index)
		case !strings.EqualFold(h, p.SHA256) || !isSHA256Hex(p.SHA256):
			return Errorf(EINVALID, "visit %s: photo %s[%d] has hash %q but the answer references %q", v.ID, p.QuestionID, p.Index, p.SHA256, h)
		case p.Size <= 0 || p.Size > MaxPhotoBytes:
			return Errorf(EINVALID, "visit %s: photo %s[%d] has size %d; want 1..%d bytes", v.ID, p.QuestionID, p.Index, p.Size, MaxPhotoBytes)
		case !slices.Contains(PhotoContentTypes, p.ContentType):
			return Errorf(EINVALID, "visit %s: photo %s[%d] has type %q; want one of %s", v.ID, p.QuestionID, p.Index, p.ContentType, strings.Join(PhotoContentTypes, ", "))
		}
		seen[k] = true
	}
	for k := range want {
		if !seen[k] {
			return Errorf(EINVALID, "visit %s: the answer to %s references photo %d, which the visit does not describe", v.ID, k.q, k.i)
		}
	}
	return nil
}

// Admit checks that a recorded visit belongs to the checklist version cv and
// the assignment a (nil for an unplanned visit) and returns the flags a
// manager should see. What may have changed while the device was offline
// (a cancelled or expired assignment, a retired version) is flagged, never
// refused. It returns EINVALID when the visit is invalid or does not match
// cv or a, EPRECONDITION when cv is a draft or the checklist takes no
// unplanned visits, and EFORBIDDEN when a belongs to another shopper.
func (v *Visit) Admit(cv *ChecklistVersion, a *Assignment) ([]VisitFlag, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	switch {
	case v.ChecklistID != cv.ChecklistID || v.ChecklistVersion != cv.Version:
		return nil, Errorf(EINVALID, "visit %s: recorded with checklist %s version %d, not %s version %d", v.ID, v.ChecklistID, v.ChecklistVersion, cv.ChecklistID, cv.Version)
	case cv.State == VersionDraft:
		return nil, Errorf(EPRECONDITION, "visit %s: checklist %s version %d is a draft", v.ID, cv.ChecklistID, cv.Version)
	case v.ContentHash != cv.ContentHash:
		return nil, Errorf(EINVALID, "visit %s: content hash does not match checklist %s version %d", v.ID, cv.ChecklistID, cv.Version)
	case v.Channel != cv.Content.Channel:
		return nil, Errorf(EINVALID, "visit %s: channel %s, but the checklist is for %s", v.ID, v.Channel, cv.Content.Channel)
	}
	if a == nil {
		if v.AssignmentID != "" {
			return nil, Errorf(EINVALID, "visit %s: assignment %s not given", v.ID, v.AssignmentID)
		}
		if !cv.Content.AllowUnplanned {
			return nil, Errorf(EPRECONDITION, "visit %s: checklist %s takes no unplanned visits", v.ID, cv.ChecklistID)
		}
	} else {
		switch {
		case v.AssignmentID != a.ID || v.StoreID != a.StoreID || v.ChecklistID != a.ChecklistID || v.ChecklistVersion != a.ChecklistVersion:
			return nil, Errorf(EINVALID, "visit %s: does not match assignment %s", v.ID, a.ID)
		case a.ShopperID != "" && a.ShopperID != v.ShopperID:
			return nil, Errorf(EFORBIDDEN, "visit %s: assignment %s belongs to another shopper", v.ID, a.ID)
		}
	}
	return admissionFlags(v, cv, a), nil
}
