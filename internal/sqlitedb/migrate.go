package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migration is one numbered SQL file: NNNN_name.sql.
type Migration struct {
	Version int
	Name    string // the file's name, 0001_init.sql
	SQL     string
}

// LoadMigrations reads the *.sql files of folder dir in fsys (an embedded
// folder), in the order of their numbers. A file whose name does not
// start with a number followed by "_", or two files with the same number,
// are an error: which of the two would count as applied is undefined.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	byVersion := map[int]string{}
	var out []Migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 0 {
			return nil, fmt.Errorf("migration %s: the name must start with a number and _ (0001_name.sql)", base)
		}
		if other, dup := byVersion[n]; dup {
			return nil, fmt.Errorf("migrations %s and %s have the same number %d", other, base, n)
		}
		byVersion[n] = base
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", base, err)
		}
		out = append(out, Migration{Version: n, Name: base, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// migrationsTable is the table of applied migrations. Field clients up
// to the shared runner named its last column applied_ms; Migrate renames
// it, keeping the rows.
const migrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`

// Migrate applies every migration of ms that db has not applied yet, in
// order, each in its own transaction together with its row in
// schema_migrations (applied at now).
func Migrate(ctx context.Context, db *sql.DB, ms []Migration, now time.Time) error {
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
func Missing(ctx context.Context, q Queryer, ms []Migration) (int, error) {
	var applied int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&applied); err != nil {
		return 0, err
	}
	return max(len(ms)-applied, 0), nil
}
