package field

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	_ "github.com/mattn/go-sqlite3" // the database/sql driver "sqlite3"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/migration"
	"github.com/shopscore/shopscore/internal/sqlitedb"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// openDB opens the database file at p: WAL journal, foreign keys, a busy
// timeout so that two processes (a sync and an edit) wait for each other,
// immediate write transactions, and every commit durable before it
// returns (a lost commit is a shopper's lost work). One connection serves
// the process.
func openDB(p string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", sqlitedb.DSN(p, sqlitedb.Options{Synchronous: sqlitedb.SyncFull}))
	if err != nil {
		return nil, fmt.Errorf("field: open database: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("field: open database %s: %w", p, err)
	}
	return db, nil
}

// openFolder makes the client's folder when needed and opens its
// database, migrated, with the device's ID made on first use and kept.
func openFolder(dir, photoDir string, now time.Time) (*sql.DB, error) {
	if err := os.MkdirAll(photoDir, 0o700); err != nil {
		return nil, fmt.Errorf("field: create data folder: %w", err)
	}
	db, err := openDB(filepath.Join(dir, DatabaseFile))
	if err != nil {
		return nil, err
	}
	if err := migrate(context.Background(), db, now); err != nil {
		db.Close()
		return nil, err
	}
	if _, err := db.Exec(`INSERT INTO device (id, device_id) VALUES (1, ?) ON CONFLICT (id) DO NOTHING`, uuid.NewString()); err != nil {
		db.Close()
		return nil, fmt.Errorf("field: create device: %w", err)
	}
	return db, nil
}

// inspectDB opens the database in dir only to read it (Config.Inspect):
// it creates nothing, and refuses a database this build would migrate.
func inspectDB(dir string) (*sql.DB, error) {
	p := filepath.Join(dir, DatabaseFile)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, audit.Errorf(audit.ENOTFOUND, "nothing is recorded on this device yet (no %s in %s): sign in with `shopper login --email E`", DatabaseFile, dir)
	} else if err != nil {
		return nil, fmt.Errorf("field: %w", err)
	}
	db, err := sql.Open("sqlite3", sqlitedb.DSN(p, sqlitedb.Options{Mode: sqlitedb.Inspect}))
	if err != nil {
		return nil, fmt.Errorf("field: open database: %w", err)
	}
	db.SetMaxOpenConns(1)
	ms, err := migrations()
	if err != nil {
		db.Close()
		return nil, err
	}
	missing, err := sqlitedb.Missing(context.Background(), db, ms)
	if err != nil {
		missing = len(ms)
	}
	if missing > 0 {
		db.Close()
		return nil, audit.Errorf(audit.EPRECONDITION, "the client's database at %s is from an older version (%d of %d migrations): run `shopper sync` to bring it up to date", p, len(ms)-missing, len(ms))
	}
	return db, nil
}

// migrations lists the embedded migrations in order.
func migrations() ([]migration.File, error) {
	ms, err := migration.Load(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("field: %w", err)
	}
	return ms, nil
}

// migrate applies every pending migration, each in its own transaction
// together with its row in schema_migrations.
func migrate(ctx context.Context, db *sql.DB, now time.Time) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if err := sqlitedb.Migrate(ctx, db, ms, now); err != nil {
		return fmt.Errorf("field: %w", err)
	}
	return nil
}

// update runs fn in a write transaction and commits it when fn succeeds.
func (c *Client) update(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("field: begin: %w", err)
	}
	return sqlitedb.Commit(tx, fn)
}
