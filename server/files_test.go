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

// TestServer_BlobSecretMode checks that a local evidence signing secret
// other users may read is refused at start, as the signing keys are.
func TestServer_BlobSecretMode(t *testing.T) {
	cfg := server.Config{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv, err := server.New(servertest.SQLite(t, cfg))
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	secret := filepath.Join(cfg.DataDir, "blob.secret")

	t.Run("ErrLooseMode", func(t *testing.T) {
		require.NoError(t, os.Chmod(secret, 0o644))
		_, err := server.New(servertest.SQLite(t, cfg))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "blob.secret")
		assert.Contains(t, err.Error(), "0644")
	})
	t.Run("OK", func(t *testing.T) {
		require.NoError(t, os.Chmod(secret, 0o600))
		srv, err := server.New(servertest.SQLite(t, cfg))
		require.NoError(t, err)
		require.NoError(t, srv.Close())
	})
}
