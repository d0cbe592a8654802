package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/sync/protocol"
)

// The growth benchmarks (BENCHMARKS.md, growth) compare the same work on
// a database holding history and on one without: mustBenchDB's generated
// visits (100 k by default, 2 k with -short, SHOPSCORE_BENCH_GROWTH_VISITS)
// against none (pushes) or 1 k (review-list pages).

const (
	growthQuestions = 40  // W1's shape: 40 yes/no questions a visit
	growthBatch     = 100 // visits a push, as the field client sends them
	growthPushes    = 5   // pushes an iteration: W1's 500 visits
)

func growthVisits() int { return benchSize("SHOPSCORE_BENCH_GROWTH_VISITS", 100_000, 2_000) }

// growthPack is W1's checklist: 40 required yes/no questions, open to
// unplanned visits.
func growthPack() []byte {
	qs := make([]string, growthQuestions)
	for i := range qs {
		qs[i] = fmt.Sprintf(`{"id": "q%02d", "type": "yes_no", "text": "Check %d?", "standard": "GRW-1", "required": true, "weight": %d}`, i, i, 1+i%3)
	}
	return fmt.Appendf(nil, `{"format": "shopscore.pack/v1", "name": "Growth",
  "standards": [{"code": "GRW-1", "clause": "Measured.", "category": "merchandising"}],
  "checklists": [{"id": "growth-40", "name": "Growth", "channel": "store_visit", "allow_unplanned": true,
    "sections": [{"id": "s", "title": "Checks", "questions": [%s]}]}]}`, strings.Join(qs, ",\n"))
}

// growthTarget is a generated database made ready for W1-shaped pushes:
// the 40-question checklist published, and the bench shopper and a store.
type growthTarget struct {
	db      *sqlite.DB
	app     *app.App
	shopper string
	store   string
	version *audit.ChecklistVersion
}

var growthTargets = map[*sqlite.DB]*growthTarget{}

func mustGrowthTarget(b *testing.B, visits int) *growthTarget {
	b.Helper()
	db := mustBenchDB(b, visits)
	benchMu.Lock()
	defer benchMu.Unlock()
	if t := growthTargets[db]; t != nil {
		return t
	}
	ctx := context.Background()
	vs, err := app.New(db, app.Options{}).ImportPack(ctx, "growth-pack.json", growthPack(), true, false, "bench")
	must(b, err)
	u, _, err := db.Users().FindByEmail(ctx, "bench-shopper@example.com")
	must(b, err)
	st, err := db.Stores().FindByCode(ctx, audit.Scope{All: true}, "S00")
	must(b, err)
	t := &growthTarget{db: db, app: app.New(db, app.Options{}), shopper: u.ID, store: st.ID, version: vs[0]}
	growthTargets[db] = t
	return t
}

// push sends W1's 500 visits from a new device, in pushes of 100, and
// returns the time the pushes took.
func (t *growthTarget) push(b *testing.B, rnd *rand.Rand) time.Duration {
	b.Helper()
	ctx := context.Background()
	s, err := app.New(t.db, app.Options{}).CreateSession(ctx, t.shopper, "growth-"+uuid.NewString(), "bench", []byte(uuid.NewString()), time.Now().Add(time.Hour), "127.0.0.1")
	must(b, err)
	dev := app.Device{UserID: t.shopper, SessionID: s.ID}
	now := time.Now().UTC().Truncate(time.Millisecond)
	batches := make([][]app.Mutation, growthPushes)
	for i := range batches {
		for j := range growthBatch {
			v := &audit.Visit{
				ID: uuid.NewString(), StoreID: t.store, ShopperID: t.shopper, ChecklistID: t.version.ChecklistID,
				ChecklistVersion: t.version.Version, ContentHash: t.version.ContentHash, Channel: audit.ChannelStoreVisit,
				StartedAt: now.Add(-30 * time.Minute), FinishedAt: now.Add(-10 * time.Minute),
			}
			for q := range growthQuestions {
				yes := rnd.IntN(5) > 0
				v.Answers = append(v.Answers, audit.Answer{QuestionID: fmt.Sprintf("q%02d", q), Bool: &yes})
			}
			batches[i] = append(batches[i], app.Mutation{Seq: int64(i*growthBatch + j + 1), ID: uuid.NewString(), DeviceTime: now,
				Digest: "submit_visit:" + protocol.VisitDigest(v), Visit: v})
		}
	}
	t0 := time.Now()
	for _, muts := range batches {
		res, err := t.app.Push(ctx, dev, now, muts)
		must(b, err)
		for _, r := range res.Results {
			if r.Status != storage.MutationApplied {
				b.Fatalf("seq %d: %s %v", r.Seq, r.Status, r.Err)
			}
		}
	}
	return time.Since(t0)
}

// BenchmarkGrowth_Push pushes W1's 500 visits of 40 answers (five pushes
// of 100 from a new device, through app.Push) into a database holding
// growthVisits generated visits and into one holding none, alternately in
// each iteration, and reports both rates and their ratio (target: history
// costs at most 1.15 times as much). The pushed visits stay: each
// iteration adds 500 to both databases.
func BenchmarkGrowth_Push(b *testing.B) {
	n := growthVisits()
	full, empty := mustGrowthTarget(b, n), mustGrowthTarget(b, 0)
	rnd := rand.New(rand.NewPCG(14, 5))
	full.push(b, rnd) // warm the statement caches and the version
	empty.push(b, rnd)
	before := usedBytes(b, empty.db)
	var onFull, onEmpty time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		onEmpty += empty.push(b, rnd)
		onFull += full.push(b, rnd)
	}
	b.StopTimer()
	visits := float64(b.N * growthPushes * growthBatch)
	b.ReportMetric(visits/onFull.Seconds(), "visits/s-history")
	b.ReportMetric(visits/onEmpty.Seconds(), "visits/s-empty")
	b.ReportMetric(onFull.Seconds()/onEmpty.Seconds(), "cost-ratio")
	b.ReportMetric(float64(usedBytes(b, empty.db)-before)/visits/1000, "KB/visit")
}

// usedBytes returns the bytes of the database's pages in use (its pages
// less the free list, in the database file and its WAL alike), read on a
// connection of its own.
func usedBytes(b *testing.B, db *sqlite.DB) int64 {
	b.Helper()
	c, err := sql.Open("sqlite3", "file:"+db.Path+"?mode=ro&_busy_timeout=10000")
	must(b, err)
	defer c.Close()
	var pages, free, size int64
	for q, p := range map[string]*int64{`PRAGMA page_count`: &pages, `PRAGMA freelist_count`: &free, `PRAGMA page_size`: &size} {
		must(b, c.QueryRow(q).Scan(p))
	}
	return (pages - free) * size
}

// BenchmarkGrowth_ReviewList reads the review list's first page (newest
// first, 50 visits) and the page after it, on databases holding
// growthVisits and 1 000 generated visits, alternately, and reports the
// milliseconds a page (median of the iteration's pages) and the ratio
// (targets: at most 20 ms, and at most 1.2 times the small database's).
func BenchmarkGrowth_ReviewList(b *testing.B) {
	n := growthVisits()
	full, small := mustBenchDB(b, n), mustBenchDB(b, 1_000)
	ctx := context.Background()
	page := func(db *sqlite.DB) time.Duration {
		t0 := time.Now()
		first, err := db.Visits().List(ctx, storage.VisitFilter{Scope: audit.Scope{All: true}, Limit: 50})
		must(b, err)
		if len(first) != 50 {
			b.Fatalf("first page: %d visits", len(first))
		}
		last := first[len(first)-1]
		next, err := db.Visits().List(ctx, storage.VisitFilter{Scope: audit.Scope{All: true}, Limit: 50,
			After: storage.VisitCursor{Received: last.ReceivedAt, ID: last.ID}})
		must(b, err)
		if len(next) != 50 {
			b.Fatalf("second page: %d visits", len(next))
		}
		return time.Since(t0) / 2
	}
	page(full)
	page(small)
	var onFull, onSmall []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		onSmall = append(onSmall, float64(page(small).Microseconds())/1000)
		onFull = append(onFull, float64(page(full).Microseconds())/1000)
	}
	slices.Sort(onFull)
	slices.Sort(onSmall)
	f, s := onFull[len(onFull)/2], onSmall[len(onSmall)/2]
	b.ReportMetric(f, "ms/page-history")
	b.ReportMetric(s, "ms/page-1k")
	b.ReportMetric(f/s, "ratio")
}
