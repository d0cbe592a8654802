package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/server/storage/storagetest"
	"github.com/shopscore/shopscore/server/storage/testdb"
)

// world is a real database (testdb: SQLite, or PostgreSQL) under the use cases, with a manager of
// store A-1, another of B-1, two shoppers, an admin and checklist c
// (version 1 published, version 2 a draft).
type world struct {
	db             storage.Storage
	now            func() time.Time // the clock of the database and the use cases: w.clock
	app            *app.App
	admin, mA, mB  audit.Principal
	s1, s2         string
	storeA, storeB *audit.Store
	checklist      *audit.ChecklistVersion
	day            time.Time
	clock          time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{day: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	w.clock = w.day
	w.now = func() time.Time { return w.clock }
	w.db = testdb.Open(t, w.now)
	w.app = app.New(w.db, app.Options{Now: w.now})
	user := func(role audit.Role, email string) string {
		u := &audit.User{Email: email, Role: role, DisplayName: email}
		require.NoError(t, w.app.CreateUser(ctx, u, "not-a-real-hash"))
		return u.ID
	}
	w.admin = audit.Principal{UserID: user(audit.RoleAdmin, "admin@example.com"), Role: audit.RoleAdmin}
	w.mA = audit.Principal{UserID: user(audit.RoleManager, "a@example.com"), Role: audit.RoleManager}
	w.mB = audit.Principal{UserID: user(audit.RoleManager, "b@example.com"), Role: audit.RoleManager}
	w.s1, w.s2 = user(audit.RoleShopper, "s1@example.com"), user(audit.RoleShopper, "s2@example.com")
	store := func(code, manager string) *audit.Store {
		s := &audit.Store{Code: code, Name: "Store " + code, Region: "R", Latitude: 55, Longitude: 37, GeofenceMeters: 100, ManagerIDs: []string{manager}}
		require.NoError(t, w.app.CreateStore(ctx, s))
		return s
	}
	w.storeA, w.storeB = store("A-1", w.mA.UserID), store("B-1", w.mB.UserID)
	_, err := w.app.SaveDraft(ctx, storagetest.Checklist("c", "Greeted?"), "me")
	require.NoError(t, err)
	w.checklist, err = w.app.PublishVersion(ctx, "c", 1)
	require.NoError(t, err)
	_, err = w.app.SaveDraft(ctx, storagetest.Checklist("c", "Greeted at once?"), "me")
	require.NoError(t, err)
	return w
}

// assignment is an assignment of c at store for shopper ("" for any),
// its window starting startDay days after w.day and lasting three days.
func (w *world) assignment(store *audit.Store, shopper string, startDay int) *audit.Assignment {
	return &audit.Assignment{StoreID: store.ID, ChecklistID: "c", ShopperID: shopper, CreatedBy: w.mA.UserID,
		WindowStart: w.day.Add(time.Duration(startDay) * 24 * time.Hour), WindowEnd: w.day.Add(time.Duration(startDay+3) * 24 * time.Hour)}
}

func requireCode(t *testing.T, want audit.Code, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, want, audit.ErrorCode(err), "error: %v", err)
}

// storageAll selects every assignment.
func storageAll() storage.AssignmentFilter {
	return storage.AssignmentFilter{Scope: audit.Scope{All: true}}
}
