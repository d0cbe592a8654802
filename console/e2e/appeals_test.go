package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/servertest"
)

// TestConsole_Appeals drives an appeal through the console: the demo
// manager files it with a PDF from a delivery's page and is refused as
// its judge; a second manager of the depot rules from the queue.
func TestConsole_Appeals(t *testing.T) {
	needBrowser(t)
	srv := servertest.Run(t, server.Config{
		Console:   mustConsole(t),
		LoginRate: server.Rate{Burst: 100, Every: time.Second},
	})
	require.NoError(t, demo.SeedReports(context.Background(), srv.Server))
	ctx := context.Background()
	login := func(email, password string) string {
		res, err := shopscorev1connect.NewAuthServiceClient(http.DefaultClient, srv.URL).Login(ctx, connect.NewRequest(&v1.LoginRequest{
			Email: email, Password: password, DeviceId: "e2e-" + email}))
		require.NoError(t, err)
		return res.Msg.Tokens.AccessToken
	}
	bearer := func(token string) connect.Option {
		return connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
			return func(ctx context.Context, r connect.AnyRequest) (connect.AnyResponse, error) {
				r.Header().Set("Authorization", "Bearer "+token)
				return next(ctx, r)
			}
		}))
	}
	admin := shopscorev1connect.NewAdminServiceClient(http.DefaultClient, srv.URL, bearer(login(demo.Users[audit.RoleAdmin], servertest.DemoPassword)))
	const judge, password = "pavel.smirnov@demo.shopscore.test", "second manager's password"
	_, err := admin.CreateUser(ctx, connect.NewRequest(&v1.CreateUserRequest{Email: judge, DisplayName: "Pavel Smirnov", Role: v1.Role_ROLE_MANAGER,
		Password: password, ManagedStoreCodes: []string{"DEPOT-1"}}))
	require.NoError(t, err)

	// An approved delivery of Sergei Morozov's that the shopper found
	// impolite.
	review := shopscorev1connect.NewReviewServiceClient(http.DefaultClient, srv.URL, bearer(login(demo.Users[audit.RoleManager], servertest.DemoPassword)))
	list, err := review.ListVisits(ctx, connect.NewRequest(&v1.ListVisitsRequest{State: v1.VisitState_VISIT_STATE_APPROVED, PageSize: 500}))
	require.NoError(t, err)
	var visit string
	for _, s := range list.Msg.Visits {
		if s.StaffEmployeeNumber != "E2001" {
			continue
		}
		d, err := review.GetVisit(ctx, connect.NewRequest(&v1.GetVisitRequest{VisitId: s.Id}))
		require.NoError(t, err)
		for _, a := range d.Msg.Visit.Answers {
			if a.QuestionId == "driver_polite" && !a.GetBoolValue() {
				visit = s.Id
			}
		}
		if visit != "" {
			break
		}
	}
	require.NotEmpty(t, visit, "the demo has an impolite delivery of E2001")

	res := journey(t, srv.URL, "appeal", map[string]string{"SHOPSCORE_VISIT": visit, "SHOPSCORE_JUDGE": judge, "SHOPSCORE_JUDGE_PASSWORD": password})
	assert.Equal(t, true, res["ruled"])
	after, err := review.GetVisit(ctx, connect.NewRequest(&v1.GetVisitRequest{VisitId: visit}))
	require.NoError(t, err)
	last := after.Msg.History[len(after.Msg.History)-1]
	assert.Equal(t, "Pavel Smirnov", last.ActorName)
	assert.Contains(t, last.Reason, "upheld: The signed receipt settles it.")
}

// TestConsole_StaffAppeal is issue 13's "done when" in the browser, on
// the demo data: the demo staff user appeals one of his approved visits
// of October (whose run the demo leaves to HR), from his phone, with a
// PDF till receipt; the visit's reviewer is refused as judge; HR's run of
// the month is held up by the open appeal until approved over it with a
// reason; the demo's second manager upholds one question; HR's next run
// shows the difference citing the appeal and supersedes the first.
func TestConsole_StaffAppeal(t *testing.T) {
	needBrowser(t)
	srv := servertest.Run(t, server.Config{
		Console:   mustConsole(t),
		LoginRate: server.Rate{Burst: 100, Every: time.Second},
	})
	ctx := context.Background()
	require.NoError(t, demo.SeedReports(ctx, srv.Server))
	res, err := shopscorev1connect.NewAuthServiceClient(http.DefaultClient, srv.URL).Login(ctx, connect.NewRequest(&v1.LoginRequest{
		Email: demo.Users[audit.RoleStaff], Password: servertest.DemoPassword, DeviceId: "e2e-staff"}))
	require.NoError(t, err)
	token := res.Msg.Tokens.AccessToken
	my := shopscorev1connect.NewMyResultsServiceClient(http.DefaultClient, srv.URL, connect.WithInterceptors(connect.UnaryInterceptorFunc(
		func(next connect.UnaryFunc) connect.UnaryFunc {
			return func(ctx context.Context, r connect.AnyRequest) (connect.AnyResponse, error) {
				r.Header().Set("Authorization", "Bearer "+token)
				return next(ctx, r)
			}
		})))

	// One of his visits of October that the shopper found impolite, as
	// his own results show it.
	month := demo.ReportMonths[1]
	visits, err := my.ListMyVisits(ctx, connect.NewRequest(&v1.ListMyVisitsRequest{Month: month}))
	require.NoError(t, err)
	var visit string
	var before float64
	for _, v := range visits.Msg.Visits {
		d, err := my.GetMyVisit(ctx, connect.NewRequest(&v1.GetMyVisitRequest{VisitId: v.VisitId}))
		require.NoError(t, err)
		for _, a := range d.Msg.Answers {
			if a.QuestionId == "driver_polite" && a.Yes != nil && !a.GetYes() && d.Msg.Appealable {
				visit, before = v.VisitId, v.GetScorePercent()
			}
		}
		if visit != "" {
			break
		}
	}
	require.NotEmpty(t, visit, "the demo has an impolite delivery of E2001 in %s", month)

	got := journey(t, srv.URL, "staffAppeal", map[string]string{"SHOPSCORE_VISIT": visit, "SHOPSCORE_MONTH": month})
	assert.Equal(t, true, got["cited"])
	after, err := my.GetMyVisit(ctx, connect.NewRequest(&v1.GetMyVisitRequest{VisitId: visit}))
	require.NoError(t, err)
	assert.Greater(t, after.Msg.Visit.GetScorePercent(), before, "the upheld question raised the visit's score")
	pay, err := my.GetMyPay(ctx, connect.NewRequest(&v1.GetMyPayRequest{Month: month}))
	require.NoError(t, err)
	require.Len(t, pay.Msg.Bonuses, 1, "the rerun superseded the run approved over the appeal")
}
