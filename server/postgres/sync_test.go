package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/postgres"
	"github.com/shopscore/shopscore/server/postgres/pgtest"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/server/storage/storagetest"
	"github.com/shopscore/shopscore/sync/protocol"
)

// The sync guarantees across servers (issue 12): several servers, each a
// postgres.DB of its own (its own pool) with its own app.App, on one
// database.

// servers opens n servers on one fresh database, and a connection of the
// test's own to it for what no server does (finding and terminating
// backends).
func servers(t *testing.T, n int) ([]*postgres.DB, *pgx.Conn) {
	t.Helper()
	url := pgtest.URL(t)
	ctx := context.Background()
	dbs := make([]*postgres.DB, n)
	for i := range dbs {
		db, err := postgres.Open(ctx, url)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	admin, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close(context.Background()) })
	return dbs, admin
}

// device signs a shopper in on a phone and returns the push's caller.
func device(t *testing.T, db *postgres.DB) app.Device {
	t.Helper()
	ctx := context.Background()
	u := &audit.User{Email: "shopper@example.com", DisplayName: "Shopper", Role: audit.RoleShopper}
	require.NoError(t, app.New(db, app.Options{}).CreateUser(ctx, u, "not-a-real-hash"))
	s := &audit.Session{UserID: u.ID, DeviceID: "phone-1", DeviceName: "Pixel"}
	require.NoError(t, db.Sessions().Create(ctx, s))
	return app.Device{UserID: u.ID, SessionID: s.ID}
}

// outbox returns n mutations of seqs 1..n that the server refuses for
// good (no known kind): each still consumes its seq and has its result
// stored, which is what the device's sequence rules are about, and needs
// nothing but the device's own rows.
func outbox(n int) []app.Mutation {
	muts := make([]app.Mutation, n)
	for i := range muts {
		muts[i] = app.Mutation{Seq: int64(i + 1), ID: fmt.Sprintf("m-%03d", i+1), Digest: fmt.Sprintf("d-%03d", i+1)}
	}
	return muts
}

// holdDevice opens a write transaction on db that locks the device's
// sequence row as a push does (Devices.Find) and waits; release(record)
// then records seq 1 of muts as that push would (when record) and
// commits. It returns once the row is locked.
func holdDevice(t *testing.T, db *postgres.DB, dev app.Device, m app.Mutation) (release func(record bool), done <-chan error) {
	t.Helper()
	locked, proceed, end := make(chan struct{}), make(chan bool), make(chan error, 1)
	go func() {
		first, record := true, false
		end <- db.Update(context.Background(), func(tx storage.Tx) error {
			d, err := tx.Devices().Find(context.Background(), dev.UserID, dev.SessionID)
			if err != nil {
				return err
			}
			if first { // the decision is taken once, should the transaction run again
				first = false
				close(locked)
				record = <-proceed
			}
			if !record {
				return nil
			}
			err = tx.Devices().Record(context.Background(), *d, storage.StoredMutation{Seq: m.Seq, MutationID: m.ID, Digest: m.Digest,
				Status: storage.MutationRejected, Err: audit.Errorf(audit.EINVALID, "refused by the first server")}, true)
			if err != nil {
				return err
			}
			return tx.Devices().Advance(context.Background(), *d, m.Seq, nil)
		})
	}()
	select {
	case <-locked:
	case err := <-end:
		t.Fatalf("the holding transaction ended: %v", err)
	}
	return func(record bool) { proceed <- record }, end
}

// waitingBackend returns the process id of the one backend of the
// database that waits for a lock, waiting for it to wait.
func waitingBackend(t *testing.T, admin *pgx.Conn) int32 {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var pids []int32
		rows, err := admin.Query(context.Background(), `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`)
		require.NoError(t, err)
		pids, err = pgx.CollectRows(rows, pgx.RowTo[int32])
		require.NoError(t, err)
		if len(pids) == 1 {
			return pids[0]
		}
		require.Empty(t, pids, "one waiting backend at most")
	}
	t.Fatal("no backend waits for a lock")
	return 0
}

// pushAsync runs a push in the background.
func pushAsync(a *app.App, dev app.Device, muts []app.Mutation) <-chan pushAnswer {
	out := make(chan pushAnswer, 1)
	go func() {
		res, err := a.Push(context.Background(), dev, time.Time{}, muts)
		out <- pushAnswer{res, err}
	}()
	return out
}

type pushAnswer struct {
	res *app.PushResult
	err error
}

// TestPushOfOneDeviceWaitsForItsPushOnAnotherServer: a push on one server
// holds the device's sequence row; the same seq pushed to a second
// server meanwhile waits for it (it is not answered while the first is
// open), and once the first commits the second answers the first's
// result as a replay, applying nothing again.
func TestPushOfOneDeviceWaitsForItsPushOnAnotherServer(t *testing.T) {
	t.Parallel()
	dbs, admin := servers(t, 2)
	dev := device(t, dbs[0])
	muts := outbox(1)
	release, done := holdDevice(t, dbs[0], dev, muts[0])

	answer := pushAsync(app.New(dbs[1], app.Options{}), dev, muts)
	waitingBackend(t, admin) // the second push waits for the row
	select {
	case a := <-answer:
		t.Fatalf("the second server answered while the first push was open: %+v, %v", a.res, a.err)
	case <-time.After(200 * time.Millisecond):
	}
	release(true)
	require.NoError(t, <-done)

	a := <-answer
	require.NoError(t, a.err)
	assert.Equal(t, int64(1), a.res.AppliedSeq)
	require.Len(t, a.res.Results, 1)
	r := a.res.Results[0]
	assert.Equal(t, storage.MutationRejected, r.Status)
	require.NotNil(t, r.Err)
	assert.Equal(t, "refused by the first server", r.Err.Message, "the first server's answer, replayed")

	var n int
	require.NoError(t, admin.QueryRow(context.Background(), `SELECT count(*) FROM sync_mutations`).Scan(&n))
	assert.Equal(t, 1, n, "seq 1 stored once")
}

// TestPushesOfOneDeviceRacingAcrossServers: five copies of one device's
// outbox push it at once, each to another of three servers, in batches
// from what each was last told is applied (a gap's answer included), as
// the phone does. Every seq is applied exactly once, in order: the
// device's last seq is the last one, each seq has one stored result, that
// of its own mutation, and every copy got the same answer for each seq.
func TestPushesOfOneDeviceRacingAcrossServers(t *testing.T) {
	t.Parallel()
	dbs, admin := servers(t, 3)
	dev := device(t, dbs[0])
	apps := make([]*app.App, len(dbs))
	for i, db := range dbs {
		apps[i] = app.New(db, app.Options{})
	}
	const seqs, copies, batch = 60, 5, 7
	muts := outbox(seqs)

	answers := make([]map[int64]app.MutationResult, copies)
	var wg sync.WaitGroup
	errs := make(chan error, copies)
	for c := range copies {
		answers[c] = map[int64]app.MutationResult{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for from, round := int64(1), 0; from <= seqs; round++ {
				if round > 10*seqs {
					errs <- fmt.Errorf("copy %d: no progress after %d rounds", c, round)
					return
				}
				to := min(from+batch-1, seqs)
				res, err := apps[(c+round)%len(apps)].Push(context.Background(), dev, time.Time{}, muts[from-1:to])
				if audit.ErrorCode(err) == audit.EABORTED {
					from = res.AppliedSeq + 1 // a gap: resend from what is applied
					continue
				} else if err != nil {
					errs <- fmt.Errorf("copy %d: push %d-%d: %w", c, from, to, err)
					return
				}
				for _, r := range res.Results {
					answers[c][r.Seq] = r
				}
				from = res.AppliedSeq + 1
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	last, err := dbs[1].Devices().LastSeq(context.Background(), dev.UserID, dev.SessionID)
	require.NoError(t, err)
	assert.Equal(t, int64(seqs), last)
	rows, err := admin.Query(context.Background(), `SELECT seq, mutation_id FROM sync_mutations ORDER BY seq`)
	require.NoError(t, err)
	type stored struct {
		Seq int64
		ID  string
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[stored])
	require.NoError(t, err)
	require.Len(t, got, seqs, "one stored result per seq")
	for i, s := range got {
		assert.Equal(t, stored{int64(i + 1), muts[i].ID}, s)
	}
	for s := int64(1); s <= seqs; s++ {
		var want *app.MutationResult
		for c := range copies {
			r, ok := answers[c][s]
			switch {
			case !ok:
			case want == nil:
				want = &r
				assert.Equal(t, fmt.Sprintf("mutation %s has no known kind", muts[s-1].ID), r.Err.Message)
			default:
				assert.Equal(t, *want, r, "copy %d, seq %d", c, s)
			}
		}
		assert.NotNil(t, want, "seq %d answered to some copy", s)
	}
}

// TestPushWhoseConnectionIsTerminatedIsUnavailable: a push whose backend
// is terminated while it runs (pg_terminate_backend, as a restart or a
// cut connection does) fails with storage.ErrUnavailable, which the
// server answers Unavailable (the one code table, protocol.ConnectCode)
// and the phone retries; nothing of it is stored, and its retry goes
// through on a new connection.
func TestPushWhoseConnectionIsTerminatedIsUnavailable(t *testing.T) {
	t.Parallel()
	dbs, admin := servers(t, 2)
	dev := device(t, dbs[0])
	muts := outbox(2)
	release, done := holdDevice(t, dbs[0], dev, muts[0])

	second := app.New(dbs[1], app.Options{})
	answer := pushAsync(second, dev, muts)
	pid := waitingBackend(t, admin)
	var terminated bool
	require.NoError(t, admin.QueryRow(context.Background(), `SELECT pg_terminate_backend($1)`, pid).Scan(&terminated))
	require.True(t, terminated)
	a := <-answer
	require.Error(t, a.err)
	assert.True(t, errors.Is(a.err, storage.ErrUnavailable), "%v", a.err)
	assert.Equal(t, audit.EUNAVAILABLE, audit.ErrorCode(a.err), "%v", a.err)
	assert.Equal(t, connect.CodeUnavailable, protocol.ConnectCode(audit.ErrorCode(a.err)))
	assert.Nil(t, a.res)

	release(false) // the first push stores nothing
	require.NoError(t, <-done)
	res, err := second.Push(context.Background(), dev, time.Time{}, muts)
	require.NoError(t, err, "the retry")
	assert.Equal(t, int64(2), res.AppliedSeq)
	require.Len(t, res.Results, 2)
	assert.Equal(t, "mutation m-001 has no known kind", res.Results[0].Err.Message, "applied by the retry, once")
}

// TestPhotoHashLockAcrossServers: Photos.LockHash on one server makes the
// same hash wait on another, not a different hash; the lock passes on
// when it is given back, when the transaction holding it (the Tx form)
// commits, and when its holder's connection dies (a server killed
// mid-finalize).
func TestPhotoHashLockAcrossServers(t *testing.T) {
	t.Parallel()
	dbs, admin := servers(t, 2)
	ctx := context.Background()
	const sha, other = "aa11", "bb22"
	lockAsync := func(db *postgres.DB, sha string) <-chan func() {
		got := make(chan func(), 1)
		go func() {
			unlock, err := db.Photos().LockHash(ctx, sha)
			if err != nil {
				t.Error(err)
				unlock = func() {}
			}
			got <- unlock
		}()
		return got
	}
	waits := func(got <-chan func(), what string) {
		t.Helper()
		select {
		case <-got:
			t.Fatalf("%s: the lock was taken while the other server held it", what)
		case <-time.After(200 * time.Millisecond):
		}
	}

	unlock, err := dbs[0].Photos().LockHash(ctx, sha)
	require.NoError(t, err)
	got := lockAsync(dbs[1], sha)
	waits(got, "given back")
	(<-lockAsync(dbs[1], other))() // another hash is free
	unlock()
	(<-got)()

	held, commit, end := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		end <- dbs[0].Update(ctx, func(tx storage.Tx) error {
			if _, err := tx.Photos().LockHash(ctx, sha); err != nil {
				return err
			}
			close(held)
			<-commit
			return nil
		})
	}()
	<-held
	got = lockAsync(dbs[1], sha)
	waits(got, "the transaction's")
	close(commit)
	require.NoError(t, <-end)
	(<-got)()

	unlock, err = dbs[0].Photos().LockHash(ctx, sha)
	require.NoError(t, err)
	defer unlock() // gives its broken connection back to the pool
	got = lockAsync(dbs[1], sha)
	waits(got, "killed holder")
	var terminated bool
	require.NoError(t, admin.QueryRow(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&terminated))
	require.True(t, terminated)
	(<-got)()
}

// visitOutbox publishes a checklist open to unplanned visits at a new
// store and returns n visits of the shopper's to it, as mutations of
// seqs 1..n.
func visitOutbox(t *testing.T, db *postgres.DB, shopperID string, n int) []app.Mutation {
	t.Helper()
	ctx := context.Background()
	uses := app.New(db, app.Options{})
	store := &audit.Store{Code: "S-1", Name: "Store"}
	require.NoError(t, uses.CreateStore(ctx, store))
	c := storagetest.Checklist("visit", "Greeted?")
	c.AllowUnplanned = true
	draft, err := uses.SaveDraft(ctx, c, "test")
	require.NoError(t, err)
	cv, err := uses.PublishVersion(ctx, c.ID, draft.Version)
	require.NoError(t, err)
	muts := make([]app.Mutation, n)
	yes := true
	for i := range muts {
		v := &audit.Visit{
			ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1), StoreID: store.ID, ShopperID: shopperID,
			ChecklistID: cv.ChecklistID, ChecklistVersion: cv.Version, ContentHash: cv.ContentHash, Channel: audit.ChannelStoreVisit,
			StartedAt: time.Now().Add(-30 * time.Minute), FinishedAt: time.Now().Add(-10 * time.Minute),
			Answers: []audit.Answer{{QuestionID: "q", Bool: &yes}},
		}
		muts[i] = app.Mutation{Seq: int64(i + 1), ID: fmt.Sprintf("m-%03d", i+1), DeviceTime: time.Now(),
			Digest: "submit_visit:" + protocol.VisitDigest(v), Visit: v}
	}
	return muts
}

// TestVisitsOfOneDeviceRacingAcrossServers: four copies of one device's
// outbox of visits push it at once over three servers. Each visit is
// stored once, in the device's order, with its own mutation; every copy
// is answered the same receipt for a seq; and a pull from any server
// returns each visit's receipt once.
func TestVisitsOfOneDeviceRacingAcrossServers(t *testing.T) {
	t.Parallel()
	dbs, admin := servers(t, 3)
	dev := device(t, dbs[0])
	const seqs, copies, batch = 30, 4, 4
	muts := visitOutbox(t, dbs[0], dev.UserID, seqs)

	answers := make([]map[int64]app.MutationResult, copies)
	var wg sync.WaitGroup
	errs := make(chan error, copies)
	for c := range copies {
		answers[c] = map[int64]app.MutationResult{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			uses := make([]*app.App, len(dbs))
			for i, db := range dbs {
				uses[i] = app.New(db, app.Options{})
			}
			for from, round := int64(1), 0; from <= seqs; round++ {
				to := min(from+batch-1, seqs)
				res, err := uses[(c+round)%len(uses)].Push(context.Background(), dev, time.Time{}, muts[from-1:to])
				if err != nil {
					errs <- fmt.Errorf("copy %d: push %d-%d: %w", c, from, to, err)
					return
				}
				for _, r := range res.Results {
					answers[c][r.Seq] = r
				}
				from = res.AppliedSeq + 1
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	rows, err := admin.Query(context.Background(), `SELECT ARRAY[id, mutation_id] FROM visits ORDER BY seq`)
	require.NoError(t, err)
	got, err := pgx.CollectRows(rows, pgx.RowTo[[2]string])
	require.NoError(t, err)
	require.Len(t, got, seqs, "each visit stored once")
	for i, v := range got {
		assert.Equal(t, [2]string{muts[i].Visit.ID, muts[i].ID}, v, "in the device's order")
	}
	for s := int64(1); s <= seqs; s++ {
		var want *app.MutationResult
		for c := range copies {
			r, ok := answers[c][s]
			switch {
			case !ok:
			case want == nil:
				want = &r
				require.NotNil(t, r.Receipt, "seq %d: %+v", s, r)
				assert.Equal(t, muts[s-1].Visit.ID, r.Receipt.VisitID)
			default:
				require.NotNil(t, r.Receipt, "copy %d, seq %d: %+v", c, s, r)
				assert.Equal(t, *want.Receipt, *r.Receipt, "copy %d, seq %d", c, s)
			}
		}
		assert.NotNil(t, want, "seq %d answered to some copy", s)
	}

	// Pull as a phone does, page after page and again later: a
	// transaction in flight anywhere in the cluster (another test's) may
	// hold rows back for a while, never lose or double them.
	seen := map[string]int{}
	cursor := ""
	for page, deadline := 0, time.Now().Add(30*time.Second); len(seen) < seqs && time.Now().Before(deadline); page++ {
		p, err := app.New(dbs[page%len(dbs)], app.Options{}).Pull(context.Background(),
			audit.Principal{UserID: dev.UserID, Role: audit.RoleShopper}, cursor, 7)
		require.NoError(t, err)
		require.False(t, p.FullResync)
		for _, c := range p.Changes {
			if r := c.GetVisitReceipt(); r != nil {
				seen[r.GetVisitId()]++
			}
		}
		cursor = p.NextCursor
		if !p.HasMore {
			time.Sleep(5 * time.Millisecond)
		}
	}
	require.Len(t, seen, seqs)
	for id, n := range seen {
		assert.Equal(t, 1, n, "visit %s pulled once", id)
	}
}
