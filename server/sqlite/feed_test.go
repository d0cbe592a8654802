package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/server/storetest"
)

func TestDB_FeedEpoch(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	db := sqlite.NewDB(path)
	require.NoError(t, db.Open())
	first, err := db.FeedEpoch(ctx)
	require.NoError(t, err)
	require.Len(t, first, 32)
	require.NoError(t, db.Close())

	db = sqlite.NewDB(path)
	require.NoError(t, db.Open())
	defer db.Close()
	again, err := db.FeedEpoch(ctx)
	require.NoError(t, err)
	assert.Equal(t, first, again, "made once, with the database")

	other, err := MustOpenDB(t).FeedEpoch(ctx)
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
	require.NoError(t, db.CreateUser(ctx, shopper, "h"))
	store := &audit.Store{Code: "S-1", Name: "Store"}
	require.NoError(t, db.CreateStore(ctx, store))
	c := storetest.Checklist("visit", "Greeted?")
	v, err := db.SaveDraft(ctx, c, "test")
	require.NoError(t, err)
	_, err = db.PublishVersion(ctx, c.ID, v.Version)
	require.NoError(t, err)
	start := time.Now().Add(-time.Hour)
	a := &audit.Assignment{StoreID: store.ID, ChecklistID: c.ID, ShopperID: shopper.ID, WindowStart: start, WindowEnd: start.Add(48 * time.Hour)}
	require.NoError(t, db.CreateAssignment(ctx, audit.Scope{All: true}, a))
	return feedFixture{db: db, shopper: shopper.ID, assignment: a}
}

func TestDB_Pull(t *testing.T) {
	ctx := context.Background()
	t.Run("Compacts", func(t *testing.T) {
		f := newFeedFixture(t)
		page, err := f.db.Pull(ctx, f.shopper, 0, 10)
		require.NoError(t, err)
		require.Len(t, page.Changes, 1, "a checklist without unplanned visits is not in the feed")
		require.NotNil(t, page.Changes[0].AssignmentUpsert)
		cursor := page.Last

		_, err = f.db.UpdateAssignment(ctx, audit.Scope{All: true}, f.assignment.ID, func(a *audit.Assignment) error {
			return a.Transition(audit.AssignmentCancelled)
		})
		require.NoError(t, err)
		page, err = f.db.Pull(ctx, f.shopper, 0, 10)
		require.NoError(t, err)
		require.Len(t, page.Changes, 1, "one row per entity")
		assert.Equal(t, &sqlite.AssignmentRemoval{AssignmentID: f.assignment.ID, Reason: sqlite.RemovalCancelled}, page.Changes[0].AssignmentRemoval)
		assert.Greater(t, page.Changes[0].Seq, cursor, "the row moved past the old cursor")

		page, err = f.db.Pull(ctx, f.shopper, page.Last, 10)
		require.NoError(t, err)
		assert.Empty(t, page.Changes)
		assert.False(t, page.HasMore)
		assert.False(t, page.Reset)
	})
	t.Run("ResetBeyondHead", func(t *testing.T) {
		f := newFeedFixture(t)
		page, err := f.db.Pull(ctx, f.shopper, 1<<40, 10)
		require.NoError(t, err)
		assert.True(t, page.Reset)
		assert.Len(t, page.Changes, 1)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		f := newFeedFixture(t)
		for _, n := range []int{0, sqlite.MaxPullPage + 1} {
			_, err := f.db.Pull(ctx, f.shopper, 0, n)
			assert.Equal(t, audit.EINVALID, audit.ErrorCode(err))
		}
		_, err := f.db.Pull(ctx, f.shopper, -1, 10)
		assert.Equal(t, audit.EINVALID, audit.ErrorCode(err))
	})
}

func TestDB_ExpireAssignments(t *testing.T) {
	ctx := context.Background()
	f := newFeedFixture(t)
	n, err := f.db.ExpireAssignments(ctx, f.assignment.WindowEnd.Add(-time.Second))
	require.NoError(t, err)
	assert.Zero(t, n, "the window is still open")
	n, err = f.db.ExpireAssignments(ctx, f.assignment.WindowEnd)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	page, err := f.db.Pull(ctx, f.shopper, 0, 10)
	require.NoError(t, err)
	require.Len(t, page.Changes, 1)
	assert.Equal(t, sqlite.RemovalExpired, page.Changes[0].AssignmentRemoval.Reason)
	n, err = f.db.ExpireAssignments(ctx, f.assignment.WindowEnd)
	require.NoError(t, err)
	assert.Zero(t, n, "expired is final")
}
