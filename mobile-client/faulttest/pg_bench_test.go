package faulttest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/mobile-client/field"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/auth"
	"github.com/shopscore/shopscore/server/postgres"
	"github.com/shopscore/shopscore/server/postgres/pgtest"
	"github.com/shopscore/shopscore/server/storage/testdb"
)

// The PostgreSQL benchmarks of issue 12 §5. Their starting states are
// PostgreSQL databases built once per process (pgtest.Create, dropped by
// TestMain) and copied for every iteration (pgtest.Copy: CREATE DATABASE
// … TEMPLATE), as the SQLite benchmarks copy their data folders.

// pgTemplate creates a database that lives until the run ends and opens
// it as a server's storage.
func pgTemplate(ctx context.Context) (url string, db *postgres.DB, err error) {
	url, drop, err := pgtest.Create("")
	if err != nil {
		return "", nil, err
	}
	onExit(drop)
	db, err = postgres.Open(ctx, url)
	return url, db, err
}

// w1pg is W1's starting state on PostgreSQL: a database with the demo
// organisation and the 40-question checklist, the key-encryption key its
// signing keys are encrypted with, and a field client folder signed in
// to it holding 500 submitted visits, none pushed.
var w1pg struct {
	once     sync.Once
	err      error
	url      string
	kek      *auth.KEK
	fieldDir string
	logRows  sync.Once
}

func w1PostgresTemplate(b *testing.B) (url string, kek *auth.KEK, fieldDir string) {
	b.Helper()
	pgtest.SkipWithout(b)
	w1pg.once.Do(func() {
		start := time.Now()
		w1pg.kek = auth.GenerateKEK()
		w1pg.fieldDir = filepath.Join(workDir, "w1pg", "field")
		var db *postgres.DB
		w1pg.url, db, w1pg.err = pgTemplate(context.Background())
		if w1pg.err != nil {
			return
		}
		w1pg.err = buildW1(server.Config{DataDir: filepath.Join(workDir, "w1pg", "server"), Storage: db, KeyEncryptionKey: w1pg.kek}, w1pg.fieldDir)
		b.Logf("W1 template on PostgreSQL: %d visits of %d answers recorded offline in %s", w1Visits, w1Questions, time.Since(start).Round(time.Millisecond))
	})
	require.NoError(b, w1pg.err)
	return w1pg.url, w1pg.kek, w1pg.fieldDir
}

// servePostgres serves a copy of the template database at url (left in
// a new folder, for readServer) with the key-encryption key kek.
func servePostgres(b *testing.B, url string, kek *auth.KEK, cfg server.Config) (*running, string) {
	b.Helper()
	dir := b.TempDir()
	copied := pgtest.Copy(b, url)
	require.NoError(b, testdb.UsePostgresAt(dir, copied))
	db, err := postgres.Open(context.Background(), copied)
	require.NoError(b, err)
	cfg.DataDir, cfg.Storage, cfg.KeyEncryptionKey = dir, db, kek
	r, err := serve(cfg)
	require.NoError(b, err)
	return r, dir
}

// BenchmarkW1_Postgres is W1 on PostgreSQL (issue 12 §5): one device
// pushes 500 visits of 40 answers end to end (the real field client's
// Push, Connect over loopback, the real server on a PostgreSQL database
// through pgxpool), against the machine's limit measured in the same
// iteration: every row that push wrote or changed, read back from the
// database and written raw with pgx (COPY FROM STDIN, the rows the
// database did not hold; INSERT … ON CONFLICT DO UPDATE for the rows it
// changed) in the same 5 transactions, on one connection, into a fresh
// copy of the database as it was before the push.
func BenchmarkW1_Postgres(b *testing.B) {
	b.StopTimer()
	tmpl, kek, fieldTmpl := w1PostgresTemplate(b)
	ctx := context.Background()
	var ours, raw time.Duration
	for i := 0; i < b.N; i++ {
		fieldDir := filepath.Join(b.TempDir(), "field")
		copyDir(b, fieldTmpl, fieldDir)
		rawURL := pgtest.Copy(b, tmpl)
		r, serverDir := servePostgres(b, tmpl, kek, server.Config{})
		c, err := field.OpenConfig(benchConfig(fieldDir, r.url))
		require.NoError(b, err)
		b.StartTimer()
		t0 := time.Now()
		n, err := c.Push(ctx)
		ours += time.Since(t0)
		b.StopTimer()
		require.NoError(b, err)
		require.Equal(b, w1Visits, n)
		st, err := c.Status(ctx)
		require.NoError(b, err)
		require.Empty(b, st.Pending)
		require.Empty(b, st.Rejected)
		require.NoError(b, c.Close())
		require.NoError(b, r.stop())
		require.Len(b, readServer(b, serverDir).States, w1Visits)

		after, ok := testdb.URLAt(serverDir)
		require.True(b, ok)
		tables := pgPushedRows(b, rawURL, after)
		b.StartTimer()
		raw += pgRawInsert(b, rawURL, tables, w1Visits/field.MaxPushBatch)
		b.StopTimer()
		w1pg.logRows.Do(func() {
			var counts []string
			for _, t := range tables {
				counts = append(counts, fmt.Sprintf("%s %d (%d changed)", t.name, len(t.rows), t.changed))
			}
			b.Logf("W1 raw baseline on PostgreSQL: the rows one push wrote, in %d transactions: %s", w1Visits/field.MaxPushBatch, strings.Join(counts, ", "))
		})
	}
	visits := float64(w1Visits * b.N)
	b.ReportMetric(visits/ours.Seconds(), "visits/s")
	b.ReportMetric(visits/raw.Seconds(), "raw-visits/s")
	b.ReportMetric(raw.Seconds()/ours.Seconds(), "ratio")
}

// pgTable is what a push added or changed in one table, as lines of
// COPY's text format.
type pgTable struct {
	name     string
	cols     []string // the columns COPY writes (not the generated ones)
	update   []string // the columns an upsert may set (not identity ALWAYS)
	key      []int    // the primary key's columns, as indexes of cols
	visitCol int      // the column naming the row's visit, or -1
	rows     []string // COPY text lines, in the table's order
	existed  []bool   // the row's key was in the table before the push
	changed  int      // how many rows existed
}

// pgPushedRows reads every row of every table of the database at after
// that the database at before does not hold as it is, compared as COPY
// text lines: what the push wrote.
func pgPushedRows(tb testing.TB, before, after string) []pgTable {
	tb.Helper()
	ctx := context.Background()
	connect := func(url string) *pgx.Conn {
		c, err := pgx.Connect(ctx, url)
		require.NoError(tb, err)
		tb.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	was, is := connect(before), connect(after)
	dump := func(c *pgx.Conn, t *pgTable) []string {
		var buf bytes.Buffer
		_, err := c.PgConn().CopyTo(ctx, &buf, "COPY "+t.quoted()+" ("+quoteAll(t.cols)+") TO STDOUT")
		require.NoError(tb, err)
		lines := strings.Split(buf.String(), "\n")
		return lines[:len(lines)-1]
	}
	rows, err := is.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY c.oid`)
	require.NoError(tb, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(tb, err)
	var out []pgTable
	for _, name := range names {
		t := pgTable{name: name, visitCol: -1}
		rows, err := is.Query(ctx, `SELECT attname, attidentity = 'a',
				attnum = ANY (SELECT unnest(indkey) FROM pg_index WHERE indrelid = attrelid AND indisprimary)
			FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
			ORDER BY attnum`, t.quoted())
		require.NoError(tb, err)
		for rows.Next() {
			var col string
			var always, key bool
			require.NoError(tb, rows.Scan(&col, &always, &key))
			if key {
				t.key = append(t.key, len(t.cols))
			}
			if !always {
				t.update = append(t.update, col)
			}
			if col == "visit_id" || (name == "visits" && col == "id") {
				t.visitCol = len(t.cols)
			}
			t.cols = append(t.cols, col)
		}
		require.NoError(tb, rows.Err())
		old := map[string]bool{}
		oldKeys := map[string]bool{}
		for _, line := range dump(was, &t) {
			old[line] = true
			oldKeys[t.keyOf(line)] = true
		}
		for _, line := range dump(is, &t) {
			if old[line] {
				continue
			}
			existed := len(t.key) > 0 && oldKeys[t.keyOf(line)]
			t.rows = append(t.rows, line)
			t.existed = append(t.existed, existed)
			if existed {
				t.changed++
			}
		}
		if len(t.rows) > 0 {
			out = append(out, t)
		}
		if name == "visits" {
			require.Len(tb, t.rows, w1Visits)
		}
	}
	return out
}

func (t *pgTable) quoted() string { return pgx.Identifier{t.name}.Sanitize() }

// copyField returns column i of a COPY text line.
func copyField(line string, i int) string { return strings.Split(line, "\t")[i] }

// keyOf returns the primary key's columns of a COPY text line.
func (t *pgTable) keyOf(line string) string {
	fs := strings.Split(line, "\t")
	var k []string
	for _, i := range t.key {
		k = append(k, fs[i])
	}
	return strings.Join(k, "\t")
}

func quoteAll(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = pgx.Identifier{c}.Sanitize()
	}
	return strings.Join(q, ", ")
}

// pgRawInsert writes the rows into the database at url in the given
// number of transactions, like the pushes of as many batches: each
// visit's rows (in visits, and in every table with a visit_id column) go
// with the visit's batch, other tables' rows are shared out in order, and
// a table of fewer rows than batches (the device's seq) is written by
// every batch. New rows go in with COPY FROM STDIN; rows whose key the
// table held (and the rows every batch writes) through a temporary table
// and INSERT … ON CONFLICT DO UPDATE. One connection; it returns the
// time from the first BEGIN to the last COMMIT.
func pgRawInsert(tb testing.TB, url string, tables []pgTable, batches int) time.Duration {
	tb.Helper()
	ctx := context.Background()
	batchOf := map[string]int{}
	for _, t := range tables {
		if t.name == "visits" {
			for i, row := range t.rows {
				batchOf[copyField(row, t.visitCol)] = i * batches / len(t.rows)
			}
		}
	}
	split := make([][]pgBatch, len(tables)) // table, batch
	for ti, t := range tables {
		split[ti] = make([]pgBatch, batches)
		for i, row := range t.rows {
			k := i * batches / len(t.rows)
			if t.visitCol >= 0 {
				var ok bool
				k, ok = batchOf[copyField(row, t.visitCol)]
				require.True(tb, ok, "%s row of an unknown visit", t.name)
			}
			switch {
			case t.visitCol < 0 && len(t.rows) < batches:
				for k := range batches {
					split[ti][k].upsert = append(split[ti][k].upsert, row)
				}
			case t.existed[i]:
				split[ti][k].upsert = append(split[ti][k].upsert, row)
			default:
				split[ti][k].copy = append(split[ti][k].copy, row)
			}
		}
	}
	conn, err := pgx.Connect(ctx, url)
	require.NoError(tb, err)
	defer conn.Close(ctx)
	// The temporary tables the upserts go through, made before the clock
	// starts; their rows go at each commit.
	upsert := make([]string, len(tables))
	for ti, t := range tables {
		if !hasUpserts(split[ti]) {
			continue
		}
		tmp := pgx.Identifier{"raw_" + t.name}.Sanitize()
		_, err := conn.Exec(ctx, "CREATE TEMPORARY TABLE "+tmp+" AS SELECT "+quoteAll(t.cols)+" FROM "+t.quoted()+" WITH NO DATA")
		require.NoError(tb, err)
		conflict := " ON CONFLICT DO NOTHING"
		if len(t.key) > 0 {
			var keys, set []string
			for _, i := range t.key {
				keys = append(keys, pgx.Identifier{t.cols[i]}.Sanitize())
			}
			for _, c := range t.update {
				q := pgx.Identifier{c}.Sanitize()
				set = append(set, q+" = EXCLUDED."+q)
			}
			conflict = " ON CONFLICT (" + strings.Join(keys, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
		}
		upsert[ti] = "INSERT INTO " + t.quoted() + " (" + quoteAll(t.cols) + ") OVERRIDING SYSTEM VALUE SELECT * FROM " + tmp + conflict
	}
	copyIn := func(tx pgx.Tx, table string, cols []string, lines []string) {
		_, err := tx.Conn().PgConn().CopyFrom(ctx, strings.NewReader(strings.Join(lines, "\n")+"\n"),
			"COPY "+table+" ("+quoteAll(cols)+") FROM STDIN")
		require.NoError(tb, err)
	}
	start := time.Now()
	for k := range batches {
		tx, err := conn.Begin(ctx)
		require.NoError(tb, err)
		for ti, t := range tables {
			w := split[ti][k]
			if len(w.copy) > 0 {
				copyIn(tx, t.quoted(), t.cols, w.copy)
			}
			if len(w.upsert) > 0 {
				tmp := pgx.Identifier{"raw_" + t.name}.Sanitize()
				copyIn(tx, tmp, t.cols, w.upsert)
				_, err := tx.Exec(ctx, upsert[ti])
				require.NoError(tb, err, "%s", upsert[ti])
				_, err = tx.Exec(ctx, "TRUNCATE "+tmp)
				require.NoError(tb, err)
			}
		}
		require.NoError(tb, tx.Commit(ctx))
	}
	return time.Since(start)
}

// pgBatch is what one transaction of pgRawInsert writes into a table.
type pgBatch struct{ copy, upsert []string }

func hasUpserts(w []pgBatch) bool {
	for _, b := range w {
		if len(b.upsert) > 0 {
			return true
		}
	}
	return false
}

// W5 across servers: w5ClusterDevices devices (200 by default,
// SHOPSCORE_BENCH_W5_CLUSTER_DEVICES) at once.
const w5ClusterDevices = 200

// w5pg is W5's starting state on PostgreSQL: the template of W5 (its
// devices signed in) in a database, and the key-encryption key.
var w5pg struct {
	mu   sync.Mutex
	tmpl *w5Template
	url  string
	kek  *auth.KEK
}

func w5PostgresSetup(b *testing.B, devices int) (*w5Template, string, *auth.KEK) {
	b.Helper()
	pgtest.SkipWithout(b)
	w5pg.mu.Lock()
	defer w5pg.mu.Unlock()
	if t := w5pg.tmpl; t != nil && len(t.tokens) == devices && time.Since(t.built) < w5TokenAge {
		return t, w5pg.url, w5pg.kek
	}
	start := time.Now()
	kek := auth.GenerateKEK()
	url, db, err := pgTemplate(context.Background())
	require.NoError(b, err)
	t, err := buildW5(server.Config{DataDir: filepath.Join(workDir, "w5pg", strconv.FormatInt(start.UnixNano(), 36)), Storage: db, KeyEncryptionKey: kek}, devices)
	require.NoError(b, err)
	b.Logf("W5 template on PostgreSQL: %d devices signed in in %s", devices, time.Since(start).Round(time.Millisecond))
	w5pg.tmpl, w5pg.url, w5pg.kek = t, url, kek
	return t, url, kek
}

// BenchmarkW5_Cluster is W5 across servers (issue 12 §5): each of 200
// devices sends one push of 20 visits of 40 answers at once, all
// released together, through the round-robin proxy to three servers in
// this process on one PostgreSQL database; against the same pushes sent
// in the same iteration through the same proxy to one server on a fresh
// copy of the same database. It reports both throughputs and their
// ratio (cluster over one server), the p50 and p99 push latency of both,
// and the failures (an error or any mutation not applied) of both.
func BenchmarkW5_Cluster(b *testing.B) {
	devices := devicesVar(b, "SHOPSCORE_BENCH_W5_CLUSTER_DEVICES", w5ClusterDevices)
	b.StopTimer()
	var thru, one, p50, p99, oneP50, oneP99 []float64
	failures := 0
	for i := 0; i < b.N; i++ {
		t, url, kek := w5PostgresSetup(b, devices)
		now := time.Now()
		pushes := t.w5Pushes(rand.New(rand.NewPCG(12, uint64(i))), devices, now)
		for _, servers := range []int{clusterSize, 1} {
			dir := b.TempDir()
			require.NoError(b, testdb.UsePostgresAt(dir, pgtest.Copy(b, url)))
			lns := make([]net.Listener, servers)
			addrs := make([]string, servers)
			for k := range lns {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(b, err)
				lns[k], addrs[k] = ln, ln.Addr().String()
			}
			c := &cluster{DBDir: dir, KEK: kek}
			var err error
			c.Proxy, err = NewRoundRobin(addrs...)
			require.NoError(b, err)
			c.startServers(b, lns, clusterOptions{})
			b.StartTimer()
			_, _, lat, wall, errs := t.w5Run(b, c.Proxy.URL, pushes)
			b.StopTimer()
			for _, s := range c.Servers {
				s.Stop()
			}
			require.NoError(b, c.Proxy.Close())
			failures += len(errs)
			if len(errs) > 0 {
				b.Logf("W5 on %d servers: %d of %d pushes failed; the first: %v", servers, len(errs), devices, errs[0])
			}
			require.Len(b, readServer(b, dir).States, (devices-len(errs))*w5Visits, "every applied visit is stored once")
			rate := float64(devices*w5Visits) / wall.Seconds()
			ms50, ms99 := float64(quantile(lat, 0.5).Milliseconds()), float64(quantile(lat, 0.99).Milliseconds())
			if servers == 1 {
				one, oneP50, oneP99 = append(one, rate), append(oneP50, ms50), append(oneP99, ms99)
			} else {
				thru, p50, p99 = append(thru, rate), append(p50, ms50), append(p99, ms99)
			}
		}
	}
	b.ReportMetric(median(thru), "visits/s")
	b.ReportMetric(median(one), "one-server-visits/s")
	b.ReportMetric(median(thru)/median(one), "ratio")
	b.ReportMetric(median(p50), "p50-ms")
	b.ReportMetric(median(p99), "p99-ms")
	b.ReportMetric(median(oneP50), "one-server-p50-ms")
	b.ReportMetric(median(oneP99), "one-server-p99-ms")
	b.ReportMetric(float64(failures), "errors")
}
