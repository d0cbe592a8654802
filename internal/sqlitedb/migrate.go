package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/shopscore/shopscore/internal/migration"
)

// migrationsTable is the table of applied migrations. Field clients up
// to the shared runner named its last column applied_ms; Migrate renames
// it, keeping the rows.
const migrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`

// Migrate applies every migration of ms that db has not applied yet, in
// order, each in its own transaction together with its row in
// schema_migrations (applied at now).
func Migrate(ctx context.Context, db *sql.DB, ms []migration.File, now time.Time) error {
	if err := Update(ctx, db, migrationsTableTx); err != nil {
		return fmt.Errorf("schema_migrations: %w", err)
	}
	for _, m := range ms {
		err := Update(ctx, db, func(tx *sql.Tx) error {
			var done int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&done); err != nil || done > 0 {
				return err
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, Millis(now))
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// migrationsTableTx creates schema_migrations, or renames the applied_ms
// column of an older one to applied_at.
func migrationsTableTx(tx *sql.Tx) error {
	if _, err := tx.Exec(migrationsTable); err != nil {
		return err
	}
	var old int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM pragma_table_info('schema_migrations') WHERE name = 'applied_ms'`).Scan(&old); err != nil {
		return err
	}
	if old == 0 {
		return nil
	}
	_, err := tx.Exec(`ALTER TABLE schema_migrations RENAME COLUMN applied_ms TO applied_at`)
	return err
}

// Queryer is a *sql.DB, *sql.Conn or *sql.Tx.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Applied returns the names of the applied migrations, oldest first.
func Applied(ctx context.Context, q Queryer) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Missing returns how many of ms the database has not applied; an error
// when it has no schema_migrations table.
func Missing(ctx context.Context, q Queryer, ms []migration.File) (int, error) {
	var applied int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&applied); err != nil {
		return 0, err
	}
	return max(len(ms)-applied, 0), nil
}
