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

// A visit is stored packed (issue 14): what is read back is what was
// pushed, and its score is the one it was scored with, whichever reader.
func TestPush_VisitReadsBackAsStored(t *testing.T) {
	ctx := context.Background()
	f := newPushFixture(t)
	m := f.visit(1, true, func(v *audit.Visit) {
		v.Answers[0].Note = "Greeted at the door, «по-русски» too"
		v.StaffDescription = "tall, green badge"
		v.StartedAt = v.StartedAt.Truncate(time.Millisecond).UTC()
		v.FinishedAt = v.FinishedAt.Truncate(time.Millisecond).UTC()
	})
	m.Digest = "submit_visit:" + protocol.VisitDigest(m.Visit)
	want := *m.Visit
	res, err := f.app.Push(ctx, f.dev, time.Time{}, []app.Mutation{m})
	require.NoError(t, err)
	require.Equal(t, storage.MutationApplied, res.Results[0].Status)

	got, err := f.db.Visits().Find(ctx, want.ID)
	require.NoError(t, err)
	assert.Equal(t, &want, got.Visit)
	assert.Equal(t, m.Digest, got.Digest)
	assert.Equal(t, f.shopper, got.Visit.ShopperID)

	d, err := f.db.Visits().FindDetail(ctx, audit.Scope{All: true}, want.ID)
	require.NoError(t, err)
	assert.Equal(t, &want, d.Visit)
	score, err := audit.Score(f.version, want.Answers)
	require.NoError(t, err)
	assert.Equal(t, score, d.Score)
}

// Results older than the retention are pruned, newer ones kept; a replay
// of a pruned seq is answered EPRECONDITION with the applied seq (the
// device resets), and a replay of a kept one as before.
func TestPruneMutationResults(t *testing.T) {
	ctx := context.Background()
	f := newPushFixture(t)
	at := time.Now()
	f.clock.Set(at)
	old := []app.Mutation{f.visit(1, false, nil), f.visit(2, false, nil)}
	_, err := f.app.Push(ctx, f.dev, time.Time{}, old)
	require.NoError(t, err)
	at = at.Add(2 * time.Hour)
	f.clock.Set(at)
	recent := f.visit(3, false, nil)
	_, err = f.app.Push(ctx, f.dev, time.Time{}, []app.Mutation{recent})
	require.NoError(t, err)

	n, err := f.app.PruneMutationResults(ctx, at, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	n, err = f.app.PruneMutationResults(ctx, at, time.Hour)
	require.NoError(t, err)
	assert.Zero(t, n)

	res, err := f.app.Push(ctx, f.dev, time.Time{}, old)
	assert.Equal(t, audit.EPRECONDITION, audit.ErrorCode(err), "%v", err)
	require.NotNil(t, res)
	assert.Equal(t, int64(3), res.AppliedSeq)
	res, err = f.app.Push(ctx, f.dev, time.Time{}, []app.Mutation{recent})
	require.NoError(t, err)
	assert.Equal(t, storage.MutationReplayed, res.Results[0].Status)
	for _, m := range append(old, recent) {
		_, err := f.db.Visits().Find(ctx, m.Visit.ID) // one row at most: the id is the key
		require.NoError(t, err)
	}
}
