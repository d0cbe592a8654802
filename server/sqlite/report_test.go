package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/audit/demopack"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
)

// TestDB_IndexReportRows_Watermark stores visits the way a path that does
// not index them would (straight into visits), and checks that
// IndexReportRows indexes each once, then checks only the visits stored
// after its mark, and starts again from the first visit when the visit at
// its mark is not the one it recorded (a VACUUM renumbered the rowids).
func TestDB_IndexReportRows_Watermark(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	shopper := &audit.User{Email: "mark@example.com", Role: audit.RoleShopper}
	require.NoError(t, app.New(db, app.Options{}).CreateUser(ctx, shopper, "not-a-hash"))
	_, err := app.New(db, app.Options{}).ImportPack(ctx, "demo-pack.json", demopack.JSON, true, false, "test")
	require.NoError(t, err)
	store := &audit.Store{Code: "W-1", Name: "Watermark"}
	require.NoError(t, app.New(db, app.Options{}).CreateStore(ctx, store))
	raw, err := sql.Open("sqlite3", "file:"+db.Path+"?_busy_timeout=10000")
	require.NoError(t, err)
	t.Cleanup(func() { raw.Close() })
	insert := func(n int) string {
		id := fmt.Sprintf("raw-visit-%d", n)
		at := time.Date(2026, 10, n, 10, 0, 0, 0, time.UTC)
		body, err := json.Marshal(audit.Visit{ID: id, ShopperID: shopper.ID, StoreID: store.ID, ChecklistID: "store-visit", ChecklistVersion: 1, StartedAt: at})
		require.NoError(t, err)
		_, err = raw.Exec(`INSERT INTO visits (id, shopper_id, store_id, checklist_id, checklist_version, content_hash, channel, body, digest,
			state, score, started_at, received_at, device_id, session_id, mutation_id)
			VALUES (?, ?, ?, 'store-visit', 1, '', 'store_visit', ?, '', 'approved', '{}', ?, ?, 'd', 's', ?)`,
			id, shopper.ID, store.ID, body, at.UnixMilli(), at.UnixMilli(), id)
		require.NoError(t, err)
		return id
	}
	index := func() int {
		n, err := db.IndexReportRows(ctx)
		require.NoError(t, err)
		return n
	}
	unindex := func(id string) {
		_, err := raw.Exec(`DELETE FROM report_visits WHERE visit_id = ?`, id)
		require.NoError(t, err)
	}

	first := insert(1)
	insert(2)
	require.Equal(t, 2, index(), "both visits are indexed")
	require.Equal(t, 0, index(), "nothing new")

	unindex(first)
	require.Equal(t, 0, index(), "a visit before the mark is not checked again")
	insert(3)
	require.Equal(t, 1, index(), "the visit stored after the mark is indexed")

	_, err = raw.Exec(`UPDATE report_watermark SET through_id = 'renumbered'`)
	require.NoError(t, err)
	require.Equal(t, 1, index(), "a mark on another visit means a full check, which finds the first visit")
	require.Equal(t, 0, index())

	// Inside a transaction the use case opened, every visit without
	// report rows is indexed in it, and only if it commits.
	unindex(first)
	insert(4)
	txIndex := func(commit bool) int {
		var n int
		fail := fmt.Errorf("roll back")
		err := db.Update(ctx, func(tx storage.Tx) error {
			var err error
			if n, err = tx.AuditReports().Index(ctx); err != nil || commit {
				return err
			}
			return fail
		})
		if !commit {
			require.ErrorIs(t, err, fail)
		} else {
			require.NoError(t, err)
		}
		return n
	}
	require.Equal(t, 2, txIndex(false), "the unindexed visit and the new one")
	require.Equal(t, 2, txIndex(true), "nothing was kept of the rolled back transaction")
	require.Equal(t, 0, txIndex(true))
	err = db.View(ctx, func(tx storage.Tx) error { _, err := tx.AuditReports().Index(ctx); return err })
	require.Error(t, err, "indexing in a read-only transaction")
}
