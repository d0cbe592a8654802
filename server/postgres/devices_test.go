package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// feedEntities returns the entities of the feed rows tx sees, by id.
func feedEntities(t *testing.T, ctx context.Context, tx *Tx) []string {
	t.Helper()
	var out []string
	rows, err := tx.Query(ctx, `SELECT entity FROM sync_feed ORDER BY id`)
	require.NoError(t, err)
	for rows.Next() {
		var e string
		require.NoError(t, rows.Scan(&e))
		out = append(out, e)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestSavepoint: a savepoint whose function fails undoes that function's
// work only, also after a statement inside it failed (which on
// PostgreSQL aborts everything up to the savepoint), and the transaction
// goes on and commits the rest; savepoints nest, and many refused in a
// row leave the transaction as usable as the first.
func TestSavepoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := open(t)
	refused := errors.New("refused")
	err := db.Update(ctx, func(st storage.Tx) error {
		tx := st.(*Tx)
		require.NoError(t, touchFeed(ctx, tx, "s1", "visit", "kept"))
		err := tx.Savepoint(ctx, func() error {
			require.NoError(t, touchFeed(ctx, tx, "s1", "visit", "undone"))
			_, err := tx.Exec(ctx, `SELECT 1 / 0`)
			require.Error(t, err)
			return refused
		})
		require.ErrorIs(t, err, refused)
		err = tx.Savepoint(ctx, func() error {
			require.NoError(t, touchFeed(ctx, tx, "s1", "visit", "outer"))
			require.ErrorIs(t, tx.Savepoint(ctx, func() error {
				require.NoError(t, touchFeed(ctx, tx, "s1", "visit", "inner"))
				return refused
			}), refused)
			return nil
		})
		require.NoError(t, err)
		for range 100 {
			err := tx.Savepoint(ctx, func() error {
				_, err := tx.Exec(ctx, `SELECT 1 / 0`)
				return err
			})
			require.True(t, hasCode(err, "22012"), "%v", err)
		}
		var depth int
		require.NoError(t, tx.QueryRow(ctx, `SELECT 1`).Scan(&depth), "the transaction goes on")
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, db.view(ctx, func(tx *Tx) error {
		assert.Equal(t, []string{"kept", "outer"}, feedEntities(t, ctx, tx))
		return nil
	}))
}

// TestDevices: the sequence rows and stored results of a device as
// SQLite keeps them; a mutation id another seq holds is
// ErrMutationIDTaken without breaking the transaction (the push goes on
// to store the seq without it); pruning goes oldest first and leaves the
// last seq.
func TestDevices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 0, 0, 700_000_000, time.UTC)
	db := clocked(t, &at)
	u := mustUser(t, db, audit.RoleShopper, "s@example.com", "Shopper")
	s := &audit.Session{UserID: u.ID, DeviceID: "phone"}
	require.NoError(t, db.Sessions().Create(ctx, s))

	_, err := db.Devices().Find(ctx, u.ID, "no-session")
	requireCode(t, audit.ENOTFOUND, err)
	d, err := db.Devices().Find(ctx, u.ID, s.ID)
	require.NoError(t, err)
	assert.Equal(t, storage.Device{UserID: u.ID, DeviceID: "phone"}, *d)

	claimed := time.Date(2026, 3, 1, 8, 59, 0, 0, time.UTC)
	off := 1500 * time.Millisecond
	err = db.Update(ctx, func(tx storage.Tx) error {
		d, err := tx.Devices().Find(ctx, u.ID, s.ID)
		require.NoError(t, err)
		require.NoError(t, tx.Devices().Record(ctx, *d, storage.StoredMutation{Seq: 1, MutationID: "m1", Digest: "d1",
			DeviceTime: claimed, Status: storage.MutationApplied, VisitID: "v1"}, true))
		err = tx.Devices().Record(ctx, *d, storage.StoredMutation{Seq: 2, MutationID: "m1", Digest: "d2",
			Status: storage.MutationApplied}, true)
		require.ErrorIs(t, err, storage.ErrMutationIDTaken)
		require.NoError(t, tx.Devices().Record(ctx, *d, storage.StoredMutation{Seq: 2, MutationID: "m1", Digest: "d2",
			Status: storage.MutationRejected, Err: audit.Errorf(audit.EEXISTS, "taken")}, false))
		return tx.Devices().Advance(ctx, *d, 2, &off)
	})
	require.NoError(t, err)

	last, err := db.Devices().LastSeq(ctx, u.ID, s.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(2), last)
	m, err := db.Devices().Result(ctx, *d, 1)
	require.NoError(t, err)
	assert.Equal(t, storage.StoredMutation{Seq: 1, MutationID: "m1", Digest: "d1", DeviceTime: claimed,
		Status: storage.MutationApplied, VisitID: "v1"}, *m)
	m, err = db.Devices().Result(ctx, *d, 2)
	require.NoError(t, err)
	assert.Equal(t, storage.StoredMutation{Seq: 2, MutationID: "m1", Digest: "d2", Status: storage.MutationRejected,
		Err: &audit.Error{Code: audit.EEXISTS, Message: "taken"}}, *m)
	_, err = db.Devices().Result(ctx, *d, 3)
	requireCode(t, audit.ENOTFOUND, err)

	var offset int64
	require.NoError(t, db.pool.QueryRow(ctx, `SELECT clock_offset_ms FROM device_seqs`).Scan(&offset))
	assert.Equal(t, int64(1500), offset)
	require.NoError(t, db.Devices().Advance(ctx, *d, 2, nil))
	require.NoError(t, db.pool.QueryRow(ctx, `SELECT clock_offset_ms FROM device_seqs`).Scan(&offset))
	assert.Equal(t, int64(1500), offset, "an unknown offset keeps the last one")

	at = at.Add(time.Hour)
	require.NoError(t, db.Devices().Record(ctx, *d, storage.StoredMutation{Seq: 3, MutationID: "m3", Digest: "d3",
		Status: storage.MutationApplied}, true))
	n, err := db.Devices().PruneResults(ctx, at, 1)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "one at a time")
	n, err = db.Devices().PruneResults(ctx, at, 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the one received at the cut stays")
	_, err = db.Devices().Result(ctx, *d, 3)
	require.NoError(t, err)
	last, err = db.Devices().LastSeq(ctx, u.ID, s.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(2), last, "pruned seqs stay applied")
}
