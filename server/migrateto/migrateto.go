// Package migrateto moves an installation from SQLite to PostgreSQL
// (`shopscore migrate-to`, issue 12): it copies every table of a data
// folder's SQLite database into a PostgreSQL database made by the
// PostgreSQL backend's migrations, in one transaction, and verifies each
// table's row count and checksum before it commits. It only copies rows:
// what they mean is the backends' (server/sqlite, server/postgres), and
// how each column moves is mapping.go's, checked against both schemas as
// they are when it runs.
//
// The source is opened read-only and never written. The target must hold
// no data (a new database); whatever goes wrong, no row is written to it
// (its schema, which the backend's migrations make before the copy's
// transaction begins, stays).
// Phones' pull cursors of the SQLite feed mean nothing to the target,
// whose feed has a new epoch: their next pull is a full resync
// (docs/DESIGN.md §9 says why).
package migrateto

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/sqlitedb"
	"github.com/shopscore/shopscore/server/auth"
	"github.com/shopscore/shopscore/server/postgres"
	"github.com/shopscore/shopscore/server/sqlite"
)

// Options are what a move needs.
type Options struct {
	// SQLite is the source database file (<data>/shopscore.db).
	SQLite string
	// Postgres is the target database's URL (postgres://…).
	Postgres string
	// Progress receives a line per table as it is copied (rows copied of
	// rows total); nil for none.
	Progress io.Writer
	// KEK is the key-encryption key the SQLite server sealed the signing
	// keys with, and KEKFrom says where it came from, for people (a
	// file's path, or the variable that held it). When KEK is nil it is
	// read from the file KEKFrom names, or, when that is empty, from the
	// data folder's (auth.KEKFileName beside SQLite), where a server given
	// no key made one. Run opens every stored signing key with it before
	// it writes anything: the PostgreSQL servers must be given this key.
	KEK     *auth.KEK
	KEKFrom string

	// beforeVerify, when set (tests), runs on the target's transaction
	// after the copy and before the verification.
	beforeVerify func(ctx context.Context, tx pgx.Tx) error
}

// Report is the verification of a move: one line per table, and the
// key-encryption key the moved signing keys open with.
type Report struct {
	Tables []TableReport
	// Keys is how many signing keys moved, each opened with the
	// key-encryption key of KEKFrom (Options.KEKFrom, made absolute when
	// a file; "" when no key was needed and none was found).
	Keys    int
	KEKFrom string
}

// TableReport is one table's verification.
type TableReport struct {
	Table                    string
	SourceRows, TargetRows   int64
	SourceCheck, TargetCheck string // hex digests of the normalized rows
	OK                       bool
}

// OK reports whether every table was copied whole.
func (r *Report) OK() bool {
	for _, t := range r.Tables {
		if !t.OK {
			return false
		}
	}
	return true
}

// Write prints the report as a table: table, rows, checksum (its first 16
// hex digits), ok; a table that does not verify shows the source's and
// the target's count and checksum, and MISMATCH.
func (r *Report) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "table\trows\tchecksum\tok\t")
	for _, t := range r.Tables {
		rows, check, ok := strconv.FormatInt(t.SourceRows, 10), t.SourceCheck[:16], "ok"
		if t.TargetRows != t.SourceRows {
			rows = fmt.Sprintf("%d → %d", t.SourceRows, t.TargetRows)
		}
		if !t.OK {
			check, ok = t.SourceCheck[:16]+" → "+t.TargetCheck[:16], "MISMATCH"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", t.Table, rows, check, ok)
	}
	return tw.Flush()
}

// Run copies the SQLite database opts.SQLite into the PostgreSQL
// database opts.Postgres, creating its schema first when it has none, and
// returns the verification. Errors: EINVALID (a URL that is not
// PostgreSQL's), ENOTFOUND (no database file), EPRECONDITION (a server
// holds the SQLite database; it lacks migrations of this build; the
// target holds data; the schemas disagree with the mapping), EINTERNAL
// with the report when a table's copy does not verify. Nothing is
// committed unless every table verifies.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if err := postgres.CheckURL(opts.Postgres); err != nil {
		return nil, err
	}
	if _, err := os.Stat(opts.SQLite); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, audit.Errorf(audit.ENOTFOUND, "no SQLite database at %s (is --data the data folder?)", opts.SQLite)
		}
		return nil, err
	}
	if held, err := heldOpen(opts.SQLite); err != nil {
		return nil, err
	} else if held {
		return nil, audit.Errorf(audit.EPRECONDITION, "a process has the database %s open (a running shopscore server?): stop it, then run migrate-to again", opts.SQLite)
	}
	src, err := openSource(ctx, opts.SQLite)
	if err != nil {
		return nil, err
	}
	defer src.close()
	// Before anything is written (the target's schema included): moved
	// keys that the servers cannot open would leave every token
	// unverifiable and no server able to start.
	keys, kekFrom, err := checkKeys(ctx, src, opts)
	if err != nil {
		return nil, err
	}

	// The target's schema is the backend's own: its migrations, applied
	// (under their lock) as a server would at start.
	pg, err := postgres.Open(ctx, opts.Postgres)
	if err != nil {
		return nil, err
	}
	where := pg.Where()
	pg.Close()
	conn, err := pgx.Connect(ctx, opts.Postgres)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", where, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// READ COMMITTED: each statement after the lock sees what was
	// committed before it was granted (a concurrent move's rows).
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return nil, fmt.Errorf("%s: begin: %w", where, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	m := &move{src: src, tx: tx, where: where, progress: opts.Progress}
	if m.progress == nil {
		m.progress = io.Discard
	}
	report, err := m.run(ctx, opts.beforeVerify)
	if report != nil {
		report.Keys, report.KEKFrom = keys, kekFrom
	}
	if err != nil {
		return report, err
	}
	if err := tx.Commit(ctx); err != nil {
		return report, fmt.Errorf("%s: commit: %w", where, err)
	}
	return report, nil
}

// source is the SQLite database, read in one read transaction (one
// snapshot) on a read-only connection.
type source struct {
	db *sql.DB
	tx *sql.Tx
	sidecars
}

func openSource(ctx context.Context, path string) (*source, error) {
	s := &source{sidecars: sidecarsOf(path)}
	db, err := sql.Open("sqlite3", sqlitedb.DSN(path, sqlitedb.Options{Mode: sqlitedb.ReadOnly}))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	s.db = db
	if s.tx, err = db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err != nil {
		s.close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if err := sqlite.CheckMigrated(ctx, s.tx, path); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *source) close() {
	if s.tx != nil {
		s.tx.Rollback()
	}
	s.db.Close()
	s.sidecars.cleanUp()
}

// move is one copy in progress.
type move struct {
	src      *source
	tx       pgx.Tx
	where    string
	progress io.Writer
	xid      uint64 // the target transaction's id
}

// plan is how one table is copied.
type plan struct {
	table
	cols  []string // the target columns written (and compared), sorted
	types []string // their udt_names
	exprs []string // the SQLite expression of each
	key   []string // the target's primary key
	sum   checksum // of the source rows, as copied
	rows  int64
}

func (m *move) run(ctx context.Context, beforeVerify func(context.Context, pgx.Tx) error) (*Report, error) {
	srcSchema, err := sqliteSchema(ctx, m.src.tx)
	if err != nil {
		return nil, err
	}
	dstSchema, err := pgSchema(ctx, m.tx)
	if err != nil {
		return nil, err
	}
	if err := checkMapping(srcSchema, dstSchema); err != nil {
		return nil, audit.Errorf(audit.EPRECONDITION, "the two schemas and the copy's mapping disagree (this build cannot move this database):\n%v", err)
	}
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = quote(t.name)
	}
	// No server writes these tables while they are copied, and a second
	// move into the same database waits, then finds it not empty.
	if _, err := m.tx.Exec(ctx, `LOCK TABLE `+strings.Join(names, ", ")+` IN EXCLUSIVE MODE`); err != nil {
		return nil, fmt.Errorf("%s: lock the tables: %w", m.where, err)
	}
	if err := m.checkEmpty(ctx); err != nil {
		return nil, err
	}
	if err := m.tx.QueryRow(ctx, `SELECT pg_current_xact_id()`).Scan(&m.xid); err != nil {
		return nil, fmt.Errorf("%s: %w", m.where, err)
	}
	order, err := m.fkOrder(ctx)
	if err != nil {
		return nil, err
	}
	plans := make([]*plan, len(order))
	for i, t := range order {
		if plans[i], err = m.plan(ctx, t, dstSchema.tables[t.name]); err != nil {
			return nil, err
		}
	}
	for _, p := range plans {
		if err := m.copy(ctx, p); err != nil {
			return nil, err
		}
	}
	if err := m.moveSequences(ctx, dstSchema); err != nil {
		return nil, err
	}
	if beforeVerify != nil {
		if err := beforeVerify(ctx, m.tx); err != nil {
			return nil, err
		}
	}
	report := &Report{}
	for _, p := range plans {
		tr, err := m.verify(ctx, p)
		if err != nil {
			return nil, err
		}
		report.Tables = append(report.Tables, tr)
	}
	if !report.OK() {
		var bad []string
		for _, t := range report.Tables {
			if !t.OK {
				bad = append(bad, t.Table)
			}
		}
		return report, audit.Errorf(audit.EINTERNAL, "the copy of %s does not verify: nothing was written to %s", strings.Join(bad, ", "), m.where)
	}
	for _, p := range plans {
		if _, err := m.tx.Exec(ctx, `ANALYZE `+quote(p.name)); err != nil {
			return report, fmt.Errorf("%s: analyze %s: %w", m.where, p.name, err)
		}
	}
	return report, nil
}

// checkEmpty refuses a target that holds data: a row in any table the
// copy writes, but the rows its migrations wrote (seeded tables).
func (m *move) checkEmpty(ctx context.Context) error {
	var found []string
	for _, t := range tables {
		if t.seeded {
			continue
		}
		var n int64
		if err := m.tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM `+quote(t.name)+` LIMIT 1000) x`).Scan(&n); err != nil {
			return fmt.Errorf("%s: count %s: %w", m.where, t.name, err)
		}
		switch {
		case n >= 1000:
			found = append(found, fmt.Sprintf("%s (1000 or more rows)", t.name))
		case n == 1:
			found = append(found, fmt.Sprintf("%s (1 row)", t.name))
		case n > 1:
			found = append(found, fmt.Sprintf("%s (%d rows)", t.name, n))
		}
	}
	if len(found) > 0 {
		return audit.Errorf(audit.EPRECONDITION, "the database %s is not empty: it has %s; migrate-to copies only into a database without data (create a new one)",
			m.where, strings.Join(found, ", "))
	}
	return nil
}

// fkOrder returns the tables in an order where each comes after every
// table its foreign keys refer to (a reference to its own table aside),
// read from the target's constraints.
func (m *move) fkOrder(ctx context.Context) ([]table, error) {
	rows, err := m.tx.Query(ctx, `SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
		WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace`)
	if err != nil {
		return nil, fmt.Errorf("%s: read foreign keys: %w", m.where, err)
	}
	refers := map[string][]string{}
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			rows.Close()
			return nil, err
		}
		if from != to {
			refers[from] = append(refers[from], to)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: read foreign keys: %w", m.where, err)
	}
	var out []table
	done := map[string]bool{}
	for len(out) < len(tables) {
		progressed := false
		for _, t := range tables {
			if done[t.name] || slices.ContainsFunc(refers[t.name], func(p string) bool { return !done[p] }) {
				continue
			}
			out, done[t.name], progressed = append(out, t), true, true
		}
		if !progressed {
			return nil, fmt.Errorf("%s: the foreign keys of the tables make a cycle", m.where)
		}
	}
	return out, nil
}

// plan works out how t is copied: its target columns dst, each one's
// source expression, and the target's primary key.
func (m *move) plan(ctx context.Context, t table, dst map[string]string) (*plan, error) {
	p := &plan{table: t}
	for _, c := range sortedKeys(dst) {
		if _, own := t.own[c]; own {
			continue
		}
		expr, ok := t.from[c]
		switch {
		case !ok:
			expr = quote(c)
		case expr == xactID:
			expr = strconv.FormatUint(m.xid, 10)
		}
		p.cols, p.types, p.exprs = append(p.cols, c), append(p.types, dst[c]), append(p.exprs, expr)
	}
	if p.order == "" {
		p.order = "rowid"
	}
	rows, err := m.tx.Query(ctx, `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY a.attnum`, quote(t.name))
	if err != nil {
		return nil, fmt.Errorf("%s: read the key of %s: %w", m.where, t.name, err)
	}
	if p.key, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return nil, fmt.Errorf("%s: read the key of %s: %w", m.where, t.name, err)
	}
	return p, nil
}

// progressEvery is how many rows of a table pass between two progress
// lines.
const progressEvery = 10000

// copy writes every source row of p to the target, summing the source's
// checksum as it goes.
func (m *move) copy(ctx context.Context, p *plan) error {
	var total int64
	if err := m.src.tx.QueryRowContext(ctx, `SELECT count(*) FROM `+quote(p.name)).Scan(&total); err != nil {
		return fmt.Errorf("count SQLite's %s: %w", p.name, err)
	}
	rows, err := m.src.tx.QueryContext(ctx, `SELECT `+strings.Join(p.exprs, ", ")+` FROM `+quote(p.name)+` ORDER BY `+p.order)
	if err != nil {
		return fmt.Errorf("read SQLite's %s: %w", p.name, err)
	}
	defer rows.Close()
	in := &rowSource{p: p, rows: rows, raw: make([]any, len(p.cols)), vals: make([]any, len(p.cols)), total: total, progress: m.progress}
	if p.seeded {
		err = m.upsert(ctx, p, in)
	} else {
		_, err = m.tx.CopyFrom(ctx, pgx.Identifier{p.name}, p.cols, in)
	}
	if err == nil {
		err = in.err
	}
	if err != nil {
		return fmt.Errorf("copy %s into %s: %w", p.name, m.where, err)
	}
	if in.n%progressEvery != 0 || in.n == 0 {
		fmt.Fprintf(m.progress, "%s: %d of %d rows\n", p.name, in.n, total)
	}
	p.rows = in.n
	return nil
}

// upsert writes the rows of a seeded table over the ones the target's
// migrations wrote, by key (a row the target lacks is inserted).
func (m *move) upsert(ctx context.Context, p *plan, in *rowSource) error {
	var set, where, cols, marks []string
	for i, c := range p.cols {
		mark := "$" + strconv.Itoa(i+1)
		cols, marks = append(cols, quote(c)), append(marks, mark)
		if slices.Contains(p.key, c) {
			where = append(where, quote(c)+" = "+mark)
		} else {
			set = append(set, quote(c)+" = "+mark)
		}
	}
	if len(where) != len(p.key) {
		return fmt.Errorf("the key of %s is not all copied", p.name)
	}
	update := `SELECT count(*) FROM ` + quote(p.name) + ` WHERE ` + strings.Join(where, " AND ")
	if len(set) > 0 {
		update = `WITH u AS (UPDATE ` + quote(p.name) + ` SET ` + strings.Join(set, ", ") + ` WHERE ` + strings.Join(where, " AND ") +
			` RETURNING 1) SELECT count(*) FROM u`
	}
	insert := `INSERT INTO ` + quote(p.name) + ` (` + strings.Join(cols, ", ") + `) VALUES (` + strings.Join(marks, ", ") + `)`
	for in.Next() {
		vals, _ := in.Values()
		var n int64
		if err := m.tx.QueryRow(ctx, update, vals...).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if _, err := m.tx.Exec(ctx, insert, vals...); err != nil {
				return err
			}
		}
	}
	return in.Err()
}

// rowSource feeds pgx the source rows of a plan, decoded (fromSource),
// summing the checksum and printing progress.
type rowSource struct {
	p        *plan
	rows     *sql.Rows
	raw      []any // the scanned values
	ptrs     []any // &raw[i], for Scan
	vals     []any
	buf      []byte
	n, total int64
	progress io.Writer
	err      error
}

func (r *rowSource) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	if r.ptrs == nil {
		r.ptrs = make([]any, len(r.raw))
		for i := range r.raw {
			r.ptrs[i] = &r.raw[i]
		}
	}
	if r.err = r.rows.Scan(r.ptrs...); r.err != nil {
		return false
	}
	r.buf = r.buf[:0]
	for i, v := range r.raw {
		nv, err := fromSource(r.p.types[i], v)
		if err != nil {
			r.err = fmt.Errorf("row %d, column %s: %w", r.n+1, r.p.cols[i], err)
			return false
		}
		if r.buf, err = appendValue(r.buf, r.p.types[i], nv); err != nil {
			r.err = fmt.Errorf("row %d, column %s: %w", r.n+1, r.p.cols[i], err)
			return false
		}
		r.vals[i] = toTarget(nv)
	}
	r.p.sum.add(r.buf)
	if r.n++; r.n%progressEvery == 0 {
		fmt.Fprintf(r.progress, "%s: %d of %d rows\n", r.p.name, r.n, r.total)
	}
	return true
}

func (r *rowSource) Values() ([]any, error) { return r.vals, nil }

func (r *rowSource) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.rows.Err()
}

// moveSequences moves every sequence of the target past the highest
// value the copied rows hold: those of identity and owned columns of
// copied tables past their column's, the others (sequences) past their
// query's.
func (m *move) moveSequences(ctx context.Context, dst *schema) error {
	copied := map[string]bool{}
	for _, t := range tables {
		copied[t.name] = true
	}
	for _, seq := range sortedKeys(dst.sequences) {
		q := sequences[seq]
		if owner := dst.sequences[seq]; owner != "" {
			t, c, _ := strings.Cut(owner, ".")
			if !copied[t] {
				continue
			}
			q = `SELECT max(` + quote(c) + `) FROM ` + quote(t)
		}
		if _, err := m.tx.Exec(ctx, `SELECT setval($1::regclass, x.m) FROM (`+q+`) x(m) WHERE x.m IS NOT NULL`, quote(seq)); err != nil {
			return fmt.Errorf("%s: move sequence %s: %w", m.where, seq, err)
		}
	}
	return nil
}

// verify reads back the target's rows of p and compares their count and
// checksum with the source's.
func (m *move) verify(ctx context.Context, p *plan) (TableReport, error) {
	exprs := make([]string, len(p.cols))
	for i, c := range p.cols {
		exprs[i] = targetExpr(c, p.types[i])
	}
	rows, err := m.tx.Query(ctx, `SELECT `+strings.Join(exprs, ", ")+` FROM `+quote(p.name))
	if err != nil {
		return TableReport{}, fmt.Errorf("%s: read back %s: %w", m.where, p.name, err)
	}
	defer rows.Close()
	var sum checksum
	var n int64
	var buf []byte
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return TableReport{}, fmt.Errorf("%s: read back %s: %w", m.where, p.name, err)
		}
		buf = buf[:0]
		for i, v := range vals {
			nv, err := fromTarget(p.types[i], v)
			if err == nil {
				buf, err = appendValue(buf, p.types[i], nv)
			}
			if err != nil {
				return TableReport{}, fmt.Errorf("%s: read back %s, column %s: %w", m.where, p.name, p.cols[i], err)
			}
		}
		sum.add(buf)
		n++
	}
	if err := rows.Err(); err != nil {
		return TableReport{}, fmt.Errorf("%s: read back %s: %w", m.where, p.name, err)
	}
	return TableReport{Table: p.name, SourceRows: p.rows, TargetRows: n, SourceCheck: p.sum.String(), TargetCheck: sum.String(),
		OK: n == p.rows && sum == p.sum}, nil
}

// checkKeys opens every signing key of the source with the
// key-encryption key of opts and returns how many there are and where
// the key came from. Errors: EPRECONDITION when a key does not open with
// it (naming the key and where the key-encryption key came from), or
// when keys are stored and no key-encryption key is given or found.
func checkKeys(ctx context.Context, src *source, opts Options) (int, string, error) {
	keys, err := sqlite.AllSigningKeys(ctx, src.tx)
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", opts.SQLite, err)
	}
	kek, from := opts.KEK, opts.KEKFrom
	if kek == nil {
		if from == "" {
			from = filepath.Join(filepath.Dir(opts.SQLite), auth.KEKFileName)
		}
		if abs, err := filepath.Abs(from); err == nil {
			from = abs
		}
		kek, err = auth.ReadKEKFile(from)
		switch {
		case errors.Is(err, os.ErrNotExist) && len(keys) == 0:
			return 0, "", nil
		case errors.Is(err, os.ErrNotExist):
			return 0, "", audit.Errorf(audit.EPRECONDITION, "the %d signing keys of %s are sealed under a key-encryption key, and there is none at %s: "+
				"give the one the SQLite server was started with (--key-encryption-key-file or SHOPSCORE_KEY_ENCRYPTION_KEY)", len(keys), opts.SQLite, from)
		case err != nil:
			return 0, "", err
		}
	}
	given := "the key-encryption key given"
	if from != "" {
		given = "the key-encryption key of " + from
	}
	for _, k := range keys {
		if _, err := kek.OpenSigningKey(k); err != nil {
			return 0, "", audit.Errorf(audit.EPRECONDITION, "signing key %s (%s, made %s) of %s does not open with %s: "+
				"give migrate-to the key the SQLite server was started with (--key-encryption-key-file or SHOPSCORE_KEY_ENCRYPTION_KEY); nothing was written",
				k.KID, k.Purpose, k.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), opts.SQLite, given)
		}
	}
	return len(keys), from, nil
}
