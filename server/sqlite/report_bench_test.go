package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/audit/demopack"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/server/storage"
)

// The report benchmarks (BENCHMARKS.md, W3 and W4) generate their rows
// straight into visits, report_visits and visit_answers, once per process
// and size, in a folder removed when the tests end. Sizes: the by
// default, small with -short, or SHOPSCORE_BENCH_W3_ANSWERS and
// SHOPSCORE_BENCH_W4_VISITS. Like the server's own database, the
// generated one has no planner statistics (no ANALYZE): the queries must
// choose their plan without them.

const (
	benchAnswersPerVisit = 40
	benchStores          = 20
	benchStaffPerStore   = 10
)

var benchMonth = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

var (
	benchDirOnce sync.Once
	benchDir     string
	benchDBs     = map[[2]int]*sqlite.DB{} // by visits a month and months
	benchMu      sync.Mutex
)

func TestMain(m *testing.M) {
	code := m.Run()
	benchMu.Lock()
	for _, db := range benchDBs {
		db.Close()
	}
	benchMu.Unlock()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchSize returns the size from the environment, or the issue's, or the
// short one with -short.
func benchSize(env string, full, short int) int {
	if v, err := strconv.Atoi(os.Getenv(env)); err == nil && v > 0 {
		return v
	}
	if testing.Short() {
		return short
	}
	return full
}

// mustBenchDB returns a database with the demo pack, 20 stores of 10
// cashiers each with base pay, a bonus policy "bench" on four categories,
// and the given number of approved visits of benchMonth with 40 answers
// each, generated directly as report rows.
func mustBenchDB(b *testing.B, visits int) *sqlite.DB { return mustBenchHistory(b, visits, 1) }

// mustBenchHistory is mustBenchDB with history: the same number of visits
// in each of the months-1 months before benchMonth as well. benchMonth's
// rows are the same as mustBenchDB's.
func mustBenchHistory(b *testing.B, visits, months int) *sqlite.DB {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	key := [2]int{visits, months}
	if db := benchDBs[key]; db != nil {
		return db
	}
	benchDirOnce.Do(func() {
		var err error
		if benchDir, err = os.MkdirTemp("", "shopscore-bench-"); err != nil {
			b.Fatal(err)
		}
	})
	start := time.Now()
	path := filepath.Join(benchDir, fmt.Sprintf("v%d-m%d.db", visits, months))
	db := sqlite.NewDB(path)
	must(b, db.Open())
	ctx := context.Background()
	shopper := &audit.User{Email: "bench-shopper@example.com", Role: audit.RoleShopper}
	must(b, app.New(db, app.Options{}).CreateUser(ctx, shopper, "not-a-hash"))
	_, err := app.New(db, app.Options{}).ImportPack(ctx, "demo-pack.json", demopack.JSON, true, false, "bench")
	must(b, err)
	var stores []string
	staff := map[string][]string{}
	var pay []storage.BasePayRow
	for s := range benchStores {
		st := &audit.Store{Code: fmt.Sprintf("S%02d", s), Name: fmt.Sprintf("Store %d", s), Region: []string{"North", "South"}[s%2]}
		must(b, app.New(db, app.Options{}).CreateStore(ctx, st))
		stores = append(stores, st.ID)
		for e := range benchStaffPerStore {
			m := &audit.Staff{EmployeeNumber: fmt.Sprintf("E%02d%02d", s, e), Name: fmt.Sprintf("Employee %d-%d", s, e), Position: "cashier", StoreID: st.ID}
			must(b, app.New(db, app.Options{}).CreateStaff(ctx, audit.Scope{All: true}, m))
			staff[st.ID] = append(staff[st.ID], m.ID)
			pay = append(pay, storage.BasePayRow{EmployeeNumber: m.EmployeeNumber, EffectiveMonth: "2026-01", AmountMinor: int64(50_000_00 + 1000*e)})
		}
	}
	uc := app.New(db, app.Options{})
	must(b, uc.SetBasePay(ctx, pay, "bench", "bench"))
	rule := reports.Rule{Thresholds: []reports.Threshold{{MinPercent: 90, Payout: 1}, {MinPercent: 75, Payout: 0.5}}}
	_, _, err = uc.CreatePolicy(ctx, reports.Policy{
		ID: "bench", Name: "Cashiers", Positions: []string{"cashier"}, Base: reports.BasePay, UnlinkedShare: 0.6,
		Components: []reports.Component{
			{Name: "politeness", Share: 0.1, Categories: []string{"politeness"}, Rule: rule, ForfeitOnCritical: true},
			{Name: "speed", Share: 0.1, Categories: []string{"speed"}, Rule: rule, MinVisits: 3, DefaultPayout: 0.5},
			{Name: "price tags", Share: 0.1, Categories: []string{"price_tags"}, Rule: reports.Rule{Linear: &reports.Linear{From: 50, To: 95}}},
			{Name: "cleanliness", Share: 0.1, Clauses: []string{"STD-07", "STD-17"}, Rule: rule, Combine: reports.CombineRecencyWeighted, HalfLifeDays: 10},
		},
	}, "bench")
	must(b, err)
	must(b, db.Close())

	raw, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=OFF&_foreign_keys=off")
	must(b, err)
	defer raw.Close()
	tx, err := raw.Begin()
	must(b, err)
	insVisit, err := tx.Prepare(`INSERT INTO visits (id, shopper_id, store_id, checklist_id, checklist_version, content_hash, channel,
		body, digest, state, score_percent, score, started_at, received_at, device_id, session_id, mutation_id)
		VALUES (?, ?, ?, 'store-visit', 1, ?, 'store_visit', '{}', ?, 'approved', ?, '{}', ?, ?, 'bench', 'bench', ?)`)
	must(b, err)
	insReport, err := tx.Prepare(`INSERT INTO report_visits (visit_id, store_id, staff_id, visited_at, points, max_points, critical_failed, answers)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING no`)
	must(b, err)
	insAnswer, err := tx.Prepare(`INSERT INTO visit_answers (visit_no, ord, question_id, section_id, standard_code, category, points,
		max_points, not_applicable, failed, critical, critical_failure, nps, answer, note)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '')`)
	must(b, err)
	categories := []string{"politeness", "speed", "merchandising", "price_tags", "back_office", "cleanliness", "delivery", "competence", "communication", "recommendation"}
	rng := rand.New(rand.NewPCG(1, uint64(visits)))
	hash := strings.Repeat("ab", 32)
	for mo := range months {
		month := benchMonth.AddDate(0, -mo, 0)
		span := month.AddDate(0, 1, 0).Sub(month)
		for i := range visits {
			v := mo*visits + i
			id := fmt.Sprintf("visit-%08d", v)
			store := stores[v%len(stores)]
			staffID := ""
			if v%5 != 0 { // four visits in five name the employee served
				staffID = staff[store][rng.IntN(benchStaffPerStore)]
			}
			at := month.Add(time.Duration(rng.Int64N(int64(span)))).UnixMilli()
			var points, max float64
			critical := false
			answers := make([][]any, 0, benchAnswersPerVisit)
			for q := range benchAnswersPerVisit {
				m := float64(1 + q%3)
				na := q%13 == 5
				p := m
				if rng.IntN(5) == 0 {
					p = float64(rng.IntN(int(m)))
				}
				if na {
					m, p = 0, 0
				}
				crit := q == 3
				critFail := crit && p < m
				critical = critical || critFail
				var nps any
				answer := "yes"
				if q == benchAnswersPerVisit-1 {
					n := rng.IntN(11)
					nps, answer = n, strconv.Itoa(n)
				} else if p < m {
					answer = "no"
				}
				points += p
				max += m
				answers = append(answers, []any{q, fmt.Sprintf("q%02d", q), fmt.Sprintf("sec%d", q/10), fmt.Sprintf("STD-%02d", q%20),
					categories[q%len(categories)], p, m, na, p < m, crit, critFail, nps, answer})
			}
			_, err := insVisit.Exec(id, shopper.ID, store, hash, hash, 100*points/max, at, at, id)
			must(b, err)
			var no int64
			must(b, insReport.QueryRow(id, store, staffID, at, points, max, critical, benchAnswersPerVisit).Scan(&no))
			for _, a := range answers {
				_, err := insAnswer.Exec(append([]any{no}, a...)...)
				must(b, err)
			}
		}
	}
	must(b, tx.Commit())
	_, err = raw.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	must(b, err)

	db = sqlite.NewDB(path)
	must(b, db.Open())
	benchDBs[key] = db
	b.Logf("generated %d visits, %d answers over %d month(s) in %v", visits*months, visits*months*benchAnswersPerVisit, months, time.Since(start).Round(time.Millisecond))
	return db
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

// heapPeak samples the live heap while fn runs and returns the peak
// growth over the heap before it, in bytes.
func heapPeak(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	peak := base
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				metrics.Read(s)
				peak = max(peak, s[0].Value.Uint64())
			}
		}
	}()
	fn()
	close(stop)
	<-done
	metrics.Read(sample)
	peak = max(peak, sample[0].Value.Uint64())
	return peak - base
}

// resetPeakRSS resets the kernel's peak resident set size of the process
// (VmHWM); peakRSS reads it, in bytes (0 when /proc is not there).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func peakRSS() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuSeconds is the CPU time (user and system, every thread) the process
// has used, from /proc (0 when it is not there): unlike the wall time, it
// does not grow with other processes' load on the same cores.
func cpuSeconds() float64 {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses; utime
	// and stime are the 14th and 15th fields, in ticks of 1/100 s.
	rest := string(data)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	user, _ := strconv.ParseFloat(f[11], 64)
	system, _ := strconv.ParseFloat(f[12], 64)
	return (user + system) / 100
}

// plainSelect reads the same columns as a bonus run's observations, for
// the same period, into Go values: the limit a bonus run is measured
// against.
func plainSelect(b *testing.B, db *sqlite.DB) int {
	tx, err := db.BeginRead(context.Background())
	must(b, err)
	defer tx.Rollback()
	rows, err := tx.Query(`SELECT r.visit_id, r.store_id, r.staff_id, r.visited_at, a.question_id, a.category, a.standard_code,
		a.points, a.max_points, a.critical_failure FROM report_visits r CROSS JOIN visit_answers a ON a.visit_no = r.no
		WHERE r.visited_at >= ? AND r.visited_at < ?`,
		benchMonth.UnixMilli(), benchMonth.AddDate(0, 1, 0).UnixMilli())
	must(b, err)
	defer rows.Close()
	n := 0
	var visit, store, staff, question, category, clause string
	var at int64
	var points, max float64
	var critical bool
	for rows.Next() {
		// Not must: its testing.Helper call per row cost a tenth of the
		// limit's time and made the ratio look better than it is.
		if err := rows.Scan(&visit, &store, &staff, &at, &question, &category, &clause, &points, &max, &critical); err != nil {
			b.Fatal(err)
		}
		n++
	}
	must(b, rows.Err())
	return n
}

// BenchmarkW3_BonusRun runs the bonus policy over a month of approved
// answers (1 M by default), stored run included, and measures in the same
// iteration a plain SELECT of the same columns into Go. It reports the
// ratio of the two (target ≤ 1.2), in wall time and in CPU time, and the
// Go heap growth of the run, at two sizes with the same staff: memory
// follows staff, not answers.
func BenchmarkW3_BonusRun(b *testing.B) {
	full := benchSize("SHOPSCORE_BENCH_W3_ANSWERS", 1_000_000, 40_000)
	for _, answers := range []int{full / 4, full} {
		b.Run(fmt.Sprintf("answers=%d", answers), func(b *testing.B) {
			db := mustBenchDB(b, answers/benchAnswersPerVisit)
			ctx := context.Background()
			var runNS, selectNS, runCPU, selectCPU, heap float64
			for b.Loop() {
				start, cpu := time.Now(), cpuSeconds()
				n := plainSelect(b, db)
				selectNS += float64(time.Since(start).Nanoseconds())
				selectCPU += cpuSeconds() - cpu
				if n != answers {
					b.Fatalf("plain select read %d rows, want %d", n, answers)
				}
				var run *storage.BonusRun
				start, cpu = time.Now(), cpuSeconds()
				heap += float64(heapPeak(func() {
					var err error
					run, err = app.New(db, app.Options{}).RunBonus(ctx, "bench", 0, "2026-10", "bench")
					must(b, err)
				}))
				runNS += float64(time.Since(start).Nanoseconds())
				runCPU += cpuSeconds() - cpu
				if run.Run.Stats.Observations != int64(answers) {
					b.Fatalf("run read %d observations, want %d", run.Run.Stats.Observations, answers)
				}
			}
			b.ReportMetric(runNS/float64(b.N)/1e6, "run-ms")
			b.ReportMetric(selectNS/float64(b.N)/1e6, "select-ms")
			b.ReportMetric(runNS/selectNS, "x-select")
			// CPU time over every thread of the process, which other
			// processes' load moves less than wall time; the run hashes
			// its inputs on a second thread, so this ratio is the higher.
			b.ReportMetric(runCPU/selectCPU, "x-select-cpu")
			b.ReportMetric(heap/float64(b.N)/(1<<20), "heap-MB")
			b.ReportMetric(float64(answers)/(runNS/float64(b.N)/1e9), "answers/s")
		})
	}
}

// BenchmarkW3_BonusHistory runs the bonus policy for one month on a
// database holding only that month and on one holding the same month with
// as many visits in each of the months before it (12 months in all, or
// SHOPSCORE_BENCH_W3_MONTHS), 250 k answers a month by default. It
// reports the run's time on each, the time to the first observation (the
// report index check, the snapshot and the first row the bonus engine
// reads) on each, and the history's cost as a ratio to one month's
// (target: 1, within noise).
func BenchmarkW3_BonusHistory(b *testing.B) {
	answers := benchSize("SHOPSCORE_BENCH_W3_ANSWERS", 1_000_000, 40_000) / 4
	months := benchSize("SHOPSCORE_BENCH_W3_MONTHS", 12, 12)
	visits := answers / benchAnswersPerVisit
	dbs := []*sqlite.DB{mustBenchHistory(b, visits, 1), mustBenchHistory(b, visits, months)}
	ctx := context.Background()
	period := reports.Period{From: benchMonth, To: benchMonth.AddDate(0, 1, 0)}
	var runNS, firstNS [2]float64
	for b.Loop() {
		for i, db := range dbs {
			start := time.Now()
			_, err := db.IndexReportRows(ctx)
			must(b, err)
			tx, err := db.BeginRead(ctx)
			must(b, err)
			for _, err := range tx.BonusRuns().Observations(ctx, period) {
				must(b, err)
				break
			}
			firstNS[i] += float64(time.Since(start).Nanoseconds())
			must(b, tx.Rollback())

			start = time.Now()
			run, err := app.New(db, app.Options{}).RunBonus(ctx, "bench", 0, "2026-10", "bench")
			must(b, err)
			runNS[i] += float64(time.Since(start).Nanoseconds())
			if run.Run.Stats.Observations != int64(answers) {
				b.Fatalf("run read %d observations, want %d", run.Run.Stats.Observations, answers)
			}
		}
	}
	n := float64(b.N)
	b.ReportMetric(runNS[0]/n/1e6, "run-1-month-ms")
	b.ReportMetric(runNS[1]/n/1e6, "run-history-ms")
	b.ReportMetric(runNS[1]/runNS[0], "x-run-history")
	b.ReportMetric(firstNS[0]/n/1e6, "first-row-1-month-ms")
	b.ReportMetric(firstNS[1]/n/1e6, "first-row-history-ms")
	b.ReportMetric(firstNS[1]/firstNS[0], "x-first-row-history")
}

// rawWorkbook writes the rows of the audit workbook's Visits and Answers
// sheets, the same values read from the same database, through a bare
// excelize StreamWriter (no styles, no aggregates, no charts): the limit
// the audit workbook is measured against. It writes every visit and the
// first maxAnswers answers (a sample keeps the run short; the rate is
// what is compared), and returns the rows written.
func rawWorkbook(b *testing.B, db *sqlite.DB, w io.Writer, maxAnswers int) int64 {
	f := excelize.NewFile()
	defer f.Close()
	tx, err := db.BeginRead(context.Background())
	must(b, err)
	defer tx.Rollback()
	var n int64
	sheet := 0
	var sw *excelize.StreamWriter
	row := 0
	next := func() {
		if sw != nil {
			must(b, sw.Flush())
		}
		sheet++
		name := fmt.Sprintf("Sheet%d", sheet)
		if sheet > 1 {
			_, err := f.NewSheet(name)
			must(b, err)
		}
		sw, err = f.NewStreamWriter(name)
		must(b, err)
		row = 0
	}
	next()
	write := func(values []any) {
		if row == excelize.TotalRows {
			next()
		}
		for i, v := range values { // empty cells are left out, as the workbook does
			if v == "" {
				values[i] = nil
			}
		}
		row++
		cell, _ := excelize.CoordinatesToCellName(1, row)
		must(b, sw.SetRow(cell, values))
		n++
	}
	from, to := benchMonth.UnixMilli(), benchMonth.AddDate(0, 1, 0).UnixMilli()
	rows, err := tx.Query(`SELECT r.visit_id, s.code, s.name, s.region, v.checklist_id, v.checklist_version, v.channel, v.shopper_id,
		r.staff_id, r.visited_at, v.state, r.points, r.max_points, r.critical_failed
		FROM report_visits r JOIN visits v ON v.id = r.visit_id JOIN stores s ON s.id = r.store_id
		WHERE r.visited_at >= ? AND r.visited_at < ? ORDER BY r.visited_at, r.visit_id`, from, to)
	must(b, err)
	for rows.Next() {
		var id, code, name, region, checklist, channel, shopper, staff, state string
		var version int
		var at int64
		var points, max float64
		var critical bool
		must(b, rows.Scan(&id, &code, &name, &region, &checklist, &version, &channel, &shopper, &staff, &at, &state, &points, &max, &critical))
		write([]any{id, code, name, region, time.UnixMilli(at).UTC(), checklist, version, channel, shopper, staff, state,
			points, max, points / max, critical, critical})
	}
	must(b, rows.Err())
	rows.Close()
	rows, err = tx.Query(`SELECT r.visit_id, s.code, r.visited_at, a.question_id, a.category, a.standard_code, a.answer,
		a.points, a.max_points, a.not_applicable, a.critical, a.critical_failure, r.staff_id, a.note
		FROM report_visits r JOIN visits v ON v.id = r.visit_id JOIN stores s ON s.id = r.store_id JOIN visit_answers a ON a.visit_no = r.no
		WHERE r.visited_at >= ? AND r.visited_at < ? ORDER BY r.visited_at, r.visit_id, a.ord LIMIT ?`, from, to, maxAnswers)
	must(b, err)
	for rows.Next() {
		var id, code, question, category, clause, answer, staff, note string
		var at int64
		var points, max float64
		var na, critical, failed bool
		must(b, rows.Scan(&id, &code, &at, &question, &category, &clause, &answer, &points, &max, &na, &critical, &failed, &staff, &note))
		var score any
		if max > 0 {
			score = points / max
		}
		write([]any{id, code, time.UnixMilli(at).UTC(), question, "", category, clause, answer, points, max, score, na, critical, failed, staff, note})
	}
	must(b, rows.Err())
	rows.Close()
	must(b, sw.Flush())
	must(b, reports.WriteWorkbook(f, w))
	return n
}

// benchFile is a file in the benchmark folder that each workbook
// overwrites: both workbooks go to a file the same way.
func benchFile(b *testing.B, name string) *os.File {
	f, err := os.Create(filepath.Join(benchDir, name))
	must(b, err)
	b.Cleanup(func() { f.Close(); os.Remove(f.Name()) })
	return f
}

// rewind empties a bench file for the next workbook.
func rewind(b *testing.B, f *os.File) {
	must(b, f.Truncate(0))
	_, err := f.Seek(0, io.SeekStart)
	must(b, err)
}

// BenchmarkW4_AuditWorkbook writes the audit workbook of a month with
// 100 k visits and 4 M answers (by default) to a file and, in the same
// iteration, the same rows read from the same database through a bare
// excelize StreamWriter to another file, zipped the same way
// (reports.WriteWorkbook; every visit and a quarter of the answers: the
// rates are compared). It reports our rate as a fraction of the bare one
// (target ≥ 0.9), the wall time, the CPU time of ours (every thread: the
// reader, the writer, the deflaters) and its rows per CPU second over the
// bare writer's (x-raw-cpu, which other processes' load moves less), the peak resident set of ours (after
// returning the bare pass's memory to the system) and the peak Go heap.
func BenchmarkW4_AuditWorkbook(b *testing.B) {
	visits := benchSize("SHOPSCORE_BENCH_W4_VISITS", 100_000, 2_000)
	db := mustBenchDB(b, visits)
	ctx := context.Background()
	rawOut, ourOut := benchFile(b, "raw.xlsx"), benchFile(b, "ours.xlsx")
	var oursNS, oursCPU, rawNS, rawCPU, rawRows, heap, rss, size float64
	for b.Loop() {
		rewind(b, rawOut)
		start, cpu := time.Now(), cpuSeconds()
		sample := visits * benchAnswersPerVisit / 4
		n := rawWorkbook(b, db, rawOut, sample)
		rawNS += float64(time.Since(start).Nanoseconds())
		rawCPU += cpuSeconds() - cpu
		rawRows += float64(n)
		if n != int64(visits+sample) {
			b.Fatalf("raw workbook wrote %d rows, want %d", n, visits+sample)
		}
		rewind(b, ourOut)
		debug.FreeOSMemory()
		resetPeakRSS()
		start, cpu = time.Now(), cpuSeconds()
		heap += float64(heapPeak(func() {
			must(b, app.New(db, app.Options{}).WriteAuditWorkbook(ctx, app.AuditQuery{Scope: audit.Scope{All: true}, From: "2026-10", To: "2026-10"}, ourOut, app.AuditWorkbookOptions{}))
		}))
		oursNS += float64(time.Since(start).Nanoseconds())
		oursCPU += cpuSeconds() - cpu
		rss += float64(peakRSS())
		fi, err := ourOut.Stat()
		must(b, err)
		size += float64(fi.Size())
	}
	rows := float64(visits * (1 + benchAnswersPerVisit))
	b.ReportMetric(oursNS/float64(b.N)/1e9, "wall-s")
	b.ReportMetric(oursCPU/float64(b.N), "cpu-s")
	if oursCPU > 0 && rawCPU > 0 { // rows per CPU second, ours over the bare writer's
		b.ReportMetric((rows*float64(b.N)/oursCPU)/(rawRows/rawCPU), "x-raw-cpu")
	}
	b.ReportMetric(rawRows/(rawNS/1e9), "raw-rows/s")
	b.ReportMetric((rows*float64(b.N)/(oursNS/1e9))/(rawRows/(rawNS/1e9)), "x-raw-rate")
	b.ReportMetric(rows/(oursNS/float64(b.N)/1e9), "rows/s")
	b.ReportMetric(rss/float64(b.N)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(heap/float64(b.N)/(1<<20), "heap-MB")
	b.ReportMetric(size/float64(b.N)/(1<<20), "xlsx-MB")
}
