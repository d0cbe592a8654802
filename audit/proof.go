package audit

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// ProofFlag is a proof-of-visit signal for the reviewer: something about
// where or when the visit claims to have happened that does not add up.
// Flags never block sync and never change a score; they inform the review.
//
// Besides the English Detail, a flag carries what was measured in fields,
// so that a reader in another language sees the same numbers: which are set
// depends on the code (see CheckProof). Flags stored before the fields
// existed have only Code and Detail.
type ProofFlag struct {
	Code   VisitFlag `json:"code"`   // one of the Flag* constants of a proof check (see CheckProof)
	Detail string    `json:"detail"` // what was measured, for a person

	DistanceMeters  *float64  `json:"distance_m,omitzero"` // geofence flags: how far from the store
	GeofenceMeters  *float64  `json:"geofence_m,omitzero"` // the store's radius
	AccuracyMeters  *float64  `json:"accuracy_m,omitzero"` // the fix's reported accuracy
	SkewMinutes     *float64  `json:"skew_min,omitzero"`   // clock skew: server minus device
	QuestionID      string    `json:"question,omitzero"`   // the question of a photo or timer
	PhotoIndex      *int      `json:"photo,omitzero"`      // the photo's index within its question
	DurationSeconds *float64  `json:"duration_s,omitzero"` // timer: what was measured
	MinSeconds      *float64  `json:"min_s,omitzero"`      // timer: the plausible range
	MaxSeconds      *float64  `json:"max_s,omitzero"`
	Time            time.Time `json:"time,omitzero"`         // the start (window) or EXIF time
	WindowStart     time.Time `json:"window_start,omitzero"` // the assignment window, or the visit's span
	WindowEnd       time.Time `json:"window_end,omitzero"`
	GapMinutes      *float64  `json:"gap_min,omitzero"` // how far outside the window
	SHA256          string    `json:"sha256,omitzero"`  // a reused photo
}

func ptr[T any](v T) *T { return &v }

// gapMinutes is how far t lies outside [start, end], in minutes (0 inside).
func gapMinutes(t, start, end time.Time) float64 {
	switch {
	case t.Before(start):
		return start.Sub(t).Minutes()
	case t.After(end):
		return t.Sub(end).Minutes()
	}
	return 0
}

// ProofRules are the thresholds of the proof-of-visit checks. The zero
// value takes the defaults documented on each field.
type ProofRules struct {
	// MaxClockSkew is how far a device's clock may be from the server's
	// before its claimed times are flagged; 10 min if zero.
	MaxClockSkew time.Duration
	// MinTimer and MaxTimer bound a plausible timer answer; 1 s and 2 h if
	// zero. A greeting "measured" at 0.2 s or 5 h was not measured.
	MinTimer, MaxTimer time.Duration
	// MaxExifGap is how far a photo's EXIF time may be from the visit's
	// claimed start..finish; 2 h if zero.
	MaxExifGap time.Duration
	// GeofenceSlack is added to a store's radius to allow for GPS accuracy;
	// 50 m if zero. A fix's own reported accuracy is added too.
	GeofenceSlack float64
}

func (r ProofRules) withDefaults() ProofRules {
	if r.MaxClockSkew == 0 {
		r.MaxClockSkew = ClockSkewLimit
	}
	if r.MinTimer == 0 {
		r.MinTimer = time.Second
	}
	if r.MaxTimer == 0 {
		r.MaxTimer = 2 * time.Hour
	}
	if r.MaxExifGap == 0 {
		r.MaxExifGap = 2 * time.Hour
	}
	if r.GeofenceSlack == 0 {
		r.GeofenceSlack = 50
	}
	return r
}

// ProofInput is what the server knows when it checks a visit.
type ProofInput struct {
	Visit      *Visit
	Store      *Store
	Assignment *Assignment // nil for an unplanned visit
	Checklist  *Checklist  // the version the visit was recorded with
	// ClockOffset is the server's receipt time minus the device's clock
	// when it sent the visit.
	ClockOffset time.Duration
	// ReusedHashes are the photo hashes of this visit that other visits
	// already used.
	ReusedHashes []string
}

// CheckProof returns the proof-of-visit flags of a visit, in a stable
// order. It is pure: the caller gathers the inputs.
func CheckProof(in ProofInput, rules ProofRules) []ProofFlag {
	r := rules.withDefaults()
	v := in.Visit
	var flags []ProofFlag
	add := func(f ProofFlag, format string, args ...any) {
		f.Detail = fmt.Sprintf(format, args...)
		flags = append(flags, f)
	}
	if s := in.Store; s != nil && s.GeofenceMeters > 0 && (s.Latitude != 0 || s.Longitude != 0) {
		check := func(p *GeoPoint, f ProofFlag, what string) {
			if p == nil {
				return
			}
			d := DistanceMeters(s.Latitude, s.Longitude, p.Latitude, p.Longitude)
			if limit := s.GeofenceMeters + r.GeofenceSlack + math.Max(p.AccuracyMeters, 0); d > limit {
				f.DistanceMeters, f.GeofenceMeters, f.AccuracyMeters = ptr(math.Round(d)), ptr(s.GeofenceMeters), ptr(p.AccuracyMeters)
				add(f, "%s %.0f m from %s (geofence %.0f m, accuracy %.0f m)", what, d, s.Code, s.GeofenceMeters, p.AccuracyMeters)
			}
		}
		check(v.CheckIn, ProofFlag{Code: FlagCheckInOutsideGeofence}, "check-in")
		check(v.CheckOut, ProofFlag{Code: FlagCheckOutOutsideGeofence}, "check-out")
		for _, p := range v.Photos {
			if p.ExifPoint != nil {
				check(p.ExifPoint, ProofFlag{Code: FlagExifOutsideGeofence, QuestionID: p.QuestionID, PhotoIndex: ptr(p.Index)},
					fmt.Sprintf("photo %s[%d] taken", p.QuestionID, p.Index))
			}
		}
	}
	if a := in.Assignment; a != nil && !v.StartedAt.IsZero() {
		// The claimed start, corrected by the device's measured offset.
		start := v.StartedAt.Add(in.ClockOffset)
		if start.Before(a.WindowStart) || !start.Before(a.WindowEnd) {
			add(ProofFlag{Code: FlagOutsideAssignmentWindow, Time: start, WindowStart: a.WindowStart, WindowEnd: a.WindowEnd,
				GapMinutes: ptr(math.Round(gapMinutes(start, a.WindowStart, a.WindowEnd)))}, "started %s, window %s to %s", start.Format(time.RFC3339), a.WindowStart.Format(time.RFC3339), a.WindowEnd.Format(time.RFC3339))
		}
	}
	if skew := in.ClockOffset; skew > r.MaxClockSkew || skew < -r.MaxClockSkew {
		add(ProofFlag{Code: FlagClockSkew, SkewMinutes: ptr(math.Round(skew.Minutes()*10) / 10)}, "device clock off by %s", skew.Round(time.Second))
	}
	reused := slices.Clone(in.ReusedHashes)
	slices.Sort(reused)
	for _, h := range slices.Compact(reused) {
		add(ProofFlag{Code: FlagPhotoReused, SHA256: h}, "photo %s… was already used in another visit", h[:min(12, len(h))])
	}
	if c := in.Checklist; c != nil {
		for _, a := range v.Answers {
			q, _, ok := c.Question(a.QuestionID)
			if !ok || q.Type != QuestionTimer || a.DurationMS == nil {
				continue
			}
			d := time.Duration(*a.DurationMS) * time.Millisecond
			if d < r.MinTimer || d > r.MaxTimer {
				add(ProofFlag{Code: FlagTimerImplausible, QuestionID: q.ID, DurationSeconds: ptr(d.Seconds()),
					MinSeconds: ptr(r.MinTimer.Seconds()), MaxSeconds: ptr(r.MaxTimer.Seconds())}, "timer %s measured %s (plausible %s to %s)", q.ID, d, r.MinTimer, r.MaxTimer)
			}
		}
	}
	if !v.StartedAt.IsZero() {
		end := v.FinishedAt
		if end.IsZero() {
			end = v.StartedAt
		}
		for _, p := range v.Photos {
			if p.ExifTime.IsZero() {
				continue
			}
			if p.ExifTime.Before(v.StartedAt.Add(-r.MaxExifGap)) || p.ExifTime.After(end.Add(r.MaxExifGap)) {
				add(ProofFlag{Code: FlagExifTimeFar, QuestionID: p.QuestionID, PhotoIndex: ptr(p.Index), Time: p.ExifTime,
					WindowStart: v.StartedAt, WindowEnd: end, GapMinutes: ptr(math.Round(gapMinutes(p.ExifTime, v.StartedAt, end)))}, "photo %s[%d] taken %s, visit %s to %s", p.QuestionID, p.Index,
					p.ExifTime.Format(time.RFC3339), v.StartedAt.Format(time.RFC3339), end.Format(time.RFC3339))
			}
		}
	}
	return flags
}

// DistanceMeters is the great-circle distance between two points (WGS 84
// degrees), on a sphere of the Earth's mean radius: accurate to about 0.5%,
// far better than a phone's GPS.
func DistanceMeters(lat1, lon1, lat2, lon2 float64) float64 {
	const earthRadius = 6371008.8
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(a)))
}
