package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/server/storage/storagetest"
)

// expiryWorld is one database holding assignments whose windows have
// ended, and the servers (pools of their own) that share it.
type expiryWorld struct {
	url     string
	servers []*DB
	ids     []string // the assignments due, all with a shopper
	at      time.Time
}

// newExpiryWorld creates n accepted assignments, each of its own
// shopper, whose windows ended before the clock of the servers it opens.
func newExpiryWorld(t *testing.T, servers, n int) *expiryWorld {
	t.Helper()
	ctx := context.Background()
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	first, url := open(t)
	first.Now = func() time.Time { return day }
	a := app.New(first, app.Options{})
	store := mustStore(t, first, "S-1", "Store")
	_, err := a.SaveDraft(ctx, storagetest.Checklist("c", "Greeted?"), "me")
	require.NoError(t, err)
	_, err = a.PublishVersion(ctx, "c", 1)
	require.NoError(t, err)
	w := &expiryWorld{url: url, at: day.Add(4 * 24 * time.Hour)}
	for i := range n {
		u := mustUser(t, first, audit.RoleShopper, fmt.Sprintf("s%d@example.com", i), fmt.Sprintf("Shopper %d", i))
		as := &audit.Assignment{StoreID: store.ID, ChecklistID: "c", ShopperID: u.ID, CreatedBy: "me",
			WindowStart: day, WindowEnd: day.Add(3 * 24 * time.Hour)}
		require.NoError(t, a.CreateAssignment(ctx, audit.Scope{All: true}, as))
		w.ids = append(w.ids, as.ID)
	}
	// One that has not ended and one cancelled: neither expires.
	later := &audit.Assignment{StoreID: store.ID, ChecklistID: "c", CreatedBy: "me", WindowStart: day, WindowEnd: day.Add(9 * 24 * time.Hour)}
	require.NoError(t, a.CreateAssignment(ctx, audit.Scope{All: true}, later))
	gone := &audit.Assignment{StoreID: store.ID, ChecklistID: "c", CreatedBy: "me", WindowStart: day, WindowEnd: day.Add(time.Hour)}
	require.NoError(t, a.CreateAssignment(ctx, audit.Scope{All: true}, gone))
	_, err = a.CancelAssignment(ctx, audit.Scope{All: true}, gone.ID, "")
	require.NoError(t, err)

	// Every feed write from now on is counted by a trigger, in the
	// writing transaction: a transaction the database aborts and runs
	// again counts once, as its feed rows are written once.
	_, err = first.pool.Exec(ctx, `CREATE TABLE feed_writes (entity text NOT NULL, xid xid8 NOT NULL);
		CREATE FUNCTION count_feed_write() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN INSERT INTO feed_writes VALUES (NEW.entity, pg_current_xact_id()); RETURN NEW; END $$;
		CREATE TRIGGER count_feed_write AFTER INSERT OR UPDATE ON sync_feed FOR EACH ROW EXECUTE FUNCTION count_feed_write();`)
	require.NoError(t, err)

	for range servers {
		db, err := Open(ctx, url)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		db.Now = func() time.Time { return w.at }
		w.servers = append(w.servers, db)
	}
	return w
}

// check requires that every due assignment is expired and that each had
// its shopper's feed row written once; it returns the transactions that
// wrote them.
func (w *expiryWorld) check(t *testing.T) map[uint64]int {
	t.Helper()
	ctx := context.Background()
	db := w.servers[0]
	list, err := db.Assignments().List(ctx, storage.AssignmentFilter{Scope: audit.Scope{All: true}, Limit: 1000})
	require.NoError(t, err)
	due := map[string]bool{}
	for _, id := range w.ids {
		due[id] = true
	}
	for _, a := range list {
		switch {
		case due[a.ID]:
			assert.Equal(t, audit.AssignmentExpired, a.State, "assignment %s", a.ID)
			assert.Equal(t, w.at, a.UpdatedAt, "assignment %s", a.ID)
		case a.State == audit.AssignmentExpired:
			t.Errorf("assignment %s expired, but its window is open or it was cancelled", a.ID)
		}
	}
	rs, err := db.pool.Query(ctx, `SELECT entity, xid::text::bigint FROM feed_writes`)
	require.NoError(t, err)
	writes := map[string]int{}
	byTx := map[uint64]int{}
	for rs.Next() {
		var entity string
		var xid uint64
		require.NoError(t, rs.Scan(&entity, &xid))
		writes[entity]++
		byTx[xid]++
	}
	require.NoError(t, rs.Err())
	for _, id := range w.ids {
		assert.Equal(t, 1, writes[id], "feed writes of assignment %s", id)
	}
	assert.Len(t, writes, len(w.ids), "feed writes: %v", writes)
	return byTx
}

// pausingStorage is a server's storage whose assignment expiry stops
// once it has read (and so claimed) the due assignments, until the test
// lets it go on: a real transaction, held open at that point.
type pausingStorage struct {
	*DB
	claimed chan<- int
	resume  <-chan struct{}
}

func (s pausingStorage) Update(ctx context.Context, fn func(storage.Tx) error) error {
	return s.DB.Update(ctx, func(tx storage.Tx) error { return fn(pausingTx{tx, s}) })
}

type pausingTx struct {
	storage.Tx
	s pausingStorage
}

func (tx pausingTx) Assignments() storage.Assignments {
	return pausingAssignments{tx.Tx.Assignments(), tx.s}
}

type pausingAssignments struct {
	storage.Assignments
	s pausingStorage
}

func (a pausingAssignments) Due(ctx context.Context, now time.Time) ([]*audit.Assignment, error) {
	due, err := a.Assignments.Due(ctx, now)
	if err == nil {
		a.s.claimed <- len(due)
		<-a.s.resume
	}
	return due, err
}

// While one server's expiry holds the due assignments, another's
// expiry, at the same moment, passes over them at once (it neither waits
// for the first nor expires them again); the first expires each of them
// once, with one feed row each.
func TestExpiryOfOneServerSkipsTheAssignmentsAnotherIsExpiring(t *testing.T) {
	t.Parallel()
	w := newExpiryWorld(t, 2, 5)
	ctx := context.Background()
	claimed, resume := make(chan int, 1), make(chan struct{})
	first := app.New(pausingStorage{w.servers[0], claimed, resume}, app.Options{})
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := first.ExpireAssignments(ctx)
		done <- result{n, err}
	}()
	select {
	case n := <-claimed:
		require.Equal(t, len(w.ids), n, "the first server's expiry claims every due assignment")
	case r := <-done:
		t.Fatalf("the first expiry ended before it claimed anything: %d, %v", r.n, r.err)
	}

	// The second server runs while the first holds its transaction open:
	// it must not wait for it (the deadline would end it).
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, err := app.New(w.servers[1], app.Options{}).ExpireAssignments(short)
	require.NoError(t, err, "the second expiry must pass over the claimed rows, not wait for them")
	assert.Zero(t, n, "the second expiry finds nothing of its own to expire")

	close(resume)
	r := <-done
	require.NoError(t, r.err)
	assert.Equal(t, len(w.ids), r.n)
	byTx := w.check(t)
	assert.Len(t, byTx, 1, "one transaction wrote every expiry's feed row: %v", byTx)

	n, err = app.New(w.servers[1], app.Options{}).ExpireAssignments(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "expired is final")
	w.check(t)
}

// Three servers expiring at the same moment, over and over, expire each
// assignment once between them and write each one's feed row once.
func TestServersExpiringAtOnceExpireEachAssignmentOnce(t *testing.T) {
	t.Parallel()
	const servers, due = 3, 60
	w := newExpiryWorld(t, servers, due)
	ctx := context.Background()
	var mu sync.Mutex
	total := 0
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range servers {
		a := app.New(w.servers[i], app.Options{})
		wg.Go(func() {
			<-start
			for range 5 {
				n, err := a.ExpireAssignments(ctx)
				if !assert.NoError(t, err, "server %d", i) {
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, due, total, "the servers' counts add up to the assignments due, each counted once")
	w.check(t)
}

// Expiry reads the due assignments through the partial index on the
// window end, not by scanning every assignment ever made (issue 14).
func TestExpiryReadsTheWindowEndIndex(t *testing.T) {
	t.Parallel()
	w := newExpiryWorld(t, 1, 3)
	ctx := context.Background()
	db := w.servers[0]
	// Years of finished assignments, which expiry must not read.
	_, err := db.pool.Exec(ctx, `INSERT INTO assignments (id, store_id, checklist_id, checklist_version, channel, window_start, window_end,
			state, created_at, updated_at)
		SELECT 'old-' || i, store_id, checklist_id, checklist_version, channel, window_start - i * interval '1 hour',
			window_end - i * interval '1 hour', CASE WHEN i % 2 = 0 THEN 'done' ELSE 'expired' END, created_at, updated_at
		FROM assignments, generate_series(1, 20000) i WHERE id = $1`, w.ids[0])
	require.NoError(t, err)
	_, err = db.pool.Exec(ctx, `ANALYZE assignments`)
	require.NoError(t, err)
	rs, err := db.pool.Query(ctx, `EXPLAIN `+dueQuery+dueClaim, w.at)
	require.NoError(t, err)
	var plan []string
	for rs.Next() {
		var line string
		require.NoError(t, rs.Scan(&line))
		plan = append(plan, line)
	}
	require.NoError(t, rs.Err())
	text := strings.Join(plan, "\n")
	assert.Contains(t, text, "assignments_expiry", "plan:\n%s", text)
	assert.NotContains(t, text, "Seq Scan", "plan:\n%s", text)

	n, err := app.New(db, app.Options{}).ExpireAssignments(ctx)
	require.NoError(t, err)
	assert.Equal(t, len(w.ids), n)
}

// Assignments are listed by window start, then id bytewise, as SQLite
// orders them, and a page continues after the last one's (start, id),
// whatever the database's locale; the stores of a version's pending
// assignments outside a scope come in code order, bytewise too.
func TestAssignmentsListedBytewise(t *testing.T) {
	t.Parallel()
	db := openInLanguageOrder(t)
	ctx := context.Background()
	a := app.New(db, app.Options{})
	_, err := a.SaveDraft(ctx, storagetest.Checklist("c", "Greeted?"), "me")
	require.NoError(t, err)
	_, err = a.PublishVersion(ctx, "c", 1)
	require.NoError(t, err)
	manager := mustUser(t, db, audit.RoleManager, "m@example.com", "Manager")
	mine := mustStore(t, db, "M-1", "Mine", manager.ID)
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, code := range []string{"b-2", "B-1", "a-1"} {
		store := mustStore(t, db, code, "Store "+code)
		require.NoError(t, db.Assignments().Create(ctx, &audit.Assignment{ID: "x-" + code, StoreID: store.ID, ChecklistID: "c",
			ChecklistVersion: 1, Channel: audit.ChannelStoreVisit, State: audit.AssignmentOpen, CreatedAt: day, UpdatedAt: day,
			WindowStart: day, WindowEnd: day.Add(time.Hour)}))
	}
	ids := []string{"b", "B", "a-b", "ab", "A"}
	for _, id := range ids {
		require.NoError(t, db.Assignments().Create(ctx, &audit.Assignment{ID: id, StoreID: mine.ID, ChecklistID: "c", ChecklistVersion: 1,
			Channel: audit.ChannelStoreVisit, State: audit.AssignmentOpen, CreatedAt: day, UpdatedAt: day,
			WindowStart: day.Add(time.Hour), WindowEnd: day.Add(2 * time.Hour)}))
	}
	var got []string
	f := storage.AssignmentFilter{Scope: audit.Scope{ManagerID: manager.ID}, Limit: 2}
	for range 10 {
		page, err := db.Assignments().List(ctx, f)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		for _, x := range page {
			got = append(got, x.ID)
		}
		last := page[len(page)-1]
		f.AfterTime, f.AfterID = last.WindowStart, last.ID
	}
	assert.Equal(t, []string{"A", "B", "a-b", "ab", "b"}, got)

	codes, err := db.Checklists().PendingStoresOutside(ctx, audit.Scope{ManagerID: manager.ID}, "c", 1)
	require.NoError(t, err)
	assert.Equal(t, []string{"B-1", "a-1", "b-2"}, codes)
}

// SetStateFrom moves an assignment only from the state given, stamped
// with the transaction's time; of two servers moving it from the same
// state at once (two visits carrying it out), one does and the other
// finds it moved.
func TestSetStateFromMovesAnAssignmentOnce(t *testing.T) {
	t.Parallel()
	w := newExpiryWorld(t, 2, 1)
	ctx := context.Background()
	id := w.ids[0]
	first, second := w.servers[0], w.servers[1]
	as, err := first.Assignments().Find(ctx, audit.Scope{All: true}, id)
	require.NoError(t, err)
	done := *as
	done.State = audit.AssignmentDone

	moved, release := make(chan bool, 1), make(chan struct{})
	go func() {
		_ = first.Update(ctx, func(tx storage.Tx) error {
			ok, err := tx.Assignments().SetStateFrom(ctx, &done, audit.AssignmentAccepted)
			if err != nil {
				return err
			}
			moved <- ok
			<-release
			return nil
		})
		close(moved)
	}()
	require.True(t, <-moved, "the first server moves it")
	result := make(chan bool, 1)
	go func() {
		var ok bool
		err := second.Update(ctx, func(tx storage.Tx) error {
			var err error
			ok, err = tx.Assignments().SetStateFrom(ctx, &done, audit.AssignmentAccepted)
			return err
		})
		assert.NoError(t, err)
		result <- ok
	}()
	select {
	case <-result:
		t.Fatal("the second server moved it while the first held it")
	case <-time.After(200 * time.Millisecond): // it waits for the row
	}
	close(release)
	<-moved
	assert.False(t, <-result, "the second server finds it moved")

	stored, err := second.Assignments().Find(ctx, audit.Scope{All: true}, id)
	require.NoError(t, err)
	assert.Equal(t, audit.AssignmentDone, stored.State)
	assert.Equal(t, w.at, stored.UpdatedAt, "stamped with the transaction's time")
	assert.Equal(t, as.ShopperID, stored.ShopperID)
}
