package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/servertest"
	"github.com/shopscore/shopscore/server/storage"
)

// TestConsole_CorrectiveAction is issue 16's "done when" in a browser:
// on the demo data, with a webhook endpoint registered for the visit and
// action events on a receiver of the test's, a failed price-tag check at
// MSK-01 opens an action for the store's manager. Days later it is
// overdue: the dashboard counts it and "My actions" marks it. He finds it
// from the visit's page and under "My actions", gives it to the second
// manager with a note and takes it back (a stale page's second
// reassignment is refused in Russian), starts it and closes it with a
// note and a photo (hashed in the browser, uploaded and verified); the
// next passing visit verifies it. The receiver got every event the
// outbox holds for the endpoint, each id once after removing repeats,
// the flow's in the order it happened, each signed as Standard Webhooks
// says (checked by the test's own code).
func TestConsole_CorrectiveAction(t *testing.T) {
	needBrowser(t)
	// The server's clock, which the test moves days on.
	var ahead atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	rc := newReceiver(t, now)
	srv := servertest.Run(t, server.Config{
		Console:   mustConsole(t),
		LoginRate: server.Rate{Burst: 100, Every: time.Second},
		Now:       now,
		// The tick that reports overdue actions.
		ExpireEvery: 100 * time.Millisecond,
		Webhooks:    server.Webhooks{AllowLoopback: true, Poll: 20 * time.Millisecond},
	})
	ctx := context.Background()
	require.NoError(t, demo.SeedReports(ctx, srv.Server))

	types := append([]string{"visit.submitted", "visit.complete", "visit.approved", "visit.published"}, actionEventTypes...)
	hooks := shopscorev1connect.NewWebhookServiceClient(http.DefaultClient, srv.URL)
	reg := connect.NewRequest(&v1.CreateWebhookEndpointRequest{Url: rc.URL, Description: "Store operations", EventTypes: types})
	reg.Header().Set("Authorization", "Bearer "+accessToken(t, srv.URL, demo.Users[audit.RoleAdmin]))
	created, err := hooks.CreateWebhookEndpoint(ctx, reg)
	require.NoError(t, err)
	secret := created.Msg.Secret
	before, err := srv.Server.Storage().Outbox().List(ctx, storage.OutboxFilter{})
	require.NoError(t, err)
	var afterSeq int64
	if len(before) > 0 {
		afterSeq = before[len(before)-1].Seq
	}

	visit, err := demo.FailedPriceCheck(ctx, srv.Server, now().Add(-3*time.Hour), true)
	require.NoError(t, err)
	manager, _, err := srv.Server.Storage().Users().FindByEmail(ctx, demo.Users[audit.RoleManager])
	require.NoError(t, err)
	me := audit.Principal{UserID: manager.ID, Role: audit.RoleManager}
	opened, err := srv.Server.App().ListActions(ctx, me, app.ActionList{VisitID: visit})
	require.NoError(t, err)
	require.Len(t, opened, 1, "the failed critical question opened one action")
	action := opened[0].ID
	assert.Equal(t, manager.ID, opened[0].OwnerID, "the store's manager owns it")

	// Past its due day (three days for a critical question), the tick
	// reports it overdue. The clock moves only once every event so far
	// has arrived: a call signed just before the jump and received just
	// after would look five days late to the receiver, which reads the
	// same clock.
	delivered(t, srv, rc, afterSeq, types)
	ahead.Store(int64(5 * 24 * time.Hour))
	rc.waitFor(t, "the action's overdue event", func(calls []hookCall) bool {
		for _, c := range calls {
			if typ, id := aboutAction(t, c.Body); typ == "action.overdue" && id == action {
				return true
			}
		}
		return false
	})

	res := journey(t, srv.URL, "action", map[string]string{"SHOPSCORE_VISIT": visit})
	assert.Equal(t, true, res["done"])
	assert.Equal(t, true, res["refusedInRussian"])

	got, err := srv.Server.App().GetAction(ctx, me, action)
	require.NoError(t, err)
	assert.Equal(t, audit.ActionDone, got.State)
	assert.Equal(t, manager.ID, got.OwnerID, "he took it back")
	require.Len(t, got.Proof, 1)
	assert.True(t, got.Proof[0].Verified, "the photo went through the verified path")
	var reassigned []string
	for _, h := range got.History {
		if h.Reassigned {
			reassigned = append(reassigned, h.OwnerName+": "+h.Note)
		}
	}
	assert.Equal(t, []string{"Pavel Orlov (second store manager): Pavel runs the tills this week.", "Maria Ivanova (store manager): "}, reassigned)

	next, err := demo.FailedPriceCheck(ctx, srv.Server, now().Add(-time.Hour), false)
	require.NoError(t, err)
	got, err = srv.Server.App().GetAction(ctx, me, action)
	require.NoError(t, err)
	assert.Equal(t, audit.ActionVerified, got.State, "the next passing visit verified it")
	assert.Equal(t, next, got.ResolvedByVisitID)

	// What the endpoint was sent: every event of its types written since
	// it was registered (the demo's own actions may fall overdue too).
	events, want := delivered(t, srv, rc, afterSeq, types)
	time.Sleep(200 * time.Millisecond) // nothing more arrives
	calls := rc.got()
	requireSigned(t, secret, calls)
	_, n := byID(calls)
	for id, k := range n {
		assert.True(t, want[id], "the receiver got %s, which is no event of the outbox's", id)
		if k > 1 {
			t.Logf("event %s arrived %d times (at least once; the receiver keeps it once)", id, k)
		}
	}
	for id := range want {
		assert.Contains(t, n, id, "the receiver got every event")
	}

	// The flow's own events, in the outbox's order, each once.
	ours := map[string]bool{visit: true, next: true, action: true}
	var flow []string
	byEvent := map[string][]byte{}
	for _, c := range calls {
		byEvent[c.ID] = c.Body
	}
	for _, e := range events {
		typ, id := aboutAction(t, byEvent[e.ID])
		if ours[id] {
			flow = append(flow, typ)
		}
	}
	assert.Equal(t, []string{
		"visit.submitted", "visit.complete", "visit.approved", "action.opened", // the failed check
		"action.overdue",                                                         // five days on
		"action.done",                                                            // closed in the console
		"visit.submitted", "visit.complete", "visit.approved", "action.verified", // the passing visit
	}, flow)
	for _, e := range events {
		var b struct {
			Type string `json:"type"`
			Data struct {
				Action struct {
					ID                string
					ProofPhotos       int    `json:"proof_photos"`
					ResolvedByVisitID string `json:"resolved_by_visit_id"`
					Store             struct{ Code, Name string }
					Owner             struct{ Name string }
				} `json:"action"`
				Actor *struct{ Name string } `json:"actor"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(byEvent[e.ID], &b))
		if b.Data.Action.ID != action {
			continue
		}
		assert.Equal(t, "MSK-01", b.Data.Action.Store.Code, b.Type)
		assert.Equal(t, "Building materials, Tverskaya", b.Data.Action.Store.Name, "names as well as ids: %s", b.Type)
		assert.Equal(t, "Maria Ivanova (store manager)", b.Data.Action.Owner.Name, b.Type)
		switch b.Type {
		case "action.done":
			require.NotNil(t, b.Data.Actor)
			assert.Equal(t, "Maria Ivanova (store manager)", b.Data.Actor.Name)
			assert.Equal(t, 1, b.Data.Action.ProofPhotos)
		case "action.verified":
			assert.Equal(t, next, b.Data.Action.ResolvedByVisitID)
		}
	}
}

// actionEventTypes are the corrective actions' event types.
var actionEventTypes = []string{"action.opened", "action.done", "action.verified", "action.reopened", "action.overdue"}

// aboutAction reads an event body's type and the id of the action or
// visit it is about.
func aboutAction(t *testing.T, body []byte) (typ, id string) {
	t.Helper()
	var b struct {
		Type string `json:"type"`
		Data struct {
			Action *struct{ ID string } `json:"action"`
			Visit  *struct{ ID string } `json:"visit"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &b), "%s", body)
	switch {
	case b.Data.Action != nil:
		return b.Type, b.Data.Action.ID
	case b.Data.Visit != nil:
		return b.Type, b.Data.Visit.ID
	}
	return b.Type, ""
}

// accessToken logs a demo user in over the API.
func accessToken(t testing.TB, url, email string) string {
	t.Helper()
	res, err := shopscorev1connect.NewAuthServiceClient(http.DefaultClient, url).Login(context.Background(), connect.NewRequest(&v1.LoginRequest{
		Email: email, Password: servertest.DemoPassword, DeviceId: "e2e-" + email,
	}))
	require.NoError(t, err)
	return res.Msg.Tokens.AccessToken
}

// delivered waits until the receiver has got every event of types the
// outbox holds after afterSeq, and returns those events and their ids.
func delivered(t *testing.T, srv *servertest.Running, rc *receiver, afterSeq int64, types []string) ([]*storage.Event, map[string]bool) {
	t.Helper()
	events, err := srv.Server.Storage().Outbox().List(context.Background(), storage.OutboxFilter{AfterSeq: afterSeq, Types: types})
	require.NoError(t, err)
	want := map[string]bool{}
	for _, e := range events {
		want[e.ID] = true
	}
	rc.waitFor(t, "every event of the endpoint's types", func(calls []hookCall) bool {
		_, n := byID(calls)
		for id := range want {
			if n[id] == 0 {
				return false
			}
		}
		return true
	})
	return events, want
}
