package sqlite_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/sync/protocol"
)

// TestMigration0010 shows a visit stored with the flag clock_skew, the
// old name, carrying device_clock_skew after migration 0010, and moving in
// its shopper's feed so that his phone pulls the new receipt.
func TestMigration0010(t *testing.T) {
	ctx := context.Background()
	f := newFeedFixture(t)
	s, err := app.New(f.db, app.Options{}).CreateSession(ctx, f.shopper, "phone-1", "phone", []byte("refresh-hash"), time.Now().Add(time.Hour), "127.0.0.1")
	require.NoError(t, err)
	yes := true
	v := &audit.Visit{ID: uuid.NewString(), AssignmentID: f.assignment.ID, StoreID: f.assignment.StoreID, ShopperID: f.shopper,
		ChecklistID: f.assignment.ChecklistID, ChecklistVersion: f.assignment.ChecklistVersion, Channel: audit.ChannelStoreVisit,
		StartedAt: time.Now().Add(-30 * time.Minute), Answers: []audit.Answer{{QuestionID: "q", Bool: &yes}}}
	cv, err := f.db.Checklists().Find(ctx, v.ChecklistID, v.ChecklistVersion)
	require.NoError(t, err)
	v.ContentHash = cv.ContentHash
	res, err := app.New(f.db, app.Options{}).Push(ctx, app.Device{UserID: f.shopper, SessionID: s.ID}, time.Now().Add(-time.Hour),
		[]app.Mutation{{Seq: 1, ID: uuid.NewString(), Digest: protocol.VisitDigest(v), Visit: v}})
	require.NoError(t, err)
	require.Equal(t, storage.MutationApplied, res.Results[0].Status, "%v", res.Results[0].Err)
	require.Equal(t, []audit.VisitFlag{audit.FlagClockSkew}, res.Results[0].Receipt.Flags)
	require.NoError(t, f.db.Close())

	// The visit as an older server stored it.
	raw, err := sql.Open("sqlite3", f.db.Path)
	require.NoError(t, err)
	_, err = raw.Exec(`UPDATE visits SET flags = '["clock_skew","photo_reused"]' WHERE id = ?`, v.ID)
	require.NoError(t, err)
	_, err = raw.Exec(`DELETE FROM schema_migrations WHERE version = 10`)
	require.NoError(t, err)
	var before int64
	require.NoError(t, raw.QueryRow(`SELECT seq FROM sync_feed WHERE kind = 'visit' AND entity = ?`, v.ID).Scan(&before))
	require.NoError(t, raw.Close())

	db := sqlite.NewDB(f.db.Path)
	require.NoError(t, db.Open())
	t.Cleanup(func() { _ = db.Close() })
	r, err := db.Visits().Receipt(ctx, f.shopper, v.ID)
	require.NoError(t, err)
	assert.Equal(t, []audit.VisitFlag{audit.FlagClockSkew, audit.FlagPhotoReused}, r.Flags, "renamed in place, order kept")
	rows, err := db.Feed().Read(ctx, f.shopper, storage.FeedPos{Seq: before}, 10)
	require.NoError(t, err)
	require.Len(t, rows.Rows, 1, "the receipt moved past the phone's cursor")
	require.NotNil(t, rows.Rows[0].Receipt)
	assert.Equal(t, v.ID, rows.Rows[0].Receipt.VisitID)
}
