package faulttest

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/mobile-client/field"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/blob"
	"github.com/shopscore/shopscore/server/blob/blobtest"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/servertest"
	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/sync/protocol"
)

// W1 sizes: one device, 500 visits of 40 answers.
const (
	w1Visits    = 500
	w1Questions = 40
)

// benchPack returns a standards pack with one checklist open to unplanned
// visits: n required yes/no questions, then the given extra questions
// (JSON objects).
func benchPack(id string, n int, extra ...string) []byte {
	qs := make([]string, 0, n+len(extra))
	for i := range n {
		qs = append(qs, fmt.Sprintf(`{"id": "q%02d", "type": "yes_no", "text": "Check %d?", "standard": "BEN-1", "required": true, "weight": %d}`, i, i, 1+i%3))
	}
	qs = append(qs, extra...)
	return fmt.Appendf(nil, `{
  "format": "shopscore.pack/v1",
  "name": "Benchmarks",
  "standards": [{"code": "BEN-1", "clause": "Measured.", "category": "merchandising"}],
  "checklists": [{
    "id": %q, "name": "Benchmark %s", "channel": "store_visit", "allow_unplanned": true,
    "sections": [{"id": "s", "title": "Checks", "questions": [%s]}]
  }]
}`, id, id, strings.Join(qs, ",\n"))
}

// importPack imports and publishes a pack through the API, as an admin.
func importPack(ctx context.Context, base string, pack []byte) error {
	lr, err := shopscorev1connect.NewAuthServiceClient(http.DefaultClient, base).Login(ctx, connect.NewRequest(&v1.LoginRequest{
		Email: demo.Users[audit.RoleAdmin], Password: demoPassword, DeviceId: "desk-" + uuid.NewString(),
	}))
	if err != nil {
		return err
	}
	req := connect.NewRequest(&v1.ImportPackRequest{FileName: "bench-pack.json", Content: pack, Publish: true})
	req.Header().Set("Authorization", "Bearer "+lr.Msg.GetTokens().GetAccessToken())
	_, err = shopscorev1connect.NewChecklistServiceClient(http.DefaultClient, base).ImportPack(ctx, req)
	return err
}

// running is a server serving a data folder on 127.0.0.1:0.
type running struct {
	srv  *server.Server
	url  string
	done chan error
}

// serve opens the server on cfg.Storage, or else the SQLite database of
// cfg.DataDir (seeding the demo organisation into an empty one), and
// serves it on a loopback port.
func serve(cfg server.Config) (*running, error) {
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.LoginRate = server.Rate{Burst: 10_000, Every: time.Millisecond}
	cfg.AccessTTL = 15 * time.Minute // the W1 device folders are copies of one signed-in device
	if cfg.Storage == nil {
		db, err := sqlite.Open(servertest.DBPath(cfg.DataDir), cfg.Now)
		if err != nil {
			return nil, err
		}
		cfg.Storage = db
	}
	srv, err := server.New(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := demo.Seed(context.Background(), srv, demoPassword); err != nil {
		srv.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return nil, err
	}
	r := &running{srv: srv, url: "http://" + ln.Addr().String(), done: make(chan error, 1)}
	go func() { r.done <- srv.Serve(ln) }()
	return r, nil
}

func (r *running) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return errors.Join(r.srv.Shutdown(ctx), <-r.done)
}

// benchConfig is the field client's configuration in the benchmarks.
func benchConfig(dir, url string) field.Config {
	return field.Config{Dir: dir, ServerURL: url, Backoff: protocol.Backoff{Base: 5 * time.Millisecond, Max: 50 * time.Millisecond}}
}

// w1 is the state every W1 iteration starts from, built once per process:
// a server data folder (the demo organisation and the 40-question
// checklist) and a field client folder signed in to it, holding 500
// submitted visits of 40 answers in its outbox, none pushed.
var w1 struct {
	once      sync.Once
	err       error
	serverDir string
	fieldDir  string
	logRows   sync.Once
}

func w1Template(b *testing.B) (serverDir, fieldDir string) {
	b.Helper()
	w1.once.Do(func() {
		start := time.Now()
		w1.serverDir, w1.fieldDir = filepath.Join(workDir, "w1", "server"), filepath.Join(workDir, "w1", "field")
		w1.err = buildW1(server.Config{DataDir: w1.serverDir}, w1.fieldDir)
		b.Logf("W1 template: %d visits of %d answers recorded offline in %s", w1Visits, w1Questions, time.Since(start).Round(time.Millisecond))
	})
	require.NoError(b, w1.err)
	return w1.serverDir, w1.fieldDir
}

// buildW1 records W1's backlog on the server serve opens with cfg.
func buildW1(cfg server.Config, fieldDir string) (err error) {
	ctx := context.Background()
	r, err := serve(cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, r.stop()) }()
	if err := importPack(ctx, r.url, benchPack("bench-40", w1Questions)); err != nil {
		return err
	}
	c, err := field.OpenConfig(benchConfig(fieldDir, r.url))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, c.Close()) }()
	if _, err := c.Login(ctx, demo.Users[audit.RoleShopper], demoPassword); err != nil {
		return err
	}
	if _, err := c.Pull(ctx); err != nil {
		return err
	}
	rnd := rand.New(rand.NewPCG(1, 40))
	for range w1Visits {
		id, err := c.StartUnplannedVisit(ctx, "bench-40", "MSK-01")
		if err != nil {
			return err
		}
		for q := range w1Questions {
			yes := rnd.IntN(5) > 0
			if _, err := c.Answer(ctx, id, fmt.Sprintf("q%02d", q), field.Value{Bool: &yes}); err != nil {
				return err
			}
		}
		if err := c.Submit(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkW1_Push measures one device pushing 500 visits of 40 answers
// end to end (the real field client's Push: outbox, Connect over
// loopback, the real server validating, scoring and storing in SQLite,
// the client recording every result), then a second copy of the device
// replaying the same backlog; against the machine's limit measured in the
// same iteration: the rows the push wrote, inserted raw in the same
// batches through the same driver and pragmas (WAL, synchronous NORMAL).
func BenchmarkW1_Push(b *testing.B) {
	b.StopTimer()
	serverTmpl, fieldTmpl := w1Template(b)
	b.StartTimer()
	ctx := context.Background()
	var first, replay, raw time.Duration
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		serverDir, rawDir := filepath.Join(dir, "server"), filepath.Join(dir, "raw")
		fieldA, fieldB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		for _, d := range []string{serverDir, rawDir} {
			copyDir(b, serverTmpl, d)
		}
		for _, d := range []string{fieldA, fieldB} {
			copyDir(b, fieldTmpl, d)
		}
		r, err := serve(server.Config{DataDir: serverDir})
		require.NoError(b, err)

		for _, pass := range []struct {
			dir string
			sum *time.Duration
		}{{fieldA, &first}, {fieldB, &replay}} {
			c, err := field.OpenConfig(benchConfig(pass.dir, r.url))
			require.NoError(b, err)
			t0 := time.Now()
			n, err := c.Push(ctx)
			*pass.sum += time.Since(t0)
			require.NoError(b, err)
			require.Equal(b, w1Visits, n)
			st, err := c.Status(ctx)
			require.NoError(b, err)
			require.Empty(b, st.Pending)
			require.Empty(b, st.Rejected)
			require.NoError(b, c.Close())
		}
		require.Len(b, readServer(b, serverDir).States, w1Visits)

		// The same rows, raw, into a copy of the database as it was before
		// the push.
		rows := pushedRows(b, filepath.Join(serverDir, "shopscore.db"), filepath.Join(rawDir, "shopscore.db"))
		require.NoError(b, r.stop())
		raw += rawInsert(b, filepath.Join(rawDir, "shopscore.db"), rows, w1Visits/field.MaxPushBatch)
		w1.logRows.Do(func() {
			var counts []string
			for _, t := range rows {
				counts = append(counts, fmt.Sprintf("%s %d", t.name, len(t.rows)))
			}
			b.Logf("W1 raw baseline: the rows one first pass wrote, in %d transactions: %s", w1Visits/field.MaxPushBatch, strings.Join(counts, ", "))
		})
	}
	visits := float64(w1Visits * b.N)
	ours, limit, again := visits/first.Seconds(), visits/raw.Seconds(), visits/replay.Seconds()
	b.ReportMetric(ours, "visits/s")
	b.ReportMetric(limit, "raw-visits/s")
	b.ReportMetric(ours/limit, "ratio")
	b.ReportMetric(again, "replay-visits/s")
	b.ReportMetric(again/ours, "replay-ratio")
}

// table is the rows a push added or changed in one table.
type table struct {
	name string
	cols []string
	rows [][]any
}

// pushedRows reads what W1's pushes wrote into the database at path:
// every row of every table that the database before the push (at
// beforePath) did not hold as it is now. That is the visits, the stored
// mutation results, their feed rows, the device's seq, and whatever else
// a push writes (transitions, flags...).
func pushedRows(tb testing.TB, path, beforePath string) []table {
	tb.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=10000")
	require.NoError(tb, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`ATTACH DATABASE ? AS before`, beforePath)
	require.NoError(tb, err)
	names, err := db.Query(`SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid`)
	require.NoError(tb, err)
	var tables []string
	for names.Next() {
		var n string
		require.NoError(tb, names.Scan(&n))
		tables = append(tables, n)
	}
	require.NoError(tb, names.Err())
	names.Close()
	var out []table
	for _, name := range tables {
		// In the order they were written (rowid), so that each batch
		// holds the rows its own visits refer to.
		q := `"` + name + `"`
		rows, err := db.Query(`SELECT * FROM main.` + q + ` WHERE rowid IN (SELECT rowid FROM (
			SELECT rowid, * FROM main.` + q + ` EXCEPT SELECT rowid, * FROM before.` + q + `)) ORDER BY rowid`)
		if err != nil { // a table WITHOUT ROWID
			rows, err = db.Query(`SELECT * FROM main.` + q + ` EXCEPT SELECT * FROM before.` + q)
		}
		require.NoError(tb, err)
		t := table{name: name}
		t.cols, err = rows.Columns()
		require.NoError(tb, err)
		for rows.Next() {
			vals := make([]any, len(t.cols))
			ptrs := make([]any, len(t.cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(tb, rows.Scan(ptrs...))
			t.rows = append(t.rows, vals)
		}
		require.NoError(tb, rows.Err())
		rows.Close()
		if len(t.rows) > 0 {
			out = append(out, t)
		}
		if name == "visits" {
			require.Len(tb, t.rows, w1Visits)
		}
	}
	return out
}

// rawInsert inserts the rows into the database at path in the given number
// of transactions, like the pushes of as many batches: each visit's rows
// (in visits, and in every table with a visit_id column) go with the
// visit's batch, other tables' rows are shared out in order, and a table
// of fewer rows than batches (the device's seq) is written by every batch.
// It goes through mattn/go-sqlite3 with the server's pragmas and returns
// the time from the first BEGIN to the last COMMIT.
func rawInsert(tb testing.TB, path string, tables []table, batches int) time.Duration {
	tb.Helper()
	batchOf := map[any]int{}
	for _, t := range tables {
		if t.name == "visits" {
			id := slices.Index(t.cols, "id")
			for i, row := range t.rows {
				batchOf[row[id]] = i * batches / len(t.rows)
			}
		}
	}
	split := make([][][][]any, len(tables)) // table, batch, rows
	for ti, t := range tables {
		split[ti] = make([][][]any, batches)
		key := slices.Index(t.cols, "visit_id")
		if t.name == "visits" {
			key = slices.Index(t.cols, "id")
		}
		for i, row := range t.rows {
			switch {
			case key >= 0:
				k, ok := batchOf[row[key]]
				require.True(tb, ok, "%s row of an unknown visit", t.name)
				split[ti][k] = append(split[ti][k], row)
			case len(t.rows) < batches:
				for k := range batches {
					split[ti][k] = append(split[ti][k], row)
				}
			default:
				k := i * batches / len(t.rows)
				split[ti][k] = append(split[ti][k], row)
			}
		}
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "10000")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	require.NoError(tb, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	require.NoError(tb, db.Ping())
	start := time.Now()
	for k := range batches {
		tx, err := db.Begin()
		require.NoError(tb, err)
		for ti, t := range tables {
			stmt, err := tx.Prepare(`INSERT OR REPLACE INTO "` + t.name + `" (` + strings.Join(t.cols, ", ") + ") VALUES (?" +
				strings.Repeat(", ?", len(t.cols)-1) + ")")
			require.NoError(tb, err)
			for _, row := range split[ti][k] {
				_, err := stmt.Exec(row...)
				require.NoError(tb, err)
			}
			require.NoError(tb, stmt.Close())
		}
		require.NoError(tb, tx.Commit())
	}
	return time.Since(start)
}

// W2 sizes: 200 photos of 1 to 3 MB.
const (
	w2Photos   = 200
	w2PerVisit = 10
	w2MinSize  = 1 << 20
	w2MaxSize  = 3 << 20
)

// w2S3 returns the S3 test service's configuration, or skips.
func w2S3(b *testing.B) blob.S3Config {
	b.Helper()
	cfg := blobtest.S3Config(b)
	cfg.Bucket = ""
	return cfg
}

// newBucket creates a bucket of a random name and removes it, with what
// it holds, when the benchmark ends.
func newBucket(b *testing.B, mc *minio.Client, prefix string) string {
	b.Helper()
	var r [6]byte
	crand.Read(r[:])
	name := prefix + hex.EncodeToString(r[:])
	require.NoError(b, mc.MakeBucket(context.Background(), name, minio.MakeBucketOptions{Region: blob.DefaultS3Region}))
	b.Cleanup(func() {
		emptyBucket(b, mc, name)
		mc.RemoveBucket(context.Background(), name)
	})
	return name
}

func emptyBucket(tb testing.TB, mc *minio.Client, name string) {
	tb.Helper()
	ctx := context.Background()
	for obj := range mc.ListObjects(ctx, name, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err == nil {
			require.NoError(tb, mc.RemoveObject(ctx, name, obj.Key, minio.RemoveObjectOptions{}))
		}
	}
}

// BenchmarkW2_Photos measures 200 photos of 1 to 3 MB going through the
// evidence path with the S3 store on versitygw: the real field client's
// Sync asks the real server for an upload slot, PUTs the file to the
// presigned URL, and finalizes (the server re-reads and re-hashes every
// byte); against the machine's limit measured in the same iteration: a
// minio-go PutObject loop of the same files to the same versitygw. It
// also reports the process's heap in use (after a GC) before and after
// the uploads, its peak during them, and the bytes allocated per photo
// byte: the server streams, so none grows with the photo bytes.
func BenchmarkW2_Photos(b *testing.B) {
	cfg := w2S3(b)
	ctx := context.Background()
	endpoint, secure := cfg.Endpoint, false
	if u, err := url.Parse(cfg.Endpoint); err == nil && u.Host != "" {
		endpoint, secure = u.Host, u.Scheme == "https"
	}
	mc, err := minio.New(endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: secure,
		Region: blob.DefaultS3Region, BucketLookup: minio.BucketLookupPath,
	})
	require.NoError(b, err)
	cfg.Bucket = newBucket(b, mc, "shopscore-w2-evidence-")
	direct := newBucket(b, mc, "shopscore-w2-direct-")
	store, err := blob.NewS3(ctx, cfg)
	require.NoError(b, err)
	ts := mustRunServer(b, server.Config{Blob: store})
	mustImportPack(b, ts.URL, benchPack("w2-photos", 1, `{"id": "evidence", "type": "photo", "text": "Evidence.", "required_count": 1}`))

	// The photos, written once; each iteration stamps new bytes into them
	// so that the content-addressed store never has them already.
	src := b.TempDir()
	rnd := rand.New(rand.NewPCG(2, 200))
	paths := make([]string, w2Photos)
	var total int64
	for i := range paths {
		paths[i] = writePhoto(b, src, rnd, w2MinSize+rnd.IntN(w2MaxSize-w2MinSize+1))
		st, err := os.Stat(paths[i])
		require.NoError(b, err)
		total += st.Size()
	}

	var ours, limit time.Duration
	var heapBefore, heapAfter, heapPeak, allocated uint64
	for i := 0; i < b.N; i++ {
		stamp := []byte(uuid.NewString())
		for _, p := range paths {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			require.NoError(b, err)
			_, err = f.WriteAt(stamp, 4)
			require.NoError(b, err)
			require.NoError(b, f.Close())
		}
		dir := b.TempDir()
		c := mustOpenField(b, benchConfig(dir, ts.URL))
		for v := range w2Photos / w2PerVisit {
			id, err := c.StartUnplannedVisit(ctx, "w2-photos", "MSK-01")
			require.NoError(b, err)
			yes := true
			_, err = c.Answer(ctx, id, "q00", field.Value{Bool: &yes})
			require.NoError(b, err)
			for _, p := range paths[v*w2PerVisit : (v+1)*w2PerVisit] {
				_, err := c.AddPhoto(ctx, id, "evidence", p)
				require.NoError(b, err)
			}
			require.NoError(b, c.Submit(ctx, id))
		}
		n, err := c.Push(ctx)
		require.NoError(b, err)
		require.Equal(b, w2Photos/w2PerVisit, n)

		// Ours: slot, upload, finalize for every photo (then a small pull).
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heapBefore = ms.HeapInuse
		allocBefore := ms.TotalAlloc
		stop := sampleHeap()
		t0 := time.Now()
		res, err := c.Sync(ctx, nil)
		ours += time.Since(t0)
		heapPeak = max(heapPeak, stop())
		require.NoError(b, err)
		require.Empty(b, res.PhotoErrors)
		require.Equal(b, w2Photos, res.PhotosVerified)
		runtime.ReadMemStats(&ms)
		allocated += ms.TotalAlloc - allocBefore
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heapAfter = ms.HeapInuse
		requireNothingWaits(b, c)
		require.NoError(b, c.Close())

		// The limit: the same files, PUT directly.
		t0 = time.Now()
		for k, p := range paths {
			f, err := os.Open(p)
			require.NoError(b, err)
			st, err := f.Stat()
			require.NoError(b, err)
			_, err = mc.PutObject(ctx, direct, fmt.Sprintf("photo-%03d", k), f, st.Size(), minio.PutObjectOptions{ContentType: "image/jpeg"})
			f.Close()
			require.NoError(b, err)
		}
		limit += time.Since(t0)

		emptyBucket(b, mc, direct)
		emptyBucket(b, mc, cfg.Bucket)
		require.NoError(b, os.RemoveAll(dir))
	}
	mb := float64(total*int64(b.N)) / 1e6
	b.ReportMetric(mb/ours.Seconds(), "MB/s")
	b.ReportMetric(mb/limit.Seconds(), "direct-MB/s")
	b.ReportMetric(limit.Seconds()/ours.Seconds(), "ratio")
	b.ReportMetric(float64(heapBefore)/(1<<20), "heap-before-MiB")
	b.ReportMetric(float64(heapAfter)/(1<<20), "heap-after-MiB")
	b.ReportMetric(float64(heapPeak)/(1<<20), "heap-peak-MiB")
	b.ReportMetric(float64(allocated)/float64(total*int64(b.N)), "alloc-B/photo-B")
}

// sampleHeap samples the heap in use every 20 ms until stop is called;
// stop returns the largest sample.
func sampleHeap() (stop func() uint64) {
	var peak atomic.Uint64
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak.Load()
	}
}
