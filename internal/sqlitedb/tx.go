package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
)

// Tx is what the transaction helpers need of a transaction: *sql.Tx, or a
// type that embeds it.
type Tx interface {
	Commit() error
	Rollback() error
}

// Commit runs fn in tx and commits tx when fn succeeds; otherwise, or
// when fn panics, tx is rolled back and fn's error returned.
func Commit[T Tx](tx T, fn func(T) error) error {
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Discard runs fn in tx and rolls back whatever it did: a read snapshot,
// or a trial of changes seen from inside without storing them.
func Discard[T Tx](tx T, fn func(T) error) error {
	defer tx.Rollback()
	return fn(tx)
}

// Update runs fn in a new write transaction on db and commits it when fn
// succeeds.
func Update(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	return Commit(tx, fn)
}
