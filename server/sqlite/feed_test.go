package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/server/storage/storagetest"
)

func TestDB_FeedEpoch(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	db := sqlite.NewDB(path)
	require.NoError(t, db.Open())
	first, err := db.Feed().Epoch(ctx)
	require.NoError(t, err)
	require.Len(t, first, 32)
	require.NoError(t, db.Close())

	db = sqlite.NewDB(path)
	require.NoError(t, db.Open())
	defer db.Close()
	again, err := db.Feed().Epoch(ctx)
	require.NoError(t, err)
	assert.Equal(t, first, again, "made once, with the database")

	other, err := MustOpenDB(t).Feed().Epoch(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, first, other, "another database has another epoch")
}

// feedFixture is a database with a shopper and an assignment of his.
type feedFixture struct {
	db         *sqlite.DB
	shopper    string
	assignment *audit.Assignment
}

func newFeedFixture(t *testing.T) feedFixture {
	t.Helper()
	ctx := context.Background()
	db := MustOpenDB(t)
	shopper := &audit.User{Email: "s@example.com", Role: audit.RoleShopper}
	require.NoError(t, app.New(db, app.Options{}).CreateUser(ctx, shopper, "h"))
	store := &audit.Store{Code: "S-1", Name: "Store"}
	require.NoError(t, app.New(db, app.Options{}).CreateStore(ctx, store))
	c := storagetest.Checklist("visit", "Greeted?")
	v, err := app.New(db, app.Options{}).SaveDraft(ctx, c, "test")
	require.NoError(t, err)
	_, err = app.New(db, app.Options{}).PublishVersion(ctx, c.ID, v.Version)
	require.NoError(t, err)
	start := time.Now().Add(-time.Hour)
	a := &audit.Assignment{ID: "a-1", StoreID: store.ID, ChecklistID: c.ID, ChecklistVersion: v.Version, Channel: c.Channel,
		ShopperID: shopper.ID, State: audit.AssignmentAccepted, WindowStart: start, WindowEnd: start.Add(48 * time.Hour),
		CreatedAt: start, UpdatedAt: start}
	require.NoError(t, db.Assignments().Create(ctx, a))
	require.NoError(t, db.Feed().Touch(ctx, shopper.ID, storage.FeedKindAssignment, a.ID))
	return feedFixture{db: db, shopper: shopper.ID, assignment: a}
}

// TestFeed_Read: the feed keeps one row per entity touched (the use cases
// touch it: storage never decides who must hear of a change), each read with its
// entity as it is now; which of those rows a shopper is sent, and how, is
// the pull's rule (server/app, TestApp_Pull).
func TestFeed_Read(t *testing.T) {
	ctx := context.Background()
	t.Run("Compacts", func(t *testing.T) {
		f := newFeedFixture(t)
		rows, err := f.db.Feed().Read(ctx, f.shopper, storage.FeedPos{}, 10)
		require.NoError(t, err)
		require.Len(t, rows.Rows, 1, "a checklist without unplanned visits is not in the feed")
		r := rows.Rows[0]
		require.NotNil(t, r.Assignment)
		first := r.Pos
		assert.Equal(t, f.assignment.ID, r.Assignment.Assignment.ID)
		assert.Equal(t, "S-1", r.Assignment.Store.Code)
		assert.NotNil(t, r.Assignment.Version, "with the version the shopper needs offline")

		cancelled := *f.assignment
		require.NoError(t, cancelled.Transition(audit.AssignmentCancelled))
		require.NoError(t, f.db.Assignments().Update(ctx, &cancelled))
		require.NoError(t, f.db.Feed().Touch(ctx, f.shopper, storage.FeedKindAssignment, cancelled.ID))
		rows, err = f.db.Feed().Read(ctx, f.shopper, storage.FeedPos{}, 10)
		require.NoError(t, err)
		require.Len(t, rows.Rows, 1, "one row per entity")
		last := rows.Rows[len(rows.Rows)-1]
		require.NotNil(t, last.Assignment)
		assert.Equal(t, audit.AssignmentCancelled, last.Assignment.Assignment.State)
		assert.True(t, first.Less(last.Pos), "the row moved past the old position")

		head, err := f.db.Feed().Head(ctx)
		require.NoError(t, err)
		assert.Equal(t, last.Pos, head)
		rows, err = f.db.Feed().Read(ctx, f.shopper, head, 10)
		require.NoError(t, err)
		assert.Empty(t, rows.Rows)
		assert.False(t, rows.HasMore)
	})
	t.Run("HasMore", func(t *testing.T) {
		f := newFeedFixture(t)
		again := *f.assignment
		again.ID = "a-2"
		require.NoError(t, f.db.Assignments().Create(ctx, &again))
		require.NoError(t, f.db.Feed().Touch(ctx, f.shopper, storage.FeedKindAssignment, again.ID))
		rows, err := f.db.Feed().Read(ctx, f.shopper, storage.FeedPos{}, 1)
		require.NoError(t, err)
		require.Len(t, rows.Rows, 1)
		assert.True(t, rows.HasMore)
		rows, err = f.db.Feed().Read(ctx, f.shopper, rows.Rows[0].Pos, 1)
		require.NoError(t, err)
		require.Len(t, rows.Rows, 1)
		assert.Equal(t, again.ID, rows.Rows[0].Assignment.Assignment.ID)
		assert.False(t, rows.HasMore)
	})
	t.Run("OtherShopper", func(t *testing.T) {
		f := newFeedFixture(t)
		rows, err := f.db.Feed().Read(ctx, "someone-else", storage.FeedPos{}, 10)
		require.NoError(t, err)
		assert.Empty(t, rows.Rows, "another shopper's assignment is not in his feed")
	})
}
