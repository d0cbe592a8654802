//go:build unix

package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/sqlite"
)

// TestDB_FilesPrivate checks that the database, its WAL and its
// shared-memory file are created 0600 in a folder the operator made
// readable by all, under a permissive umask.
func TestDB_FilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := filepath.Join(t.TempDir(), "data")
	require.NoError(t, os.Mkdir(dir, 0o755))
	path := filepath.Join(dir, "shopscore.db")
	db := sqlite.NewDB(path)
	require.NoError(t, db.Open())
	t.Cleanup(func() { db.Close() })
	// A write makes sure the WAL and the shared-memory file exist.
	require.NoError(t, app.New(db, app.Options{}).CreateUser(context.Background(), &audit.User{Email: "a@example.com", Role: audit.RoleAdmin}, "h"))
	for _, name := range []string{"shopscore.db", "shopscore.db-wal", "shopscore.db-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err, name)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
	}
}
