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

// ActionsHarness is the appeals' harness with the actions noun.
type ActionsHarness struct {
	AppealsHarness
	Actions storage.Actions
}

// TestActions is the conformance suite of storage.Actions: scopes, the
// one live action per store and question, names, moves guarded by the
// state they start from, history, proof verified by its bytes' hash,
// filters and order, overdue claims taken once and overdue counts.
func TestActions(t *testing.T, h ActionsHarness) {
	ctx := context.Background()
	*h.Clock = time.Date(2026, 3, 1, 9, 0, 0, 777_777_777, time.UTC)
	at := *h.Clock
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
	mA := user(audit.RoleManager, "a@example.com", "Алла")
	mB := user(audit.RoleManager, "b@example.com", "Bella")
	shopper := user(audit.RoleShopper, "s@example.com", "S")
	a := store("A-1", "Магазин на Тверской", mA)
	b := store("B-1", "Store B", mB)
	visited := time.Date(2026, 2, 27, 10, 0, 0, 0, time.UTC)
	h.Visit(t, "v1", a.ID, "", shopper, mA, visited)
	h.Visit(t, "v2", b.ID, "", shopper, mB, visited)

	add := func(id, store, q, visit, owner, due string, sev audit.Severity) *audit.Action {
		ac := &audit.Action{ID: id, Severity: sev, StoreID: store, ChecklistID: "c", QuestionID: q, QuestionText: "Вопрос " + q,
			StandardCode: "PR-1", VisitID: visit, VisitedAt: visited, OwnerID: owner, DueDate: due}
		require.NoError(t, h.Actions.Add(ctx, ac))
		return ac
	}
	add("x1", a.ID, "tags", "v1", mA, "2026-03-04", audit.SeverityCritical)
	add("x2", a.ID, "clean", "v1", "", "2026-03-15", audit.SeverityMajor)
	add("x3", b.ID, "tags", "v2", mB, "2026-03-02", audit.SeverityCritical)
	err := h.Actions.Add(ctx, &audit.Action{ID: "x4", Severity: audit.SeverityMajor, StoreID: a.ID, ChecklistID: "c", QuestionID: "tags",
		QuestionText: "again", VisitID: "v1", VisitedAt: visited, DueDate: "2026-03-20"})
	require.Equal(t, audit.EEXISTS, audit.ErrorCode(err), "one live action per store and question: %v", err)

	got, err := h.Actions.Find(ctx, audit.Scope{ManagerID: mA}, "x1")
	require.NoError(t, err)
	assert.Equal(t, audit.ActionOpen, got.State)
	assert.Equal(t, audit.SeverityCritical, got.Severity)
	assert.Equal(t, "A-1", got.StoreCode)
	assert.Equal(t, "Магазин на Тверской", got.StoreName)
	assert.Equal(t, "Алла", got.OwnerName)
	assert.Equal(t, "Вопрос tags", got.QuestionText)
	assert.Equal(t, "PR-1", got.StandardCode)
	assert.Equal(t, "2026-03-04", got.DueDate)
	assert.True(t, got.VisitedAt.Equal(visited))
	assert.True(t, got.OpenedAt.Equal(at.Truncate(time.Millisecond)), "opened at the transaction's time: %v", got.OpenedAt)
	require.Len(t, got.History, 1)
	assert.Equal(t, audit.ActionChange{At: got.OpenedAt, ActorRole: "system", To: audit.ActionOpen, VisitID: "v1"}, got.History[0])
	for _, sc := range []audit.Scope{{ManagerID: mB}, {ShopperID: shopper}, {}} {
		_, err = h.Actions.Find(ctx, sc, "x1")
		assert.Equal(t, audit.ENOTFOUND, audit.ErrorCode(err), "scope %+v", sc)
	}
	unowned, err := h.Actions.Find(ctx, audit.Scope{All: true}, "x2")
	require.NoError(t, err)
	assert.Empty(t, unowned.OwnerID)
	assert.Empty(t, unowned.OwnerName)

	live, err := h.Actions.Live(ctx, a.ID, "c", "tags")
	require.NoError(t, err)
	require.NotNil(t, live)
	assert.Equal(t, "x1", live.ID)
	none, err := h.Actions.Live(ctx, a.ID, "c", "music")
	require.NoError(t, err)
	assert.Nil(t, none)

	// Moves are guarded by the state they start from.
	*h.Clock = at.Add(time.Hour)
	require.NoError(t, h.Actions.Move(ctx, "x1", storage.ActionMove{From: audit.ActionOpen, To: audit.ActionInProgress, ActorID: mA, ActorRole: "manager"}))
	err = h.Actions.Move(ctx, "x1", storage.ActionMove{From: audit.ActionOpen, To: audit.ActionDone, ActorID: mA, ActorRole: "manager"})
	assert.Equal(t, audit.EPRECONDITION, audit.ErrorCode(err), "%v", err)
	require.NoError(t, h.Actions.Move(ctx, "x1", storage.ActionMove{From: audit.ActionInProgress, To: audit.ActionDone, ActorID: mA,
		ActorRole: "manager", Note: "напечатали ценники", SetNote: true}))
	sha1, sha2 := strings.Repeat("a1", 32), strings.Repeat("b2", 32)
	h.Verified(t, sha2)
	require.NoError(t, h.Actions.SetProof(ctx, "x1", []audit.ActionProof{
		{Index: 0, SHA256: sha1, Size: 10, ContentType: "image/jpeg", FileName: "полка.jpg"},
		{Index: 1, SHA256: sha2, Size: 12, ContentType: "image/png"},
	}))
	got, err = h.Actions.Find(ctx, audit.Scope{All: true}, "x1")
	require.NoError(t, err)
	assert.Equal(t, audit.ActionDone, got.State)
	assert.Equal(t, "напечатали ценники", got.Note)
	assert.Equal(t, []audit.ActionProof{
		{Index: 0, SHA256: sha1, Size: 10, ContentType: "image/jpeg", FileName: "полка.jpg"},
		{Index: 1, SHA256: sha2, Size: 12, ContentType: "image/png", Verified: true},
	}, got.Proof, "bytes verified already are stored verified")
	p, err := h.Actions.FindProof(ctx, audit.Scope{ManagerID: mA}, "x1", 0)
	require.NoError(t, err)
	assert.Equal(t, sha1, p.SHA256)
	_, err = h.Actions.FindProof(ctx, audit.Scope{ManagerID: mB}, "x1", 0)
	assert.Equal(t, audit.ENOTFOUND, audit.ErrorCode(err))
	_, err = h.Actions.FindProof(ctx, audit.Scope{All: true}, "x1", 5)
	assert.Equal(t, audit.ENOTFOUND, audit.ErrorCode(err))
	n, err := h.Actions.MarkProofVerified(ctx, sha1)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = h.Actions.MarkProofVerified(ctx, sha1)
	require.NoError(t, err)
	assert.Zero(t, n, "marked once")

	// A reassignment and a system move by a visit.
	require.NoError(t, h.Actions.Move(ctx, "x2", storage.ActionMove{From: audit.ActionOpen, To: audit.ActionOpen, ActorID: mA,
		ActorRole: "manager", OwnerID: &mA, Note: "reassigned"}))
	require.NoError(t, h.Actions.Move(ctx, "x1", storage.ActionMove{From: audit.ActionDone, To: audit.ActionVerified, ActorRole: "system", VisitID: "v1"}))
	got, err = h.Actions.Find(ctx, audit.Scope{All: true}, "x1")
	require.NoError(t, err)
	assert.Equal(t, "v1", got.ResolvedByVisitID)
	var steps []string
	for _, c := range got.History {
		steps = append(steps, string(c.From)+">"+string(c.To)+" "+c.ActorRole+" "+c.ActorName+" "+c.Note)
	}
	assert.Equal(t, []string{">open system  ", "open>in_progress manager Алла ", "in_progress>done manager Алла напечатали ценники",
		"done>verified system  "}, steps)
	x2, err := h.Actions.Find(ctx, audit.Scope{All: true}, "x2")
	require.NoError(t, err)
	assert.Equal(t, mA, x2.OwnerID)
	last := x2.History[len(x2.History)-1]
	assert.True(t, last.Reassigned)
	assert.Equal(t, "Алла", last.OwnerName)
	live, err = h.Actions.Live(ctx, a.ID, "c", "tags")
	require.NoError(t, err)
	assert.Nil(t, live, "a verified action is not live")
	add("x5", a.ID, "tags", "v1", mA, "2026-03-04", audit.SeverityCritical)

	// Lists: scope, filters, soonest due first.
	ids := func(f storage.ActionFilter) []string {
		t.Helper()
		as, err := h.Actions.List(ctx, f)
		require.NoError(t, err)
		var out []string
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	all := audit.Scope{All: true}
	assert.Equal(t, []string{"x3", "x5", "x1", "x2"}, ids(storage.ActionFilter{Scope: all}), "by due day, then newest opened")
	assert.Equal(t, []string{"x5", "x1", "x2"}, ids(storage.ActionFilter{Scope: audit.Scope{ManagerID: mA}}))
	assert.Empty(t, ids(storage.ActionFilter{Scope: audit.Scope{ShopperID: shopper}}))
	assert.Equal(t, []string{"x3"}, ids(storage.ActionFilter{Scope: all, StoreID: b.ID}))
	assert.Equal(t, []string{"x3"}, ids(storage.ActionFilter{Scope: all, OwnerID: mB}))
	assert.Equal(t, []string{"x3"}, ids(storage.ActionFilter{Scope: all, VisitID: "v2"}))
	assert.Equal(t, []string{"x1"}, ids(storage.ActionFilter{Scope: all, States: []audit.ActionState{audit.ActionVerified}}))
	assert.Equal(t, []string{"x3", "x5"}, ids(storage.ActionFilter{Scope: all, DueBefore: "2026-03-05",
		States: []audit.ActionState{audit.ActionOpen, audit.ActionInProgress, audit.ActionReopened}}))
	assert.Equal(t, []string{"x3"}, ids(storage.ActionFilter{Scope: all, Limit: 1}))

	// Overdue: counted per store, claimed once.
	counts, err := h.Actions.CountOverdue(ctx, all, "2026-03-05")
	require.NoError(t, err)
	assert.Equal(t, map[string]int{a.ID: 1, b.ID: 1}, counts)
	counts, err = h.Actions.CountOverdue(ctx, audit.Scope{ManagerID: mB}, "2026-03-05")
	require.NoError(t, err)
	assert.Equal(t, map[string]int{b.ID: 1}, counts)
	claimed, err := h.Actions.ClaimOverdue(ctx, "2026-03-05", 1)
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	assert.Equal(t, "x3", claimed[0].ID)
	assert.Equal(t, "B-1", claimed[0].StoreCode)
	claimed, err = h.Actions.ClaimOverdue(ctx, "2026-03-05", 10)
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	assert.Equal(t, "x5", claimed[0].ID)
	claimed, err = h.Actions.ClaimOverdue(ctx, "2026-03-30", 10)
	require.NoError(t, err)
	require.Len(t, claimed, 1, "x1 is verified; x3 and x5 were claimed")
	assert.Equal(t, "x2", claimed[0].ID)
}
