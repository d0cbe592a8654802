package storagetest

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

// AppealsHarness is one fresh, empty database for the conformance suite
// of storage.Appeals: the nouns it reads and writes, the clock its
// transactions read (the suite sets and moves it), and the backend's own
// way to store what the suite needs beside them (the visits noun is not
// on every backend yet).
type AppealsHarness struct {
	Users       storage.Users
	Stores      storage.Stores
	Staff       storage.Staff
	OrgSettings storage.OrgSettings
	Appeals     storage.Appeals
	Clock       *time.Time
	// Visit stores an approved visit at store, naming staffID ("" for
	// nobody), started at at, with its history: recorded by shopper,
	// taken into review and approved by reviewer, then a system row and a
	// ruling's row (by another user) that keep the state.
	Visit func(t *testing.T, id, store, staffID, shopper, reviewer string, at time.Time)
	// Verified records the bytes of hex SHA-256 sha as verified.
	Verified func(t *testing.T, sha string)
}

// AppealHistory is the history AppealsHarness.Visit stores.
func AppealHistory(shopper, reviewer string) []storage.Transition {
	return []storage.Transition{
		{From: "", To: audit.VisitComplete, ActorID: shopper, ActorRole: "shopper"},
		{From: audit.VisitComplete, To: audit.VisitInReview, ActorID: reviewer, ActorRole: "manager"},
		{From: audit.VisitInReview, To: audit.VisitApproved, ActorID: reviewer, ActorRole: "manager"},
		{From: audit.VisitApproved, To: audit.VisitApproved, ActorRole: "system"},
		{From: audit.VisitApproved, To: audit.VisitApproved, ActorID: "judge-of-an-earlier-appeal", ActorRole: "hr"},
	}
}

// TestAppeals is the conformance suite of storage.Appeals: scopes, the
// one open appeal per visit, orders and filters, rulings and their
// amendments in ruling order, reviewers, evidence verified by its bytes'
// hash, and the organisation's appeal window.
func TestAppeals(t *testing.T, h AppealsHarness) {
	ctx := context.Background()
	*h.Clock = time.Date(2026, 3, 1, 9, 0, 0, 777_777_777, time.UTC)
	at := *h.Clock
	tick := func(d time.Duration) { at = at.Add(d); *h.Clock = at }
	user := func(role audit.Role, email, name string) string {
		u := &audit.User{Email: email, DisplayName: name, Role: role}
		require.NoError(t, h.Users.Create(ctx, u, "hash-"+email))
		return u.ID
	}
	store := func(code, name string, managers ...string) *audit.Store {
		s := &audit.Store{Code: code, Name: name, Region: "R", Latitude: 55, Longitude: 37, GeofenceMeters: 100}
		require.NoError(t, h.Stores.Create(ctx, s))
		require.NoError(t, h.Stores.SetManagers(ctx, s.ID, managers))
		return s
	}
	mA := user(audit.RoleManager, "a@example.com", "Alla")
	mB := user(audit.RoleManager, "b@example.com", "Bella")
	judge := user(audit.RoleHR, "hr@example.com", "")
	shopper := user(audit.RoleShopper, "s@example.com", "S")
	a := store("A-1", "Магазин на Тверской", mA)
	b := store("B-1", "Store B", mB)
	ivan := &audit.Staff{EmployeeNumber: "E1", Name: "Иван Петров", StoreID: a.ID}
	require.NoError(t, h.Staff.Create(ctx, ivan))
	march := time.Date(2026, 2, 20, 10, 0, 0, 0, time.UTC)
	h.Visit(t, "v1", a.ID, ivan.ID, shopper, mA, march)
	h.Visit(t, "v2", a.ID, "", shopper, mA, march.Add(24*time.Hour))
	h.Visit(t, "v3", b.ID, "", shopper, mB, march.AddDate(0, 1, 0))

	reviewers, err := h.Appeals.Reviewers(ctx, "v1")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{mA: "Alla"}, reviewers, "the shopper, the system and a ruling are no reviewers")

	sha := strings.Repeat("ab", 32)
	h.Verified(t, sha)
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
	require.NoError(t, h.Appeals.Add(ctx, first))
	requireCode(t, audit.EPRECONDITION, h.Appeals.Add(ctx, file("ap1b", "v1", ivan.ID, march, march)))
	tick(time.Minute)
	require.NoError(t, h.Appeals.Add(ctx, file("ap2", "v2", "", march.Add(24*time.Hour), march.AddDate(0, 0, 2))))
	third := file("ap3", "v3", "", march.AddDate(0, 1, 0), march.AddDate(0, 1, 7))
	third.StoreID = b.ID
	require.NoError(t, h.Appeals.Add(ctx, third))

	got, err := h.Appeals.Find(ctx, audit.Scope{ManagerID: mA}, "ap1")
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
	_, err = h.Appeals.Find(ctx, audit.Scope{ManagerID: mB}, "ap1")
	requireCode(t, audit.ENOTFOUND, err)
	_, err = h.Appeals.Find(ctx, audit.Scope{ShopperID: shopper}, "ap1")
	requireCode(t, audit.ENOTFOUND, err)

	ids := func(f storage.AppealFilter) []string {
		list, err := h.Appeals.List(ctx, f)
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
	e, err := h.Appeals.FindEvidence(ctx, audit.Scope{ManagerID: mA}, "ap1", "q1", 0)
	require.NoError(t, err)
	assert.Equal(t, pdf, e.SHA256)
	_, err = h.Appeals.FindEvidence(ctx, audit.Scope{ManagerID: mB}, "ap1", "q1", 0)
	requireCode(t, audit.ENOTFOUND, err)
	_, err = h.Appeals.FindEvidence(ctx, all, "ap1", "q1", 7)
	requireCode(t, audit.ENOTFOUND, err)
	n, err := h.Appeals.MarkEvidenceVerified(ctx, pdf)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "the same PDF in three appeals")
	n, err = h.Appeals.MarkEvidenceVerified(ctx, pdf)
	require.NoError(t, err)
	assert.Zero(t, n)

	// Rulings close the appeal; amendments come in ruling order.
	yes, no := true, false
	tick(time.Hour)
	before, after := 50.0, 100.0
	first.Questions[0].Outcome, first.Questions[0].Amended, first.Questions[0].RulingReason = audit.OutcomeUpheld, &audit.Answer{QuestionID: "q1", Bool: &yes}, "receipt"
	first.Questions[1].Outcome, first.Questions[1].RulingReason = audit.OutcomeRejected, "no photo"
	first.RuledBy, first.RuledRole, first.ScoreBefore, first.ScoreAfter = judge, audit.RoleHR, &before, &after
	require.NoError(t, h.Appeals.Rule(ctx, first))
	requireCode(t, audit.EPRECONDITION, h.Appeals.Rule(ctx, first))
	ruled, err := h.Appeals.Find(ctx, all, "ap1")
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
	require.NoError(t, h.Appeals.Add(ctx, second))
	tick(time.Hour)
	second.Questions[0].Outcome, second.Questions[0].Amended = audit.OutcomeUpheld, &audit.Answer{QuestionID: "q1", Bool: &no}
	second.Questions[1].Outcome, second.Questions[1].Amended = audit.OutcomeUpheld, &audit.Answer{QuestionID: "q2", Bool: &yes}
	second.RuledBy, second.RuledRole = judge, audit.RoleHR
	require.NoError(t, h.Appeals.Rule(ctx, second))
	am, err := h.Appeals.Amendments(ctx, "v1")
	require.NoError(t, err)
	require.Len(t, am, 3)
	assert.True(t, *am[0].Bool)
	assert.False(t, *am[1].Bool, "the later ruling's amendment of q1 comes after the earlier")
	assert.Equal(t, "q2", am[2].QuestionID)
	none, err := h.Appeals.Amendments(ctx, "v2")
	require.NoError(t, err)
	assert.Empty(t, none)

	// The organisation's window is a setting.
	s, err := h.OrgSettings.Find(ctx)
	require.NoError(t, err)
	assert.Equal(t, audit.DefaultAppealWindowDays, s.AppealWindowDays)
	s.AppealWindowDays = 14
	require.NoError(t, h.OrgSettings.Set(ctx, *s, mA))
	s, err = h.OrgSettings.Find(ctx)
	require.NoError(t, err)
	assert.Equal(t, 14, s.AppealWindowDays)
}
