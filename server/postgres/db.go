// Package postgres stores shopscore's data in PostgreSQL (jackc/pgx v5,
// pgxpool), for several servers sharing one database. It implements the
// interfaces of package storage and adds no rule of its own. Migrations
// are embedded SQL files, applied in order at Open, each in one
// transaction, under an advisory lock so that servers starting at once
// apply each of them once.
//
// Write transactions run SERIALIZABLE: the use cases were written for
// SQLite's single writer, where every write transaction sees the ones
// before it whole, and PostgreSQL's serializable isolation gives them the
// same guarantee across servers. A transaction the database aborts for a
// serialization conflict or a deadlock is run again (Update and Trial call
// their function again, in a new transaction); reads run REPEATABLE READ
// READ ONLY, one snapshot for the whole View. A connection lost mid-way (a
// restart, a terminated backend, a cut network) is storage.ErrUnavailable,
// which the server answers Unavailable and a device retries.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopscore/shopscore/server/storage"
)

// DB is a PostgreSQL database, reached through a pool of connections.
type DB struct {
	// Now is the clock; tests replace it.
	Now func() time.Time

	pool *pgxpool.Pool
	// locks holds the transactions that hold locks for longer than one
	// transaction of pool (Photos.LockHash): a pool of its own, so that
	// callers holding such a lock, and waiting for a connection of pool,
	// never take pool's last connections.
	locks *pgxpool.Pool
	// applied names the migrations this Open applied (tests read it).
	applied []string
}

// Open connects to the database at url (postgres://…, or a key=value
// connection string), applies the migrations it lacks, and returns it.
// It refuses a database that has migrations this build does not know
// (one migrated by a newer shopscore).
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		// Times come back in UTC, as the SQLite backend returns them.
		c.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	lockCfg := cfg.Copy()
	lockCfg.MaxConns = maxLockConns
	locks, err := pgxpool.NewWithConfig(ctx, lockCfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := &DB{Now: time.Now, pool: pool, locks: locks}
	if err := db.migrate(ctx, migrationFS); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Where names the database for people: host, port and database name,
// never the password.
func (db *DB) Where() string {
	c := db.pool.Config().ConnConfig
	return fmt.Sprintf("postgres://%s:%d/%s", c.Host, c.Port, c.Database)
}

// maxLockConns bounds the connections of the lock pool: how many photo
// verifications of one server run at once; more wait for a turn.
const maxLockConns = 8

// Close closes every connection of the pools.
func (db *DB) Close() error {
	db.pool.Close()
	db.locks.Close()
	return nil
}

// Tx is a transaction with its notion of "now".
type Tx struct {
	pgx.Tx
	db       *DB
	now      time.Time
	readOnly bool
}

// Now is the transaction's notion of the present (storage.Tx), to the
// millisecond: what SQLite stores, so that both backends return the same
// times.
func (tx *Tx) Now() time.Time { return tx.now }

// maxAttempts bounds how often a write transaction is run when the
// database aborts it for a serialization conflict or a deadlock; between
// attempts it waits a random time up to maxConflictWait, growing from a
// millisecond, so that the transactions in conflict spread out.
const (
	maxAttempts     = 20
	maxConflictWait = 100 * time.Millisecond
)

// begin starts a transaction with opts.
func (db *DB) begin(ctx context.Context, opts pgx.TxOptions) (*Tx, error) {
	t, err := db.pool.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("postgres: begin: %w", err)
	}
	return &Tx{Tx: t, db: db, now: db.Now().UTC().Truncate(time.Millisecond),
		readOnly: opts.AccessMode == pgx.ReadOnly}, nil
}

var (
	writeTx = pgx.TxOptions{IsoLevel: pgx.Serializable}
	readTx  = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
)

// update runs fn in a write transaction and commits it when fn succeeds;
// a serialization conflict or deadlock runs fn again in a new one.
func (db *DB) update(ctx context.Context, fn func(*Tx) error) error {
	return db.attempts(ctx, func() error {
		tx, err := db.begin(ctx, writeTx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		if err := fn(tx); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("postgres: commit: %w", err)
		}
		return nil
	})
}

// trial runs fn in a write transaction and rolls it back: what fn would
// do, seen from inside, without storing anything.
func (db *DB) trial(ctx context.Context, fn func(*Tx) error) error {
	return db.attempts(ctx, func() error {
		tx, err := db.begin(ctx, writeTx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		return fn(tx)
	})
}

// view runs fn in a read-only snapshot.
func (db *DB) view(ctx context.Context, fn func(*Tx) error) error {
	tx, err := db.begin(ctx, readTx)
	if err != nil {
		return unavailable(ctx, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	return unavailable(ctx, fn(tx))
}

// attempts is retry, its final error storage.ErrUnavailable when the
// connection failed.
func (db *DB) attempts(ctx context.Context, attempt func() error) error {
	return unavailable(ctx, db.retry(ctx, attempt))
}

// retry runs attempt until it succeeds, fails otherwise than by a
// conflict the database resolved by aborting it, or has run maxAttempts
// times.
func (db *DB) retry(ctx context.Context, attempt func() error) error {
	var err error
	for i := range maxAttempts {
		if err = attempt(); err == nil || !isConflict(err) {
			return err
		}
		wait := min(maxConflictWait, time.Millisecond<<i)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(rand.N(wait) + time.Millisecond):
		}
	}
	return fmt.Errorf("postgres: gave up after %d conflicting attempts: %w", maxAttempts, err)
}

// SQLSTATEs of the conflicts PostgreSQL resolves by aborting one
// transaction, which may then simply run again.
const (
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// unavailable returns err, wrapped in storage.ErrUnavailable when it is
// the database unreachable or the connection lost (isTransient) rather
// than the caller's context ending or an answer of the database.
func unavailable(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || errors.Is(err, storage.ErrUnavailable) || !isTransient(err) {
		return err
	}
	return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
}

// isTransient reports whether err is a fault of the connection, not of
// the work: the server refusing connections or shutting down
// (pg_terminate_backend, a restart: SQLSTATE class 08, 57P01-57P03, too
// many connections), a failed dial, a socket closed or cut mid-answer, or
// a connection the driver had closed already.
func isTransient(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57P01", "57P02", "57P03", "53300":
			return true
		}
		return strings.HasPrefix(pe.Code, "08")
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// isConflict reports whether err is the database aborting a transaction
// for a serialization conflict or a deadlock.
func isConflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == codeSerializationFailure || pe.Code == codeDeadlockDetected)
}
