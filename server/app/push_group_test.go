package app_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
)

// gatedStorage is the fixture's SQLite database with two controls for
// staging a group commit: the first Update waits for gate (the writer is
// busy while other pushes queue), and inside every transaction the
// device lookup of the session faulty fails as a broken disk would.
type gatedStorage struct {
	storage.Storage
	gate    chan struct{}
	faulty  string
	updates atomic.Int32
}

func (g *gatedStorage) Update(ctx context.Context, fn func(storage.Tx) error) error {
	if g.updates.Add(1) == 1 {
		<-g.gate
	}
	return g.Storage.Update(ctx, func(tx storage.Tx) error { return fn(faultyTx{tx, g.faulty}) })
}

type faultyTx struct {
	storage.Tx
	faulty string
}

func (tx faultyTx) Devices() storage.Devices { return faultyDevices{tx.Tx.Devices(), tx.faulty} }

type faultyDevices struct {
	storage.Devices
	faulty string
}

var errDisk = errors.New("disk I/O error")

// panicking is the user id whose device lookup panics.
const panicking = "user-who-panics"

func (d faultyDevices) Find(ctx context.Context, userID, sessionID string) (*storage.Device, error) {
	if userID == panicking {
		panic("a bug in a push")
	}
	if sessionID == d.faulty {
		return nil, errDisk
	}
	return d.Devices.Find(ctx, userID, sessionID)
}

// groupFixture is the push fixture with its use cases over a gatedStorage
// and three more devices (phones 2 to 4) of the same shopper.
type groupFixture struct {
	pushFixture
	gated      *gatedStorage
	app        *app.App
	d2, d3, d4 app.Device
}

func newGroupFixture(t *testing.T) *groupFixture {
	t.Helper()
	f := &groupFixture{pushFixture: newPushFixture(t)}
	device := func(name string) app.Device {
		s, err := f.pushFixture.app.CreateSession(context.Background(), f.shopper, name, "phone", []byte("refresh-"+name), time.Now().Add(time.Hour), "127.0.0.1")
		require.NoError(t, err)
		return app.Device{UserID: f.shopper, SessionID: s.ID}
	}
	f.d2, f.d3, f.d4 = device("phone-2"), device("phone-3"), device("phone-4")
	f.gated = &gatedStorage{Storage: f.db, gate: make(chan struct{}), faulty: f.d4.SessionID}
	f.app = app.New(f.gated, app.Options{})
	return f
}

type answer struct {
	res      *app.PushResult
	err      error
	panicked any // what the push's goroutine panicked with, if it did
}

// push sends a push in the background and waits until it leads (the
// first: it holds the gated writer) or waits in the queue behind it.
func (f *groupFixture) push(t *testing.T, wg *sync.WaitGroup, dev app.Device, queued int, muts ...app.Mutation) *answer {
	t.Helper()
	a := &answer{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() { a.panicked = recover() }()
		a.res, a.err = f.app.Push(context.Background(), dev, time.Now(), muts)
	}()
	if queued > 0 {
		require.Eventually(t, func() bool { return f.app.WaitingPushes() == queued }, 10*time.Second, time.Millisecond)
	} else {
		require.Eventually(t, func() bool { return f.gated.updates.Load() == 1 }, 10*time.Second, time.Millisecond)
	}
	return a
}

// TestPush_GroupCommit proves group commit: pushes of several devices
// that wait while a write transaction runs are committed in one
// transaction, each gets its own answer, and a device's refused push
// (a gap, an unknown session) leaves the others' applied.
func TestPush_GroupCommit(t *testing.T) {
	ctx := context.Background()
	f := newGroupFixture(t)
	var wg sync.WaitGroup
	first := f.push(t, &wg, f.dev, 0, f.visit(1, false, nil))
	v2, v3 := f.visit(1, false, nil), f.visit(1, false, nil)
	applied2 := f.push(t, &wg, f.d2, 1, v2)
	gap := f.push(t, &wg, f.d3, 2, f.visit(5, false, nil))
	unknown := f.push(t, &wg, app.Device{UserID: f.shopper, SessionID: "revoked"}, 3, f.visit(1, false, nil))
	applied3 := f.push(t, &wg, f.d3, 4, v3)
	again1 := f.push(t, &wg, f.dev, 5, f.visit(2, false, nil))
	close(f.gated.gate)
	wg.Wait()

	assert.Equal(t, int32(2), f.gated.updates.Load(), "the first push alone, then the five that waited in one transaction")
	require.NoError(t, first.err)
	assert.Equal(t, int64(1), first.res.AppliedSeq)

	for _, c := range []struct {
		name string
		a    *answer
		m    app.Mutation
		seq  int64
	}{{"phone-2", applied2, v2, 1}, {"phone-3 after its gap", applied3, v3, 1}} {
		require.NoError(t, c.a.err, c.name)
		assert.Equal(t, c.seq, c.a.res.AppliedSeq, c.name)
		require.Len(t, c.a.res.Results, 1, c.name)
		r := c.a.res.Results[0]
		require.Equal(t, storage.MutationApplied, r.Status, "%s: %v", c.name, r.Err)
		assert.Equal(t, c.m.ID, r.MutationID, c.name)
		assert.Equal(t, c.m.Visit.ID, r.Receipt.VisitID, "%s: its own visit's receipt", c.name)
		stored, err := f.db.Visits().Find(ctx, c.m.Visit.ID)
		require.NoError(t, err, "%s: committed", c.name)
		assert.Equal(t, c.m.Digest, stored.Digest, "%s: its own content", c.name)
	}

	requireCode(t, audit.EABORTED, gap.err)
	require.NotNil(t, gap.res)
	assert.Equal(t, int64(0), gap.res.AppliedSeq, "phone-3 had applied nothing when its gap was refused")
	requireCode(t, audit.EUNAUTHORIZED, unknown.err)
	assert.Nil(t, unknown.res)

	require.NoError(t, again1.err)
	assert.Equal(t, int64(2), again1.res.AppliedSeq, "the first phone's second push follows its first")
	assert.Equal(t, storage.MutationApplied, again1.res.Results[0].Status, "%v", again1.res.Results[0].Err)

	for _, d := range []struct {
		dev  app.Device
		last int64
	}{{f.dev, 2}, {f.d2, 1}, {f.d3, 1}} {
		last, err := f.db.Devices().LastSeq(ctx, d.dev.UserID, d.dev.SessionID)
		require.NoError(t, err)
		assert.Equal(t, d.last, last)
	}
}

// TestPush_GroupCommitOrder proves that two pushes of one device in the
// same group are applied one after the other, in the order they came.
func TestPush_GroupCommitOrder(t *testing.T) {
	f := newGroupFixture(t)
	var wg sync.WaitGroup
	first := f.push(t, &wg, f.d2, 0, f.visit(1, false, nil))
	a := f.push(t, &wg, f.dev, 1, f.visit(1, false, nil), f.visit(2, false, nil))
	b := f.push(t, &wg, f.dev, 2, f.visit(3, false, nil))
	close(f.gated.gate)
	wg.Wait()
	assert.Equal(t, int32(2), f.gated.updates.Load())
	require.NoError(t, first.err)
	require.NoError(t, a.err)
	assert.Equal(t, int64(2), a.res.AppliedSeq)
	require.NoError(t, b.err, "seq 3 follows the 1 and 2 of the same group")
	assert.Equal(t, int64(3), b.res.AppliedSeq)
	assert.Equal(t, storage.MutationApplied, b.res.Results[0].Status)
}

// TestPush_GroupCommitFault proves that a fault inside one push (not a
// refusal) costs the others nothing: the group is undone and each of its
// pushes runs again alone, so only the faulty one fails.
func TestPush_GroupCommitFault(t *testing.T) {
	ctx := context.Background()
	f := newGroupFixture(t)
	var wg sync.WaitGroup
	first := f.push(t, &wg, f.dev, 0, f.visit(1, false, nil))
	v2 := f.visit(1, false, nil)
	ok := f.push(t, &wg, f.d2, 1, v2)
	broken := f.push(t, &wg, f.d4, 2, f.visit(1, false, nil))
	v3 := f.visit(1, false, nil)
	after := f.push(t, &wg, f.d3, 3, v3)
	close(f.gated.gate)
	wg.Wait()

	require.NoError(t, first.err)
	assert.ErrorIs(t, broken.err, errDisk)
	assert.Nil(t, broken.res)
	for _, c := range []struct {
		a *answer
		m app.Mutation
	}{{ok, v2}, {after, v3}} {
		require.NoError(t, c.a.err)
		require.Equal(t, storage.MutationApplied, c.a.res.Results[0].Status, "%v", c.a.res.Results[0].Err)
		_, err := f.db.Visits().Find(ctx, c.m.Visit.ID)
		require.NoError(t, err, "applied once, alone")
	}
	assert.Equal(t, int32(1+1+3), f.gated.updates.Load(), "the first, the failed group, then its three pushes alone")
	last, err := f.db.Devices().LastSeq(ctx, f.d4.UserID, f.d4.SessionID)
	require.NoError(t, err)
	assert.Equal(t, int64(0), last, "nothing of the faulty push stayed")
}

// TestPush_GroupCommitPanic proves that the queue outlives a panic in its
// leader's transaction: the leader's request fails with it, the other
// pushes of that group are answered with an internal error and nothing
// of theirs is stored, and the next push finds the writer again.
func TestPush_GroupCommitPanic(t *testing.T) {
	ctx := context.Background()
	f := newGroupFixture(t)
	var wg sync.WaitGroup
	first := f.push(t, &wg, f.dev, 0, f.visit(1, false, nil))
	leader := f.push(t, &wg, app.Device{UserID: panicking, SessionID: f.d2.SessionID}, 1, f.visit(1, false, nil))
	v3 := f.visit(1, false, nil)
	other := f.push(t, &wg, f.d3, 2, v3)
	close(f.gated.gate)
	wg.Wait()

	require.NoError(t, first.err)
	assert.Equal(t, "a bug in a push", leader.panicked, "the leader's own request sees the panic")
	requireCode(t, audit.EINTERNAL, other.err)
	_, err := f.db.Visits().Find(ctx, v3.Visit.ID)
	requireCode(t, audit.ENOTFOUND, err)

	res, err := f.app.Push(ctx, f.d3, time.Now(), []app.Mutation{v3})
	require.NoError(t, err, "the writer is free again")
	assert.Equal(t, storage.MutationApplied, res.Results[0].Status, "%v", res.Results[0].Err)
}
