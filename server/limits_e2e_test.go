package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
)

// TestRequestLimits checks the length limits end to end, over every
// protocol: refused before any work, with a short message.
func TestRequestLimits(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	ctx := context.Background()
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := clientsOf(ts, p.client, p.opts...)
			admin := mustLogin(t, c, audit.RoleAdmin, "limits-"+p.name).Tokens.AccessToken

			t.Run("LoginEmail", func(t *testing.T) {
				huge := strings.Repeat("a", 3<<20) + "@example.com"
				_, err := c.Auth.Login(ctx, connect.NewRequest(&v1.LoginRequest{Email: huge, Password: "whatever", DeviceId: "d"}))
				requireCode(t, connect.CodeInvalidArgument, err)
				assert.Less(t, len(err.Error()), 200)
				// Nothing of it reached the security log.
				stream, err := c.Admin.StreamSecurityEvents(ctx, withToken(connect.NewRequest(&v1.StreamSecurityEventsRequest{}), admin))
				require.NoError(t, err)
				for stream.Receive() {
					assert.Less(t, len(stream.Msg().Detail), 300, "event %s", stream.Msg().Kind)
				}
				require.NoError(t, stream.Err())
			})
			t.Run("StreamingRequest", func(t *testing.T) {
				hr := mustLogin(t, c, audit.RoleHR, "limits-"+p.name).Tokens.AccessToken
				rc := shopscorev1connect.NewReportServiceClient(p.client, ts.URL, p.opts...)
				stream, err := rc.DownloadAuditWorkbook(ctx, withToken(connect.NewRequest(&v1.DownloadAuditWorkbookRequest{
					From: "2026-10", To: "2026-10", Region: strings.Repeat("r", audit.MaxNameLen+1)}), hr))
				require.NoError(t, err)
				for stream.Receive() {
					t.Fatal("nothing is sent for a request beyond the limits")
				}
				requireCode(t, connect.CodeInvalidArgument, stream.Err())
			})
			t.Run("ReviewNote", func(t *testing.T) {
				manager := mustLogin(t, c, audit.RoleManager, "limits-"+p.name).Tokens.AccessToken
				_, err := call(t, c.Review.ApproveVisit, manager, &v1.ApproveVisitRequest{VisitId: "x", Note: strings.Repeat("n", audit.MaxNoteLen+1)})
				requireCode(t, connect.CodeInvalidArgument, err)
			})
		})
	}
}

// TestSyncService_PushLongNote checks that a visit with a note beyond the
// limit (3 MiB were accepted once) is that mutation's rejection, and the
// visit behind it in the same push is applied.
func TestSyncService_PushLongNote(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	f := newField(t, ts, c)
	a := f.assign(t, "MSK-01", "store-visit", f.shopperID)
	up := f.pulledUpsert(t, a.Id)
	long := record(t, up.Checklist, a.Id, a.StoreId)
	long.visit.Notes = strings.Repeat("n", 3<<20)
	b := f.assign(t, "MSK-01", "store-visit", f.shopperID)
	good := record(t, f.pulledUpsert(t, b.Id).Checklist, b.Id, b.StoreId)

	resp := f.mustPush(t, submit(1, long.visit), submit(2, good.visit))
	requireRejected(t, resp.Results[0], connect.CodeInvalidArgument)
	assert.Contains(t, resp.Results[0].ErrorMessage, "notes")
	assert.Less(t, len(resp.Results[0].ErrorMessage), 300)
	assert.Equal(t, v1.MutationStatus_MUTATION_STATUS_APPLIED, resp.Results[1].Status)
	assert.Equal(t, 0, f.countVisits(t, long.visit.ID))
}

// TestSyncService_PushRate checks the per-device push limit: a device
// beyond its burst is refused with ResourceExhausted, another device of
// the same shopper is not.
func TestSyncService_PushRate(t *testing.T) {
	ts := mustRunSyncServer(t, &server.Config{PushRate: server.Rate{Burst: 2, Every: time.Hour}})
	c := clientsOf(ts, http.DefaultClient)
	f := newField(t, ts, c)
	a := f.assign(t, "MSK-01", "store-visit", f.shopperID)
	rec := record(t, f.pulledUpsert(t, a.Id).Checklist, a.Id, a.StoreId)
	m := submit(1, rec.visit)
	f.mustPush(t, m)
	f.mustPush(t, m) // a replay is a push too
	_, err := f.push(t, m)
	requireCode(t, connect.CodeResourceExhausted, err)

	other := mustLogin(t, c, audit.RoleShopper, "another-phone").Tokens.AccessToken
	_, err = call(t, c.Sync.Push, other, &v1.PushRequest{Mutations: []*v1.Mutation{submit(1, rec.visit)}})
	require.NoError(t, err, "another device has its own budget")
}
