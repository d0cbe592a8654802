// Package storetest is the conformance suite of the storage interfaces in
// package audit (OrgStore, ChecklistStore, AssignmentStore). Every storage
// implementation runs it from its own tests, so that a later backend
// (PostgreSQL) must behave exactly as the embedded SQLite one does.
package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
)

// Harness is one fresh, empty store under test.
type Harness struct {
	Org         audit.OrgStore
	Checklists  audit.ChecklistStore
	Assignments audit.AssignmentStore
	// CreateUser adds a user with the given role and returns his id: stores
	// need managers and assignments shoppers, and users are not part of
	// the interfaces under test.
	CreateUser func(ctx context.Context, role audit.Role, email string) (string, error)
}

// Run runs the whole suite; open returns a fresh, empty store each call.
func Run(t *testing.T, open func(t *testing.T) Harness) {
	t.Run("OrgStore", func(t *testing.T) { testOrgStore(t, open(t)) })
	t.Run("ChecklistStore", func(t *testing.T) { testChecklistStore(t, open(t)) })
	t.Run("AssignmentStore", func(t *testing.T) { testAssignmentStore(t, open(t)) })
}

func requireCode(t *testing.T, want audit.Code, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, want, audit.ErrorCode(err), "error: %v", err)
}

func mustUser(t *testing.T, h Harness, role audit.Role, email string) string {
	t.Helper()
	id, err := h.CreateUser(context.Background(), role, email)
	require.NoError(t, err)
	return id
}

func mustStore(t *testing.T, h Harness, code string, managers ...string) *audit.Store {
	t.Helper()
	s := &audit.Store{Code: code, Name: "Store " + code, Region: "R", Latitude: 55, Longitude: 37, GeofenceMeters: 100, ManagerIDs: managers}
	require.NoError(t, h.Org.CreateStore(context.Background(), s))
	return s
}

// Checklist returns a small valid checklist with the given id and the text
// of its one question.
func Checklist(id, text string) *audit.Checklist {
	return &audit.Checklist{
		ID: id, Name: "Checklist " + id, Channel: audit.ChannelStoreVisit,
		Sections: []audit.Section{{ID: "s", Title: "Service", Questions: []audit.Question{
			{ID: "q", Type: audit.QuestionYesNo, Text: text, Required: true},
		}}},
	}
}

func testOrgStore(t *testing.T, h Harness) {
	ctx := context.Background()
	mA := mustUser(t, h, audit.RoleManager, "a@example.com")
	mB := mustUser(t, h, audit.RoleManager, "b@example.com")
	shopper := mustUser(t, h, audit.RoleShopper, "s@example.com")
	a := mustStore(t, h, "A-1", mA)
	b := mustStore(t, h, "B-1", mB)
	both := mustStore(t, h, "AB-1", mA, mB)

	t.Run("CreateStore", func(t *testing.T) {
		assert.NotEmpty(t, a.ID)
		assert.False(t, a.CreatedAt.IsZero())
		requireCode(t, audit.EEXISTS, h.Org.CreateStore(ctx, &audit.Store{Code: "A-1", Name: "again"}))
		requireCode(t, audit.EINVALID, h.Org.CreateStore(ctx, &audit.Store{Code: "X", Name: "x", Latitude: 100}))
		requireCode(t, audit.ENOTFOUND, h.Org.CreateStore(ctx, &audit.Store{Code: "X", Name: "x", ManagerIDs: []string{"nobody"}}))
		requireCode(t, audit.EINVALID, h.Org.CreateStore(ctx, &audit.Store{Code: "X", Name: "x", ManagerIDs: []string{shopper}}))
	})
	t.Run("FindStore", func(t *testing.T) {
		got, err := h.Org.FindStore(ctx, audit.Scope{All: true}, a.ID)
		require.NoError(t, err)
		assert.Equal(t, a.Code, got.Code)
		assert.Equal(t, []string{mA}, got.ManagerIDs)
		_, err = h.Org.FindStore(ctx, audit.Scope{ManagerID: mA}, b.ID)
		requireCode(t, audit.ENOTFOUND, err)
		_, err = h.Org.FindStore(ctx, audit.Scope{}, a.ID)
		requireCode(t, audit.ENOTFOUND, err)
		shared, err := h.Org.FindStore(ctx, audit.Scope{ManagerID: mB}, both.ID)
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{mA, mB}, shared.ManagerIDs)
	})
	t.Run("ListStores", func(t *testing.T) {
		codes := func(sc audit.Scope) []string {
			list, err := h.Org.ListStores(ctx, audit.StoreFilter{Scope: sc})
			require.NoError(t, err)
			var out []string
			for _, s := range list {
				out = append(out, s.Code)
			}
			return out
		}
		assert.Equal(t, []string{"A-1", "AB-1", "B-1"}, codes(audit.Scope{All: true}))
		assert.Equal(t, []string{"A-1", "AB-1"}, codes(audit.Scope{ManagerID: mA}))
		assert.Equal(t, []string{"AB-1", "B-1"}, codes(audit.Scope{ManagerID: mB}))
		assert.Empty(t, codes(audit.Scope{ShopperID: shopper}), "a shopper without assignments sees no store")
		assert.Empty(t, codes(audit.Scope{}))
	})
	t.Run("Staff", func(t *testing.T) {
		s := &audit.Staff{EmployeeNumber: "E1", Name: "Ivan", Position: "cashier", Department: audit.DeptSales, StoreID: a.ID}
		require.NoError(t, h.Org.CreateStaff(ctx, audit.Scope{ManagerID: mA}, s))
		assert.NotEmpty(t, s.ID)
		requireCode(t, audit.EEXISTS, h.Org.CreateStaff(ctx, audit.Scope{All: true}, &audit.Staff{EmployeeNumber: "E1", Name: "dup", StoreID: a.ID}))
		requireCode(t, audit.ENOTFOUND, h.Org.CreateStaff(ctx, audit.Scope{ManagerID: mA}, &audit.Staff{EmployeeNumber: "E2", Name: "x", StoreID: b.ID}))
		requireCode(t, audit.EINVALID, h.Org.CreateStaff(ctx, audit.Scope{ManagerID: mA}, &audit.Staff{EmployeeNumber: "E3", Name: "no store"}))
		require.NoError(t, h.Org.CreateStaff(ctx, audit.Scope{All: true}, &audit.Staff{EmployeeNumber: "E4", Name: "Head office", BackOffice: true}))
		require.NoError(t, h.Org.CreateStaff(ctx, audit.Scope{ManagerID: mB}, &audit.Staff{EmployeeNumber: "E5", Name: "Bob", StoreID: b.ID}))

		count := func(f audit.StaffFilter) int {
			list, err := h.Org.ListStaff(ctx, f)
			require.NoError(t, err)
			return len(list)
		}
		assert.Equal(t, 3, count(audit.StaffFilter{Scope: audit.Scope{All: true}}))
		assert.Equal(t, 1, count(audit.StaffFilter{Scope: audit.Scope{ManagerID: mA}}))
		assert.Equal(t, 0, count(audit.StaffFilter{Scope: audit.Scope{ManagerID: mA}, StoreID: b.ID}))
		assert.Equal(t, 1, count(audit.StaffFilter{Scope: audit.Scope{All: true}, StoreID: b.ID}))
	})
	t.Run("ListShoppers", func(t *testing.T) {
		list, err := h.Org.ListShoppers(ctx, "")
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, shopper, list[0].ID)
	})
}

func testChecklistStore(t *testing.T, h Harness) {
	ctx := context.Background()
	t.Run("DraftPublishNewVersion", func(t *testing.T) {
		v, err := h.Checklists.SaveDraft(ctx, Checklist("c1", "first"), "me")
		require.NoError(t, err)
		assert.Equal(t, 1, v.Version)
		assert.Equal(t, audit.VersionDraft, v.State)

		v, err = h.Checklists.SaveDraft(ctx, Checklist("c1", "second"), "me")
		require.NoError(t, err)
		assert.Equal(t, 1, v.Version, "a draft is replaced in place")
		assert.Equal(t, "second", v.Content.Sections[0].Questions[0].Text)

		_, err = h.Checklists.FindVersion(ctx, "c1", 0)
		requireCode(t, audit.ENOTFOUND, err)

		p, err := h.Checklists.PublishVersion(ctx, "c1", 1)
		require.NoError(t, err)
		assert.Equal(t, audit.VersionPublished, p.State)
		hash, err := p.Content.ContentHash()
		require.NoError(t, err)
		assert.Equal(t, hash, p.ContentHash)
		_, err = h.Checklists.PublishVersion(ctx, "c1", 1)
		requireCode(t, audit.EPRECONDITION, err)

		same, err := h.Checklists.SaveDraft(ctx, Checklist("c1", "second"), "me")
		require.NoError(t, err)
		assert.Equal(t, 1, same.Version)
		assert.Equal(t, audit.VersionPublished, same.State, "unchanged content is the published version")

		v2, err := h.Checklists.SaveDraft(ctx, Checklist("c1", "third"), "me")
		require.NoError(t, err)
		assert.Equal(t, 2, v2.Version)
		latest, err := h.Checklists.FindVersion(ctx, "c1", 0)
		require.NoError(t, err)
		assert.Equal(t, 1, latest.Version, "the latest published is still 1 while 2 is a draft")
		_, err = h.Checklists.PublishVersion(ctx, "c1", 2)
		require.NoError(t, err)
		latest, err = h.Checklists.FindVersion(ctx, "c1", 0)
		require.NoError(t, err)
		assert.Equal(t, 2, latest.Version)

		old, err := h.Checklists.FindVersion(ctx, "c1", 1)
		require.NoError(t, err)
		assert.Equal(t, p.ContentHash, old.ContentHash)
		assert.Equal(t, "second", old.Content.Sections[0].Questions[0].Text)
	})
	t.Run("Retire", func(t *testing.T) {
		_, err := h.Checklists.RetireVersion(ctx, "c1", 1)
		require.NoError(t, err)
		_, err = h.Checklists.RetireVersion(ctx, "c1", 1)
		requireCode(t, audit.EPRECONDITION, err)
		_, err = h.Checklists.RetireVersion(ctx, "nope", 1)
		requireCode(t, audit.ENOTFOUND, err)
	})
	t.Run("Invalid", func(t *testing.T) {
		bad := Checklist("c2", "x")
		bad.Sections = nil
		_, err := h.Checklists.SaveDraft(ctx, bad, "me")
		requireCode(t, audit.EINVALID, err)
	})
	t.Run("ListVersions", func(t *testing.T) {
		_, err := h.Checklists.SaveDraft(ctx, Checklist("c3", "draft only"), "me")
		require.NoError(t, err)
		all, err := h.Checklists.ListVersions(ctx, audit.VersionFilter{})
		require.NoError(t, err)
		var keys []string
		for _, v := range all {
			keys = append(keys, fmt.Sprintf("%s/%d/%s", v.ChecklistID, v.Version, v.State))
		}
		assert.Equal(t, []string{"c1/1/retired", "c1/2/published", "c3/1/draft"}, keys)
		pub, err := h.Checklists.ListVersions(ctx, audit.VersionFilter{PublishedOnly: true})
		require.NoError(t, err)
		assert.Len(t, pub, 2)
		none, err := h.Checklists.ListVersions(ctx, audit.VersionFilter{Channel: audit.ChannelEmail})
		require.NoError(t, err)
		assert.Empty(t, none)
	})
}

func testAssignmentStore(t *testing.T, h Harness) {
	ctx := context.Background()
	mA := mustUser(t, h, audit.RoleManager, "a@example.com")
	mB := mustUser(t, h, audit.RoleManager, "b@example.com")
	s1 := mustUser(t, h, audit.RoleShopper, "s1@example.com")
	s2 := mustUser(t, h, audit.RoleShopper, "s2@example.com")
	storeA := mustStore(t, h, "A-1", mA)
	storeB := mustStore(t, h, "B-1", mB)
	_, err := h.Checklists.SaveDraft(ctx, Checklist("c", "q"), "me")
	require.NoError(t, err)
	_, err = h.Checklists.PublishVersion(ctx, "c", 1)
	require.NoError(t, err)
	_, err = h.Checklists.SaveDraft(ctx, Checklist("c", "q2"), "me")
	require.NoError(t, err)
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	newA := func(store *audit.Store, shopper string, startDay int) *audit.Assignment {
		return &audit.Assignment{StoreID: store.ID, ChecklistID: "c", ShopperID: shopper,
			WindowStart: day.Add(time.Duration(startDay) * 24 * time.Hour), WindowEnd: day.Add(time.Duration(startDay+3) * 24 * time.Hour)}
	}

	a1 := newA(storeA, s1, 0)
	t.Run("Create", func(t *testing.T) {
		require.NoError(t, h.Assignments.CreateAssignment(ctx, audit.Scope{ManagerID: mA}, a1))
		assert.NotEmpty(t, a1.ID)
		assert.Equal(t, 1, a1.ChecklistVersion, "0 resolves to the latest published, not the draft")
		assert.Equal(t, audit.AssignmentAccepted, a1.State)
		assert.Equal(t, audit.ChannelStoreVisit, a1.Channel)

		requireCode(t, audit.ENOTFOUND, h.Assignments.CreateAssignment(ctx, audit.Scope{ManagerID: mA}, newA(storeB, s1, 0)))
		draft := newA(storeA, s1, 0)
		draft.ChecklistVersion = 2
		requireCode(t, audit.EPRECONDITION, h.Assignments.CreateAssignment(ctx, audit.Scope{All: true}, draft))
		requireCode(t, audit.EPRECONDITION, h.Assignments.CreateAssignment(ctx, audit.Scope{All: true}, newA(storeA, mA, 0)))
		empty := newA(storeA, s1, 0)
		empty.WindowEnd = empty.WindowStart
		requireCode(t, audit.EINVALID, h.Assignments.CreateAssignment(ctx, audit.Scope{All: true}, empty))

		for i, sh := range []string{s1, s2, ""} {
			require.NoError(t, h.Assignments.CreateAssignment(ctx, audit.Scope{All: true}, newA(storeA, sh, i+1)))
		}
		require.NoError(t, h.Assignments.CreateAssignment(ctx, audit.Scope{ManagerID: mB}, newA(storeB, s2, 5)))
	})
	t.Run("FindAndScope", func(t *testing.T) {
		got, err := h.Assignments.FindAssignment(ctx, audit.Scope{ShopperID: s1}, a1.ID)
		require.NoError(t, err)
		assert.Equal(t, a1.WindowStart, got.WindowStart)
		for _, sc := range []audit.Scope{{ShopperID: s2}, {ManagerID: mB}, {}} {
			_, err := h.Assignments.FindAssignment(ctx, sc, a1.ID)
			requireCode(t, audit.ENOTFOUND, err)
		}
	})
	t.Run("List", func(t *testing.T) {
		count := func(f audit.AssignmentFilter) int {
			list, err := h.Assignments.ListAssignments(ctx, f)
			require.NoError(t, err)
			return len(list)
		}
		assert.Equal(t, 5, count(audit.AssignmentFilter{Scope: audit.Scope{All: true}}))
		assert.Equal(t, 4, count(audit.AssignmentFilter{Scope: audit.Scope{ManagerID: mA}}))
		assert.Equal(t, 2, count(audit.AssignmentFilter{Scope: audit.Scope{ShopperID: s1}}))
		assert.Equal(t, 0, count(audit.AssignmentFilter{Scope: audit.Scope{ShopperID: s1}, ShopperID: s2}))
		assert.Equal(t, 1, count(audit.AssignmentFilter{Scope: audit.Scope{All: true}, State: audit.AssignmentOpen}))
		assert.Equal(t, 1, count(audit.AssignmentFilter{Scope: audit.Scope{All: true}, StoreID: storeB.ID}))
		// Windows overlapping day 5 to day 6: those starting on days 3, 4 (to day 6, 7) and 5.
		assert.Equal(t, 2, count(audit.AssignmentFilter{Scope: audit.Scope{All: true},
			From: day.Add(5 * 24 * time.Hour), To: day.Add(6 * 24 * time.Hour)}))

		var seen []string
		f := audit.AssignmentFilter{Scope: audit.Scope{All: true}, Limit: 2}
		for {
			page, err := h.Assignments.ListAssignments(ctx, f)
			require.NoError(t, err)
			for _, a := range page {
				seen = append(seen, a.ID)
			}
			if len(page) < f.Limit {
				break
			}
			last := page[len(page)-1]
			f.AfterTime, f.AfterID = last.WindowStart, last.ID
		}
		assert.Len(t, seen, 5)
	})
	t.Run("Update", func(t *testing.T) {
		got, err := h.Assignments.UpdateAssignment(ctx, audit.Scope{ManagerID: mA}, a1.ID, func(a *audit.Assignment) error {
			a.ShopperID = s2
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, s2, got.ShopperID)
		assert.True(t, !got.UpdatedAt.Before(got.CreatedAt))

		_, err = h.Assignments.UpdateAssignment(ctx, audit.Scope{ManagerID: mA}, a1.ID, func(a *audit.Assignment) error {
			a.ShopperID = mB
			return nil
		})
		requireCode(t, audit.EPRECONDITION, err)
		still, err := h.Assignments.FindAssignment(ctx, audit.Scope{All: true}, a1.ID)
		require.NoError(t, err)
		assert.Equal(t, s2, still.ShopperID, "a refused update changes nothing")

		_, err = h.Assignments.UpdateAssignment(ctx, audit.Scope{ManagerID: mB}, a1.ID, func(a *audit.Assignment) error { return nil })
		requireCode(t, audit.ENOTFOUND, err)

		cancelled, err := h.Assignments.UpdateAssignment(ctx, audit.Scope{All: true}, a1.ID, func(a *audit.Assignment) error {
			a.CancelReason = "closed"
			return a.Transition(audit.AssignmentCancelled)
		})
		require.NoError(t, err)
		assert.Equal(t, audit.AssignmentCancelled, cancelled.State)
		_, err = h.Assignments.UpdateAssignment(ctx, audit.Scope{All: true}, a1.ID, func(a *audit.Assignment) error {
			return a.Transition(audit.AssignmentAccepted)
		})
		requireCode(t, audit.EPRECONDITION, err)
	})
}
