package server_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
)

// TestReviewService_ListVisits_Console drives the review queue as the web
// console does: names instead of ids, filters, counts per state, flagged
// first across pages, and the visit detail with its readable checklist and
// the numbers behind each proof flag.
func TestReviewService_ListVisits_Console(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	f := newField(t, ts, c)
	manager := mustLogin(t, c, audit.RoleManager, "desk-"+uuid.NewString()).Tokens.AccessToken
	hr := mustLogin(t, c, audit.RoleHR, "desk-"+uuid.NewString()).Tokens.AccessToken

	staff, err := call(t, c.Org.ListStaff, manager, &v1.ListStaffRequest{StoreCode: "MSK-01"})
	require.NoError(t, err)
	require.NotEmpty(t, staff.Staff)
	cashier := staff.Staff[0]

	// A clean visit naming a cashier, and a flagged one checked in 1500 km away.
	a := f.assign(t, "MSK-01", "store-visit", f.shopperID)
	clean := record(t, f.pulledUpsert(t, a.Id).Checklist, a.Id, a.StoreId)
	clean.visit.StaffID = cashier.Id
	f.submitNext(t, clean)
	b := f.assign(t, "MSK-01", "store-visit", f.shopperID)
	flagged := record(t, f.pulledUpsert(t, b.Id).Checklist, b.Id, b.StoreId)
	flagged.visit.CheckIn = &audit.GeoPoint{Latitude: 47.0245, Longitude: 28.8323, AccuracyMeters: 15, Time: flagged.visit.StartedAt}
	f.submitNext(t, flagged)

	t.Run("OK names", func(t *testing.T) {
		list, err := call(t, c.Review.ListVisits, manager, &v1.ListVisitsRequest{StoreCode: "MSK-01", StaffId: cashier.Id})
		require.NoError(t, err)
		require.Len(t, list.Visits, 1)
		v := list.Visits[0]
		assert.Equal(t, clean.visit.ID, v.Id)
		assert.Equal(t, "MSK-01", v.StoreCode)
		assert.NotEmpty(t, v.StoreName)
		assert.Equal(t, cashier.Name, v.StaffName)
		assert.Equal(t, cashier.EmployeeNumber, v.StaffEmployeeNumber)
		assert.NotEmpty(t, v.ChecklistName)
		assert.NotEmpty(t, v.ShopperName, "a manager sees who the shopper is")

		anon, err := call(t, c.Review.ListVisits, hr, &v1.ListVisitsRequest{StaffId: cashier.Id})
		require.NoError(t, err)
		require.Len(t, anon.Visits, 1)
		assert.Empty(t, anon.Visits[0].ShopperName, "HR never sees the shopper's name")
		assert.Equal(t, cashier.Name, anon.Visits[0].StaffName)
	})

	t.Run("OK filters and counts", func(t *testing.T) {
		byFlag, err := call(t, c.Review.ListVisits, manager, &v1.ListVisitsRequest{Flag: string(audit.FlagCheckInOutsideGeofence), IncludeStateCounts: true})
		require.NoError(t, err)
		ids := visitIDs(byFlag.Visits)
		assert.Contains(t, ids, flagged.visit.ID)
		assert.NotContains(t, ids, clean.visit.ID)
		var total int64
		for _, sc := range byFlag.StateCounts {
			total += sc.Count
		}
		assert.Equal(t, int64(len(byFlag.Visits)), total, "counts cover the same filters")

		day := timestamppb.New(time.Now().Add(-24 * time.Hour))
		recent, err := call(t, c.Review.ListVisits, manager, &v1.ListVisitsRequest{VisitFromTime: day, ChecklistId: "store-visit", ShopperId: f.shopperID})
		require.NoError(t, err)
		assert.Subset(t, visitIDs(recent.Visits), []string{clean.visit.ID, flagged.visit.ID})
		old, err := call(t, c.Review.ListVisits, manager, &v1.ListVisitsRequest{VisitToTime: day, ShopperId: f.shopperID})
		require.NoError(t, err)
		assert.NotContains(t, visitIDs(old.Visits), clean.visit.ID)
	})

	t.Run("OK flagged first across pages", func(t *testing.T) {
		all, err := call(t, c.Review.ListVisits, manager, &v1.ListVisitsRequest{PageSize: 500})
		require.NoError(t, err)
		var got []*v1.VisitSummary
		token := ""
		for {
			page, err := call(t, c.Review.ListVisits, manager, &v1.ListVisitsRequest{FlaggedFirst: true, PageSize: 2, PageToken: token})
			require.NoError(t, err)
			got = append(got, page.Visits...)
			if token = page.NextPageToken; token == "" {
				break
			}
		}
		assert.ElementsMatch(t, visitIDs(all.Visits), visitIDs(got), "every visit once")
		firstClean := slices.IndexFunc(got, func(v *v1.VisitSummary) bool { return len(v.ProofFlags) == 0 })
		for i, v := range got {
			assert.Equal(t, i < firstClean || firstClean < 0, len(v.ProofFlags) > 0, "flagged visits come first")
		}
	})

	t.Run("ErrInvalidArgument", func(t *testing.T) {
		now := time.Now()
		_, err := call(t, c.Review.ListVisits, manager, &v1.ListVisitsRequest{
			VisitFromTime: timestamppb.New(now), VisitToTime: timestamppb.New(now.Add(-time.Hour))})
		requireCode(t, connect.CodeInvalidArgument, err)
		assert.Contains(t, err.Error(), "visit_from_time")
		page, err := call(t, c.Review.ListVisits, manager, &v1.ListVisitsRequest{PageSize: 1})
		require.NoError(t, err)
		_, err = call(t, c.Review.ListVisits, manager, &v1.ListVisitsRequest{FlaggedFirst: true, PageToken: page.NextPageToken})
		requireCode(t, connect.CodeInvalidArgument, err, "a token of the other order")
		assert.Contains(t, err.Error(), "page_token")
	})

	t.Run("ErrNotFound other manager's store code", func(t *testing.T) {
		other := newManager(t, c, f.admin)
		_, err := call(t, c.Review.ListVisits, other, &v1.ListVisitsRequest{StoreCode: "MSK-01"})
		requireCode(t, connect.CodeNotFound, err)
		_, err = call(t, c.Review.ListVisits, manager, &v1.ListVisitsRequest{StoreCode: "NOPE-1"})
		requireCode(t, connect.CodeNotFound, err)
		_, err = call(t, c.Review.ListVisits, f.token, &v1.ListVisitsRequest{})
		requireCode(t, connect.CodePermissionDenied, err)
	})

	t.Run("OK visit detail", func(t *testing.T) {
		got, err := call(t, c.Review.GetVisit, manager, &v1.GetVisitRequest{VisitId: flagged.visit.ID})
		require.NoError(t, err)
		cl := got.Checklist
		require.NotNil(t, cl)
		assert.Empty(t, cl.Content, "the readable form, not the raw bytes")
		questions := map[string]*v1.ChecklistQuestion{}
		for _, s := range cl.Sections {
			assert.NotEmpty(t, s.Title)
			for _, q := range s.Questions {
				questions[q.Id] = q
			}
		}
		for _, ans := range got.Visit.Answers {
			q := questions[ans.QuestionId]
			require.NotNil(t, q, "answer %s has its question", ans.QuestionId)
			assert.NotEmpty(t, q.Text)
			assert.NotEqual(t, v1.QuestionType_QUESTION_TYPE_UNSPECIFIED, q.Type)
		}
		timer := questions["greet_time"]
		require.NotNil(t, timer)
		assert.Equal(t, v1.QuestionType_QUESTION_TYPE_TIMER, timer.Type)
		assert.NotNil(t, timer.Target)
		assert.NotEmpty(t, timer.Unit)

		i := slices.IndexFunc(got.Summary.ProofFlags, func(p *v1.ProofFlag) bool { return p.Code == string(audit.FlagCheckInOutsideGeofence) })
		require.GreaterOrEqual(t, i, 0)
		pf := got.Summary.ProofFlags[i]
		require.NotNil(t, pf.DistanceMeters)
		assert.Greater(t, *pf.DistanceMeters, 1_000_000.0, "Chisinau is over 1000 km from Moscow")
		assert.NotNil(t, pf.GeofenceMeters)
		assert.Equal(t, 15.0, pf.GetAccuracyMeters())
		for _, h := range got.History {
			if h.ActorRole == "shopper" {
				assert.NotEmpty(t, h.ActorName)
			}
		}
	})
}

func visitIDs(vs []*v1.VisitSummary) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Id)
	}
	return out
}

// newManager creates a manager of no store and returns his access token.
func newManager(tb testing.TB, c Clients, admin string) string {
	tb.Helper()
	email := "manager-" + uuid.NewString()[:8] + "@example.com"
	_, err := call(tb, c.Admin.CreateUser, admin, &v1.CreateUserRequest{Email: email, DisplayName: "Other manager", Role: v1.Role_ROLE_MANAGER, Password: demoPassword})
	require.NoError(tb, err)
	lr, err := c.Auth.Login(tb.Context(), connect.NewRequest(&v1.LoginRequest{Email: email, Password: demoPassword, DeviceId: "desk-" + uuid.NewString()}))
	require.NoError(tb, err)
	return lr.Msg.Tokens.AccessToken
}
