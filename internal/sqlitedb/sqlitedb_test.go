package sqlitedb_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/internal/migration"
	"github.com/shopscore/shopscore/internal/sqlitedb"
)

func open(t *testing.T, path string, o sqlitedb.Options) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", sqlitedb.DSN(path, o))
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

var testMigrations = []migration.File{
	{Version: 1, Name: "0001_a.sql", SQL: `CREATE TABLE a (id INTEGER PRIMARY KEY);`},
	{Version: 2, Name: "0002_b.sql", SQL: `CREATE TABLE b (id INTEGER PRIMARY KEY); INSERT INTO a (id) VALUES (1);`},
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(1_790_000_000_123)
	t.Run("AppliesEachOnce", func(t *testing.T) {
		db := open(t, filepath.Join(t.TempDir(), "x.db"), sqlitedb.Options{})
		require.NoError(t, sqlitedb.Migrate(ctx, db, testMigrations, now))
		require.NoError(t, sqlitedb.Migrate(ctx, db, testMigrations, now.Add(time.Hour)), "nothing is applied twice")
		names, err := sqlitedb.Applied(ctx, db)
		require.NoError(t, err)
		assert.Equal(t, []string{"0001_a.sql", "0002_b.sql"}, names)
		var rows int
		require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM a`).Scan(&rows))
		assert.Equal(t, 1, rows)
		var at int64
		require.NoError(t, db.QueryRow(`SELECT applied_at FROM schema_migrations WHERE version = 2`).Scan(&at))
		assert.Equal(t, now.UnixMilli(), at)
		missing, err := sqlitedb.Missing(ctx, db, append(testMigrations, migration.File{Version: 3}))
		require.NoError(t, err)
		assert.Equal(t, 1, missing)
	})
	t.Run("AFailedMigrationLeavesNoTrace", func(t *testing.T) {
		db := open(t, filepath.Join(t.TempDir(), "x.db"), sqlitedb.Options{})
		bad := []migration.File{testMigrations[0],
			{Version: 2, Name: "0002_bad.sql", SQL: `CREATE TABLE c (id INTEGER); INSERT INTO nowhere VALUES (1);`}}
		err := sqlitedb.Migrate(ctx, db, bad, now)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "0002_bad.sql")
		names, err := sqlitedb.Applied(ctx, db)
		require.NoError(t, err)
		assert.Equal(t, []string{"0001_a.sql"}, names)
		var tables int
		require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'c'`).Scan(&tables))
		assert.Zero(t, tables, "the failed file's first statement was rolled back with it")
	})
	t.Run("KeepsTheHistoryOfAnOlderTable", func(t *testing.T) {
		// A field client database made before the shared runner: its
		// table's last column is applied_ms.
		db := open(t, filepath.Join(t.TempDir(), "x.db"), sqlitedb.Options{})
		_, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL);
			CREATE TABLE a (id INTEGER PRIMARY KEY);
			INSERT INTO schema_migrations VALUES (1, '0001_a.sql', 1700000000000);`)
		require.NoError(t, err)
		require.NoError(t, sqlitedb.Migrate(ctx, db, testMigrations, now), "0001 is not applied again")
		rows, err := db.Query(`SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
		require.NoError(t, err)
		defer rows.Close()
		type row struct {
			v    int
			name string
			at   int64
		}
		var got []row
		for rows.Next() {
			var r row
			require.NoError(t, rows.Scan(&r.v, &r.name, &r.at))
			got = append(got, r)
		}
		require.NoError(t, rows.Err())
		assert.Equal(t, []row{{1, "0001_a.sql", 1_700_000_000_000}, {2, "0002_b.sql", now.UnixMilli()}}, got)
	})
}

func TestDSN(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	pragma := func(db *sql.DB, name string) string {
		var v string
		require.NoError(t, db.QueryRow(`PRAGMA `+name).Scan(&v))
		return v
	}
	w := open(t, path, sqlitedb.Options{Synchronous: sqlitedb.SyncNormal, StatementCache: 16})
	assert.Equal(t, "wal", pragma(w, "journal_mode"))
	assert.Equal(t, "1", pragma(w, "foreign_keys"))
	assert.Equal(t, "1", pragma(w, "synchronous"), "NORMAL")
	assert.Equal(t, "10000", pragma(w, "busy_timeout"))
	_, err := w.Exec(`CREATE TABLE t (x INTEGER)`)
	require.NoError(t, err)

	full := open(t, path, sqlitedb.Options{})
	assert.Equal(t, "2", pragma(full, "synchronous"), "FULL by default")

	ro := open(t, path, sqlitedb.Options{Mode: sqlitedb.ReadOnly})
	_, err = ro.Exec(`INSERT INTO t VALUES (1)`)
	assert.Error(t, err, "read-only")

	look := open(t, path, sqlitedb.Options{Mode: sqlitedb.Inspect})
	_, err = look.Exec(`INSERT INTO t VALUES (1)`)
	assert.Error(t, err, "query only")
	require.NoError(t, look.QueryRow(`SELECT COUNT(*) FROM t`).Scan(new(int)))

	absent := open(t, filepath.Join(t.TempDir(), "absent.db"), sqlitedb.Options{Mode: sqlitedb.Inspect})
	assert.Error(t, absent.Ping(), "Inspect creates no file")
}

func TestTx(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "x.db"), sqlitedb.Options{})
	_, err := db.Exec(`CREATE TABLE t (x INTEGER)`)
	require.NoError(t, err)
	count := func() int {
		var n int
		require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n))
		return n
	}
	insert := func(tx *sql.Tx) error { _, err := tx.Exec(`INSERT INTO t VALUES (1)`); return err }

	require.NoError(t, sqlitedb.Update(ctx, db, insert))
	assert.Equal(t, 1, count(), "committed")

	failed := assert.AnError
	err = sqlitedb.Update(ctx, db, func(tx *sql.Tx) error { require.NoError(t, insert(tx)); return failed })
	assert.ErrorIs(t, err, failed)
	assert.Equal(t, 1, count(), "rolled back on error")

	assert.Panics(t, func() {
		_ = sqlitedb.Update(ctx, db, func(tx *sql.Tx) error { require.NoError(t, insert(tx)); panic("boom") })
	})
	assert.Equal(t, 1, count(), "rolled back on panic")

	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	require.NoError(t, sqlitedb.Discard(tx, func(tx *sql.Tx) error {
		require.NoError(t, insert(tx))
		var n int
		require.NoError(t, tx.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n))
		assert.Equal(t, 2, n, "seen from inside")
		return nil
	}))
	assert.Equal(t, 1, count(), "discarded")
}

func TestMillis(t *testing.T) {
	at := time.Date(2026, 10, 3, 9, 30, 0, 123_000_000, time.FixedZone("MSK", 3*3600))
	assert.Equal(t, at.UnixMilli(), sqlitedb.Millis(at))
	assert.Equal(t, time.UTC, sqlitedb.FromMillis(sqlitedb.Millis(at)).Location())
	assert.True(t, at.Equal(sqlitedb.FromMillis(sqlitedb.Millis(at))))

	assert.Equal(t, sql.NullInt64{}, sqlitedb.NullMillis(time.Time{}))
	assert.Equal(t, sql.NullInt64{Int64: at.UnixMilli(), Valid: true}, sqlitedb.NullMillis(at))
	assert.True(t, sqlitedb.FromNullMillis(sql.NullInt64{}).IsZero())
	assert.True(t, at.Equal(sqlitedb.FromNullMillis(sqlitedb.NullMillis(at))))

	assert.Zero(t, sqlitedb.OptMillis(time.Time{}))
	assert.Equal(t, at.UnixMilli(), sqlitedb.OptMillis(at))
	assert.True(t, sqlitedb.FromOptMillis(0).IsZero())
	assert.True(t, at.Equal(sqlitedb.FromOptMillis(sqlitedb.OptMillis(at))))
	assert.Equal(t, time.UTC, sqlitedb.FromOptMillis(sqlitedb.OptMillis(at)).Location())
}
