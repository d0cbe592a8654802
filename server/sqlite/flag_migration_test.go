package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
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

// TestMigration0019 shows the answer rows of a database stored before
// migration 0019 (keyed by the visit's id) read the same after it (keyed
// by their report row's number), and a visit indexed after it joining its
// own rows.
func TestMigration0019(t *testing.T) {
	ctx := context.Background()
	f := newFeedFixture(t)
	s, err := app.New(f.db, app.Options{}).CreateSession(ctx, f.shopper, "phone-1", "phone", []byte("refresh-hash"), time.Now().Add(time.Hour), "127.0.0.1")
	require.NoError(t, err)
	cv, err := f.db.Checklists().Find(ctx, f.assignment.ChecklistID, f.assignment.ChecklistVersion)
	require.NoError(t, err)
	push := func(db *sqlite.DB, seq int64, assignment string) {
		t.Helper()
		yes := seq%2 == 0
		v := &audit.Visit{ID: uuid.NewString(), StoreID: f.assignment.StoreID, ShopperID: f.shopper, AssignmentID: assignment,
			ChecklistID: f.assignment.ChecklistID, ChecklistVersion: f.assignment.ChecklistVersion, ContentHash: cv.ContentHash, Channel: audit.ChannelStoreVisit,
			StartedAt: time.Now().Add(-30 * time.Minute), Answers: []audit.Answer{{QuestionID: "q", Bool: &yes}}}
		res, err := app.New(db, app.Options{}).Push(ctx, app.Device{UserID: f.shopper, SessionID: s.ID}, time.Now(),
			[]app.Mutation{{Seq: seq, ID: uuid.NewString(), Digest: protocol.VisitDigest(v), Visit: v}})
		require.NoError(t, err)
		require.Equal(t, storage.MutationApplied, res.Results[0].Status, "%v", res.Results[0].Err)
	}
	push(f.db, 1, f.assignment.ID)
	require.NoError(t, f.db.Close())

	answers := func(raw *sql.DB, key string) []string {
		t.Helper()
		rows, err := raw.Query(`SELECT r.visit_id, a.ord, a.question_id, a.points, a.max_points, a.answer FROM visit_answers a
			JOIN report_visits r ON ` + key + ` ORDER BY r.visit_id, a.ord`)
		require.NoError(t, err)
		defer rows.Close()
		var out []string
		for rows.Next() {
			var id, q, answer string
			var ord int
			var p, m float64
			require.NoError(t, rows.Scan(&id, &ord, &q, &p, &m, &answer))
			out = append(out, fmt.Sprint(id, ord, q, p, m, answer))
		}
		require.NoError(t, rows.Err())
		return out
	}
	// The rows as a server before migration 0019 stored them.
	raw, err := sql.Open("sqlite3", f.db.Path)
	require.NoError(t, err)
	for _, q := range []string{
		`CREATE TABLE old_answers (visit_id TEXT NOT NULL, ord INTEGER NOT NULL, question_id TEXT NOT NULL, section_id TEXT NOT NULL,
			standard_code TEXT NOT NULL DEFAULT '', category TEXT NOT NULL DEFAULT '', points REAL NOT NULL, max_points REAL NOT NULL,
			not_applicable INTEGER NOT NULL, failed INTEGER NOT NULL, critical INTEGER NOT NULL, critical_failure INTEGER NOT NULL,
			nps INTEGER, answer TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '', value REAL, unit TEXT NOT NULL DEFAULT '',
			PRIMARY KEY (visit_id, ord)) WITHOUT ROWID`,
		`INSERT INTO old_answers SELECT r.visit_id, a.ord, a.question_id, a.section_id, a.standard_code, a.category, a.points,
			a.max_points, a.not_applicable, a.failed, a.critical, a.critical_failure, a.nps, a.answer, a.note, a.value, a.unit
			FROM visit_answers a JOIN report_visits r ON r.no = a.visit_no`,
		`CREATE TABLE old_report (visit_id TEXT PRIMARY KEY, store_id TEXT NOT NULL, staff_id TEXT NOT NULL DEFAULT '',
			visited_at INTEGER NOT NULL, points REAL NOT NULL, max_points REAL NOT NULL, critical_failed INTEGER NOT NULL,
			answers INTEGER NOT NULL)`,
		`INSERT INTO old_report SELECT visit_id, store_id, staff_id, visited_at, points, max_points, critical_failed, answers FROM report_visits`,
		`DROP TABLE visit_answers`, `DROP TABLE report_visits`,
		`ALTER TABLE old_answers RENAME TO visit_answers`, `ALTER TABLE old_report RENAME TO report_visits`,
		`CREATE INDEX report_visits_time ON report_visits (visited_at, visit_id)`,
		`CREATE INDEX report_visits_staff ON report_visits (staff_id, visited_at)`,
		`DELETE FROM schema_migrations WHERE version = 19`,
	} {
		_, err := raw.Exec(q)
		require.NoError(t, err, q)
	}
	before := answers(raw, "r.visit_id = a.visit_id")
	require.NotEmpty(t, before)
	require.NoError(t, raw.Close())

	db := sqlite.NewDB(f.db.Path)
	require.NoError(t, db.Open())
	t.Cleanup(func() { _ = db.Close() })
	raw, err = sql.Open("sqlite3", f.db.Path)
	require.NoError(t, err)
	defer raw.Close()
	assert.Equal(t, before, answers(raw, "r.no = a.visit_no"), "the same rows, now keyed by number")

	next := &audit.Assignment{StoreID: f.assignment.StoreID, ChecklistID: f.assignment.ChecklistID, ShopperID: f.shopper,
		WindowStart: time.Now().Add(-time.Hour), WindowEnd: time.Now().Add(time.Hour)}
	require.NoError(t, app.New(db, app.Options{}).CreateAssignment(ctx, audit.Scope{All: true}, next))
	push(db, 2, next.ID)
	after := answers(raw, "r.no = a.visit_no")
	assert.Len(t, after, len(before)+len(before), "the new visit has its own rows")
	assert.Subset(t, after, before)
}
