package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shopscore/shopscore/audit"
)

// SQLSTATEs of the constraint violations storage turns into domain errors.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// isUniqueViolation reports whether err is a unique (or primary key)
// constraint refusing a row.
func isUniqueViolation(err error) bool { return hasCode(err, codeUniqueViolation) }

// isForeignKeyViolation reports whether err is a foreign key refusing a
// row that names one that does not exist.
func isForeignKeyViolation(err error) bool { return hasCode(err, codeForeignKeyViolation) }

func hasCode(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}

// args collects the arguments of a query built piece by piece; add
// returns the placeholder of the value it appends.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// matchText returns a condition that holds when any of the columns cols
// contains q in any case (Unicode, as SQLite's fold() compares), adding q
// to a. The comparison runs under ICU's root collation, which is
// deterministic (strpos refuses the nondeterministic nocase of e-mails)
// and lowers every script, Cyrillic included.
func matchText(a *args, q string, cols ...string) string {
	p := a.add(q)
	conds := make([]string, len(cols))
	for i, c := range cols {
		conds[i] = `strpos(lower(` + c + ` COLLATE "und-x-icu"), lower(` + p + `::text COLLATE "und-x-icu")) > 0`
	}
	return `(` + strings.Join(conds, ` OR `) + `)`
}

// ms returns t in UTC to the millisecond: what SQLite keeps of a time, so
// that both backends store and compare the same instants.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// timeOf returns *t, or the zero time for NULL.
func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// nullString returns s, or NULL for "".
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// deref returns *s, or "" for NULL.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// scanString scans a row of one text column.
func scanString(row pgx.Row) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}

// selectAll runs a query in the rows' transaction and scans every row
// with scan; its error names what.
func selectAll[T any](ctx context.Context, r rows, what string, scan func(pgx.Row) (T, error), q string, a ...any) ([]T, error) {
	out, err := query(ctx, r, func(tx *Tx) ([]T, error) {
		rs, err := tx.Query(ctx, q, a...)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rs, func(row pgx.CollectableRow) (T, error) { return scan(row) })
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// selectOne runs a query for one row, scanned by scan; no row is
// ENOTFOUND with the message notFound, any other error names what.
func selectOne[T any](ctx context.Context, r rows, what, notFound string, scan func(pgx.Row) (T, error), q string, a ...any) (T, error) {
	return query(ctx, r, func(tx *Tx) (T, error) {
		v, err := scan(tx.QueryRow(ctx, q, a...))
		if errors.Is(err, pgx.ErrNoRows) {
			return v, audit.Errorf(audit.ENOTFOUND, "%s", notFound)
		} else if err != nil {
			return v, fmt.Errorf("%s: %w", what, err)
		}
		return v, nil
	})
}

// exec runs one statement in the rows' write transaction and returns how
// many rows it changed; its error names what.
func exec(ctx context.Context, r rows, what, stmt string, a ...any) (int64, error) {
	var n int64
	err := r.write(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, stmt, a...)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		n = tag.RowsAffected()
		return nil
	})
	return n, err
}

// each runs a query in tx and calls fn on each row as it arrives: pgx
// reads the result from the connection as the rows are iterated, so
// memory holds a row, never the whole result. fn must not use tx (its
// connection is busy with the query until the rows end). An error from
// fn stops the query and is returned as it is; the database's errors
// name what.
func each(ctx context.Context, tx *Tx, what, q string, a []any, fn func(pgx.Rows) error) error {
	rows, err := tx.Query(ctx, q, a...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// cursorRows is how many rows one FETCH of stream brings (a test makes
// it small).
var cursorRows = 1000

// stream is each for a query whose rows must come as the query finds
// them: it runs as a cursor, FETCHed cursorRows at a time. A cursor's plan
// is chosen for its first rows (cursor_tuple_fraction), so the planner
// reads the rows in the order asked from an index that has it, looking
// each joined row up by key, rather than hashing whole tables and sorting
// the result, which would hold the first row back until every row was
// read. fn must not use tx; one stream runs at a time in a transaction.
func stream(ctx context.Context, tx *Tx, what, q string, a []any, fn func(pgx.Rows) error) error {
	if _, err := tx.Exec(ctx, cursorFor(q), a...); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	err := fetchAll(ctx, tx, what, fn)
	// Closed even when fn stopped early, so that the transaction may run
	// another stream; after a database error the transaction is aborted,
	// and its end closes the cursor.
	if _, cerr := tx.Exec(ctx, `CLOSE report_rows`); err == nil && cerr != nil {
		err = fmt.Errorf("%s: %w", what, cerr)
	}
	return err
}

// cursorFor declares stream's cursor for q.
func cursorFor(q string) string { return `DECLARE report_rows NO SCROLL CURSOR FOR ` + q }

// fetchAll FETCHes the rows of stream's cursor until there are none left.
func fetchAll(ctx context.Context, tx *Tx, what string, fn func(pgx.Rows) error) error {
	for {
		n := 0
		// Described anew each time: the same FETCH returns other columns
		// for another cursor, which pgx's cache of statements would not
		// know.
		err := each(ctx, tx, what, `FETCH FORWARD `+strconv.Itoa(cursorRows)+` FROM report_rows`, []any{pgx.QueryExecModeDescribeExec}, func(rows pgx.Rows) error {
			n++
			return fn(rows)
		})
		if err != nil || n < cursorRows {
			return err
		}
	}
}
