//go:build unix

package server_test

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/servertest"
)

// TestServer_KEKFileMode checks that the key-encryption key made in the
// data folder is private, and that one other users may read is refused
// at start, naming the file.
func TestServer_KEKFileMode(t *testing.T) {
	cfg := server.Config{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv, err := server.New(servertest.SQLite(t, cfg))
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	path := filepath.Join(cfg.DataDir, server.KEKFileName)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	t.Run("ErrLooseMode", func(t *testing.T) {
		require.NoError(t, os.Chmod(path, 0o644))
		_, err := server.New(servertest.SQLite(t, cfg))
		require.Error(t, err)
		assert.Contains(t, err.Error(), path)
		assert.Contains(t, err.Error(), "0644")
	})
	t.Run("OK", func(t *testing.T) {
		require.NoError(t, os.Chmod(path, 0o600))
		srv, err := server.New(servertest.SQLite(t, cfg))
		require.NoError(t, err)
		require.NoError(t, srv.Close())
	})
}
