package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// A visit stored by a transaction that commits after a later one (two
// servers' pushes) is indexed for reports all the same: the indexer
// indexes every visit it sees at once, and its mark never passes a
// transaction still in flight. A mark by seq alone would skip the late
// visit: it took its seq before the other, which the indexer saw first.
func TestIndex_VisitCommittedLate(t *testing.T) {
	t.Parallel()
	db, _ := open(t)
	ctx := context.Background()
	at := time.Date(2026, 5, 2, 9, 30, 0, 0, time.UTC)
	index := func() int {
		t.Helper()
		n, err := db.AuditReports().Index(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	var cv *audit.ChecklistVersion
	if err := db.update(ctx, func(tx *Tx) error {
		cv = seedReports(t, pgSeeder{tx}, at)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := index(); n != seededVisits {
		t.Fatalf("indexed %d visits, want %d", n, seededVisits)
	}

	// A push writes its visit and stays open; a later one commits.
	open, err := db.begin(ctx, writeTx)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Rollback(context.WithoutCancel(ctx))
	seedVisit(t, pgSeeder{open}, cv, 0, "late", at)
	if err := db.update(ctx, func(tx *Tx) error {
		seedVisit(t, pgSeeder{tx}, cv, 1, "early", at)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var lateSeq, earlySeq int64
	if err := open.QueryRow(ctx, `SELECT seq FROM visits WHERE id = 'late'`).Scan(&lateSeq); err != nil {
		t.Fatal(err)
	}
	if err := db.pool.QueryRow(ctx, `SELECT seq FROM visits WHERE id = 'early'`).Scan(&earlySeq); err != nil {
		t.Fatal(err)
	}
	if lateSeq >= earlySeq {
		t.Fatalf("the open push's visit has seq %d, the committed one's %d: want it before", lateSeq, earlySeq)
	}
	// The committed visit is indexed at once; the mark stays behind the
	// open push (none yet, when other tests' transactions on the cluster
	// held it back from the start).
	if n := index(); n != 1 {
		t.Fatalf("indexed %d visits with one push open and one committed, want the committed one", n)
	}
	var through int64
	if err := db.pool.QueryRow(ctx, `SELECT COALESCE((SELECT through FROM report_watermark), 0)`).Scan(&through); err != nil {
		t.Fatal(err)
	}
	if through >= lateSeq {
		t.Fatalf("the mark is at seq %d, past the open push's visit (%d)", through, lateSeq)
	}
	if err := open.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := index(); n != 1 {
		t.Fatalf("after the late push committed: %d visits indexed, want it", n)
	}
	var rows int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM report_visits WHERE visit_id IN ('late', 'early')`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 2 {
		t.Errorf("%d of the two visits have report rows", rows)
	}
	// The mark moves past both once no transaction older than theirs is
	// in flight (other tests' on the cluster may hold it back a moment),
	// and nothing is indexed twice.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if n := index(); n != 0 {
			t.Fatalf("indexed %d visits again", n)
		}
		var id string
		if err := db.pool.QueryRow(ctx, `SELECT COALESCE((SELECT through_id FROM report_watermark), '')`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if id == "early" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mark stays at visit %s, before the two pushes' visits", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Two servers indexing the same visits at once both succeed, and each
// visit ends with its report rows once.
func TestIndex_TwoServersAtOnce(t *testing.T) {
	t.Parallel()
	db, _ := open(t)
	ctx := context.Background()
	if err := db.update(ctx, func(tx *Tx) error {
		seedReports(t, pgSeeder{tx}, time.Date(2026, 5, 2, 9, 30, 0, 0, time.UTC))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var counts [2]int
	errs := atOnce(func(i int) error {
		var err error
		counts[i], err = db.AuditReports().Index(ctx)
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
	}
	if counts[0]+counts[1] < seededVisits {
		t.Errorf("the two servers indexed %d and %d visits, want %d at least between them", counts[0], counts[1], seededVisits)
	}
	var visits, answers, want int
	if err := db.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM report_visits), (SELECT count(*) FROM visit_answers),
		(SELECT COALESCE(sum(answers), 0) FROM report_visits)`).Scan(&visits, &answers, &want); err != nil {
		t.Fatal(err)
	}
	if visits != seededVisits || answers != want || want == 0 {
		t.Errorf("%d visits with %d answer rows indexed, want %d visits with %d", visits, answers, seededVisits, want)
	}
}
