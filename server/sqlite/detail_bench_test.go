package sqlite_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/shopscore/shopscore/audit"
)

// BenchmarkVisitDetail reads a W1 visit as the review page shows it
// (storage.Visits.FindDetail: the visit, its score, photos, history and
// version), the read that pays for the visit's packed body and score
// (BENCHMARKS.md, disk per visit).
func BenchmarkVisitDetail(b *testing.B) {
	t := mustGrowthTarget(b, 0)
	t.push(b, rand.New(rand.NewPCG(14, 6)))
	ctx := context.Background()
	var id string
	tx, err := t.db.BeginRead(ctx)
	must(b, err)
	must(b, tx.QueryRowContext(ctx, `SELECT id FROM visits WHERE checklist_id = 'growth-40' LIMIT 1`).Scan(&id))
	must(b, tx.Rollback())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, err := t.db.Visits().FindDetail(ctx, audit.Scope{All: true}, id)
		must(b, err)
		if len(d.Score.Questions) != growthQuestions {
			b.Fatalf("%d scored questions", len(d.Score.Questions))
		}
	}
}
