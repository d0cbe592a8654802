// Package servertest runs a real shopscore server for the tests of other
// packages: the server's own end-to-end tests, the field client's, the
// shopper CLI's and the fault-injection tests all start it the same way.
package servertest

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/internal/sqlitedb"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/sqlite"
)

// DemoPassword is the password of the demo users of a test server.
const DemoPassword = "correct horse battery staple"

// Running is a server listening on a loopback port.
type Running struct {
	*server.Server
	URL     string // http://127.0.0.1:PORT
	DataDir string
	DBPath  string // the SQLite database file
}

// Run starts a server on 127.0.0.1:0 with the demo organisation (users
// with DemoPassword), in a fresh data folder unless cfg names one, with
// logs discarded unless cfg has a logger, and shuts it down gracefully
// when the test ends.
func Run(tb testing.TB, cfg server.Config) *Running {
	tb.Helper()
	if cfg.Storage == nil {
		cfg = SQLite(tb, cfg)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := server.New(cfg)
	require.NoError(tb, err)
	_, err = demo.Seed(context.Background(), srv, DemoPassword)
	require.NoError(tb, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(tb, srv.Shutdown(ctx))
		require.NoError(tb, <-done)
	})
	return &Running{Server: srv, URL: "http://" + ln.Addr().String(), DataDir: cfg.DataDir, DBPath: DBPath(cfg.DataDir)}
}

// DBPath is where SQLite keeps the database of a data folder.
func DBPath(dataDir string) string { return filepath.Join(dataDir, "shopscore.db") }

// SQLite returns cfg with Storage set to the SQLite database of
// cfg.DataDir (a new temporary folder when empty) on cfg's clock, opened
// the way the binary opens it. The server that cfg starts closes it.
func SQLite(tb testing.TB, cfg server.Config) server.Config {
	tb.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = tb.TempDir()
	}
	db, err := sqlite.Open(DBPath(cfg.DataDir), cfg.Now)
	require.NoError(tb, err)
	cfg.Storage = db
	return cfg
}

// OpenDB opens the server database file at path (Running.DBPath)
// read-only, beside a server that may be running, for the tests that
// count rows no API shows (a visit stored once, a photo slot verified).
// It is closed when the test ends.
func OpenDB(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite3", sqlitedb.DSN(path, sqlitedb.Options{Mode: sqlitedb.ReadOnly}))
	require.NoError(tb, err)
	tb.Cleanup(func() { db.Close() })
	require.NoError(tb, db.Ping())
	return db
}
