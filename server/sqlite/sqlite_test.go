package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/server/storage/storagetest"
)

// MustOpenDB opens a fresh database in a temporary folder and closes it when
// the test ends.
func MustOpenDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "test.db"))
	require.NoError(tb, db.Open())
	tb.Cleanup(func() { require.NoError(tb, db.Close()) })
	return db
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Harness {
		db := MustOpenDB(t)
		return storagetest.Harness{
			Storage: db, Assignments: db.Assignments(),
			CreateUser: func(ctx context.Context, role audit.Role, email string) (string, error) {
				u := &audit.User{Email: email, Role: role}
				err := app.New(db, app.Options{}).CreateUser(ctx, u, "not-a-real-hash")
				return u.ID, err
			},
		}
	})
}

// TestChecklistVersions_ImmutableInSchema shows that the schema itself
// refuses to change a published version, whatever code runs against it.
func TestChecklistVersions_ImmutableInSchema(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	_, err := app.New(db, app.Options{}).SaveDraft(ctx, storagetest.Checklist("c", "q"), "me")
	require.NoError(t, err)
	_, err = app.New(db, app.Options{}).PublishVersion(ctx, "c", 1)
	require.NoError(t, err)

	for name, stmt := range map[string]string{
		"content":   `UPDATE checklist_versions SET content = '{}' WHERE checklist_id = 'c'`,
		"hash":      `UPDATE checklist_versions SET content_hash = 'x' WHERE checklist_id = 'c'`,
		"unpublish": `UPDATE checklist_versions SET state = 'draft' WHERE checklist_id = 'c'`,
		"delete":    `DELETE FROM checklist_versions WHERE checklist_id = 'c'`,
	} {
		t.Run(name, func(t *testing.T) {
			tx, err := db.BeginTx(ctx)
			require.NoError(t, err)
			defer tx.Rollback()
			_, err = tx.ExecContext(ctx, stmt)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "immutable")
		})
	}
	v, err := db.Checklists().Find(ctx, "c", 1)
	require.NoError(t, err)
	assert.NoError(t, v.Verify())
}

// TestDB_Reopen applies migrations once and keeps data across reopening.
func TestDB_Reopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	db := sqlite.NewDB(path)
	require.NoError(t, db.Open())
	ctx := context.Background()
	require.NoError(t, app.New(db, app.Options{}).CreateUser(ctx, &audit.User{Email: "a@example.com", Role: audit.RoleAdmin}, "h"))
	first, err := db.Migrations(ctx)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	db = sqlite.NewDB(path)
	require.NoError(t, db.Open())
	defer db.Close()
	again, err := db.Migrations(ctx)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	n, err := db.Users().Count(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

// TestDB_Checkpointer: a commit reaches the database file itself soon
// after it is made, through the checkpointer, without waiting for the WAL
// to grow to SQLite's threshold (1000 pages) and without the writer
// copying it: a copy of the database file alone, without its WAL, holds
// the new row.
func TestDB_Checkpointer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := sqlite.NewDB(filepath.Join(dir, "test.db"))
	require.NoError(t, db.Open())
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	u := &audit.User{Email: "checkpointed@example.com", Role: audit.RoleShopper}
	require.NoError(t, app.New(db, app.Options{}).CreateUser(ctx, u, "h"))

	copied := filepath.Join(dir, "copy.db")
	found := func() bool {
		b, err := os.ReadFile(db.Path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(copied, b, 0o600))
		c, err := sql.Open("sqlite3", "file:"+copied+"?mode=ro")
		require.NoError(t, err)
		defer c.Close()
		var n int
		if err := c.QueryRow(`SELECT COUNT(*) FROM users WHERE email = ?`, u.Email).Scan(&n); err != nil {
			return false
		}
		return n == 1
	}
	require.Eventually(t, found, 5*time.Second, 20*time.Millisecond, "the database file holds the commit")
}

func TestSigningKeys(t *testing.T) { storagetest.SigningKeys(t, MustOpenDB(t).SigningKeys()) }

func TestRateLimits(t *testing.T) { storagetest.RateLimits(t, MustOpenDB(t).RateLimits()) }
