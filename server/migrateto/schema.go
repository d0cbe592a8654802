package migrateto

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/internal/sqlitedb"
)

// schema is one side's tables: their columns and types (SQLite's
// declared type, PostgreSQL's udt_name), and on PostgreSQL its sequences
// with the column that owns each ("table.column", "" for none).
type schema struct {
	tables    map[string]map[string]string
	sequences map[string]string
}

// sqliteSchema reads the tables of a SQLite database, but SQLite's own.
func sqliteSchema(ctx context.Context, q sqlitedb.Queryer) (*schema, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return nil, fmt.Errorf("read the SQLite tables: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read the SQLite tables: %w", err)
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the SQLite tables: %w", err)
	}
	s := &schema{tables: map[string]map[string]string{}}
	for _, n := range names {
		cols := map[string]string{}
		rows, err := q.QueryContext(ctx, `SELECT name, type FROM pragma_table_info(?)`, n)
		if err != nil {
			return nil, fmt.Errorf("read the SQLite columns of %s: %w", n, err)
		}
		for rows.Next() {
			var c, t string
			if err := rows.Scan(&c, &t); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read the SQLite columns of %s: %w", n, err)
			}
			cols[c] = strings.ToUpper(t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read the SQLite columns of %s: %w", n, err)
		}
		s.tables[n] = cols
	}
	return s, nil
}

// pgSchema reads the tables and sequences of the current schema of a
// PostgreSQL database.
func pgSchema(ctx context.Context, tx pgx.Tx) (*schema, error) {
	s := &schema{tables: map[string]map[string]string{}, sequences: map[string]string{}}
	rows, err := tx.Query(ctx, `SELECT c.table_name, c.column_name, c.udt_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`)
	if err != nil {
		return nil, fmt.Errorf("read the PostgreSQL columns: %w", err)
	}
	for rows.Next() {
		var t, c, udt string
		if err := rows.Scan(&t, &c, &udt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read the PostgreSQL columns: %w", err)
		}
		if s.tables[t] == nil {
			s.tables[t] = map[string]string{}
		}
		s.tables[t][c] = udt
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the PostgreSQL columns: %w", err)
	}
	// A sequence is owned by a column through an 'a' (OWNED BY, serial)
	// or 'i' (identity) dependency.
	rows, err = tx.Query(ctx, `SELECT s.relname, COALESCE(t.relname || '.' || a.attname, '')
		FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace
		LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
			AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
		LEFT JOIN pg_class t ON t.oid = d.refobjid
		LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
		WHERE s.relkind = 'S' AND n.nspname = current_schema()`)
	if err != nil {
		return nil, fmt.Errorf("read the PostgreSQL sequences: %w", err)
	}
	for rows.Next() {
		var seq, owner string
		if err := rows.Scan(&seq, &owner); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read the PostgreSQL sequences: %w", err)
		}
		s.sequences[seq] = owner
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the PostgreSQL sequences: %w", err)
	}
	return s, nil
}

// checkMapping returns every way the two schemas and the mapping
// (tables, notCopied, sequences) disagree, or nil: a table or column that
// one side has and nothing in the mapping explains, an entry that names
// what is not there, a pair of types the copy cannot convert.
func checkMapping(src, dst *schema) error {
	var errs []error
	problem := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	mapped := map[string]bool{}
	for _, t := range tables {
		mapped[t.name] = true
	}
	for side, s := range map[string]*schema{"SQLite": src, "PostgreSQL": dst} {
		for _, n := range sortedKeys(s.tables) {
			if _, skip := notCopied[n]; !skip && !mapped[n] {
				problem("%s table %s is not in the mapping (server/migrateto/mapping.go)", side, n)
			}
		}
	}
	for _, t := range tables {
		sc, dc := src.tables[t.name], dst.tables[t.name]
		if sc == nil || dc == nil {
			for side, c := range map[string]map[string]string{"SQLite": sc, "PostgreSQL": dc} {
				if c == nil {
					problem("the mapping names table %s, which %s does not have", t.name, side)
				}
			}
			continue
		}
		for _, c := range sortedKeys(t.from) {
			if _, ok := dc[c]; !ok {
				problem("the mapping fills %s.%s, which PostgreSQL does not have", t.name, c)
			}
		}
		for _, c := range sortedKeys(t.own) {
			if _, ok := dc[c]; !ok {
				problem("the mapping leaves %s.%s to PostgreSQL, which does not have it", t.name, c)
			}
			if _, ok := t.from[c]; ok {
				problem("the mapping both fills %s.%s and leaves it to PostgreSQL", t.name, c)
			}
		}
		for _, c := range sortedKeys(t.gone) {
			if _, ok := sc[c]; !ok {
				problem("the mapping drops SQLite's %s.%s, which SQLite does not have", t.name, c)
			}
			if _, ok := dc[c]; ok {
				problem("the mapping drops SQLite's %s.%s, which PostgreSQL has too", t.name, c)
			}
		}
		for _, c := range sortedKeys(dc) {
			udt := dc[c]
			if _, ok := t.own[c]; ok {
				continue
			}
			if _, ok := sourceTypes[udt]; !ok && udt != "xid8" {
				problem("PostgreSQL column %s.%s is of type %s, which the copy cannot write", t.name, c, udt)
				continue
			}
			if _, ok := t.from[c]; ok {
				continue
			}
			decl, ok := sc[c]
			switch {
			case !ok:
				problem("PostgreSQL column %s.%s has no SQLite column of its name: say in the mapping where it comes from", t.name, c)
			case !slices.Contains(sourceTypes[udt], decl):
				problem("%s.%s is %s on SQLite and %s on PostgreSQL: the copy knows no such conversion", t.name, c, decl, udt)
			}
		}
		for _, c := range sortedKeys(sc) {
			_, inDst := dc[c]
			_, dropped := t.gone[c]
			if !inDst && !dropped {
				problem("SQLite column %s.%s has no PostgreSQL column of its name: say in the mapping where it goes", t.name, c)
			}
		}
	}
	for _, seq := range sortedKeys(dst.sequences) {
		owner := dst.sequences[seq]
		_, listed := sequences[seq]
		switch {
		case owner == "" && !listed:
			problem("PostgreSQL sequence %s belongs to no column and is not in the mapping's sequences", seq)
		case owner != "" && listed:
			problem("PostgreSQL sequence %s belongs to %s, and the mapping's sequences name it too", seq, owner)
		}
	}
	for _, seq := range sortedKeys(sequences) {
		if _, ok := dst.sequences[seq]; !ok {
			problem("the mapping's sequences name %s, which PostgreSQL does not have", seq)
		}
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
