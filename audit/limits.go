package audit

import (
	"fmt"
	"math"
	"unicode/utf8"
)

// The limits on what clients send, in one place. Lengths are in bytes of
// UTF-8; the server refuses a longer field before any work
// (server/limits.go maps every request field to one of them), and the
// domain checks them again where a value enters from a file (a standards
// pack, a policy).
const (
	MaxEmailLen    = 254  // RFC 5321's longest forward path, less the brackets
	MaxIDLen       = 128  // ids a device or a pack makes (UUIDs have 36)
	MaxCodeLen     = 64   // store codes, employee numbers, standard codes, option values, categories
	MaxNameLen     = 200  // names and titles of people, stores, checklists, sections, options, policies
	MaxTextLen     = 2000 // a question's text, a standard's clause, an address
	MaxNoteLen     = 4000 // notes, free-text answers, review comments, reasons, descriptions
	MaxFileNameLen = 255  // an uploaded file's name
	MaxTokenLen    = 4096 // an access or refresh token, a page token, a cursor
)

// The limits on numbers. Every number must also be finite.
const (
	// MaxWeight bounds a question's weight.
	MaxWeight = 1000
	// MaxPoints bounds the points of a scale step, an option or a
	// multiple-choice cap: with MaxWeight and the largest pack a request
	// may carry, every score sum stays far from overflowing.
	MaxPoints = 1_000_000
	// MaxTargetValue bounds the magnitude of a numeric or timer target
	// and of a numeric answer.
	MaxTargetValue = 1e12
	// MaxGeofenceMeters bounds a store's geofence radius (100 km: a
	// depot's delivery area).
	MaxGeofenceMeters = 100_000
	// MaxAccuracyMeters bounds the accuracy a device may claim for a fix.
	MaxAccuracyMeters = 1_000_000
	// MaxPhotosPerQuestion bounds the photos a question or a rule asks for.
	MaxPhotosPerQuestion = 50
)

// Finite reports whether x is neither NaN nor infinite.
func Finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// InRange reports whether x is finite and within [lo, hi].
func InRange(x, lo, hi float64) bool { return x >= lo && x <= hi }

// CheckLen returns EINVALID when s is longer than max bytes or not valid
// UTF-8; what names the field in the message.
func CheckLen(what, s string, max int) error {
	if len(s) > max {
		return Errorf(EINVALID, "%s has %d bytes; at most %d are allowed", what, len(s), max)
	}
	if !utf8.ValidString(s) {
		return Errorf(EINVALID, "%s is not valid UTF-8", what)
	}
	return nil
}

// text is a text value with the most bytes it may hold.
type text struct {
	name, value string
	max         int
}

// lengthProblems returns a problem, at path, for each value longer than
// its maximum or not valid UTF-8.
func lengthProblems(path string, ts ...text) []problem {
	var ps []problem
	for _, t := range ts {
		if err := CheckLen(fmt.Sprintf("%q", t.name), t.value, t.max); err != nil {
			ps = append(ps, problem{path: path, field: t.name, msg: ErrorMessage(err)})
		}
	}
	return ps
}

// checkLengths returns EINVALID, its message starting with prefix, for
// the first value longer than its maximum or not valid UTF-8.
func checkLengths(prefix string, ts ...text) error {
	for _, t := range ts {
		if err := CheckLen(t.name, t.value, t.max); err != nil {
			return Errorf(EINVALID, "%s: %s", prefix, ErrorMessage(err))
		}
	}
	return nil
}

// Valid reports whether the point is a possible GPS fix: latitude and
// longitude in range, accuracy finite and not negative.
func (g *GeoPoint) Valid() bool {
	return InRange(g.Latitude, -90, 90) && InRange(g.Longitude, -180, 180) && InRange(g.AccuracyMeters, 0, MaxAccuracyMeters)
}
