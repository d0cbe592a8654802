// Package testdb opens the database a test runs its use cases on: an
// SQLite file in the test's own folder by default, or a fresh PostgreSQL
// database of its own (package pgtest) when SHOPSCORE_TEST_BACKEND is
// "postgres". `make test` runs the suites that use it once on each
// backend, so that every use case is proven on both (issue 12).
package testdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shopscore/shopscore/server/postgres"
	"github.com/shopscore/shopscore/server/postgres/pgtest"
	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/server/storage"
)

// BackendVar names the variable that chooses the backend: "sqlite" (or
// empty) or "postgres".
const BackendVar = "SHOPSCORE_TEST_BACKEND"

// Backend returns the backend the tests of this process run on.
func Backend() string {
	switch b := os.Getenv(BackendVar); b {
	case "", "sqlite":
		return "sqlite"
	default:
		return b
	}
}

// Postgres reports whether the tests run on PostgreSQL.
func Postgres() bool { return Backend() == "postgres" }

// Clock is a test's notion of the present: the database and the use
// cases both read it, and the test moves it.
type Clock struct {
	mu sync.Mutex
	at time.Time // zero: the real time
}

// NewClock returns a clock stopped at at (zero: one that follows the
// real time until Set).
func NewClock(at time.Time) *Clock { return &Clock{at: at} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() {
		return time.Now()
	}
	return c.at
}

// Set stops the clock at at; the zero time lets it follow the real time
// again.
func (c *Clock) Set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = at
}

// Open returns a fresh, empty, migrated database on the chosen backend,
// reading the present from now (nil: the real time), closed when the
// test ends. An unknown backend, or PostgreSQL without a cluster, fails
// or skips the test the way pgtest.URL says.
func Open(tb testing.TB, now func() time.Time) storage.Storage {
	tb.Helper()
	return OpenAt(tb, tb.TempDir(), now)
}

// urlFile is where OpenAt leaves the URL of the PostgreSQL database it
// made for a folder, so that a test reopening the folder (a server
// restarted on the same data) finds the same database.
const urlFile = "test-database-url"

// URLAt returns the URL of the PostgreSQL database OpenAt made for
// folder dir, if it made one.
func URLAt(dir string) (string, bool) {
	raw, err := os.ReadFile(filepath.Join(dir, urlFile))
	return string(raw), err == nil
}

// UsePostgresAt makes folder dir name the PostgreSQL database at url,
// which the test made itself (a copy of a benchmark's starting state,
// pgtest.Copy): OpenAt, OpenPostgresAt, URLAt and servertest.Inspect of
// dir find it. The test drops it.
func UsePostgresAt(dir, url string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, urlFile), []byte(url), 0o600)
}

// OpenAt opens the database of folder dir on the chosen backend: SQLite's
// file dir/shopscore.db, or the PostgreSQL database made for dir on its
// first open (a fresh one, dropped when the test ends). The test closes
// what it opened (a server given it closes it).
func OpenAt(tb testing.TB, dir string, now func() time.Time) storage.Storage {
	tb.Helper()
	if now == nil {
		now = time.Now
	}
	switch Backend() {
	case "sqlite":
		db, err := sqlite.Open(filepath.Join(dir, "shopscore.db"), now)
		if err != nil {
			tb.Fatalf("open SQLite: %v", err)
		}
		tb.Cleanup(func() { _ = db.Close() })
		return db
	case "postgres":
		return OpenPostgresAt(tb, dir, now)
	default:
		tb.Fatalf("%s=%q: want sqlite or postgres", BackendVar, Backend())
		panic(fmt.Sprintf("unreachable: %s", BackendVar))
	}
}

// OpenPostgresAt opens the PostgreSQL database made for folder dir,
// whatever the backend of the run: a fresh one on its first open (the
// URL left in dir, dropped when the test ends), the same one after. Tests
// of several servers on one database (PostgreSQL by nature) open it once
// per server; it skips or fails without a cluster the way pgtest.URL
// says. The test closes what it opened (a server given it closes it).
func OpenPostgresAt(tb testing.TB, dir string, now func() time.Time) *postgres.DB {
	tb.Helper()
	if now == nil {
		now = time.Now
	}
	path := filepath.Join(dir, urlFile)
	raw, err := os.ReadFile(path)
	url := string(raw)
	if os.IsNotExist(err) {
		url = pgtest.URL(tb)
		if err := UsePostgresAt(dir, url); err != nil {
			tb.Fatal(err)
		}
	} else if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := postgres.Open(ctx, url)
	if err != nil {
		tb.Fatalf("open PostgreSQL: %v", err)
	}
	db.Now = now
	tb.Cleanup(func() { _ = db.Close() })
	return db
}
