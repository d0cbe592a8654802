package field

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"time"

	_ "github.com/mattn/go-sqlite3" // the database/sql driver "sqlite3"

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
