package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"connectrpc.com/connect"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
)

// TestActionService_EndToEnd: over the real server with the demo data, a
// failed price-tag check (the critical "till charged the tag's price")
// opens an action for MSK-01's manager once the visit is approved; he
// marks it done with a photo uploaded through the verified path; the next
// visit fails the question again and reopens it; done again, the visit
// after passes and verifies it. A webhook receiver subscribed to the
// action events gets each of them once, signed.
func TestActionService_EndToEnd(t *testing.T) {
	rc, hookURL := newHookReceiver(t, 0)
	ts := mustRunSyncServer(t, &server.Config{Webhooks: server.Webhooks{AllowLoopback: true, Poll: 20 * time.Millisecond}})
	c := clientsOf(ts, http.DefaultClient)
	f := newField(t, ts, c)
	actions := shopscorev1connect.NewActionServiceClient(http.DefaultClient, ts.URL)
	hooks := shopscorev1connect.NewWebhookServiceClient(http.DefaultClient, ts.URL)
	manager := mustLogin(t, c, audit.RoleManager, "desk-"+uuid.NewString())
	hr := mustLogin(t, c, audit.RoleHR, "desk-"+uuid.NewString()).Tokens.AccessToken

	types := []string{"action.opened", "action.done", "action.verified", "action.reopened", "action.overdue"}
	created, err := call(t, hooks.CreateWebhookEndpoint, f.admin, &v1.CreateWebhookEndpointRequest{Url: hookURL, Description: "Задачи",
		EventTypes: types})
	require.NoError(t, err)

	approve := func(fail ...string) string {
		t.Helper()
		rec := f.completeVisit(t, fail...)
		_, err := call(t, c.Review.StartReview, manager.Tokens.AccessToken, &v1.StartReviewRequest{VisitId: rec.visit.ID})
		require.NoError(t, err)
		_, err = call(t, c.Review.ApproveVisit, manager.Tokens.AccessToken, &v1.ApproveVisitRequest{VisitId: rec.visit.ID})
		require.NoError(t, err)
		return rec.visit.ID
	}
	get := func(id string) *v1.Action {
		t.Helper()
		got, err := call(t, actions.GetAction, manager.Tokens.AccessToken, &v1.GetActionRequest{ActionId: id})
		require.NoError(t, err)
		return got.Action
	}

	first := approve("tags_match_till")
	mine, err := call(t, actions.ListActions, manager.Tokens.AccessToken, &v1.ListActionsRequest{Mine: true})
	require.NoError(t, err)
	require.Len(t, mine.Actions, 1, "one critical question failed")
	ac := mine.Actions[0]
	assert.Equal(t, v1.ActionState_ACTION_STATE_OPEN, ac.State)
	assert.Equal(t, v1.ActionSeverity_ACTION_SEVERITY_CRITICAL, ac.Severity)
	assert.Equal(t, "MSK-01", ac.StoreCode)
	assert.Equal(t, "tags_match_till", ac.QuestionId)
	assert.Equal(t, "Did the till charge the price on the tag?", ac.QuestionText)
	assert.Equal(t, "PRC-3", ac.StandardCode)
	assert.Equal(t, manager.User.Id, ac.OwnerId, "the store's manager owns it")
	assert.Equal(t, first, ac.VisitId)
	assert.False(t, ac.Overdue)
	full := get(ac.Id)
	assert.Equal(t, "The price charged at the till matches the price tag.", full.StandardClause)
	require.NotEmpty(t, full.VisitPhotos, "the failed answer's photos are the action's evidence")
	assert.NotEmpty(t, full.VisitPhotos[0].DownloadUrl)
	byVisit, err := call(t, actions.ListActions, hr, &v1.ListActionsRequest{VisitId: first})
	require.NoError(t, err)
	assert.Len(t, byVisit.Actions, 1, "HR reads actions")
	store, err := call(t, actions.ListActions, manager.Tokens.AccessToken, &v1.ListActionsRequest{StoreCode: "MSK-01"})
	require.NoError(t, err)
	assert.Len(t, store.Actions, 1)

	_, err = call(t, actions.DoneAction, hr, &v1.DoneActionRequest{ActionId: ac.Id, Note: "x"})
	requireCode(t, connect.CodePermissionDenied, err, "HR reads only")
	_, err = call(t, actions.ListActions, f.token, &v1.ListActionsRequest{})
	requireCode(t, connect.CodePermissionDenied, err, "a shopper sees no actions")
	_, err = call(t, actions.VerifyAction, manager.Tokens.AccessToken, &v1.VerifyActionRequest{ActionId: ac.Id})
	requireCode(t, connect.CodeFailedPrecondition, err, "an open action is not verified")
	_, err = call(t, actions.DoneAction, manager.Tokens.AccessToken, &v1.DoneActionRequest{ActionId: ac.Id})
	requireCode(t, connect.CodeInvalidArgument, err, "done needs a note")

	// Done with a photo of the fix, uploaded and re-hashed like a
	// shopper's photo.
	photo, sha := testPhoto(2048)
	started, err := call(t, actions.StartAction, manager.Tokens.AccessToken, &v1.StartActionRequest{ActionId: ac.Id})
	require.NoError(t, err)
	assert.Equal(t, v1.ActionState_ACTION_STATE_IN_PROGRESS, started.Action.State)
	done, err := call(t, actions.DoneAction, manager.Tokens.AccessToken, &v1.DoneActionRequest{ActionId: ac.Id, Note: "Till prices reloaded from the price list",
		Proof: []*v1.EvidenceFile{{Sha256: sha, SizeBytes: int64(len(photo)), ContentType: "image/jpeg", FileName: "till.jpg"}}})
	require.NoError(t, err)
	assert.Equal(t, v1.ActionState_ACTION_STATE_DONE, done.Action.State)
	require.Len(t, done.Action.Proof, 1)
	assert.False(t, done.Action.Proof[0].Verified)
	_, err = call(t, actions.CreateProofUpload, manager.Tokens.AccessToken, &v1.CreateProofUploadRequest{ActionId: ac.Id,
		Sha256: strings.Repeat("0", 64), SizeBytes: int64(len(photo)), ContentType: "image/jpeg"})
	requireCode(t, connect.CodeInvalidArgument, err, "other bytes than declared")
	up, err := call(t, actions.CreateProofUpload, manager.Tokens.AccessToken, &v1.CreateProofUploadRequest{ActionId: ac.Id,
		Sha256: sha, SizeBytes: int64(len(photo)), ContentType: "image/jpeg"})
	require.NoError(t, err)
	require.False(t, up.AlreadyVerified)
	_, err = call(t, actions.FinalizeProofUpload, manager.Tokens.AccessToken, &v1.FinalizeProofUploadRequest{ActionId: ac.Id})
	requireCode(t, connect.CodeNotFound, err, "nothing uploaded yet")
	require.Equal(t, http.StatusOK, upload(t, &v1.CreateUploadSlotResponse{Url: up.Url, Method: up.Method, Headers: up.Headers}, photo))
	fin, err := call(t, actions.FinalizeProofUpload, manager.Tokens.AccessToken, &v1.FinalizeProofUploadRequest{ActionId: ac.Id})
	require.NoError(t, err)
	assert.True(t, fin.Proof.Verified)
	full = get(ac.Id)
	assert.NotEmpty(t, full.Proof[0].DownloadUrl)
	assert.Equal(t, "Till prices reloaded from the price list", full.Note)

	// The next visit fails the question again: reopened.
	second := approve("tags_match_till")
	full = get(ac.Id)
	assert.Equal(t, v1.ActionState_ACTION_STATE_REOPENED, full.State)
	assert.Equal(t, second, full.ResolvedByVisitId)
	_, err = call(t, actions.DoneAction, manager.Tokens.AccessToken, &v1.DoneActionRequest{ActionId: ac.Id, Note: "Till software updated"})
	require.NoError(t, err)

	// And the one after passes: verified.
	third := approve()
	full = get(ac.Id)
	assert.Equal(t, v1.ActionState_ACTION_STATE_VERIFIED, full.State)
	assert.Equal(t, third, full.ResolvedByVisitId)
	var steps []string
	for _, h := range full.History {
		steps = append(steps, h.From.String()+">"+h.To.String()+" "+h.ActorRole)
	}
	assert.Equal(t, []string{
		"ACTION_STATE_UNSPECIFIED>ACTION_STATE_OPEN system",
		"ACTION_STATE_OPEN>ACTION_STATE_IN_PROGRESS manager",
		"ACTION_STATE_IN_PROGRESS>ACTION_STATE_DONE manager",
		"ACTION_STATE_DONE>ACTION_STATE_REOPENED system",
		"ACTION_STATE_REOPENED>ACTION_STATE_DONE manager",
		"ACTION_STATE_DONE>ACTION_STATE_VERIFIED system",
	}, steps)
	counts, err := call(t, actions.CountOverdueActions, manager.Tokens.AccessToken, &v1.CountOverdueActionsRequest{})
	require.NoError(t, err)
	assert.Zero(t, counts.Total)

	// The receiver got each event once, signed.
	want := []string{"action.opened", "action.done", "action.reopened", "action.done", "action.verified"}
	rc.waitFor(t, "every action event", func(rc *hookReceiver) bool { return len(rc.accepted) == len(want) })
	time.Sleep(100 * time.Millisecond) // nothing more arrives
	rc.mu.Lock()
	reqs := append([]hookRequest(nil), rc.requests...)
	require.Len(t, rc.accepted, len(want))
	for id, n := range rc.hits {
		assert.Equal(t, 1, n, "event %s delivered once", id)
	}
	rc.mu.Unlock()
	type body struct {
		Type      string    `json:"type"`
		Timestamp time.Time `json:"timestamp"`
		Data      struct {
			Action struct {
				ID, State string
				Store     struct{ Code, Name string }
				Question  struct{ ID, Text string }
				Owner     *struct{ Name string }
			} `json:"action"`
		} `json:"data"`
	}
	var got []string
	for _, r := range reqs {
		var b body
		require.NoError(t, json.Unmarshal(r.Body, &b))
		assert.Equal(t, ac.Id, b.Data.Action.ID)
		assert.Equal(t, "MSK-01", b.Data.Action.Store.Code)
		assert.NotEmpty(t, b.Data.Action.Store.Name, "names as well as ids")
		assert.Equal(t, "Did the till charge the price on the tag?", b.Data.Action.Question.Text)
		require.NotNil(t, b.Data.Action.Owner)
		assert.NotEmpty(t, b.Data.Action.Owner.Name)
		got = append(got, b.Type)
	}
	assert.ElementsMatch(t, want, got, "one event per change (delivered four at a time, so in any order)")
	for i, v := range pythonVerify(t, created.Secret, reqs) {
		assert.Equal(t, "ok "+reqs[i].ID, v, "every delivery is signed")
	}
}

// TestActionService_Reassign: the owners a manager may choose for his
// store's action are its managers and the admins, by name; he reassigns
// it to the second manager with a note the history keeps; HR may not
// ask, nor reassign.
func TestActionService_Reassign(t *testing.T) {
	ts := mustRunSyncServer(t, &server.Config{})
	c := clientsOf(ts, http.DefaultClient)
	f := newField(t, ts, c)
	actions := shopscorev1connect.NewActionServiceClient(http.DefaultClient, ts.URL)
	manager := mustLogin(t, c, audit.RoleManager, "desk-"+uuid.NewString())
	hr := mustLogin(t, c, audit.RoleHR, "desk-"+uuid.NewString()).Tokens.AccessToken
	rec := f.completeVisit(t, "tags_match_till")
	_, err := call(t, c.Review.StartReview, manager.Tokens.AccessToken, &v1.StartReviewRequest{VisitId: rec.visit.ID})
	require.NoError(t, err)
	_, err = call(t, c.Review.ApproveVisit, manager.Tokens.AccessToken, &v1.ApproveVisitRequest{VisitId: rec.visit.ID})
	require.NoError(t, err)
	mine, err := call(t, actions.ListActions, manager.Tokens.AccessToken, &v1.ListActionsRequest{Mine: true})
	require.NoError(t, err)
	require.Len(t, mine.Actions, 1)
	id := mine.Actions[0].Id

	owners, err := call(t, actions.ListActionOwners, manager.Tokens.AccessToken, &v1.ListActionOwnersRequest{ActionId: id})
	require.NoError(t, err)
	var names []string
	second := ""
	for _, o := range owners.Owners {
		names = append(names, o.Name)
		assert.Equal(t, o.UserId == manager.User.Id, o.Current, o.Name)
		if strings.HasPrefix(o.Name, "Pavel Orlov") {
			second = o.UserId
		}
	}
	assert.Contains(t, names, "Maria Ivanova (store manager)")
	assert.Contains(t, names, "Pavel Orlov (second store manager)")
	assert.NotContains(t, strings.Join(names, ","), "HR", "only managers of the store and admins")
	require.NotEmpty(t, second)
	_, err = call(t, actions.ListActionOwners, hr, &v1.ListActionOwnersRequest{ActionId: id})
	requireCode(t, connect.CodePermissionDenied, err, "HR reads actions but does not move them")
	_, err = call(t, actions.ReassignAction, hr, &v1.ReassignActionRequest{ActionId: id, OwnerId: second})
	requireCode(t, connect.CodePermissionDenied, err)

	got, err := call(t, actions.ReassignAction, manager.Tokens.AccessToken, &v1.ReassignActionRequest{ActionId: id, OwnerId: second, Note: "Pavel runs the tills this week"})
	require.NoError(t, err)
	assert.Equal(t, second, got.Action.OwnerId)
	last := got.Action.History[len(got.Action.History)-1]
	assert.True(t, last.Reassigned)
	assert.Equal(t, "Pavel Orlov (second store manager)", last.OwnerName)
	assert.Equal(t, "Pavel runs the tills this week", last.Note)
	_, err = call(t, actions.ReassignAction, manager.Tokens.AccessToken, &v1.ReassignActionRequest{ActionId: id, OwnerId: second})
	requireCode(t, connect.CodeInvalidArgument, err, "he owns it already")
}
