package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/migration"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLock is the key of the advisory lock every step of migrating
// holds, so that servers starting at once take turns: the first applies
// what is missing, the others find it applied.
const migrationLock int64 = 0x73686f7073636f72 // "shopscor"

// loadMigrations reads migrations/NNNN_name.sql from fsys in version
// order, refusing a name without a number and two files with one number
// (internal/migration, the rule SQLite's migrations follow too).
func loadMigrations(fsys fs.FS) ([]migration.File, error) {
	ms, err := migration.Load(fsys, "migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return ms, nil
}

// migrate applies the migrations of fsys the database lacks, each in one
// transaction holding the migration lock. A database with a migration
// fsys lacks, or with another file under a number, is refused
// (EPRECONDITION): a newer or another build made it.
func (db *DB) migrate(ctx context.Context, fsys fs.FS) error {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	var applied map[int]string
	err = db.locked(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("postgres: create schema_migrations: %w", err)
		}
		applied, err = appliedMigrations(ctx, tx)
		return err
	})
	if err != nil {
		return err
	}
	if err := checkKnown(ms, applied); err != nil {
		return err
	}
	for _, m := range ms {
		if _, ok := applied[m.Version]; ok {
			continue
		}
		err := db.locked(ctx, func(tx pgx.Tx) error {
			// Another server may have applied it while this one waited.
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&done); err != nil {
				return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
			}
			if done {
				return nil
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
			}
			db.applied = append(db.applied, m.Name)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return db.locked(ctx, func(tx pgx.Tx) error { return rebaseFeed(ctx, tx) })
}

// Migrations returns the names of the applied migrations in order, the
// newest last (as the SQLite backend's Migrations does).
func (db *DB) Migrations(ctx context.Context) ([]string, error) {
	var applied map[int]string
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) (err error) {
		applied, err = appliedMigrations(ctx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	versions := make([]int, 0, len(applied))
	for v := range applied {
		versions = append(versions, v)
	}
	sort.Ints(versions)
	names := make([]string, len(versions))
	for i, v := range versions {
		names[i] = applied[v]
	}
	return names, nil
}

// locked runs fn in a transaction that holds the migration lock, and
// commits it.
func (db *DB) locked(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("postgres: migration lock: %w", err)
		}
		return fn(tx)
	})
}

// appliedMigrations returns the applied migrations' names by version.
func appliedMigrations(ctx context.Context, tx pgx.Tx) (map[int]string, error) {
	rows, err := tx.Query(ctx, `SELECT version, name FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("postgres: read schema_migrations: %w", err)
	}
	out := map[int]string{}
	var v int
	var name string
	_, err = pgx.ForEachRow(rows, []any{&v, &name}, func() error {
		out[v] = name
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read schema_migrations: %w", err)
	}
	return out, nil
}

// checkKnown refuses a database whose applied migrations are not all
// among ms, by number and name.
func checkKnown(ms []migration.File, applied map[int]string) error {
	known := make(map[int]string, len(ms))
	for _, m := range ms {
		known[m.Version] = m.Name
	}
	var unknown []int
	for v, name := range applied {
		if k, ok := known[v]; !ok {
			unknown = append(unknown, v)
		} else if k != name {
			return audit.Errorf(audit.EPRECONDITION,
				"the database's migration %d is %s, but this shopscore's is %s: it was migrated by another build", v, name, k)
		}
	}
	if len(unknown) > 0 {
		sort.Ints(unknown)
		names := make([]string, len(unknown))
		for i, v := range unknown {
			names[i] = applied[v]
		}
		return audit.Errorf(audit.EPRECONDITION,
			"the database has migrations this shopscore does not know (%s; it knows %d): it was migrated by a newer shopscore; run that version or a newer one",
			strings.Join(names, ", "), len(ms))
	}
	return nil
}
