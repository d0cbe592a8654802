package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReportQueries_TimeIndexDrives checks the plans of the report queries
// on a database without planner statistics, as the server's is: each
// starts from the time index for the period asked, so that its cost and
// its first row do not depend on how many visits other months hold, and
// none sorts the whole result (a sort of each visit's answers by their
// order, "LAST TERM", is allowed).
func TestReportQueries_TimeIndexDrives(t *testing.T) {
	db := NewDB(filepath.Join(t.TempDir(), "plan.db"))
	require.NoError(t, db.Open())
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	queries := map[string]string{
		"bonus visits":   bonusVisits,
		"bonus answers":  bonusAnswers,
		"audit visits":   `SELECT r.visit_id` + auditFrom("LEFT JOIN users u ON u.id = v.shopper_id") + `1 ORDER BY r.visited_at, r.visit_id`,
		"audit answers":  `SELECT r.visit_id` + auditFrom("CROSS JOIN visit_answers a ON a.visit_no = r.no") + `1 ORDER BY r.visited_at, r.visit_id, a.ord`,
		"audit photos":   `SELECT ph.sha256` + auditFrom("CROSS JOIN visit_photos ph ON ph.visit_id = r.visit_id") + `1 ORDER BY r.visited_at, r.visit_id, ph.question_id, ph.idx`,
		"audit by store": `SELECT r.visit_id` + auditFrom("") + `s.region = 'North' ORDER BY r.visited_at, r.visit_id`,
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			plan := queryPlan(t, db, q, 0, 1)
			text := strings.Join(plan, "\n")
			require.Contains(t, plan[0], "report_visits_time", "the plan does not start from the time index:\n%s", text)
			require.NotContains(t, text, "TEMP B-TREE FOR ORDER BY", "the plan sorts the whole result:\n%s", text)
			if name == "bonus answers" {
				// A run reads more answers than any other query: not even
				// each visit's answers are sorted.
				require.NotContains(t, text, "TEMP B-TREE", "the plan sorts:\n%s", text)
			}
		})
	}
}

// TestExpireAssignments_Index checks that assignment expiry finds the due
// assignments through the index of assignments that can still expire, by
// window end, rather than reading every assignment.
func TestExpireAssignments_Index(t *testing.T) {
	db := NewDB(filepath.Join(t.TempDir(), "plan.db"))
	require.NoError(t, db.Open())
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	plan := queryPlan(t, db, dueQuery, 0)
	require.Contains(t, plan[0], "USING INDEX assignments_expiry", "plan: %v", plan)
}

// queryPlan returns the lines of SQLite's plan for q with args.
func queryPlan(t *testing.T, db *DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.read.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+q, args...)
	require.NoError(t, err)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, plan)
	return plan
}
