package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/sync/protocol"
)

// pushVisit submits a visit of shopper s1 at store A-1 without photos, as
// his phone would; it arrives complete, ready for review.
func (w *world) pushVisit(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	a := w.assignment(w.storeA, w.s1, 0)
	require.NoError(t, w.app.CreateAssignment(ctx, audit.Scope{All: true}, a))
	sess, err := w.app.CreateSession(ctx, w.s1, "phone", "phone", []byte("refresh"), w.clock.Add(time.Hour), "")
	require.NoError(t, err)
	yes := true
	v := &audit.Visit{ID: "v-" + a.ID, AssignmentID: a.ID, StoreID: w.storeA.ID, ShopperID: w.s1, ChecklistID: "c",
		ChecklistVersion: 1, ContentHash: w.checklist.ContentHash, Channel: audit.ChannelStoreVisit,
		StartedAt: w.clock.Add(time.Hour), FinishedAt: w.clock.Add(90 * time.Minute),
		Answers: []audit.Answer{{QuestionID: "q", Bool: &yes}}}
	w.clock = w.clock.Add(2 * time.Hour)
	res, err := w.app.Push(ctx, app.Device{UserID: w.s1, SessionID: sess.ID}, w.clock,
		[]app.Mutation{{Seq: 1, ID: "m-" + a.ID, DeviceTime: w.clock, Digest: protocol.VisitDigest(v), Visit: v}})
	require.NoError(t, err)
	require.Equal(t, storage.MutationApplied, res.Results[0].Status, "%v", res.Results[0].Err)
	return v.ID
}

func TestReviewVisit(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	id := w.pushVisit(t)
	s, err := w.db.Visits().FindSummary(ctx, audit.Scope{All: true}, id)
	require.NoError(t, err)
	require.Equal(t, audit.VisitComplete, s.State)

	_, err = w.app.ReviewVisit(ctx, w.mB, id, audit.ActionStartReview, "", nil)
	requireCode(t, audit.ENOTFOUND, err)
	_, err = w.app.ReviewVisit(ctx, audit.Principal{UserID: w.s1, Role: audit.RoleShopper}, id, audit.ActionStartReview, "", nil)
	requireCode(t, audit.EFORBIDDEN, err)
	_, err = w.app.ReviewVisit(ctx, w.mA, id, audit.ActionApprove, "", nil)
	requireCode(t, audit.EPRECONDITION, err)
	assert.Contains(t, audit.ErrorMessage(err), "waiting for review", "the refusal says where the visit is")

	got, err := w.app.ReviewVisit(ctx, w.mA, id, audit.ActionStartReview, "", nil)
	require.NoError(t, err)
	assert.Equal(t, audit.VisitInReview, got.State)
	assert.Equal(t, "A-1", got.StoreCode)

	for _, bad := range [][]audit.ReviewComment{nil, {{Text: ""}}, {{QuestionID: "nope", Text: "which?"}}} {
		_, err = w.app.ReviewVisit(ctx, w.mA, id, audit.ActionReturn, "", bad)
		requireCode(t, audit.EINVALID, err)
	}
	s, err = w.db.Visits().FindSummary(ctx, audit.Scope{All: true}, id)
	require.NoError(t, err)
	assert.Equal(t, audit.VisitInReview, s.State, "a refused return changes nothing")

	got, err = w.app.ReviewVisit(ctx, w.mA, id, audit.ActionApprove, "fine", nil)
	require.NoError(t, err)
	assert.Equal(t, audit.VisitApproved, got.State)
	_, err = w.app.ReviewVisit(ctx, w.mA, id, audit.ActionReopen, "a mistake", nil)
	requireCode(t, audit.EFORBIDDEN, err)
	_, err = w.app.ReviewVisit(ctx, w.admin, id, audit.ActionReopen, "", nil)
	requireCode(t, audit.EINVALID, err)
	got, err = w.app.ReviewVisit(ctx, w.admin, id, audit.ActionReopen, "a mistake", nil)
	require.NoError(t, err)
	assert.Equal(t, audit.VisitInReview, got.State)
	comments := []audit.ReviewComment{{QuestionID: "q", Text: "Say who greeted you"}}
	got, err = w.app.ReviewVisit(ctx, w.mA, id, audit.ActionReturn, "", comments)
	require.NoError(t, err)
	assert.Equal(t, audit.VisitReturned, got.State)

	d, err := w.db.Visits().FindDetail(ctx, audit.ScopeOf(w.mA), id)
	require.NoError(t, err)
	assert.Equal(t, comments, d.Comments)
	var steps []string
	for _, h := range d.History {
		steps = append(steps, string(h.From)+">"+string(h.To)+" "+h.ActorRole+" "+h.Reason)
	}
	assert.Equal(t, []string{
		">complete shopper submitted from device phone",
		"complete>in_review manager ",
		"in_review>approved manager fine",
		"approved>in_review admin a mistake",
		"in_review>returned manager ",
	}, steps)
	assert.Equal(t, "a@example.com", d.ActorNames[w.mA.UserID])
	assert.Equal(t, w.clock, d.History[len(d.History)-1].At)

	rows, err := w.db.Feed().Read(ctx, w.s1, storage.FeedPos{}, 100)
	require.NoError(t, err)
	var receipt *audit.VisitReceipt
	for _, r := range rows.Rows {
		if r.Receipt != nil && r.Receipt.VisitID == id {
			receipt = r.Receipt
		}
	}
	require.NotNil(t, receipt, "the return reaches the shopper's feed")
	assert.Equal(t, audit.VisitReturned, receipt.State)
	assert.Equal(t, comments, receipt.Comments)
}
