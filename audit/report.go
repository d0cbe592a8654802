package audit

import (
	"strings"
	"time"
)

// What a report (a bonus run, the audit workbook, a dashboard) counts: the
// visits in which review states, over which months.

// BonusStates are the visit states whose answers count toward bonus pay:
// only visits a manager approved (and then perhaps published). This is the
// one place that says so; every bonus query is built from it.
var BonusStates = []VisitState{VisitApproved, VisitPublished}

// AuditStates are the visit states the audit workbook lists: every scored
// visit, whatever its review state (shown per row), except those a
// correction superseded. Every audit workbook query is built from it.
var AuditStates = []VisitState{VisitSubmitted, VisitComplete, VisitInReview, VisitApproved, VisitReturned, VisitPublished}

// MaxReportMonths bounds the months one report (the audit workbook, a
// dashboard) covers.
const MaxReportMonths = 36

// ParseMonth reads a month written "YYYY-MM" of loc's calendar (UTC when
// nil) and returns its first instant there. Errors: EINVALID, naming
// field.
func ParseMonth(field, s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	t, err := time.ParseInLocation("2006-01", strings.TrimSpace(s), loc)
	if err != nil || t.Year() < 2000 || t.Year() > 2999 {
		return time.Time{}, Errorf(EINVALID, "%s %q is not a month written YYYY-MM (e.g. 2026-03)", field, s)
	}
	return t, nil
}

// ReportMonths is the one rule for a report's months, whoever asks (an
// RPC, an HTTP download, the command line): from is a month written
// YYYY-MM; to is the last month, the same as from when empty, not before
// it and at most MaxReportMonths on. It returns the first instant of from
// and the first instant after to, in loc (UTC when nil). Errors: EINVALID.
func ReportMonths(from, to string, loc *time.Location) (first, end time.Time, err error) {
	if strings.TrimSpace(from) == "" {
		return first, end, Errorf(EINVALID, "from is required: the first month, written YYYY-MM (e.g. 2026-01); to, the last month, defaults to from")
	}
	if strings.TrimSpace(to) == "" {
		to = from
	}
	if first, err = ParseMonth("from", from, loc); err != nil {
		return first, end, err
	}
	last, err := ParseMonth("to", to, loc)
	if err != nil {
		return first, end, err
	}
	if last.Before(first) {
		return first, end, Errorf(EINVALID, "to %s is before from %s", last.Format("2006-01"), first.Format("2006-01"))
	}
	if months := (last.Year()-first.Year())*12 + int(last.Month()-first.Month()) + 1; months > MaxReportMonths {
		return first, end, Errorf(EINVALID, "from %s to %s is %d months; at most %d", first.Format("2006-01"), last.Format("2006-01"), months, MaxReportMonths)
	}
	return first, last.AddDate(0, 1, 0), nil
}

// DashboardMonths is ReportMonths narrowed, when month is not empty, to
// that one month, which must lie inside the report's months: the months a
// dashboard (or its drill into one month) counts. Errors: EINVALID.
func DashboardMonths(from, to, month string, loc *time.Location) (first, end time.Time, err error) {
	if first, end, err = ReportMonths(from, to, loc); err != nil || month == "" {
		return first, end, err
	}
	m, err := ParseMonth("month", month, loc)
	if err != nil {
		return first, end, err
	}
	if m.Before(first) || !m.Before(end) {
		return first, end, Errorf(EINVALID, "month %s is outside the period", month)
	}
	return m, m.AddDate(0, 1, 0), nil
}
