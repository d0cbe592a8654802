package postgres

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/storage"
)

// fullSort is a plan node that sorts its whole input (an Incremental Sort,
// which sorts each run of rows equal on the leading keys, one visit's
// answers at a time, streams and is allowed).
var fullSort = regexp.MustCompile(`(?m)^\s*(->\s+)?Sort\s*$`)

// TestReportQueries_TimeIndexDrives checks, with planner statistics over
// two years of visits (autovacuum's ANALYZE gives a server the same), that
// each report query over one month starts from the time index for that
// month and reads no table of the history whole, and that the streaming
// ones sort nothing whole: their first row and their cost follow the month
// asked, not the history (issue 14).
func TestReportQueries_TimeIndexDrives(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// In a database whose default collation is a language's (ICU, en-US):
	// the order of visit ids is still the time index's, in bytes.
	db, err := Open(ctx, icuDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{
		`INSERT INTO users (id, email, role, password_hash, created_at) VALUES ('u', 'u@example.com', 'shopper', 'x', now())`,
		`INSERT INTO stores (id, code, name, region, created_at)
			SELECT 'st-' || i, 'S' || i, 'Store ' || i, CASE WHEN i % 2 = 0 THEN 'North' ELSE 'South' END, now() FROM generate_series(1, 20) i`,
		`INSERT INTO checklists (id, created_at) VALUES ('c', now())`,
		`INSERT INTO checklist_versions (checklist_id, version, name, channel, state, content, question_count, created_at)
			VALUES ('c', 1, 'c', 'store_visit', 'published', '{}', 10, now())`,
		// 24,000 visits, one every 43 minutes: two years, 1,000 a month.
		`INSERT INTO visits (id, shopper_id, store_id, checklist_id, checklist_version, content_hash, channel, body, digest, state, score,
				started_at, received_at, device_id, session_id, mutation_id)
			SELECT 'v-' || i, 'u', 'st-' || (i % 20 + 1), 'c', 1, '', 'store_visit', '{}', '',
				CASE WHEN i % 3 = 0 THEN 'in_review' WHEN i % 3 = 1 THEN 'approved' ELSE 'published' END, '{}', t, t, 'd', 's', 'm-' || i
			FROM generate_series(1, 24000) i, LATERAL (SELECT timestamptz '2024-01-01 00:00Z' + i * interval '43 minutes' AS t) x`,
		`INSERT INTO report_visits (visit_id, store_id, staff_id, visited_at, points, max_points, critical_failed, answers)
			SELECT id, store_id, '', started_at, 8, 10, false, 10 FROM visits`,
		`INSERT INTO visit_answers (visit_id, ord, question_id, section_id, category, points, max_points, not_applicable, failed, critical, critical_failure)
			SELECT v.id, o, 'q' || o, 's', 'politeness', 1, 1, false, false, false, false FROM visits v, generate_series(0, 9) o`,
		`INSERT INTO visit_photos (visit_id, question_id, idx, sha256, size, content_type)
			SELECT id, 'q1', 0, md5(id), 100, 'image/jpeg' FROM visits WHERE seq % 4 = 0`,
		`ANALYZE`,
	} {
		if _, err := db.pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	month := reports.Month(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	sel := storage.AuditSelection{Scope: audit.Scope{All: true}, From: month.From, To: month.To}
	store := sel
	store.StoreID = "st-3"
	region := sel
	region.Region = "North"
	// The streaming queries run as cursors (stream) and must not sort
	// their result; the others (counts, the month's checklist versions)
	// return a few rows, and may sort the month's.
	type query struct {
		sql     string
		a       []any
		streams bool
	}
	bonus := []any{ms(month.From), ms(month.To), states(audit.BonusStates)}
	queries := map[string]query{
		"bonus answers": {cursorFor(bonusAnswers), bonus, true},
		"bonus stamp":   {cursorFor(stampVisits), bonus, true},
	}
	for name, s := range map[string]storage.AuditSelection{"every store": sel, "one store": store, "one region": region} {
		q, a := auditVisits(s)
		queries["audit visits, "+name] = query{cursorFor(q), a, true}
		q, a = auditAnswers(s)
		queries["audit answers, "+name] = query{cursorFor(q), a, true}
		q, a = auditPhotos(s)
		queries["audit photos, "+name] = query{cursorFor(q), a, true}
		queries["audit versions, "+name] = query{auditVersions(s), a, false}
		for i, q := range auditCounts(s) {
			queries["audit count "+strconv.Itoa(i)+", "+name] = query{q, a, false}
		}
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			rows, err := db.pool.Query(ctx, `EXPLAIN (COSTS OFF) `+q.sql, q.a...)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				lines = append(lines, line)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			plan := strings.Join(lines, "\n")
			if !strings.Contains(plan, "report_visits_time") {
				t.Errorf("the plan does not read the month from the time index:\n%s", plan)
			}
			for _, table := range []string{"report_visits", "visits", "visit_answers", "visit_photos"} {
				if strings.Contains(plan, "Seq Scan on "+table+" ") {
					t.Errorf("the plan reads the whole of %s:\n%s", table, plan)
				}
			}
			if q.streams && fullSort.MatchString(plan) {
				t.Errorf("the plan sorts its whole result:\n%s", plan)
			}
		})
	}
}
