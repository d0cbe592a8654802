// Package storagetest is the conformance suite of the storage interfaces
// (storage.Stores, storage.Staff, storage.Checklists, storage.Assignments;
// storage.SigningKeys and storage.RateLimits, which take the noun alone,
// so that PostgreSQL runs them before it is a whole storage.Storage).
// Every backend runs it from its own tests, so that a later one
// (PostgreSQL) must behave exactly as the embedded SQLite one does. Stores,
// staff and checklists are driven through the use cases of package app,
// whose rules the expected errors come from, and read back through
// storage.
package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
)

// Harness is one fresh, empty database under test.
type Harness struct {
	Storage     storage.Storage
	Assignments storage.Assignments
	// CreateUser adds a user with the given role and returns his id: stores
	// need managers and assignments shoppers, and users are not part of
	// the interfaces under test.
	CreateUser func(ctx context.Context, role audit.Role, email string) (string, error)
}

// Run runs the whole suite; open returns a fresh, empty database each call.
func Run(t *testing.T, open func(t *testing.T) Harness) {
	t.Run("Stores", func(t *testing.T) { testStores(t, open(t)) })
	t.Run("Checklists", func(t *testing.T) { testChecklists(t, open(t)) })
	t.Run("Assignments", func(t *testing.T) { testAssignments(t, open(t)) })
}

// app returns the use cases over the storage under test.
func (h Harness) app() *app.App { return app.New(h.Storage, app.Options{}) }

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
	require.NoError(t, h.app().CreateStore(context.Background(), s))
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

func testStores(t *testing.T, h Harness) {
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
		requireCode(t, audit.EEXISTS, h.app().CreateStore(ctx, &audit.Store{Code: "A-1", Name: "again"}))
		requireCode(t, audit.EINVALID, h.app().CreateStore(ctx, &audit.Store{Code: "X", Name: "x", Latitude: 100}))
		requireCode(t, audit.ENOTFOUND, h.app().CreateStore(ctx, &audit.Store{Code: "X", Name: "x", ManagerIDs: []string{"nobody"}}))
		requireCode(t, audit.EINVALID, h.app().CreateStore(ctx, &audit.Store{Code: "X", Name: "x", ManagerIDs: []string{shopper}}))
	})
	t.Run("FindStore", func(t *testing.T) {
		got, err := h.Storage.Stores().Find(ctx, audit.Scope{All: true}, a.ID)
		require.NoError(t, err)
		assert.Equal(t, a.Code, got.Code)
		assert.Equal(t, []string{mA}, got.ManagerIDs)
		_, err = h.Storage.Stores().Find(ctx, audit.Scope{ManagerID: mA}, b.ID)
		requireCode(t, audit.ENOTFOUND, err)
		_, err = h.Storage.Stores().Find(ctx, audit.Scope{}, a.ID)
		requireCode(t, audit.ENOTFOUND, err)
		shared, err := h.Storage.Stores().Find(ctx, audit.Scope{ManagerID: mB}, both.ID)
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{mA, mB}, shared.ManagerIDs)
	})
	t.Run("ListStores", func(t *testing.T) {
		codes := func(sc audit.Scope) []string {
			list, err := h.Storage.Stores().List(ctx, audit.StoreFilter{Scope: sc})
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
		require.NoError(t, h.app().CreateStaff(ctx, audit.Scope{ManagerID: mA}, s))
		assert.NotEmpty(t, s.ID)
		requireCode(t, audit.EEXISTS, h.app().CreateStaff(ctx, audit.Scope{All: true}, &audit.Staff{EmployeeNumber: "E1", Name: "dup", StoreID: a.ID}))
		requireCode(t, audit.ENOTFOUND, h.app().CreateStaff(ctx, audit.Scope{ManagerID: mA}, &audit.Staff{EmployeeNumber: "E2", Name: "x", StoreID: b.ID}))
		requireCode(t, audit.EINVALID, h.app().CreateStaff(ctx, audit.Scope{ManagerID: mA}, &audit.Staff{EmployeeNumber: "E3", Name: "no store"}))
		require.NoError(t, h.app().CreateStaff(ctx, audit.Scope{All: true}, &audit.Staff{EmployeeNumber: "E4", Name: "Head office", BackOffice: true}))
		require.NoError(t, h.app().CreateStaff(ctx, audit.Scope{ManagerID: mB}, &audit.Staff{EmployeeNumber: "E5", Name: "Bob", StoreID: b.ID}))

		count := func(f audit.StaffFilter) int {
			list, err := h.Storage.Staff().List(ctx, f)
			require.NoError(t, err)
			return len(list)
		}
		assert.Equal(t, 3, count(audit.StaffFilter{Scope: audit.Scope{All: true}}))
		assert.Equal(t, 1, count(audit.StaffFilter{Scope: audit.Scope{ManagerID: mA}}))
		assert.Equal(t, 0, count(audit.StaffFilter{Scope: audit.Scope{ManagerID: mA}, StoreID: b.ID}))
		assert.Equal(t, 1, count(audit.StaffFilter{Scope: audit.Scope{All: true}, StoreID: b.ID}))
	})
	t.Run("ListShoppers", func(t *testing.T) {
		list, err := h.app().ListShoppers(ctx, "")
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, shopper, list[0].ID)
	})
}

func testChecklists(t *testing.T, h Harness) {
	ctx := context.Background()
	t.Run("DraftPublishNewVersion", func(t *testing.T) {
		v, err := h.app().SaveDraft(ctx, Checklist("c1", "first"), "me")
		require.NoError(t, err)
		assert.Equal(t, 1, v.Version)
		assert.Equal(t, audit.VersionDraft, v.State)

		v, err = h.app().SaveDraft(ctx, Checklist("c1", "second"), "me")
		require.NoError(t, err)
		assert.Equal(t, 1, v.Version, "a draft is replaced in place")
		assert.Equal(t, "second", v.Content.Sections[0].Questions[0].Text)

		_, err = h.Storage.Checklists().Find(ctx, "c1", 0)
		requireCode(t, audit.ENOTFOUND, err)

		p, err := h.app().PublishVersion(ctx, "c1", 1)
		require.NoError(t, err)
		assert.Equal(t, audit.VersionPublished, p.State)
		hash, err := p.Content.ContentHash()
		require.NoError(t, err)
		assert.Equal(t, hash, p.ContentHash)
		_, err = h.app().PublishVersion(ctx, "c1", 1)
		requireCode(t, audit.EPRECONDITION, err)

		same, err := h.app().SaveDraft(ctx, Checklist("c1", "second"), "me")
		require.NoError(t, err)
		assert.Equal(t, 1, same.Version)
		assert.Equal(t, audit.VersionPublished, same.State, "unchanged content is the published version")

		v2, err := h.app().SaveDraft(ctx, Checklist("c1", "third"), "me")
		require.NoError(t, err)
		assert.Equal(t, 2, v2.Version)
		latest, err := h.Storage.Checklists().Find(ctx, "c1", 0)
		require.NoError(t, err)
		assert.Equal(t, 1, latest.Version, "the latest published is still 1 while 2 is a draft")
		_, err = h.app().PublishVersion(ctx, "c1", 2)
		require.NoError(t, err)
		latest, err = h.Storage.Checklists().Find(ctx, "c1", 0)
		require.NoError(t, err)
		assert.Equal(t, 2, latest.Version)

		old, err := h.Storage.Checklists().Find(ctx, "c1", 1)
		require.NoError(t, err)
		assert.Equal(t, p.ContentHash, old.ContentHash)
		assert.Equal(t, "second", old.Content.Sections[0].Questions[0].Text)
	})
	t.Run("Retire", func(t *testing.T) {
		all := audit.Scope{All: true}
		_, err := h.app().RetireVersion(ctx, all, "c1", 1)
		require.NoError(t, err)
		_, err = h.app().RetireVersion(ctx, all, "c1", 1)
		requireCode(t, audit.EPRECONDITION, err)
		_, err = h.app().RetireVersion(ctx, all, "nope", 1)
		requireCode(t, audit.ENOTFOUND, err)
	})
	t.Run("Invalid", func(t *testing.T) {
		bad := Checklist("c2", "x")
		bad.Sections = nil
		_, err := h.app().SaveDraft(ctx, bad, "me")
		requireCode(t, audit.EINVALID, err)
	})
	t.Run("ListVersions", func(t *testing.T) {
		_, err := h.app().SaveDraft(ctx, Checklist("c3", "draft only"), "me")
		require.NoError(t, err)
		all, err := h.Storage.Checklists().List(ctx, audit.VersionFilter{})
		require.NoError(t, err)
		var keys []string
		for _, v := range all {
			keys = append(keys, fmt.Sprintf("%s/%d/%s", v.ChecklistID, v.Version, v.State))
		}
		assert.Equal(t, []string{"c1/1/retired", "c1/2/published", "c3/1/draft"}, keys)
		pub, err := h.Storage.Checklists().List(ctx, audit.VersionFilter{PublishedOnly: true})
		require.NoError(t, err)
		assert.Len(t, pub, 2)
		none, err := h.Storage.Checklists().List(ctx, audit.VersionFilter{Channel: audit.ChannelEmail})
		require.NoError(t, err)
		assert.Empty(t, none)
	})
}

func testAssignments(t *testing.T, h Harness) {
	ctx := context.Background()
	mA := mustUser(t, h, audit.RoleManager, "a@example.com")
	mB := mustUser(t, h, audit.RoleManager, "b@example.com")
	s1 := mustUser(t, h, audit.RoleShopper, "s1@example.com")
	s2 := mustUser(t, h, audit.RoleShopper, "s2@example.com")
	storeA := mustStore(t, h, "A-1", mA)
	storeB := mustStore(t, h, "B-1", mB)
	_, err := h.app().SaveDraft(ctx, Checklist("c", "q"), "me")
	require.NoError(t, err)
	_, err = h.app().PublishVersion(ctx, "c", 1)
	require.NoError(t, err)
	_, err = h.app().SaveDraft(ctx, Checklist("c", "q2"), "me")
	require.NoError(t, err)
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	// newA is an assignment as the use case hands it to storage: complete.
	newA := func(store *audit.Store, shopper string, startDay int) *audit.Assignment {
		n++
		state := audit.AssignmentAccepted
		if shopper == "" {
			state = audit.AssignmentOpen
		}
		return &audit.Assignment{ID: fmt.Sprintf("a%02d", n), StoreID: store.ID, ChecklistID: "c", ChecklistVersion: 1,
			Channel: audit.ChannelStoreVisit, ShopperID: shopper, State: state, CreatedBy: mA, CreatedAt: day, UpdatedAt: day,
			WindowStart: day.Add(time.Duration(startDay) * 24 * time.Hour), WindowEnd: day.Add(time.Duration(startDay+3) * 24 * time.Hour)}
	}

	a1 := newA(storeA, s1, 0)
	t.Run("Create", func(t *testing.T) {
		require.NoError(t, h.Assignments.Create(ctx, a1))
		got, err := h.Assignments.Find(ctx, audit.Scope{All: true}, a1.ID)
		require.NoError(t, err)
		assert.Equal(t, a1, got, "stored as given")
		for i, sh := range []string{s1, s2, ""} {
			require.NoError(t, h.Assignments.Create(ctx, newA(storeA, sh, i+1)))
		}
		require.NoError(t, h.Assignments.Create(ctx, newA(storeB, s2, 5)))
		require.Error(t, h.Assignments.Create(ctx, a1), "an id is stored once")
	})
	t.Run("FindAndScope", func(t *testing.T) {
		got, err := h.Assignments.Find(ctx, audit.Scope{ShopperID: s1}, a1.ID)
		require.NoError(t, err)
		assert.Equal(t, a1.WindowStart, got.WindowStart)
		for _, sc := range []audit.Scope{{ShopperID: s2}, {ManagerID: mB}, {}} {
			_, err := h.Assignments.Find(ctx, sc, a1.ID)
			requireCode(t, audit.ENOTFOUND, err)
		}
	})
	t.Run("List", func(t *testing.T) {
		count := func(f storage.AssignmentFilter) int {
			list, err := h.Assignments.List(ctx, f)
			require.NoError(t, err)
			return len(list)
		}
		assert.Equal(t, 5, count(storage.AssignmentFilter{Scope: audit.Scope{All: true}}))
		assert.Equal(t, 4, count(storage.AssignmentFilter{Scope: audit.Scope{ManagerID: mA}}))
		assert.Equal(t, 2, count(storage.AssignmentFilter{Scope: audit.Scope{ShopperID: s1}}))
		assert.Equal(t, 0, count(storage.AssignmentFilter{Scope: audit.Scope{ShopperID: s1}, ShopperID: s2}))
		assert.Equal(t, 1, count(storage.AssignmentFilter{Scope: audit.Scope{All: true}, State: audit.AssignmentOpen}))
		assert.Equal(t, 1, count(storage.AssignmentFilter{Scope: audit.Scope{All: true}, StoreID: storeB.ID}))
		// Windows overlapping day 5 to day 6: those starting on days 3, 4 (to day 6, 7) and 5.
		assert.Equal(t, 2, count(storage.AssignmentFilter{Scope: audit.Scope{All: true},
			From: day.Add(5 * 24 * time.Hour), To: day.Add(6 * 24 * time.Hour)}))

		var seen []string
		f := storage.AssignmentFilter{Scope: audit.Scope{All: true}, Limit: 2}
		for {
			page, err := h.Assignments.List(ctx, f)
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
	t.Run("Refs", func(t *testing.T) {
		refs, err := h.Assignments.Refs(ctx, audit.Scope{ManagerID: mA}, &audit.Assignment{StoreID: storeA.ID, ChecklistID: "c", ShopperID: s1})
		require.NoError(t, err)
		assert.Equal(t, "A-1", refs.Store.Code)
		assert.Equal(t, 1, refs.Checklist.Version, "version 0 is the latest published, not the draft")
		assert.Equal(t, s1, refs.Shopper.ID)
		refs, err = h.Assignments.Refs(ctx, audit.Scope{All: true}, &audit.Assignment{ShopperID: s2})
		require.NoError(t, err)
		assert.Nil(t, refs.Store)
		assert.Nil(t, refs.Checklist)
		assert.Equal(t, s2, refs.Shopper.ID)
		for _, a := range []*audit.Assignment{{StoreID: storeB.ID}, {ChecklistID: "nope"}, {ShopperID: "nobody"}} {
			_, err = h.Assignments.Refs(ctx, audit.Scope{ManagerID: mA}, a)
			requireCode(t, audit.ENOTFOUND, err)
		}
	})
	t.Run("Update", func(t *testing.T) {
		next := *a1
		next.ShopperID, next.State, next.CancelReason, next.UpdatedAt = s2, audit.AssignmentCancelled, "closed", day.Add(time.Hour)
		require.NoError(t, h.Assignments.Update(ctx, &next))
		got, err := h.Assignments.Find(ctx, audit.Scope{All: true}, a1.ID)
		require.NoError(t, err)
		assert.Equal(t, &next, got)
		missing := *a1
		missing.ID = "nope"
		requireCode(t, audit.ENOTFOUND, h.Assignments.Update(ctx, &missing))
	})
	t.Run("Due", func(t *testing.T) {
		// a1 (cancelled) ends on day 3, a02 (accepted) on day 4, a03
		// (accepted) on day 5, a04 (open) on day 6.
		ids := func(now time.Time) []string {
			due, err := h.Assignments.Due(ctx, now)
			require.NoError(t, err)
			var out []string
			for _, a := range due {
				assert.True(t, a.State.CanTransition(audit.AssignmentExpired), "%s is %s", a.ID, a.State)
				out = append(out, a.ID)
			}
			return out
		}
		assert.Empty(t, ids(day.Add(4*24*time.Hour-time.Millisecond)))
		assert.Equal(t, []string{"a02"}, ids(day.Add(4*24*time.Hour)), "due when the window has ended")
		assert.Equal(t, []string{"a02", "a03", "a04"}, ids(day.Add(6*24*time.Hour)), "by window end; a cancelled one never")
	})
	t.Run("RetireInUseElsewhere", func(t *testing.T) {
		// Version 1 has pending assignments at both managers' stores.
		_, err := h.app().RetireVersion(ctx, audit.Scope{ManagerID: mA}, "c", 1)
		requireCode(t, audit.EFORBIDDEN, err)
		assert.Contains(t, audit.ErrorMessage(err), "B-1")
		assert.NotContains(t, audit.ErrorMessage(err), "A-1")
		_, err = h.app().RetireVersion(ctx, audit.Scope{ManagerID: mB}, "c", 1)
		requireCode(t, audit.EFORBIDDEN, err)
		v, err := h.Storage.Checklists().Find(ctx, "c", 1)
		require.NoError(t, err)
		assert.Equal(t, audit.VersionPublished, v.State, "a refused retirement changes nothing")

		// Version 2 is used nowhere: a manager may retire it.
		_, err = h.app().PublishVersion(ctx, "c", 2)
		require.NoError(t, err)
		v, err = h.app().RetireVersion(ctx, audit.Scope{ManagerID: mB}, "c", 2)
		require.NoError(t, err)
		assert.Equal(t, audit.VersionRetired, v.State)
		// An admin may retire what other managers' stores use.
		v, err = h.app().RetireVersion(ctx, audit.Scope{All: true}, "c", 1)
		require.NoError(t, err)
		assert.Equal(t, audit.VersionRetired, v.State)
	})
}
