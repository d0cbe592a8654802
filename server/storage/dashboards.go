package storage

import (
	"cmp"
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
)

// Dashboards answers the dashboards' aggregate queries over the indexed
// visits (the audit reports' rows). Errors: EINVALID (the query or the
// page token), ENOTFOUND (a store not in the caller's scope).
type Dashboards interface {
	// Figures computes the parts of the figures of q, in one read
	// snapshot.
	Figures(ctx context.Context, q DashboardQuery, parts DashboardParts) (*Dashboard, error)
	// Visits lists the visits of q newest first, at most limit, after the
	// page token; it returns the next page's token, "" after the last page.
	Visits(ctx context.Context, q DashboardQuery, limit int, token string) ([]DashboardVisit, string, error)
}

// DashboardQuery selects the visits of a dashboard figure: a period of
// months in Location, the caller's scope, optional region, store,
// checklist and channel, which states count, and the drill of one figure.
type DashboardQuery struct {
	Scope                                   audit.Scope
	From, To                                string         // "YYYY-MM"; an empty To is From
	Location                                *time.Location // nil: UTC
	Region, StoreCode, ChecklistID, Channel string
	// Approved counts only BonusStates (approved, published); otherwise
	// AuditStates (every scored visit but superseded ones).
	Approved bool

	// The drill: one month of the period, and visits with an applicable
	// answer in a category, clause or question, with a failed critical
	// question, with flags, with a recommendation answer in an NPS group,
	// passed or failed.
	Month                        string
	Category, Clause, QuestionID string
	CriticalOnly, FlaggedOnly    bool
	NPS                          NPSGroup
	Pass                         PassFilter
}

// NPSGroup selects recommendation (0-10) answers.
type NPSGroup int

// The NPS groups.
const (
	NPSNone NPSGroup = iota
	NPSPromoters
	NPSPassives
	NPSDetractors
	NPSAny
)

// PassFilter selects passed or failed visits.
type PassFilter int

// The pass filters.
const (
	PassAny PassFilter = iota
	PassPassed
	PassFailed
)

// States returns the review states q counts: one place says which.
func (q *DashboardQuery) States() []audit.VisitState {
	if q.Approved {
		return audit.BonusStates
	}
	return audit.AuditStates
}

// MonthIndex numbers a month of loc's calendar as the dashboards do:
// year*12 + month-1.
func MonthIndex(t time.Time, loc *time.Location) int {
	t = t.In(loc)
	return t.Year()*12 + int(t.Month()) - 1
}

// Dashboard are the figures of a DashboardQuery, grouped in the database.
type Dashboard struct {
	// Months are the month indexes of the period (MonthIndex), in order;
	// ByStoreMonth also holds the month before the first, for comparisons.
	Months       []int
	MonthStarts  []time.Time
	ByStoreMonth reports.StoreMonths
	// Stores names the stores with visits in ByStoreMonth, by id.
	Stores map[string]DashboardStore
	// StoreCategories are the answers by store id and category;
	// Clauses by clause code.
	StoreCategories map[[2]string]reports.AnswerFigures
	Categories      map[string]reports.AnswerFigures
	Clauses         map[string]DashboardClause
	// Recommendation answers by group.
	Promoters, Passives, Detractors int64
	// CriticalQuestions are the failed critical questions, most failures
	// first.
	CriticalQuestions []DashboardCritical
}

// NewDashboard returns the empty figures of the months of loc from the
// one starting at first to end (audit.DashboardMonths), for a backend to
// fill.
func NewDashboard(first, end time.Time, loc *time.Location) *Dashboard {
	d := &Dashboard{
		ByStoreMonth: reports.StoreMonths{}, Stores: map[string]DashboardStore{},
		StoreCategories: map[[2]string]reports.AnswerFigures{}, Categories: map[string]reports.AnswerFigures{},
		Clauses: map[string]DashboardClause{},
	}
	for t := first; t.Before(end); t = t.AddDate(0, 1, 0) {
		d.Months = append(d.Months, MonthIndex(t, loc))
		d.MonthStarts = append(d.MonthStarts, t)
	}
	return d
}

// DashboardStore names a store.
type DashboardStore struct{ Code, Name, Region string }

// DashboardClause is a standard clause's answer figures and text.
type DashboardClause struct {
	reports.AnswerFigures
	Text, Category string
}

// DashboardCritical is a critical question that failed.
type DashboardCritical struct {
	QuestionID, Text, Clause, Category string
	Failures                           int64
}

// DashboardParts says what Dashboard reads.
type DashboardParts int

// The parts of a dashboard.
const (
	DashVisits   DashboardParts = 1 << iota // ByStoreMonth and Stores
	DashAnswers                             // StoreCategories, Categories and Clauses
	DashNPS                                 // Promoters, Passives, Detractors
	DashCritical                            // CriticalQuestions
)

// DashboardVisit is one visit behind a dashboard figure.
type DashboardVisit struct {
	VisitID                         string
	StoreCode, StoreName, Region    string
	VisitedAt                       time.Time
	ChecklistID                     string
	ChecklistVersion                int
	Channel                         string
	State                           audit.VisitState
	Points, MaxPoints               float64
	Passed, CriticalFailed, Flagged bool
	StaffName, StaffNumber          string
	// DrillPoints and DrillMax are the visit's points in the drill's
	// category, clause or question (DrillMax 0 without one).
	DrillPoints, DrillMax float64
}

// SortCritical puts critical questions in Dashboard's order: most
// failures first, then by question id.
func SortCritical(list []DashboardCritical) {
	slices.SortFunc(list, func(a, b DashboardCritical) int {
		return cmp.Or(cmp.Compare(b.Failures, a.Failures), strings.Compare(a.QuestionID, b.QuestionID))
	})
}

// DashboardPageToken is the page token of Visits for the page after the
// visit with id at at (to the millisecond, as visits are stored): the
// same on every backend.
func DashboardPageToken(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMilli(), 10) + ":" + id))
}

// ParseDashboardPageToken returns the time and id of a DashboardPageToken.
// Errors: EINVALID.
func ParseDashboardPageToken(token string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	at, id, ok := strings.Cut(string(raw), ":")
	var ms int64
	if err == nil && ok {
		ms, err = strconv.ParseInt(at, 10, 64)
	}
	if err != nil || !ok || id == "" {
		return time.Time{}, "", audit.Errorf(audit.EINVALID, "page_token is not one this server gave")
	}
	return time.UnixMilli(ms).UTC(), id, nil
}
