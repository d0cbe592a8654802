package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/server/storage/storagetest"
	"github.com/shopscore/shopscore/server/storage/testdb"
	"github.com/shopscore/shopscore/sync/protocol"
)

// pushFixture is a database with a shopper, his phone's session, a store,
// a published checklist and an assignment of it to him.
type pushFixture struct {
	db         storage.Storage
	clock      *testdb.Clock
	app        *app.App
	shopper    string
	dev        app.Device
	store      *audit.Store
	version    *audit.ChecklistVersion
	assignment *audit.Assignment
}

func newPushFixture(t *testing.T) pushFixture {
	t.Helper()
	ctx := context.Background()
	clock := testdb.NewClock(time.Time{})
	db := testdb.Open(t, clock.Now)
	shopper := &audit.User{Email: "s@example.com", Role: audit.RoleShopper}
	require.NoError(t, app.New(db, app.Options{}).CreateUser(ctx, shopper, "h"))
	store := &audit.Store{Code: "S-1", Name: "Store"}
	require.NoError(t, app.New(db, app.Options{}).CreateStore(ctx, store))
	c := storagetest.Checklist("visit", "Greeted?")
	c.AllowUnplanned = true
	v, err := app.New(db, app.Options{}).SaveDraft(ctx, c, "test")
	require.NoError(t, err)
	cv, err := app.New(db, app.Options{}).PublishVersion(ctx, c.ID, v.Version)
	require.NoError(t, err)
	start := time.Now().Add(-time.Hour)
	a := &audit.Assignment{StoreID: store.ID, ChecklistID: c.ID, ShopperID: shopper.ID, WindowStart: start, WindowEnd: start.Add(48 * time.Hour)}
	uses := app.New(db, app.Options{Now: clock.Now})
	require.NoError(t, uses.CreateAssignment(ctx, audit.Scope{All: true}, a))
	s, err := uses.CreateSession(ctx, shopper.ID, "phone-1", "phone", []byte("refresh-hash"), time.Now().Add(time.Hour), "127.0.0.1")
	require.NoError(t, err)
	return pushFixture{db: db, clock: clock, app: uses, shopper: shopper.ID, dev: app.Device{UserID: shopper.ID, SessionID: s.ID},
		store: store, version: cv, assignment: a}
}

// visit returns a visit of the shopper's on the fixture's assignment
// (unplanned when planned is false), as a mutation with seq.
func (f pushFixture) visit(seq int64, planned bool, change func(*audit.Visit)) app.Mutation {
	yes := true
	v := &audit.Visit{
		ID: uuid.NewString(), StoreID: f.store.ID, ShopperID: f.shopper, ChecklistID: f.version.ChecklistID,
		ChecklistVersion: f.version.Version, ContentHash: f.version.ContentHash, Channel: audit.ChannelStoreVisit,
		StartedAt: time.Now().Add(-30 * time.Minute), FinishedAt: time.Now().Add(-10 * time.Minute),
		Answers: []audit.Answer{{QuestionID: "q", Bool: &yes}},
	}
	if planned {
		v.AssignmentID = f.assignment.ID
	}
	if change != nil {
		change(v)
	}
	return app.Mutation{Seq: seq, ID: uuid.NewString(), DeviceTime: time.Now(), Digest: "submit_visit:" + protocol.VisitDigest(v), Visit: v}
}

func TestPush(t *testing.T) {
	ctx := context.Background()
	f := newPushFixture(t)
	bad := app.Mutation{Seq: 1, ID: "m1", Digest: "d1", Err: audit.Errorf(audit.EINVALID, "malformed")}

	t.Run("ErrUnknownSession", func(t *testing.T) {
		_, err := f.app.Push(ctx, app.Device{UserID: f.shopper, SessionID: "nope"}, time.Time{}, []app.Mutation{bad})
		assert.Equal(t, audit.EUNAUTHORIZED, audit.ErrorCode(err))
	})
	t.Run("RejectionConsumesSeq", func(t *testing.T) {
		res, err := f.app.Push(ctx, f.dev, time.Now(), []app.Mutation{bad})
		require.NoError(t, err)
		assert.Equal(t, int64(1), res.AppliedSeq)
		require.Len(t, res.Results, 1)
		assert.Equal(t, storage.MutationRejected, res.Results[0].Status)
		assert.Equal(t, audit.EINVALID, res.Results[0].Err.Code)
	})
	t.Run("ErrGap", func(t *testing.T) {
		res, err := f.app.Push(ctx, f.dev, time.Now(), []app.Mutation{{Seq: 3, ID: "m3", Digest: "d3", Err: bad.Err}})
		assert.Equal(t, audit.EABORTED, audit.ErrorCode(err))
		require.NotNil(t, res)
		assert.Equal(t, int64(1), res.AppliedSeq)
	})
	t.Run("SameDeviceNewSession", func(t *testing.T) {
		// A new login on the same phone continues its sequence.
		s2, err := f.app.CreateSession(ctx, f.shopper, "phone-1", "phone", []byte("refresh-hash-2"), time.Now().Add(time.Hour), "127.0.0.1")
		require.NoError(t, err)
		res, err := f.app.Push(ctx, app.Device{UserID: f.shopper, SessionID: s2.ID}, time.Time{}, []app.Mutation{bad})
		require.NoError(t, err)
		assert.Equal(t, int64(1), res.AppliedSeq)
		assert.Equal(t, storage.MutationRejected, res.Results[0].Status, "a replay of a rejection answers it again")
		assert.Equal(t, "malformed", res.Results[0].Err.Message)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := f.app.Push(ctx, f.dev, time.Time{}, nil)
		assert.Equal(t, audit.EINVALID, audit.ErrorCode(err))
		_, err = f.app.Push(ctx, f.dev, time.Time{}, []app.Mutation{{Seq: 2, ID: "a"}, {Seq: 4, ID: "b"}})
		assert.Equal(t, audit.EINVALID, audit.ErrorCode(err))
	})
	t.Run("ErrReusedSeq", func(t *testing.T) {
		res, err := f.app.Push(ctx, f.dev, time.Time{}, []app.Mutation{{Seq: 1, ID: "other", Digest: "d1", Err: bad.Err}})
		require.NoError(t, err)
		assert.Equal(t, storage.MutationRejected, res.Results[0].Status)
		assert.Equal(t, audit.EEXISTS, res.Results[0].Err.Code, "a seq applied with another mutation id")
	})
	t.Run("ErrReusedMutationID", func(t *testing.T) {
		res, err := f.app.Push(ctx, f.dev, time.Time{}, []app.Mutation{{Seq: 2, ID: "m1", Digest: "d2", Err: bad.Err}})
		require.NoError(t, err)
		assert.Equal(t, int64(2), res.AppliedSeq, "the seq is consumed")
		assert.Equal(t, audit.EEXISTS, res.Results[0].Err.Code, "the mutation id of seq 1")
	})
}

// TestPush_MaxPushMutations proves the batch limit: MaxPushMutations
// mutations are one push, one more is refused whole.
func TestPush_MaxPushMutations(t *testing.T) {
	ctx := context.Background()
	f := newPushFixture(t)
	batch := func(first, n int) []app.Mutation {
		out := make([]app.Mutation, n)
		for i := range out {
			out[i] = app.Mutation{Seq: int64(first + i), ID: uuid.NewString(), Digest: "d", Err: audit.Errorf(audit.EINVALID, "malformed")}
		}
		return out
	}
	_, err := f.app.Push(ctx, f.dev, time.Time{}, batch(1, app.MaxPushMutations+1))
	assert.Equal(t, audit.EINVALID, audit.ErrorCode(err), "one mutation over the limit")
	res, err := f.app.Push(ctx, f.dev, time.Time{}, batch(1, app.MaxPushMutations))
	require.NoError(t, err)
	assert.Equal(t, int64(app.MaxPushMutations), res.AppliedSeq, "nothing of the refused push was applied")
}

func TestPush_Visit(t *testing.T) {
	ctx := context.Background()
	f := newPushFixture(t)
	push := func(t *testing.T, sentAt time.Time, muts ...app.Mutation) []app.MutationResult {
		t.Helper()
		res, err := f.app.Push(ctx, f.dev, sentAt, muts)
		require.NoError(t, err)
		require.Len(t, res.Results, len(muts))
		return res.Results
	}
	planned := f.visit(1, true, nil)

	t.Run("Applied", func(t *testing.T) {
		r := push(t, time.Now(), planned)[0]
		require.Equal(t, storage.MutationApplied, r.Status, "%v", r.Err)
		assert.Equal(t, audit.VisitComplete, r.Receipt.State, "no photo is missing")
		assert.Empty(t, r.Receipt.Flags)
		require.NotNil(t, r.Receipt.ScorePercent)
		assert.Equal(t, 100.0, *r.Receipt.ScorePercent)
		a, err := f.db.Assignments().Find(ctx, audit.Scope{All: true}, f.assignment.ID)
		require.NoError(t, err)
		assert.Equal(t, audit.AssignmentDone, a.State, "the visit carried the assignment out")
	})
	t.Run("Replayed", func(t *testing.T) {
		r := push(t, time.Now(), planned)[0]
		assert.Equal(t, storage.MutationReplayed, r.Status, "the same seq again")
		again := planned
		again.Seq, again.ID = 2, uuid.NewString()
		r = push(t, time.Now(), again)[0]
		assert.Equal(t, storage.MutationReplayed, r.Status, "the same visit under a new seq")
		assert.Equal(t, planned.Visit.ID, r.Receipt.VisitID)
	})
	t.Run("ErrOtherContent", func(t *testing.T) {
		other := f.visit(3, false, func(v *audit.Visit) { v.ID = planned.Visit.ID })
		r := push(t, time.Now(), other)[0]
		require.Equal(t, storage.MutationRejected, r.Status)
		assert.Equal(t, audit.EEXISTS, r.Err.Code)
	})
	t.Run("Correction", func(t *testing.T) {
		fix := f.visit(4, true, func(v *audit.Visit) { v.CorrectsVisitID = planned.Visit.ID })
		r := push(t, time.Now(), fix)[0]
		require.Equal(t, storage.MutationApplied, r.Status, "%v", r.Err)
		assert.Equal(t, []audit.VisitFlag{audit.FlagCorrection}, r.Receipt.Flags, "assignment_done is the corrected visit's doing")
		old, err := f.db.Visits().Find(ctx, planned.Visit.ID)
		require.NoError(t, err)
		assert.Equal(t, audit.VisitSuperseded, old.State)
		twice := f.visit(5, true, func(v *audit.Visit) { v.CorrectsVisitID = planned.Visit.ID })
		r = push(t, time.Now(), twice)[0]
		require.Equal(t, storage.MutationRejected, r.Status)
		assert.Equal(t, audit.EPRECONDITION, r.Err.Code, "a visit is corrected once")
	})
	t.Run("ClockSkew", func(t *testing.T) {
		r := push(t, time.Now().Add(-20*time.Minute), f.visit(6, false, nil))[0]
		require.Equal(t, storage.MutationApplied, r.Status, "%v", r.Err)
		assert.Equal(t, []audit.VisitFlag{audit.FlagUnplanned, audit.FlagClockSkew}, r.Receipt.Flags)
	})
}
