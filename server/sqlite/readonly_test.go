package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/server/storage"
)

// TestDB_OpenReadOnly: a read-only database creates no file, reads what
// is there, refuses every write and leaves the folder as it found it.
func TestDB_OpenReadOnly(t *testing.T) {
	ctx := context.Background()
	t.Run("ErrNotFound", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		err := sqlite.NewDB(filepath.Join(dir, "shopscore.db")).OpenReadOnly()
		assert.Equal(t, audit.ENOTFOUND, audit.ErrorCode(err), "%v", err)
		_, err = os.Stat(dir)
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "shopscore.db")
		w := sqlite.NewDB(path)
		require.NoError(t, w.Open())
		require.NoError(t, app.New(w, app.Options{}).CreateUser(ctx, &audit.User{Email: "ann@example.com", Role: audit.RoleHR}, "hash"))
		require.NoError(t, w.Close())
		before, err := os.ReadDir(dir)
		require.NoError(t, err)

		db := sqlite.NewDB(path)
		require.NoError(t, db.OpenReadOnly())
		users, err := db.Users().List(ctx, storage.UserFilter{Limit: 10})
		require.NoError(t, err)
		require.Len(t, users, 1)
		assert.Equal(t, "ann@example.com", users[0].Email)
		assert.Error(t, app.New(db, app.Options{}).CreateUser(ctx, &audit.User{Email: "bob@example.com", Role: audit.RoleHR}, "hash"))
		require.NoError(t, db.Close())

		after, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Equal(t, len(before), len(after), "%v, then %v", before, after)
	})
}
