package migrateto

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/server/postgres"
	"github.com/shopscore/shopscore/server/postgres/pgtest"
	"github.com/shopscore/shopscore/server/sqlite"
)

// freshSchemas returns the schemas of a new SQLite database and a new
// PostgreSQL one, as this build's migrations make them, with a write
// connection to each (to change them).
func freshSchemas(t *testing.T) (*sql.DB, *pgx.Conn, func() (*schema, *schema)) {
	ctx := t.Context()
	url := pgtest.URL(t)
	path := filepath.Join(t.TempDir(), "shopscore.db")
	lite, err := sqlite.Open(path, nil)
	require.NoError(t, err)
	require.NoError(t, lite.Close())
	sdb, err := sql.Open("sqlite3", "file:"+path)
	require.NoError(t, err)
	t.Cleanup(func() { sdb.Close() })

	pg, err := postgres.Open(ctx, url)
	require.NoError(t, err)
	pg.Close()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	read := func() (*schema, *schema) {
		src, err := sqliteSchema(ctx, sdb)
		require.NoError(t, err)
		tx, err := conn.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx)
		dst, err := pgSchema(ctx, tx)
		require.NoError(t, err)
		return src, dst
	}
	return sdb, conn, read
}

// TestMapping_FreshSchemas: the mapping explains every table, column and
// sequence of both backends' schemas as their migrations now make them;
// and a migration that adds a column or a table to either side, changes
// a column's type or adds a sequence is caught, naming it, until the
// mapping says where it goes.
func TestMapping_FreshSchemas(t *testing.T) {
	ctx := t.Context()
	sdb, conn, read := freshSchemas(t)
	src, dst := read()
	require.NoError(t, checkMapping(src, dst))
	assert.Len(t, src.tables, len(tables)+len(notCopied))
	assert.Len(t, dst.tables, len(tables)+len(notCopied))

	for _, q := range []string{
		`ALTER TABLE users ADD COLUMN nickname TEXT NOT NULL DEFAULT ''`,
		`CREATE TABLE webhooks (id TEXT PRIMARY KEY)`,
		`ALTER TABLE stores ADD COLUMN opened_at TEXT`,
	} {
		_, err := sdb.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	for _, q := range []string{
		`ALTER TABLE staff ADD COLUMN phone text NOT NULL DEFAULT ''`,
		`CREATE TABLE push_messages (id text PRIMARY KEY)`,
		`ALTER TABLE stores ADD COLUMN opened_at timestamptz`,
		`CREATE SEQUENCE stray`,
		`ALTER TABLE visits ADD COLUMN location point`,
	} {
		_, err := conn.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	src, dst = read()
	err := checkMapping(src, dst)
	require.Error(t, err)
	for _, want := range []string{
		"SQLite column users.nickname has no PostgreSQL column of its name",
		"SQLite table webhooks is not in the mapping",
		"PostgreSQL column staff.phone has no SQLite column of its name",
		"PostgreSQL table push_messages is not in the mapping",
		"stores.opened_at is TEXT on SQLite and timestamptz on PostgreSQL: the copy knows no such conversion",
		"PostgreSQL sequence stray belongs to no column",
		"PostgreSQL column visits.location is of type point, which the copy cannot write",
	} {
		assert.Contains(t, err.Error(), want)
	}
}

// TestCanonicalJSON_AsPostgreSQLSpellsIt: a JSON document and the text
// PostgreSQL gives back for it as jsonb (keys reordered, space added,
// numbers respelt) have one canonical form, and different documents
// different ones.
func TestCanonicalJSON_AsPostgreSQLSpellsIt(t *testing.T) {
	ctx := t.Context()
	_, conn, _ := freshSchemas(t)
	docs := []string{
		`[]`, `["device_clock_skew","no_photo"]`,
		`{"b":1,"a":[1.50,1e2,-0.25E+1,12345678901234567890,0.000001,1E-7,-0]}`,
		`[{"text":"Примечание \"цитата\" \u00e9\n","by":"u1","at":"2026-10-01T09:00:00Z"}]`,
		`{"nested":{"z":null,"y":true,"x":{"w":[]}}}`,
	}
	seen := map[string]string{}
	for _, doc := range docs {
		var back string
		require.NoError(t, conn.QueryRow(ctx, `SELECT $1::jsonb::text`, doc).Scan(&back))
		want, err := canonicalJSON([]byte(doc))
		require.NoError(t, err)
		got, err := canonicalJSON([]byte(back))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), "%s came back as %s", doc, back)
		_, dup := seen[string(want)]
		assert.False(t, dup, "%s and %s", doc, seen[string(want)])
		seen[string(want)] = doc
	}
	for _, pair := range [][2]string{{`1.5`, `15e-1`}, {`100`, `1E2`}, {`0.0`, `0`}} {
		a, err := canonicalNumber(pair[0])
		require.NoError(t, err)
		b, err := canonicalNumber(pair[1])
		require.NoError(t, err)
		assert.Equal(t, a, b, "%s and %s", pair[0], pair[1])
	}
	a, _ := canonicalNumber("1.5")
	b, _ := canonicalNumber("1.05")
	assert.NotEqual(t, a, b)
}
