package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// appealVisit stores, with raw SQL (the visits noun is not on PostgreSQL
// yet), an approved visit at store, naming staffID, reviewed by reviewer,
// started at at.
func appealVisit(t *testing.T, db *DB, id, store, staffID, shopper, reviewer string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO checklists (id, created_at) VALUES ('c', $1) ON CONFLICT DO NOTHING`,
		`INSERT INTO checklist_versions (checklist_id, version, name, channel, state, content, content_hash, question_count, created_at)
			VALUES ('c', 1, 'C', 'store_visit', 'published', '{}', 'h', 1, $1) ON CONFLICT DO NOTHING`,
	} {
		_, err := db.pool.Exec(ctx, q, at)
		require.NoError(t, err)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO visits (id, shopper_id, store_id, checklist_id, checklist_version, content_hash, channel, body, digest,
		state, score, started_at, received_at, device_id, session_id, mutation_id)
		VALUES ($1, $2, $3, 'c', 1, 'h', 'store_visit', $4, 'd', 'approved', '{}', $5, $5, 'dev', 'sess', 'm-' || $1)`,
		id, shopper, store, `{"StaffID":"`+staffID+`"}`, at)
	require.NoError(t, err)
	for _, tr := range []struct{ from, to, actor, role string }{
		{"", "complete", shopper, "shopper"}, {"complete", "in_review", reviewer, "manager"},
		{"in_review", "approved", reviewer, "manager"}, {"approved", "approved", "", "system"},
		{"approved", "approved", "judge-of-an-earlier-appeal", "hr"},
	} {
		_, err := db.pool.Exec(ctx, `INSERT INTO visit_transitions (visit_id, from_state, to_state, actor_id, actor_role, at) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, tr.from, tr.to, tr.actor, tr.role, at)
		require.NoError(t, err)
	}
}

// TestAppeals is storage.Appeals on PostgreSQL: what server/sqlite
// observably does (scopes, the one open appeal per visit, orders,
// rulings and their amendments, reviewers, evidence verified by hash).
func TestAppeals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 0, 0, 777_777_777, time.UTC)
	db := clocked(t, &at)
	mA := mustUser(t, db, audit.RoleManager, "a@example.com", "Alla").ID
	mB := mustUser(t, db, audit.RoleManager, "b@example.com", "Bella").ID
	judge := mustUser(t, db, audit.RoleHR, "hr@example.com", "").ID
	shopper := mustUser(t, db, audit.RoleShopper, "s@example.com", "S").ID
	a := mustStore(t, db, "A-1", "Магазин на Тверской", mA)
	b := mustStore(t, db, "B-1", "Store B", mB)
	ivan := &audit.Staff{EmployeeNumber: "E1", Name: "Иван Петров", StoreID: a.ID}
	require.NoError(t, db.Staff().Create(ctx, ivan))
	march := time.Date(2026, 2, 20, 10, 0, 0, 0, time.UTC)
	appealVisit(t, db, "v1", a.ID, ivan.ID, shopper, mA, march)
	appealVisit(t, db, "v2", a.ID, "", shopper, mA, march.Add(24*time.Hour))
	appealVisit(t, db, "v3", b.ID, "", shopper, mB, march.AddDate(0, 1, 0))

	reviewers, err := db.Appeals().Reviewers(ctx, "v1")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{mA: "Alla"}, reviewers, "the shopper, the system and a ruling are no reviewers")

	sha := strings.Repeat("ab", 32)
	_, err = db.pool.Exec(ctx, `INSERT INTO verified_blobs (sha256, size, content_type, verified_at) VALUES ($1, 10, 'image/jpeg', $2)`, sha, at)
	require.NoError(t, err)
	pdf := strings.Repeat("cd", 32)
	file := func(id, visit, staff string, visited, deadline time.Time) *audit.Appeal {
		return &audit.Appeal{ID: id, VisitID: visit, StoreID: a.ID, StaffID: staff, VisitedAt: visited, FiledBy: mA, FiledRole: audit.RoleManager,
			Deadline: deadline, Questions: []audit.AppealQuestion{
				{QuestionID: "q1", Reason: "receipt", Evidence: []audit.AppealEvidence{
					{Index: 0, SHA256: pdf, Size: 99, ContentType: "application/pdf", FileName: "чек.pdf"},
					{Index: 1, SHA256: sha, Size: 10, ContentType: "image/jpeg"}}},
				{QuestionID: "q2", Reason: "photo"}}}
	}
	first := file("ap1", "v1", ivan.ID, march, march.AddDate(0, 0, 8))
	require.NoError(t, db.Appeals().Add(ctx, first))
	requireCode(t, audit.EPRECONDITION, db.Appeals().Add(ctx, file("ap1b", "v1", ivan.ID, march, march)))
	at = at.Add(time.Minute)
	require.NoError(t, db.Appeals().Add(ctx, file("ap2", "v2", "", march.Add(24*time.Hour), march.AddDate(0, 0, 2))))
	third := file("ap3", "v3", "", march.AddDate(0, 1, 0), march.AddDate(0, 1, 7))
	third.StoreID = b.ID
	require.NoError(t, db.Appeals().Add(ctx, third))

	got, err := db.Appeals().Find(ctx, audit.Scope{ManagerID: mA}, "ap1")
	require.NoError(t, err)
	assert.Equal(t, audit.AppealOpen, got.State)
	assert.Equal(t, "A-1", got.StoreCode)
	assert.Equal(t, "Магазин на Тверской", got.StoreName)
	assert.Equal(t, "Иван Петров", got.StaffName)
	assert.Equal(t, "E1", got.StaffNumber)
	assert.Equal(t, "Alla", got.FiledByName)
	assert.Equal(t, at.Add(-time.Minute).Truncate(time.Millisecond), got.FiledAt)
	assert.True(t, got.RuledAt.IsZero())
	require.Len(t, got.Questions, 2)
	assert.Equal(t, "q1", got.Questions[0].QuestionID)
	require.Len(t, got.Questions[0].Evidence, 2)
	assert.False(t, got.Questions[0].Evidence[0].Verified)
	assert.True(t, got.Questions[0].Evidence[1].Verified, "bytes verified before are verified at once")
	assert.Equal(t, "чек.pdf", got.Questions[0].Evidence[0].FileName)
	_, err = db.Appeals().Find(ctx, audit.Scope{ManagerID: mB}, "ap1")
	requireCode(t, audit.ENOTFOUND, err)
	_, err = db.Appeals().Find(ctx, audit.Scope{ShopperID: shopper}, "ap1")
	requireCode(t, audit.ENOTFOUND, err)

	ids := func(f storage.AppealFilter) []string {
		list, err := db.Appeals().List(ctx, f)
		require.NoError(t, err)
		var out []string
		for _, ap := range list {
			out = append(out, ap.ID)
		}
		return out
	}
	all := audit.Scope{All: true}
	assert.Equal(t, []string{"ap2", "ap1", "ap3"}, ids(storage.AppealFilter{Scope: all}), "open ones by deadline")
	assert.Equal(t, []string{"ap2", "ap1"}, ids(storage.AppealFilter{Scope: audit.Scope{ManagerID: mA}}))
	assert.Equal(t, []string{"ap3"}, ids(storage.AppealFilter{Scope: all, StoreID: b.ID}))
	assert.Equal(t, []string{"ap1"}, ids(storage.AppealFilter{Scope: all, VisitID: "v1"}))
	assert.Equal(t, []string{"ap2", "ap1"}, ids(storage.AppealFilter{Scope: all,
		VisitFrom: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), VisitTo: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}), "February's visits")
	assert.Equal(t, []string{"ap2"}, ids(storage.AppealFilter{Scope: all, Limit: 1}))

	// Evidence: found in scope, verified by its bytes' hash.
	e, err := db.Appeals().FindEvidence(ctx, audit.Scope{ManagerID: mA}, "ap1", "q1", 0)
	require.NoError(t, err)
	assert.Equal(t, pdf, e.SHA256)
	_, err = db.Appeals().FindEvidence(ctx, audit.Scope{ManagerID: mB}, "ap1", "q1", 0)
	requireCode(t, audit.ENOTFOUND, err)
	_, err = db.Appeals().FindEvidence(ctx, all, "ap1", "q1", 7)
	requireCode(t, audit.ENOTFOUND, err)
	n, err := db.Appeals().MarkEvidenceVerified(ctx, pdf)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "the same PDF in three appeals")
	n, err = db.Appeals().MarkEvidenceVerified(ctx, pdf)
	require.NoError(t, err)
	assert.Zero(t, n)

	// Rulings close the appeal; amendments come in ruling order.
	yes, no := true, false
	at = at.Add(time.Hour)
	before, after := 50.0, 100.0
	first.Questions[0].Outcome, first.Questions[0].Amended, first.Questions[0].RulingReason = audit.OutcomeUpheld, &audit.Answer{QuestionID: "q1", Bool: &yes}, "receipt"
	first.Questions[1].Outcome, first.Questions[1].RulingReason = audit.OutcomeRejected, "no photo"
	first.RuledBy, first.RuledRole, first.ScoreBefore, first.ScoreAfter = judge, audit.RoleHR, &before, &after
	require.NoError(t, db.Appeals().Rule(ctx, first))
	requireCode(t, audit.EPRECONDITION, db.Appeals().Rule(ctx, first))
	ruled, err := db.Appeals().Find(ctx, all, "ap1")
	require.NoError(t, err)
	assert.Equal(t, audit.AppealClosed, ruled.State)
	assert.Equal(t, "hr@example.com", ruled.RuledByName, "a user without a display name is named by e-mail")
	assert.Equal(t, at.Truncate(time.Millisecond), ruled.RuledAt)
	assert.Equal(t, 100.0, *ruled.ScoreAfter)
	assert.Equal(t, 1, ruled.Upheld())
	assert.Equal(t, "no photo", ruled.Questions[1].RulingReason)
	assert.Equal(t, []string{"ap2", "ap3", "ap1"}, ids(storage.AppealFilter{Scope: all}), "closed ones after the open")
	assert.Equal(t, []string{"ap1"}, ids(storage.AppealFilter{Scope: all, State: audit.AppealClosed, RuledAfter: at.Add(-time.Second)}))
	assert.Empty(t, ids(storage.AppealFilter{Scope: all, State: audit.AppealClosed, RuledAfter: at}))

	// A second appeal on v1 may now be filed; its ruling comes after.
	second := file("ap4", "v1", ivan.ID, march, march.AddDate(0, 0, 8))
	require.NoError(t, db.Appeals().Add(ctx, second))
	at = at.Add(time.Hour)
	second.Questions[0].Outcome, second.Questions[0].Amended = audit.OutcomeUpheld, &audit.Answer{QuestionID: "q1", Bool: &no}
	second.Questions[1].Outcome, second.Questions[1].Amended = audit.OutcomeUpheld, &audit.Answer{QuestionID: "q2", Bool: &yes}
	second.RuledBy, second.RuledRole = judge, audit.RoleHR
	require.NoError(t, db.Appeals().Rule(ctx, second))
	am, err := db.Appeals().Amendments(ctx, "v1")
	require.NoError(t, err)
	require.Len(t, am, 3)
	assert.True(t, *am[0].Bool)
	assert.False(t, *am[1].Bool, "the later ruling's amendment of q1 comes after the earlier")
	assert.Equal(t, "q2", am[2].QuestionID)
	none, err := db.Appeals().Amendments(ctx, "v2")
	require.NoError(t, err)
	assert.Empty(t, none)

	// The organisation's window is a setting.
	s, err := db.OrgSettings().Find(ctx)
	require.NoError(t, err)
	assert.Equal(t, audit.DefaultAppealWindowDays, s.AppealWindowDays)
	s.AppealWindowDays = 14
	require.NoError(t, db.OrgSettings().Set(ctx, *s, mA))
	s, err = db.OrgSettings().Find(ctx)
	require.NoError(t, err)
	assert.Equal(t, 14, s.AppealWindowDays)
}
