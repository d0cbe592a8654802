package field_test

import (
	"context"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/mobile-client/field"
	"github.com/shopscore/shopscore/server/demo"
)

// reviewer is the demo manager at his desk, with the real generated client.
type reviewer struct {
	c     shopscorev1connect.ReviewServiceClient
	token string
}

func newReviewer(tb testing.TB, url string) *reviewer {
	tb.Helper()
	auth := shopscorev1connect.NewAuthServiceClient(http.DefaultClient, url)
	resp, err := auth.Login(context.Background(), connect.NewRequest(&v1.LoginRequest{
		Email: demo.Users[audit.RoleManager], Password: demoPassword, DeviceId: "desk"}))
	require.NoError(tb, err)
	return &reviewer{c: shopscorev1connect.NewReviewServiceClient(http.DefaultClient, url), token: resp.Msg.Tokens.AccessToken}
}

func do[Req, Resp any](tb testing.TB, r *reviewer, fn func(context.Context, *connect.Request[Req]) (*connect.Response[Resp], error), msg *Req) *Resp {
	tb.Helper()
	req := connect.NewRequest(msg)
	req.Header().Set("Authorization", "Bearer "+r.token)
	resp, err := fn(context.Background(), req)
	require.NoError(tb, err)
	return resp.Msg
}

// TestEndToEnd_ReturnCorrectApprove is the review loop with the real field
// client: the shopper submits, the manager returns the visit with a
// comment, the shopper sees it after a sync, corrects offline, syncs, and
// the manager approves the correction.
func TestEndToEnd_ReturnCorrectApprove(t *testing.T) {
	ctx := context.Background()
	url := MustRunServer(t)
	c, _ := MustOpenField(t, url)
	_, err := c.Login(ctx, demo.Users[audit.RoleShopper], demoPassword)
	require.NoError(t, err)
	_, err = c.Pull(ctx)
	require.NoError(t, err)
	id := recordStoreVisit(t, c, demoStoreVisit(t, c))
	require.NoError(t, c.Submit(ctx, id))
	_, err = c.Sync(ctx, nil)
	require.NoError(t, err)

	m := newReviewer(t, url)
	do(t, m, m.c.StartReview, &v1.StartReviewRequest{VisitId: id})
	do(t, m, m.c.ReturnVisit, &v1.ReturnVisitRequest{VisitId: id, Comments: []*v1.ReviewComment{
		{QuestionId: "queue_minutes", Text: "The till receipt shows 12 minutes in the queue, not 3."},
	}})

	// The phone learns of the return on its next sync, with the comment.
	_, err = c.Sync(ctx, nil)
	require.NoError(t, err)
	st, err := c.Status(ctx)
	require.NoError(t, err)
	var receipt *field.Receipt
	for i := range st.Receipts {
		if st.Receipts[i].VisitID == id {
			receipt = &st.Receipts[i]
		}
	}
	require.NotNil(t, receipt)
	assert.Equal(t, "returned", receipt.State)
	require.Len(t, receipt.Comments, 1)
	assert.Equal(t, "queue_minutes", receipt.Comments[0].QuestionID)

	// The correction is recorded offline and synced.
	fix, err := c.StartCorrection(ctx, id)
	require.NoError(t, err)
	_, err = c.AnswerText(ctx, fix, "queue_minutes", "12")
	require.NoError(t, err)
	require.NoError(t, c.Submit(ctx, fix))
	res, err := c.Sync(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Pushed)
	assert.Empty(t, res.PhotoErrors)

	old := do(t, m, m.c.GetVisit, &v1.GetVisitRequest{VisitId: id})
	assert.Equal(t, v1.VisitState_VISIT_STATE_SUPERSEDED, old.Summary.State)
	assert.Equal(t, fix, old.Summary.CorrectedByVisitId)
	got := do(t, m, m.c.GetVisit, &v1.GetVisitRequest{VisitId: fix})
	assert.Equal(t, v1.VisitState_VISIT_STATE_COMPLETE, got.Summary.State, "the photos were verified already")
	assert.Contains(t, got.Summary.Flags, "correction")
	assert.NotContains(t, got.Summary.Flags, "photo_reused", "a correction repeats its own photos")
	assert.Empty(t, got.Summary.ProofFlags, "a correction reuses its own photos without being flagged")
	var queue *v1.QuestionScore
	for _, q := range got.Score.Questions {
		if q.QuestionId == "queue_minutes" {
			queue = q
		}
	}
	require.NotNil(t, queue)
	assert.True(t, queue.Failed, "12 minutes misses the 5-minute target")

	do(t, m, m.c.StartReview, &v1.StartReviewRequest{VisitId: fix})
	approved := do(t, m, m.c.ApproveVisit, &v1.ApproveVisitRequest{VisitId: fix})
	assert.Equal(t, v1.VisitState_VISIT_STATE_APPROVED, approved.Visit.State)

	_, err = c.Sync(ctx, nil)
	require.NoError(t, err)
	d, err := c.Visit(ctx, fix)
	require.NoError(t, err)
	require.NotNil(t, d.Receipt)
	assert.Equal(t, "approved", d.Receipt.State)
}
