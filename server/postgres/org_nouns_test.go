package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
)

func mustStore(t *testing.T, db *DB, code, name string, managers ...string) *audit.Store {
	t.Helper()
	ctx := context.Background()
	s := &audit.Store{Code: code, Name: name, Region: "R", Latitude: 55, Longitude: 37, GeofenceMeters: 100}
	require.NoError(t, db.Stores().Create(ctx, s))
	require.NoError(t, db.Stores().SetManagers(ctx, s.ID, managers))
	s.ManagerIDs = managers
	return s
}

func TestStores(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 0, 0, 777_777_777, time.UTC)
	db := clocked(t, &at)
	mA := mustUser(t, db, audit.RoleManager, "a@example.com", "Alla").ID
	mB := mustUser(t, db, audit.RoleManager, "b@example.com", "Bella").ID
	shopper := mustUser(t, db, audit.RoleShopper, "s@example.com", "S").ID
	a := mustStore(t, db, "A-1", "Магазин на Тверской", mA)
	b := mustStore(t, db, "B-1", "Store B", mB)
	both := mustStore(t, db, "AB-1", "Store AB", mA, mB)
	mustStore(t, db, "a-2", "lower-case code")

	assert.NotEmpty(t, a.ID)
	assert.Equal(t, at.Truncate(time.Millisecond), a.CreatedAt)
	requireCode(t, audit.EEXISTS, db.Stores().Create(ctx, &audit.Store{Code: "A-1", Name: "again"}))

	got, err := db.Stores().Find(ctx, audit.Scope{All: true}, a.ID)
	require.NoError(t, err)
	assert.Equal(t, *a, func() audit.Store { w := *got; w.ManagerNames = nil; return w }())
	assert.Equal(t, []string{"Alla"}, got.ManagerNames)
	_, err = db.Stores().Find(ctx, audit.Scope{ManagerID: mA}, b.ID)
	requireCode(t, audit.ENOTFOUND, err)
	_, err = db.Stores().Find(ctx, audit.Scope{}, a.ID)
	requireCode(t, audit.ENOTFOUND, err)
	_, err = db.Stores().Find(ctx, audit.Scope{All: true}, "nowhere")
	requireCode(t, audit.ENOTFOUND, err)
	shared, err := db.Stores().Find(ctx, audit.Scope{ManagerID: mB}, both.ID)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{mA, mB}, shared.ManagerIDs)
	assert.Len(t, shared.ManagerNames, 2)
	byCode, err := db.Stores().FindByCode(ctx, audit.Scope{ManagerID: mB}, "B-1")
	require.NoError(t, err)
	assert.Equal(t, b.ID, byCode.ID)
	_, err = db.Stores().FindByCode(ctx, audit.Scope{ManagerID: mB}, "A-1")
	requireCode(t, audit.ENOTFOUND, err)

	codes := func(f audit.StoreFilter) []string {
		list, err := db.Stores().List(ctx, f)
		require.NoError(t, err)
		var out []string
		for _, s := range list {
			out = append(out, s.Code)
		}
		return out
	}
	all := audit.Scope{All: true}
	assert.Equal(t, []string{"A-1", "AB-1", "B-1", "a-2"}, codes(audit.StoreFilter{Scope: all}), "ordered bytewise, as SQLite")
	assert.Equal(t, []string{"A-1", "AB-1"}, codes(audit.StoreFilter{Scope: audit.Scope{ManagerID: mA}}))
	assert.Equal(t, []string{"AB-1", "B-1"}, codes(audit.StoreFilter{Scope: audit.Scope{ManagerID: mB}}))
	assert.Empty(t, codes(audit.StoreFilter{Scope: audit.Scope{ShopperID: shopper}}), "a shopper without assignments sees no store")
	assert.Empty(t, codes(audit.StoreFilter{}))
	assert.Equal(t, []string{"A-1"}, codes(audit.StoreFilter{Scope: all, Query: "ТВЕРСК"}), "Cyrillic in any case")
	assert.Equal(t, []string{"A-1", "a-2"}, codes(audit.StoreFilter{Scope: all, Query: "a-"}), "code substring in any case")

	// Update, and its code taken.
	b.Name, b.Region = "Store B renamed", "North"
	require.NoError(t, db.Stores().Update(ctx, b))
	assert.Equal(t, []string{"B-1"}, codes(audit.StoreFilter{Scope: all, Region: "North"}))
	b.Code = "A-1"
	requireCode(t, audit.EEXISTS, db.Stores().Update(ctx, b))

	// Closing keeps the first closing time; opening clears it.
	closed := at.Truncate(time.Millisecond)
	require.NoError(t, db.Stores().SetDeactivated(ctx, both.ID, true))
	at = at.Add(time.Hour)
	require.NoError(t, db.Stores().SetDeactivated(ctx, both.ID, true))
	got, err = db.Stores().Find(ctx, all, both.ID)
	require.NoError(t, err)
	assert.Equal(t, closed, got.DeactivatedAt)
	assert.Equal(t, []string{"A-1", "B-1", "a-2"}, codes(audit.StoreFilter{Scope: all}))
	assert.Equal(t, []string{"A-1", "AB-1", "B-1", "a-2"}, codes(audit.StoreFilter{Scope: all, IncludeDeactivated: true}))
	require.NoError(t, db.Stores().SetDeactivated(ctx, both.ID, false))
	got, err = db.Stores().Find(ctx, all, both.ID)
	require.NoError(t, err)
	assert.True(t, got.DeactivatedAt.IsZero())
	requireCode(t, audit.ENOTFOUND, db.Stores().SetDeactivated(ctx, "nowhere", true))

	// Touch of a store without live assignments writes nothing.
	require.NoError(t, db.Stores().Touch(ctx, a.ID))
	var rows int
	require.NoError(t, db.pool.QueryRow(ctx, `SELECT count(*) FROM sync_feed`).Scan(&rows))
	assert.Zero(t, rows)
}

func TestStaff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	db := clocked(t, &at)
	mA := mustUser(t, db, audit.RoleManager, "a@example.com", "Alla").ID
	mB := mustUser(t, db, audit.RoleManager, "b@example.com", "Bella").ID
	hr := mustUser(t, db, audit.RoleHR, "hr@example.com", "Галина").ID
	a := mustStore(t, db, "A-1", "Store A", mA)
	b := mustStore(t, db, "B-1", "Store B", mB)

	ivan := &audit.Staff{EmployeeNumber: "E1", Name: "Иван Сидоров", Position: "cashier", Department: audit.DeptSales, StoreID: a.ID}
	require.NoError(t, db.Staff().Create(ctx, ivan))
	assert.NotEmpty(t, ivan.ID)
	assert.Equal(t, at, ivan.CreatedAt)
	requireCode(t, audit.EEXISTS, db.Staff().Create(ctx, &audit.Staff{EmployeeNumber: "E1", Name: "dup", StoreID: a.ID}))
	requireCode(t, audit.ENOTFOUND, db.Staff().Create(ctx, &audit.Staff{EmployeeNumber: "E9", Name: "x", StoreID: "nowhere"}))
	head := &audit.Staff{EmployeeNumber: "E4", Name: "Head office", BackOffice: true}
	require.NoError(t, db.Staff().Create(ctx, head))
	bob := &audit.Staff{EmployeeNumber: "E5", Name: "Bob", StoreID: b.ID}
	require.NoError(t, db.Staff().Create(ctx, bob))

	got, err := db.Staff().Find(ctx, audit.Scope{ManagerID: mA}, ivan.ID)
	require.NoError(t, err)
	want := *ivan
	want.StoreCode, want.StoreName = "A-1", "Store A"
	assert.Equal(t, want, *got)
	_, err = db.Staff().Find(ctx, audit.Scope{ManagerID: mA}, bob.ID)
	requireCode(t, audit.ENOTFOUND, err)
	_, err = db.Staff().Find(ctx, audit.Scope{ManagerID: mA}, head.ID)
	requireCode(t, audit.ENOTFOUND, err) // staff of no store are only in a scope of All
	got, err = db.Staff().Find(ctx, audit.Scope{All: true}, head.ID)
	require.NoError(t, err)
	assert.Empty(t, got.StoreID)
	got, err = db.Staff().FindByNumber(ctx, audit.Scope{ManagerID: mB}, "E5")
	require.NoError(t, err)
	assert.Equal(t, bob.ID, got.ID)
	_, err = db.Staff().FindByNumber(ctx, audit.Scope{ManagerID: mB}, "E1")
	requireCode(t, audit.ENOTFOUND, err)

	numbers := func(f audit.StaffFilter) []string {
		list, err := db.Staff().List(ctx, f)
		require.NoError(t, err)
		var out []string
		for _, s := range list {
			out = append(out, s.EmployeeNumber)
		}
		return out
	}
	all := audit.Scope{All: true}
	assert.Equal(t, []string{"E1", "E4", "E5"}, numbers(audit.StaffFilter{Scope: all}))
	assert.Equal(t, []string{"E1"}, numbers(audit.StaffFilter{Scope: audit.Scope{ManagerID: mA}}))
	assert.Empty(t, numbers(audit.StaffFilter{Scope: audit.Scope{ManagerID: mA}, StoreID: b.ID}))
	assert.Equal(t, []string{"E5"}, numbers(audit.StaffFilter{Scope: all, StoreID: b.ID}))
	assert.Equal(t, []string{"E1"}, numbers(audit.StaffFilter{Scope: all, Query: "сидор"}), "Cyrillic in any case")
	assert.Equal(t, []string{"E4"}, numbers(audit.StaffFilter{Scope: all, Query: "e4"}))
	assert.Equal(t, []string{"E4"}, numbers(audit.StaffFilter{Scope: all, AfterNumber: "E1", Limit: 1}))

	// Update, its number taken, deactivation keeping the first time.
	bob.Name, bob.Position = "Robert", "lead"
	require.NoError(t, db.Staff().Update(ctx, bob))
	got, err = db.Staff().Find(ctx, all, bob.ID)
	require.NoError(t, err)
	assert.Equal(t, "Robert", got.Name)
	assert.Equal(t, b.ID, got.StoreID)
	bob.EmployeeNumber = "E1"
	requireCode(t, audit.EEXISTS, db.Staff().Update(ctx, bob))
	gone := at
	require.NoError(t, db.Staff().SetDeactivated(ctx, head.ID, true))
	at = at.Add(time.Hour)
	require.NoError(t, db.Staff().SetDeactivated(ctx, head.ID, true))
	got, err = db.Staff().Find(ctx, all, head.ID)
	require.NoError(t, err)
	assert.Equal(t, gone, got.DeactivatedAt)
	assert.Equal(t, []string{"E1", "E5"}, numbers(audit.StaffFilter{Scope: all}))
	assert.Equal(t, []string{"E1", "E4", "E5"}, numbers(audit.StaffFilter{Scope: all, IncludeDeactivated: true}))
	require.NoError(t, db.Staff().SetDeactivated(ctx, head.ID, false))
	assert.Equal(t, []string{"E1", "E4", "E5"}, numbers(audit.StaffFilter{Scope: all}))

	// Transfers: pending, due, applied, dropped.
	later := &audit.StaffTransfer{StaffID: ivan.ID, FromStoreID: a.ID, ToStoreID: b.ID, EffectiveDate: "2026-04-01", CreatedBy: hr}
	require.NoError(t, db.Staff().AddTransfer(ctx, later))
	at = at.Add(time.Second)
	soon := &audit.StaffTransfer{StaffID: ivan.ID, FromStoreID: a.ID, ToStoreID: b.ID, EffectiveDate: "2026-03-02", CreatedBy: hr}
	require.NoError(t, db.Staff().AddTransfer(ctx, soon))
	requireCode(t, audit.ENOTFOUND, db.Staff().AddTransfer(ctx, &audit.StaffTransfer{StaffID: "nobody", ToStoreID: b.ID, EffectiveDate: "2026-03-02"}))
	// The store of a day (UTC, the default time zone): before both
	// transfers the store he left, between them the first's, after both
	// the last's; bob has none (his current store), nobody has no store.
	for day, want := range map[string]string{"2026-03-01": a.ID, "2026-03-02": b.ID, "2026-03-31": b.ID, "2026-04-01": b.ID} {
		when, _ := time.Parse(time.DateOnly, day)
		got, err := db.Staff().StoreAt(ctx, ivan.ID, when.Add(12*time.Hour))
		require.NoError(t, err)
		assert.Equal(t, want, got, day)
	}
	store, err := db.Staff().StoreAt(ctx, bob.ID, at)
	require.NoError(t, err)
	assert.Equal(t, b.ID, store)
	store, err = db.Staff().StoreAt(ctx, "nobody", at)
	require.NoError(t, err)
	assert.Empty(t, store)
	tr, err := db.Staff().FindTransfer(ctx, soon.ID)
	require.NoError(t, err)
	assert.Equal(t, audit.StaffTransfer{ID: soon.ID, StaffID: ivan.ID, FromStoreID: a.ID, FromStoreCode: "A-1", FromStoreName: "Store A",
		ToStoreID: b.ID, ToStoreCode: "B-1", ToStoreName: "Store B", EffectiveDate: "2026-03-02", CreatedBy: hr, CreatedByName: "Галина",
		CreatedAt: soon.CreatedAt}, *tr)
	_, err = db.Staff().FindTransfer(ctx, "nothing")
	requireCode(t, audit.ENOTFOUND, err)
	ids := func(ts []audit.StaffTransfer, err error) []string {
		require.NoError(t, err)
		var out []string
		for _, t := range ts {
			out = append(out, t.ID)
		}
		return out
	}
	assert.Equal(t, []string{later.ID, soon.ID}, ids(db.Staff().Transfers(ctx, ivan.ID, false)), "newest date first")
	assert.Empty(t, ids(db.Staff().DueTransfers(ctx, "2026-03-01")))
	assert.Equal(t, []string{soon.ID, later.ID}, ids(db.Staff().DueTransfers(ctx, "2026-04-01")), "oldest date first")
	require.NoError(t, db.Staff().ApplyTransfer(ctx, *tr))
	got, err = db.Staff().Find(ctx, all, ivan.ID)
	require.NoError(t, err)
	assert.Equal(t, b.ID, got.StoreID)
	assert.Equal(t, "2026-03-02", got.StoreSince)
	tr, err = db.Staff().FindTransfer(ctx, soon.ID)
	require.NoError(t, err)
	assert.True(t, tr.Applied)
	assert.Equal(t, []string{later.ID}, ids(db.Staff().Transfers(ctx, ivan.ID, true)))
	require.NoError(t, db.Staff().DropPendingTransfers(ctx, ivan.ID))
	assert.Equal(t, []string{soon.ID}, ids(db.Staff().Transfers(ctx, ivan.ID, false)), "the applied transfer stays")
}
