// Package sqlite stores shopscore's data in an embedded SQLite database
// (github.com/mattn/go-sqlite3): WAL journal, foreign keys on, a busy
// timeout, one writer connection and a pool of readers. Migrations are
// embedded SQL files applied in order, each in its own transaction, by the
// runner the field client uses too (internal/sqlitedb).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/migration"
	"github.com/shopscore/shopscore/internal/sqlitedb"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is the database. Writes go through a single connection so that they
// never contend for SQLite's write lock; reads use a separate pool and see
// a consistent snapshot per transaction (WAL).
type DB struct {
	Path string
	// Now is the clock; tests replace it.
	Now func() time.Time

	write *sql.DB
	read  *sql.DB
	// checkpoints copies the WAL into the database file on a connection
	// of its own, after commits (see checkpointer).
	checkpoints *sql.DB
	wrote       chan struct{} // a commit happened (capacity 1)
	stop        chan struct{} // closed by Close
	stopped     chan struct{} // closed when the checkpointer has ended
	// hashLocks are Photos.LockHash's locks, one for each of as many
	// groups of hashes: a channel holding one token, taken to lock.
	hashLocks [64]chan struct{}
}

// driverName is go-sqlite3 with the SQL functions our queries add.
const driverName = "sqlite3_shopscore"

// writerDriverName is the same for the writer connection, which leaves
// checkpoints to the checkpointer (wal_autocheckpoint off).
const writerDriverName = "sqlite3_shopscore_writer"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		return c.RegisterFunc("fold", fold, true)
	}})
	sql.Register(writerDriverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		if _, err := c.Exec(`PRAGMA wal_autocheckpoint = 0`, nil); err != nil {
			return err
		}
		return c.RegisterFunc("fold", fold, true)
	}})
}

// fold is the SQL function fold(text): the text in lower case by
// Unicode's rules, where SQLite's lower() changes ASCII letters only, so
// that searching "any case" finds "Анна" for "анна".
func fold(s string) string { return strings.ToLower(s) }

// matchText returns an SQL condition that holds when any of the columns
// cols contains q in any case (Unicode), with its arguments.
func matchText(q string, cols ...string) (string, []any) {
	conds := make([]string, len(cols))
	args := make([]any, len(cols))
	for i, c := range cols {
		conds[i], args[i] = `instr(fold(`+c+`), fold(?)) > 0`, q
	}
	return `(` + strings.Join(conds, ` OR `) + `)`, args
}

// NewDB returns a DB for the file at path. Call Open before use.
func NewDB(path string) *DB {
	db := &DB{Path: path, Now: time.Now}
	for i := range db.hashLocks {
		db.hashLocks[i] = make(chan struct{}, 1)
		db.hashLocks[i] <- struct{}{}
	}
	return db
}

// Open opens the database file at path with the clock now (time.Now when
// nil), creating and migrating it as DB.Open does: what a binary or a test
// hands to server.Config.Storage.
func Open(path string, now func() time.Time) (*DB, error) {
	db := NewDB(path)
	if now != nil {
		db.Now = now
	}
	if err := db.Open(); err != nil {
		return nil, err
	}
	return db, nil
}

// Open opens the database, creating the file and its folder if needed, and
// applies any pending migrations. A new database file is created with
// mode 0600 whatever the folder's mode and the process's umask; SQLite
// gives its WAL and shared-memory files the mode of the database, so they
// are private too.
func (db *DB) Open() error {
	if db.Path == "" {
		return errors.New("sqlite: database path required")
	}
	if db.Path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(db.Path), 0o700); err != nil {
			return fmt.Errorf("sqlite: create data folder: %w", err)
		}
		if err := createPrivate(db.Path); err != nil {
			return fmt.Errorf("sqlite: create database: %w", err)
		}
	}
	var err error
	if db.write, err = sql.Open(writerDriverName, dsn(db.Path, sqlitedb.ReadWrite)); err != nil {
		return fmt.Errorf("sqlite: open writer: %w", err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetConnMaxIdleTime(0)
	if err := db.migrate(context.Background()); err != nil {
		db.write.Close()
		return err
	}
	if db.read, err = sql.Open(driverName, dsn(db.Path, sqlitedb.ReadOnly)); err != nil {
		db.write.Close()
		return fmt.Errorf("sqlite: open readers: %w", err)
	}
	db.read.SetMaxOpenConns(8)
	if db.checkpoints, err = sql.Open(driverName, dsn(db.Path, sqlitedb.ReadWrite)); err != nil {
		db.read.Close()
		db.write.Close()
		return fmt.Errorf("sqlite: open checkpointer: %w", err)
	}
	db.checkpoints.SetMaxOpenConns(1)
	db.wrote, db.stop, db.stopped = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go db.checkpointer()
	return nil
}

// OpenReadOnly opens an existing database for reading only: it creates
// no file or folder and applies no migration, for the commands that only
// read (`shopscore user list`). Writes fail. Errors: ENOTFOUND when there
// is no database at Path, EPRECONDITION when it lacks migrations
// this build has (run `shopscore migrate`).
func (db *DB) OpenReadOnly() error {
	if _, err := os.Stat(db.Path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return audit.Errorf(audit.ENOTFOUND, "no database at %s", db.Path)
		}
		return fmt.Errorf("sqlite: %w", err)
	}
	// sqlitedb.Inspect removes the WAL and shared-memory files it makes
	// when it closes last, where SQLite's mode=ro would leave them.
	var err error
	if db.read, err = sql.Open("sqlite3", sqlitedb.DSN(db.Path, sqlitedb.Options{Mode: sqlitedb.Inspect})); err != nil {
		return fmt.Errorf("sqlite: open readers: %w", err)
	}
	db.read.SetMaxOpenConns(8)
	ms, err := migrations()
	if err != nil {
		db.read.Close()
		return err
	}
	missing, err := sqlitedb.Missing(context.Background(), db.read, ms)
	if err != nil {
		missing = len(ms)
	}
	if missing > 0 {
		db.read.Close()
		return audit.Errorf(audit.EPRECONDITION, "the database at %s has %d of %d migrations: run `shopscore migrate` first", db.Path, len(ms)-missing, len(ms))
	}
	return nil
}

// checkpointDelay is how long the checkpointer lets commits gather
// before it copies them into the database file.
const checkpointDelay = 100 * time.Millisecond

// checkpointer copies committed WAL frames into the database file, at
// most once per checkpointDelay while commits come, on its own
// connection. SQLite would otherwise do it inside the commit that crosses
// its threshold (wal_autocheckpoint), with the writer held: that copy and
// its fsync took a third of a busy writer's time (BENCHMARKS.md, W5). A
// PASSIVE checkpoint never blocks the writer or readers; what it cannot
// copy yet (a reader still needs it) the next one does. A failed
// checkpoint leaves the frames in the WAL, where they are as safe as
// in the database file, for the next one.
func (db *DB) checkpointer() {
	defer close(db.stopped)
	for {
		select {
		case <-db.stop:
			return
		case <-db.wrote:
		}
		select {
		case <-db.stop:
			return
		case <-time.After(checkpointDelay):
		}
		_, _ = db.checkpoints.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
	}
}

// committed tells the checkpointer that a write transaction committed.
func (db *DB) committed() {
	select {
	case db.wrote <- struct{}{}:
	default:
	}
}

// createPrivate creates an empty file at path with mode 0600 unless a
// file is there already. SQLite would create it with 0644 less the umask.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	// The umask may only have removed bits; make sure of the mode anyway.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Close stops the checkpointer and closes the connections; the last one
// to close copies what is left in the WAL into the database file.
func (db *DB) Close() error {
	var errs []error
	if db.checkpoints != nil {
		close(db.stop)
		<-db.stopped
		errs = append(errs, db.checkpoints.Close())
		db.checkpoints = nil
	}
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	return errors.Join(errs...)
}

// statementCache is how many prepared statements each connection keeps
// (mattn/go-sqlite3's _stmt_cache_size): more than the distinct statements
// of a push or a report.
const statementCache = 128

// dsn is the connection string of the server's connections: synchronous
// NORMAL (a commit lost to a power cut is a push the phone repeats), and
// every connection keeps its last statementCache prepared statements and
// reuses them by their SQL text, so that a push's or a report's repeated
// statements are parsed once, not once per row or visit.
func dsn(path string, mode sqlitedb.Mode) string {
	return sqlitedb.DSN(path, sqlitedb.Options{Mode: mode, Synchronous: sqlitedb.SyncNormal, StatementCache: statementCache})
}

// Tx is a transaction with the request's notion of "now".
type Tx struct {
	*sql.Tx
	db       *DB
	now      time.Time
	readOnly bool
}

// Now is the transaction's notion of the present (storage.Tx).
func (tx *Tx) Now() time.Time { return tx.now }

// BeginTx starts a write transaction on the single writer connection.
func (db *DB) BeginTx(ctx context.Context) (*Tx, error) {
	if db.write == nil {
		return nil, errors.New("sqlite: begin: the database is open read-only")
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	return &Tx{Tx: tx, db: db, now: db.Now().UTC()}, nil
}

// BeginRead starts a read-only transaction: one snapshot for all its reads.
func (db *DB) BeginRead(ctx context.Context) (*Tx, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin read: %w", err)
	}
	return &Tx{Tx: tx, db: db, now: db.Now().UTC(), readOnly: true}, nil
}

// update runs fn in a write transaction and commits it when fn succeeds.
func (db *DB) update(ctx context.Context, fn func(*Tx) error) error {
	tx, err := db.BeginTx(ctx)
	if err != nil {
		return err
	}
	if err := sqlitedb.Commit(tx, fn); err != nil {
		return err
	}
	db.committed()
	return nil
}

// trial runs fn in a write transaction and rolls it back: what fn would
// do, seen from inside, without storing anything (an import's
// validate-only run takes the same path as the real one).
func (db *DB) trial(ctx context.Context, fn func(*Tx) error) error {
	tx, err := db.BeginTx(ctx)
	if err != nil {
		return err
	}
	return sqlitedb.Discard(tx, fn)
}

// view runs fn in a read-only snapshot.
func (db *DB) view(ctx context.Context, fn func(*Tx) error) error {
	tx, err := db.BeginRead(ctx)
	if err != nil {
		return err
	}
	return sqlitedb.Discard(tx, fn)
}

// migrations are the embedded migrations, in order.
func migrations() ([]migration.File, error) {
	ms, err := migration.Load(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return ms, nil
}

func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if err := sqlitedb.Migrate(ctx, db.write, ms, db.Now()); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// Where names the database for people: its file.
func (db *DB) Where() string { return db.Path }

// Migrations returns the applied migrations, oldest first.
func (db *DB) Migrations(ctx context.Context) ([]string, error) {
	return sqlitedb.Applied(ctx, db.write)
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY failure.
func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint &&
		(se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// queryAll runs a query in tx and scans every row with scan.
func queryAll[T any](ctx context.Context, tx *Tx, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
