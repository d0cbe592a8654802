package audit

import (
	"testing"
	"time"
)

// TestDashboardMonths: a dashboard counts its report's months, or the one
// month of a drill, which must lie inside them.
func TestDashboardMonths(t *testing.T) {
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		m, err := time.ParseInLocation("2006-01", s, msk)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, tc := range []struct {
		from, to, month string
		first, end      string // "" when refused
	}{
		{"2026-01", "2026-03", "", "2026-01", "2026-04"},
		{"2026-01", "", "", "2026-01", "2026-02"},
		{"2026-01", "2026-03", "2026-01", "2026-01", "2026-02"},
		{"2026-01", "2026-03", "2026-03", "2026-03", "2026-04"},
		{"2026-01", "2026-03", "2025-12", "", ""},
		{"2026-01", "2026-03", "2026-04", "", ""},
		{"2026-01", "2026-03", "March", "", ""},
		{"", "2026-03", "2026-02", "", ""},
	} {
		first, end, err := DashboardMonths(tc.from, tc.to, tc.month, msk)
		if tc.first == "" {
			if ErrorCode(err) != EINVALID {
				t.Errorf("%s..%s month %q: got %v, want EINVALID", tc.from, tc.to, tc.month, err)
			}
			continue
		}
		if err != nil || !first.Equal(at(tc.first)) || !end.Equal(at(tc.end)) {
			t.Errorf("%s..%s month %q: got %v..%v (%v), want %s..%s", tc.from, tc.to, tc.month, first, end, err, tc.first, tc.end)
		}
	}
}
