package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/server/storage/storagetest"
)

func TestIntegrationTokens(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	db := clocked(t, &at)
	storagetest.IntegrationTokens(t, db.IntegrationTokens(), &at)
}

// A visit stored by a transaction that commits after a later one (two
// servers' pushes) is never behind an export cursor: the export's end
// stops below the oldest transaction in flight, as the pull feed does,
// so the cursor given out while the first push ran is before both, and
// the next export returns both, the late one first.
func TestExport_VisitCommittedLate(t *testing.T) {
	t.Parallel()
	db, _ := open(t)
	ctx := context.Background()
	all := audit.Scope{All: true}
	at := time.Date(2026, 5, 2, 9, 30, 0, 0, time.UTC)
	var cv *audit.ChecklistVersion
	require.NoError(t, db.update(ctx, func(tx *Tx) error {
		cv = seedReports(t, pgSeeder{tx}, at)
		return nil
	}))
	_, err := db.AuditReports().Index(ctx)
	require.NoError(t, err)
	// Every seeded visit, once other tests' transactions on the cluster
	// let the bound pass them.
	var cursor storage.FeedPos
	require.Eventually(t, func() bool {
		end, n, err := db.AuditReports().ExportEnd(ctx, all, storage.FeedPos{}, 10000)
		require.NoError(t, err)
		cursor = end
		return n == seededVisits
	}, 30*time.Second, 20*time.Millisecond)

	open, err := db.begin(ctx, writeTx)
	require.NoError(t, err)
	defer open.Rollback(context.WithoutCancel(ctx))
	seedVisit(t, pgSeeder{open}, cv, 0, "late", at)
	require.NoError(t, db.update(ctx, func(tx *Tx) error {
		seedVisit(t, pgSeeder{tx}, cv, 1, "early", at)
		return nil
	}))
	_, err = db.AuditReports().Index(ctx)
	require.NoError(t, err)
	// The committed visit waits behind the open push: an export by
	// number alone would return it and move its cursor past "late".
	for range 5 {
		end, n, err := db.AuditReports().ExportEnd(ctx, all, cursor, 10000)
		require.NoError(t, err)
		require.Zero(t, n, "the export passed a push still in flight")
		require.Equal(t, cursor, end)
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, open.Commit(ctx))
	_, err = db.AuditReports().Index(ctx)
	require.NoError(t, err)
	var end storage.FeedPos
	require.Eventually(t, func() bool {
		var n int
		end, n, err = db.AuditReports().ExportEnd(ctx, all, cursor, 10000)
		require.NoError(t, err)
		return n == 2
	}, 30*time.Second, 20*time.Millisecond)
	got, err := db.AuditReports().Export(ctx, all, cursor, end, 10)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, []string{"late", "early"}, []string{got[0].VisitID, got[1].VisitID})
	assert.NotEmpty(t, got[0].Answers)
	assert.NotEmpty(t, got[0].StoreCode)
	assert.True(t, cursor.Less(got[0].Pos) && got[0].Pos.Less(got[1].Pos) && got[1].Pos == end)

	// A change of state moves a visit past the cursor: it comes again.
	_, err = db.pool.Exec(ctx, `UPDATE visits SET state = 'in_review' WHERE id = 'late'`)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, n, err := db.AuditReports().ExportEnd(ctx, all, end, 10000)
		require.NoError(t, err)
		return n == 1
	}, 30*time.Second, 20*time.Millisecond)
}
