package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
)

func mustStore(t *testing.T, a *app.App, code string, managers ...string) *audit.Store {
	t.Helper()
	s := &audit.Store{Code: code, Name: "Store " + code, Region: "R", Latitude: 55, Longitude: 37, GeofenceMeters: 100, ManagerIDs: managers}
	require.NoError(t, a.CreateStore(context.Background(), s))
	return s
}

func TestUpdateStore_Managers(t *testing.T) {
	ctx := context.Background()
	a, _ := openOrgApp(t, newClock())
	m1 := mustCreateUser(t, a, audit.RoleManager, "m1@example.com")
	m2 := mustCreateUser(t, a, audit.RoleManager, "m2@example.com")
	shopper := mustCreateUser(t, a, audit.RoleShopper, "s@example.com")
	s := mustStore(t, a, "S-1", m1.ID)
	requireCode(t, audit.EINVALID, a.CreateStore(ctx, &audit.Store{Code: "S-2", Name: "Two", ManagerIDs: []string{shopper.ID}}))

	change := *s
	change.Name = "Renamed"
	got, err := a.UpdateStore(ctx, audit.Scope{ManagerID: m1.ID}, &change, false)
	require.NoError(t, err)
	assert.Equal(t, "Renamed", got.Name)
	change.ManagerIDs = []string{m1.ID, m2.ID}
	_, err = a.UpdateStore(ctx, audit.Scope{ManagerID: m1.ID}, &change, false)
	requireCode(t, audit.EFORBIDDEN, err)
	_, err = a.UpdateStore(ctx, audit.Scope{ManagerID: m2.ID}, &change, true)
	requireCode(t, audit.ENOTFOUND, err) // outside his scope
	got, err = a.UpdateStore(ctx, audit.Scope{All: true}, &change, true)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{m1.ID, m2.ID}, got.ManagerIDs)

	closed, err := a.SetStoreDeactivated(ctx, s.ID, true)
	require.NoError(t, err)
	assert.False(t, closed.DeactivatedAt.IsZero())
	open, err := a.SetStoreDeactivated(ctx, s.ID, false)
	require.NoError(t, err)
	assert.True(t, open.DeactivatedAt.IsZero())
}

// TestTransferStaff_OrgTimeZone: "today" is the organisation's day, not
// the server's: at 20:00 UTC it is already the next day in Vladivostok.
func TestTransferStaff_OrgTimeZone(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	clock.t = time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC) // 2026-12-02 06:00 in Vladivostok
	a, st := openOrgApp(t, clock)
	admin := mustCreateUser(t, a, audit.RoleAdmin, "admin@example.com")
	_, err := a.UpdateOrgSettings(ctx, audit.Principal{UserID: admin.ID, Role: audit.RoleAdmin}, audit.OrgSettings{TimeZone: "Asia/Vladivostok"})
	require.NoError(t, err)
	from, to := mustStore(t, a, "FROM"), mustStore(t, a, "TO")
	e := &audit.Staff{EmployeeNumber: "E1", Name: "Ivan", StoreID: from.ID}
	require.NoError(t, a.CreateStaff(ctx, audit.Scope{All: true}, e))
	all := audit.Scope{All: true}

	moved, tr, err := a.TransferStaff(ctx, all, e.ID, to.ID, "2026-12-02", admin.ID)
	require.NoError(t, err)
	assert.True(t, tr.Applied, "a transfer dated the organisation's today applies at once")
	assert.Equal(t, to.ID, moved.StoreID)
	assert.Equal(t, "2026-12-02", moved.StoreSince)
	assert.Equal(t, "FROM", tr.FromStoreCode)

	_, _, err = a.TransferStaff(ctx, all, e.ID, to.ID, "", admin.ID)
	requireCode(t, audit.EPRECONDITION, err) // he works there already
	_, _, err = a.TransferStaff(ctx, all, e.ID, from.ID, "2 December", admin.ID)
	requireCode(t, audit.EINVALID, err)

	// Dated tomorrow: waits, and a second one replaces it.
	_, tr, err = a.TransferStaff(ctx, all, e.ID, from.ID, "2026-12-04", admin.ID)
	require.NoError(t, err)
	assert.False(t, tr.Applied)
	_, tr, err = a.TransferStaff(ctx, all, e.ID, from.ID, "2026-12-03", admin.ID)
	require.NoError(t, err)
	pending, err := a.PendingTransfer(ctx, e.ID)
	require.NoError(t, err)
	require.NotNil(t, pending)
	assert.Equal(t, tr.ID, pending.ID)
	assert.Equal(t, "2026-12-03", pending.EffectiveDate)

	n, err := a.ApplyDueTransfers(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "still 2026-12-02 in Vladivostok")
	clock.Advance(18 * time.Hour) // 2026-12-02 14:00 UTC, 2026-12-03 00:00 in Vladivostok
	n, err = a.ApplyDueTransfers(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	got, ts, err := a.FindStaff(ctx, all, "", "E1")
	require.NoError(t, err)
	assert.Equal(t, from.ID, got.StoreID)
	require.Len(t, ts, 2, "the replaced transfer is gone")
	assert.True(t, ts[0].Applied)
	pending, err = a.PendingTransfer(ctx, e.ID)
	require.NoError(t, err)
	assert.Nil(t, pending)

	_, err = a.SetStoreDeactivated(ctx, to.ID, true)
	require.NoError(t, err)
	_, _, err = a.TransferStaff(ctx, all, e.ID, to.ID, "", admin.ID)
	requireCode(t, audit.EPRECONDITION, err) // a closed store takes nobody
	_, err = a.SetStaffDeactivated(ctx, all, e.ID, true)
	require.NoError(t, err)
	_, _, err = a.TransferStaff(ctx, all, e.ID, from.ID, "", admin.ID)
	requireCode(t, audit.EPRECONDITION, err)
	list, err := st.Staff().List(ctx, audit.StaffFilter{Scope: all})
	require.NoError(t, err)
	assert.Empty(t, list, "a deactivated employee is left out of lists")
}

func TestCreateStaff_Scope(t *testing.T) {
	ctx := context.Background()
	a, _ := openOrgApp(t, newClock())
	m := mustCreateUser(t, a, audit.RoleManager, "m@example.com")
	mine, other := mustStore(t, a, "MINE", m.ID), mustStore(t, a, "OTHER")
	scope := audit.Scope{ManagerID: m.ID}
	require.NoError(t, a.CreateStaff(ctx, scope, &audit.Staff{EmployeeNumber: "E1", Name: "A", StoreID: mine.ID}))
	requireCode(t, audit.ENOTFOUND, a.CreateStaff(ctx, scope, &audit.Staff{EmployeeNumber: "E2", Name: "B", StoreID: other.ID}))
	requireCode(t, audit.EINVALID, a.CreateStaff(ctx, scope, &audit.Staff{EmployeeNumber: "E3", Name: "C"}))
	require.NoError(t, a.CreateStaff(ctx, audit.Scope{All: true}, &audit.Staff{EmployeeNumber: "E4", Name: "D", BackOffice: true}))
	requireCode(t, audit.EEXISTS, a.CreateStaff(ctx, audit.Scope{All: true}, &audit.Staff{EmployeeNumber: "E1", Name: "dup", StoreID: mine.ID}))
	_, err := a.UpdateStaff(ctx, audit.Scope{ManagerID: m.ID}, &audit.Staff{ID: "nope", EmployeeNumber: "E9", Name: "x"})
	requireCode(t, audit.ENOTFOUND, err)
}

func TestImportStaff(t *testing.T) {
	ctx := context.Background()
	a, st := openOrgApp(t, newClock())
	m := mustCreateUser(t, a, audit.RoleManager, "m@example.com")
	mine, other := mustStore(t, a, "MINE", m.ID), mustStore(t, a, "OTHER")
	require.NoError(t, a.CreateStaff(ctx, audit.Scope{All: true}, &audit.Staff{EmployeeNumber: "E1", Name: "Ann", StoreID: mine.ID}))
	require.NoError(t, a.CreateStaff(ctx, audit.Scope{All: true}, &audit.Staff{EmployeeNumber: "E2", Name: "Bob", StoreID: other.ID}))
	fields := map[string]bool{app.FieldEmployeeNumber: true, app.FieldName: true, app.FieldStoreCode: true}
	scope := audit.Scope{ManagerID: m.ID}
	rows := []app.StaffImportRow{
		{Line: 2, Staff: audit.Staff{EmployeeNumber: "E1", Name: "Ann Smith"}, StoreCode: "MINE"},
		{Line: 3, Staff: audit.Staff{EmployeeNumber: "E3", Name: "Cy"}, StoreCode: "MINE"},
	}

	res, err := a.ImportStaff(ctx, scope, rows, fields, m.ID, true)
	require.NoError(t, err)
	assert.Equal(t, app.ImportResult{Created: 1, Updated: 1}, res)
	_, err = st.Staff().FindByNumber(ctx, audit.Scope{All: true}, "E3")
	requireCode(t, audit.ENOTFOUND, err) // a validate-only run stores nothing

	bad := append(rows, app.StaffImportRow{Line: 4, Staff: audit.Staff{EmployeeNumber: "E2", Name: "Bob"}, StoreCode: "MINE"},
		app.StaffImportRow{Line: 5, Staff: audit.Staff{EmployeeNumber: "E5", Name: "Eve"}, StoreCode: "NOPE"})
	_, err = a.ImportStaff(ctx, scope, bad, fields, m.ID, false)
	requireCode(t, audit.EINVALID, err)
	var pe audit.PackErrors
	require.ErrorAs(t, err, &pe)
	require.Len(t, pe, 2)
	assert.Equal(t, 4, pe[0].Line)
	assert.Equal(t, app.FieldEmployeeNumber, pe[0].Path) // not on the staff of his stores
	assert.Equal(t, 5, pe[1].Line)
	assert.Equal(t, app.FieldStoreCode, pe[1].Path)
	got, err := st.Staff().FindByNumber(ctx, audit.Scope{All: true}, "E1")
	require.NoError(t, err)
	assert.Equal(t, "Ann", got.Name, "an import with a problem changes nothing")

	res, err = a.ImportStaff(ctx, audit.Scope{All: true}, []app.StaffImportRow{
		{Line: 2, Staff: audit.Staff{EmployeeNumber: "E1", Name: "Ann Smith"}, StoreCode: "OTHER"},
	}, fields, m.ID, false)
	require.NoError(t, err)
	assert.Equal(t, app.ImportResult{Updated: 1, Transferred: 1}, res)
	got, ts, err := a.FindStaff(ctx, audit.Scope{All: true}, got.ID, "")
	require.NoError(t, err)
	assert.Equal(t, other.ID, got.StoreID)
	require.Len(t, ts, 1)
	assert.Equal(t, "2026-12-01", ts[0].EffectiveDate, "moved from the organisation's today")
}

func TestImportStores(t *testing.T) {
	ctx := context.Background()
	a, st := openOrgApp(t, newClock())
	mustStore(t, a, "S-1")
	fields := map[string]bool{app.FieldCode: true, app.FieldName: true}
	rows := []app.StoreImportRow{
		{Line: 2, Store: audit.Store{Code: "S-1", Name: "Store S-1"}},
		{Line: 3, Store: audit.Store{Code: "S-2", Name: "New"}},
	}
	res, err := a.ImportStores(ctx, rows, fields, false)
	require.NoError(t, err)
	assert.Equal(t, app.ImportResult{Created: 1, Unchanged: 1}, res)
	s1, err := st.Stores().FindByCode(ctx, audit.Scope{All: true}, "S-1")
	require.NoError(t, err)
	assert.Equal(t, float64(55), s1.Latitude, "a field the file has no column for keeps its value")

	res, err = a.ImportStores(ctx, []app.StoreImportRow{{Line: 2, Store: audit.Store{Code: "S-2", Name: "Renamed"}}}, fields, true)
	require.NoError(t, err)
	assert.Equal(t, app.ImportResult{Updated: 1}, res)
	s2, err := st.Stores().FindByCode(ctx, audit.Scope{All: true}, "S-2")
	require.NoError(t, err)
	assert.Equal(t, "New", s2.Name, "a validate-only run stores nothing")
	list, err := st.Stores().List(ctx, audit.StoreFilter{Scope: audit.Scope{All: true}})
	require.NoError(t, err)
	assert.Len(t, list, 2)
}
