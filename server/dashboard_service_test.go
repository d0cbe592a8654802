package server_test

import (
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
)

// A delivery visit scores 45 points: 15 on time, 10 polite, 10 clean
// truck, 10 hand-over. Late: 30/45; impolite: 35/45; both good: 45/45.
const (
	good     = 1.0
	late     = 30.0 / 45
	impolite = 35.0 / 45
)

// dashboardFixture records, at DEPOT-1 (Moscow, the demo manager's) and
// KIV-01 (Moldova, not his), delivery visits of two months:
//
//	June:  DEPOT-1 good, late
//	July:  DEPOT-1 good, impolite, good (left unreviewed); KIV-01 impolite, impolite
//
// all approved but the one.
type dashboardFixture struct {
	dc                  shopscorev1connect.DashboardServiceClient
	hr, manager, admin  string
	june, july          string
	kiv, depotUnrevised []string // visit ids
}

func newDashboardFixture(t *testing.T) *dashboardFixture {
	t.Helper()
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	f := newField(t, ts, c)
	x := &dashboardFixture{
		dc: shopscorev1connect.NewDashboardServiceClient(http.DefaultClient, ts.URL), admin: f.admin,
		june: "2024-06", july: "2024-07",
	}
	x.hr = mustLogin(t, c, audit.RoleHR, "desk-"+uuid.NewString()).Tokens.AccessToken
	x.manager = mustLogin(t, c, audit.RoleManager, "desk-"+uuid.NewString()).Tokens.AccessToken
	staff, err := call(t, c.Org.ListStaff, f.admin, &v1.ListStaffRequest{})
	require.NoError(t, err)
	driver := ""
	for _, s := range staff.Staff {
		if s.EmployeeNumber == "E2001" {
			driver = s.Id
		}
	}
	depot := f.assign(t, "DEPOT-1", "delivery", f.shopperID)
	kiv := f.assign(t, "KIV-01", "delivery", f.shopperID)
	cv := f.pulledUpsert(t, depot.Id).Checklist
	// Noon UTC mid-month: the same month in Moscow.
	june := time.Date(2024, 6, 10, 12, 0, 0, 0, time.UTC)
	july := time.Date(2024, 7, 10, 12, 0, 0, 0, time.UTC)
	visits := []struct {
		a        *v1.Assignment
		at       time.Time
		d        delivery
		approved bool
	}{
		{depot, june, delivery{polite: true, clean: true}, true},
		{depot, june.Add(24 * time.Hour), delivery{late: 9, polite: true, clean: true}, true},
		{depot, july, delivery{polite: true, clean: true}, true},
		{depot, july.Add(24 * time.Hour), delivery{clean: true}, true},
		{depot, july.Add(48 * time.Hour), delivery{polite: true, clean: true}, false},
		{kiv, july, delivery{clean: true}, true},
		{kiv, july.Add(24 * time.Hour), delivery{clean: true}, true},
	}
	var muts []*v1.Mutation
	var ids []string
	for _, v := range visits {
		r := recordDelivery(t, cv, v.a, driver, v.at, v.d)
		f.seq++
		muts = append(muts, submit(f.seq, r.visit))
		ids = append(ids, r.visit.ID)
	}
	for i, res := range f.mustPush(t, muts...).Results {
		require.Equal(t, v1.MutationStatus_MUTATION_STATUS_APPLIED, res.Status, "visit %d: %v", i, res)
		if !visits[i].approved {
			x.depotUnrevised = append(x.depotUnrevised, ids[i])
			continue
		}
		_, err := call(t, c.Review.StartReview, f.admin, &v1.StartReviewRequest{VisitId: ids[i]})
		require.NoError(t, err)
		_, err = call(t, c.Review.ApproveVisit, f.admin, &v1.ApproveVisitRequest{VisitId: ids[i]})
		require.NoError(t, err)
		if visits[i].a == kiv {
			x.kiv = append(x.kiv, ids[i])
		}
	}
	return x
}

func requireFraction(tb testing.TB, want float64, got *float64, what string) {
	tb.Helper()
	require.NotNil(tb, got, what)
	assert.InDelta(tb, want, *got, 1e-9, what)
}

func TestDashboardService(t *testing.T) {
	x := newDashboardFixture(t)
	period := &v1.DashboardFilter{From: x.june, To: x.july}

	t.Run("Summary", func(t *testing.T) {
		resp, err := call(t, x.dc.GetDashboardSummary, x.hr, &v1.GetDashboardSummaryRequest{Filter: period})
		require.NoError(t, err)
		g := resp.Figures
		// Seven visits: good ×3, late, impolite ×3 = (3 + 30/45 + 105/45) / 7 = 6/7.
		assert.EqualValues(t, 7, g.Visits)
		assert.EqualValues(t, 7, g.ScoredVisits)
		requireFraction(t, 6.0/7, g.MeanScore, "mean score")
		// Passing needs 80%: only the three good visits.
		assert.EqualValues(t, 3, g.PassedVisits)
		requireFraction(t, 3.0/7, g.PassRate, "pass rate")
		assert.EqualValues(t, 0, g.CriticalFailureVisits, "the delivery checklist has no critical question")
		assert.Empty(t, resp.CriticalQuestions)
		// Every visit started outside its assignment's window (the window is
		// this week): all flagged.
		assert.EqualValues(t, 7, g.FlaggedVisits)
		requireFraction(t, 1, g.FlaggedShare, "flagged share")
		assert.EqualValues(t, 0, resp.Nps.Answers, "no recommendation question")
		assert.Nil(t, resp.Nps.Score)
		assert.Equal(t, v1.DashboardBasis_DASHBOARD_BASIS_SCORED, resp.Counted.Basis)
		assert.NotContains(t, resp.Counted.States, v1.VisitState_VISIT_STATE_SUPERSEDED)
		assert.Equal(t, "Europe/Moscow", resp.Counted.TimeZone)

		// July against June on the same stores: DEPOT-1 alone (KIV-01 was
		// not audited in June). June (1 + 30/45)/2 = 5/6; July
		// (1 + 35/45 + 1)/3 = 25/27; +25/27 − 5/6 = +9.259 pp, where all
		// stores' means would say 0.8667 − 0.8333 = +3.3 pp.
		ch := resp.LastMonthChange
		assert.Equal(t, x.june, ch.PreviousMonth)
		assert.EqualValues(t, 1, ch.StoresCompared)
		assert.EqualValues(t, 1, ch.StoresLeftOut)
		requireFraction(t, 5.0/6, ch.PreviousMeanScore, "June, same stores")
		requireFraction(t, 25.0/27, ch.MeanScore, "July, same stores")
		requireFraction(t, (25.0/27-5.0/6)*100, ch.ChangePoints, "change in points")
		assert.Contains(t, ch.Note, "1 store(s) audited in both months")

		// Approved only: the unreviewed July visit is left out.
		approved := &v1.DashboardFilter{From: x.june, To: x.july, Basis: v1.DashboardBasis_DASHBOARD_BASIS_APPROVED}
		resp, err = call(t, x.dc.GetDashboardSummary, x.hr, &v1.GetDashboardSummaryRequest{Filter: approved})
		require.NoError(t, err)
		assert.EqualValues(t, 6, resp.Figures.Visits)
		requireFraction(t, 5.0/6, resp.Figures.MeanScore, "(2 + 30/45 + 105/45) / 6")
		assert.Equal(t, []v1.VisitState{v1.VisitState_VISIT_STATE_APPROVED, v1.VisitState_VISIT_STATE_PUBLISHED}, resp.Counted.States)
		requireFraction(t, (1+impolite)/2, resp.LastMonthChange.MeanScore, "July at DEPOT-1, approved")

		// The manager sees his stores only: DEPOT-1's five visits,
		// (3 + 30/45 + 35/45) / 5 = 8/9.
		resp, err = call(t, x.dc.GetDashboardSummary, x.manager, &v1.GetDashboardSummaryRequest{Filter: period})
		require.NoError(t, err)
		assert.EqualValues(t, 5, resp.Figures.Visits)
		requireFraction(t, 8.0/9, resp.Figures.MeanScore, "the manager's mean")
		assert.EqualValues(t, 0, resp.LastMonthChange.StoresLeftOut, "KIV-01 is not his")
	})

	t.Run("Trend", func(t *testing.T) {
		resp, err := call(t, x.dc.GetScoreTrend, x.hr, &v1.GetScoreTrendRequest{Filter: period})
		require.NoError(t, err)
		require.Len(t, resp.Months, 2)
		june, july := resp.Months[0], resp.Months[1]
		assert.Equal(t, x.june, june.Month)
		assert.EqualValues(t, 2, june.Figures.Visits)
		requireFraction(t, (good+late)/2, june.Figures.MeanScore, "June")
		requireFraction(t, 0.5, june.Figures.PassRate, "June pass rate")
		assert.EqualValues(t, 0, june.Change.StoresCompared, "May had no visit")
		assert.Nil(t, june.Change.ChangePoints)
		assert.EqualValues(t, 5, july.Figures.Visits)
		requireFraction(t, (2*good+3*impolite)/5, july.Figures.MeanScore, "July, all stores")
		requireFraction(t, (25.0/27-5.0/6)*100, july.Change.ChangePoints, "July's change, same stores")
		assert.Equal(t, x.july, july.Drill.Month)
	})

	t.Run("Stores", func(t *testing.T) {
		resp, err := call(t, x.dc.GetStoreScores, x.hr, &v1.GetStoreScoresRequest{Filter: period})
		require.NoError(t, err)
		require.Len(t, resp.Stores, 2)
		depot, kiv := resp.Stores[0], resp.Stores[1]
		assert.Equal(t, "DEPOT-1", depot.StoreCode)
		assert.Equal(t, "Logistics depot", depot.StoreName)
		assert.EqualValues(t, 1, depot.Rank)
		requireFraction(t, 8.0/9, depot.Figures.MeanScore, "DEPOT-1")
		assert.Equal(t, "KIV-01", kiv.StoreCode)
		assert.EqualValues(t, 2, kiv.Rank)
		requireFraction(t, impolite, kiv.Figures.MeanScore, "KIV-01")
		assert.Equal(t, "KIV-01", kiv.Drill.Filter.StoreCode)
		require.Len(t, resp.Regions, 2)
		assert.Equal(t, "Moscow", resp.Regions[0].Region)
		assert.Equal(t, "Moldova", resp.Regions[1].Region)
		assert.EqualValues(t, 1, resp.Regions[1].Stores)

		assert.Equal(t, []string{"cleanliness", "delivery", "politeness"}, resp.Categories)
		cells := map[string]*v1.HeatCell{}
		for _, c := range resp.Cells {
			cells[c.StoreCode+"/"+c.Category] = c
		}
		// Politeness at DEPOT-1: polite in 4 of 5 (40 of 50 points); at
		// KIV-01 in none of 2.
		requireFraction(t, 0.8, cells["DEPOT-1/politeness"].Compliance, "DEPOT-1 politeness")
		requireFraction(t, 0, cells["KIV-01/politeness"].Compliance, "KIV-01 politeness")
		assert.EqualValues(t, 2, cells["KIV-01/politeness"].Answers)

		// Two clicks: the slipping cell, then its visits.
		list, err := call(t, x.dc.ListDashboardVisits, x.hr, &v1.ListDashboardVisitsRequest{Drill: cells["KIV-01/politeness"].Drill})
		require.NoError(t, err)
		var ids []string
		for _, v := range list.Visits {
			ids = append(ids, v.VisitId)
			assert.Equal(t, "KIV-01", v.StoreCode)
			requireFraction(t, 0, v.DrillCompliance, "impolite")
			assert.Equal(t, "Sergei Morozov", v.StaffName)
			assert.Equal(t, "E2001", v.StaffEmployeeNumber)
		}
		assert.ElementsMatch(t, x.kiv, ids)
		assert.Empty(t, list.NextPageToken)

		// A manager asking for a store not his: not found.
		_, err = call(t, x.dc.GetStoreScores, x.manager, &v1.GetStoreScoresRequest{Filter: &v1.DashboardFilter{From: x.june, StoreCode: "KIV-01"}})
		requireCode(t, connect.CodeNotFound, err)
		_, err = call(t, x.dc.ListDashboardVisits, x.manager, &v1.ListDashboardVisitsRequest{Drill: cells["KIV-01/politeness"].Drill})
		requireCode(t, connect.CodeNotFound, err)
		mine, err := call(t, x.dc.GetStoreScores, x.manager, &v1.GetStoreScoresRequest{Filter: period})
		require.NoError(t, err)
		require.Len(t, mine.Stores, 1)
		assert.Equal(t, "DEPOT-1", mine.Stores[0].StoreCode)
	})

	t.Run("Categories", func(t *testing.T) {
		resp, err := call(t, x.dc.GetCategoryScores, x.hr, &v1.GetCategoryScoresRequest{Filter: period})
		require.NoError(t, err)
		var cats []string
		for _, c := range resp.Categories {
			cats = append(cats, c.Category)
		}
		// Politeness 40/70, delivery (90 + 70)/175, cleanliness 70/70.
		assert.Equal(t, []string{"politeness", "delivery", "cleanliness"}, cats)
		requireFraction(t, 40.0/70, resp.Categories[0].Figures.Compliance, "politeness")
		requireFraction(t, 160.0/175, resp.Categories[1].Figures.Compliance, "delivery")
		assert.EqualValues(t, 7, resp.Categories[1].Figures.Visits)
		assert.EqualValues(t, 14, resp.Categories[1].Figures.Answers)
		var clauses []string
		for _, c := range resp.Clauses {
			clauses = append(clauses, c.Clause)
			assert.NotEmpty(t, c.ClauseText, c.Clause)
		}
		assert.Equal(t, []string{"POL-1", "DLV-1", "CLN-2", "DLV-2"}, clauses, "worst first, ties by code")
		requireFraction(t, 90.0/105, resp.Clauses[1].Figures.Compliance, "DLV-1: late once")

		list, err := call(t, x.dc.ListDashboardVisits, x.hr, &v1.ListDashboardVisitsRequest{Drill: resp.Clauses[0].Drill, PageSize: 2})
		require.NoError(t, err)
		require.Len(t, list.Visits, 2)
		require.NotEmpty(t, list.NextPageToken)
		more, err := call(t, x.dc.ListDashboardVisits, x.hr, &v1.ListDashboardVisitsRequest{Drill: resp.Clauses[0].Drill, PageSize: 2, PageToken: list.NextPageToken})
		require.NoError(t, err)
		assert.Len(t, more.Visits, 2, "every visit has a POL-1 answer: 7 in pages of 2")
		assert.False(t, more.Visits[0].VisitTime.AsTime().After(list.Visits[1].VisitTime.AsTime()), "newest first across pages")
		assert.NotContains(t, []string{list.Visits[0].VisitId, list.Visits[1].VisitId}, more.Visits[0].VisitId)
	})

	t.Run("BadInput", func(t *testing.T) {
		for name, f := range map[string]*v1.DashboardFilter{
			"no from":     {},
			"bad month":   {From: "2024-13"},
			"to before":   {From: x.july, To: x.june},
			"bad channel": {From: x.june, Channel: v1.Channel(99)},
		} {
			_, err := call(t, x.dc.GetDashboardSummary, x.hr, &v1.GetDashboardSummaryRequest{Filter: f})
			requireCode(t, connect.CodeInvalidArgument, err, name)
		}
		_, err := call(t, x.dc.ListDashboardVisits, x.hr, &v1.ListDashboardVisitsRequest{Drill: &v1.VisitDrill{Filter: period}, PageToken: "nope"})
		requireCode(t, connect.CodeInvalidArgument, err)
		_, err = call(t, x.dc.ListDashboardVisits, x.hr, &v1.ListDashboardVisitsRequest{Drill: &v1.VisitDrill{Filter: period, Month: "2023-01"}})
		requireCode(t, connect.CodeInvalidArgument, err)
		_, err = call(t, x.dc.GetDashboardSummary, "", &v1.GetDashboardSummaryRequest{Filter: period})
		requireCode(t, connect.CodeUnauthenticated, err)
	})
}
