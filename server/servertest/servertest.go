// Package servertest runs a real shopscore server for the tests of other
// packages: the server's own end-to-end tests, the field client's, the
// shopper CLI's and the fault-injection tests all start it the same way.
package servertest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for Inspect
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/internal/sqlitedb"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/server/storage/testdb"
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
		cfg = Storage(tb, cfg)
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

// Storage returns cfg with Storage set to the database of cfg.DataDir (a
// new temporary folder when empty) on the backend the tests run on
// (testdb: SQLite by default, PostgreSQL with SHOPSCORE_TEST_BACKEND=
// postgres), on cfg's clock. A server restarted on the same folder finds
// the same database. The server that cfg starts closes it.
func Storage(tb testing.TB, cfg server.Config) server.Config {
	tb.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = tb.TempDir()
	}
	cfg.Storage = testdb.OpenAt(tb, cfg.DataDir, cfg.Now)
	return cfg
}

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
// read-only, beside a server that may be running. It is SQLite's only;
// tests that run on both backends use Inspect.
func OpenDB(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite3", sqlitedb.DSN(path, sqlitedb.Options{Mode: sqlitedb.ReadOnly}))
	require.NoError(tb, err)
	tb.Cleanup(func() { db.Close() })
	require.NoError(tb, db.Ping())
	return db
}

// Inspector reads the database of a server's data folder directly, beside
// a server that may be running, on whichever backend the folder's server
// runs (testdb.OpenAt), for the tests that count rows no API shows (a
// visit stored once, a photo slot verified). Its queries are written with
// ? placeholders in SQL both backends read; on PostgreSQL they become $1,
// $2, ….
type Inspector struct {
	db       *sql.DB
	postgres bool
}

// Inspect opens the database of the server data folder dir for reading;
// it is closed when the test ends.
func Inspect(tb testing.TB, dir string) *Inspector {
	tb.Helper()
	if url, ok := testdb.URLAt(dir); ok {
		db, err := sql.Open("pgx", url)
		require.NoError(tb, err)
		tb.Cleanup(func() { db.Close() })
		require.NoError(tb, db.Ping())
		return &Inspector{db: db, postgres: true}
	}
	return &Inspector{db: OpenDB(tb, DBPath(dir))}
}

// QueryRow runs a query expected to return at most one row.
func (in *Inspector) QueryRow(query string, args ...any) *sql.Row {
	return in.db.QueryRow(in.rebind(query), args...)
}

// Query runs a query.
func (in *Inspector) Query(query string, args ...any) (*sql.Rows, error) {
	return in.db.Query(in.rebind(query), args...)
}

// rebind numbers the ? placeholders of query for PostgreSQL.
func (in *Inspector) rebind(query string) string {
	if !in.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
