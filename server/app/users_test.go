package app_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/server/storage/testdb"
)

// testClock is a settable clock shared by the use cases and the database.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// openOrgApp returns the use cases over a fresh database (testdb), both
// on clock.
func openOrgApp(t *testing.T, clock *testClock) (*app.App, storage.Storage) {
	t.Helper()
	db := testdb.Open(t, clock.Now)
	return app.New(db, app.Options{Now: clock.Now}), db
}

func newClock() *testClock { return &testClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)} }

func mustCreateUser(t *testing.T, a *app.App, role audit.Role, email string) *audit.User {
	t.Helper()
	u := &audit.User{Email: email, DisplayName: "User " + email, Role: role}
	require.NoError(t, a.CreateUser(context.Background(), u, "hash"))
	return u
}

func eventKinds(t *testing.T, st storage.Storage, userID string) []string {
	t.Helper()
	evs, err := st.SecurityEvents().List(context.Background(), storage.EventFilter{UserID: userID, Limit: 100})
	require.NoError(t, err)
	var out []string
	for i := len(evs) - 1; i >= 0; i-- { // oldest first
		out = append(out, evs[i].Kind)
	}
	return out
}

func TestCreateUser(t *testing.T) {
	ctx := context.Background()
	a, st := openOrgApp(t, newClock())
	u := &audit.User{Email: "  Ann@Example.COM ", DisplayName: "Ann", Role: audit.RoleManager}
	require.NoError(t, a.CreateUser(ctx, u, "hash"))
	assert.Equal(t, "ann@example.com", u.Email, "e-mails are kept in lower case")
	got, hash, err := st.Users().FindByEmail(ctx, "ANN@example.com")
	require.NoError(t, err)
	assert.Equal(t, u.ID, got.ID)
	assert.Equal(t, "hash", hash)
	assert.Equal(t, []string{audit.EventUserCreated}, eventKinds(t, st, u.ID))

	requireCode(t, audit.EEXISTS, a.CreateUser(ctx, &audit.User{Email: "ann@EXAMPLE.com", Role: audit.RoleHR}, "h"))
	requireCode(t, audit.EINVALID, a.CreateUser(ctx, &audit.User{Email: "not an address", Role: audit.RoleHR}, "h"))
	n, err := st.Users().Count(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "a refused user is not stored")
}

func TestSetUserDisabled_RevokesSessions(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	a, st := openOrgApp(t, clock)
	u := mustCreateUser(t, a, audit.RoleShopper, "s@example.com")
	s, err := a.CreateSession(ctx, u.ID, "phone", "Phone", []byte("r1"), clock.Now().Add(time.Hour), "10.0.0.1")
	require.NoError(t, err)
	_, err = a.Authenticate(ctx, s.ID, u.ID)
	require.NoError(t, err)

	got, err := a.SetUserDisabled(ctx, u.ID, true, "10.0.0.2")
	require.NoError(t, err)
	assert.True(t, got.Disabled)
	sess, err := st.Sessions().Find(ctx, s.ID)
	require.NoError(t, err)
	assert.True(t, sess.Revoked())
	assert.Equal(t, "user disabled", sess.RevokeReason)
	_, err = a.Authenticate(ctx, s.ID, u.ID)
	requireCode(t, audit.EUNAUTHORIZED, err)

	got, err = a.SetUserDisabled(ctx, u.ID, false, "10.0.0.2")
	require.NoError(t, err)
	assert.False(t, got.Disabled)
	_, err = a.Authenticate(ctx, s.ID, u.ID)
	requireCode(t, audit.EUNAUTHORIZED, err) // enabling does not bring a revoked session back
	assert.Equal(t, []string{audit.EventUserCreated, audit.EventLogin, audit.EventUserDisabled, audit.EventUserEnabled}, eventKinds(t, st, u.ID))

	_, err = a.SetUserDisabled(ctx, "nobody", true, "")
	requireCode(t, audit.ENOTFOUND, err)
}

func TestResetPassword(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	a, st := openOrgApp(t, clock)
	u := mustCreateUser(t, a, audit.RoleHR, "hr@example.com")
	for _, dev := range []string{"a", "b"} {
		_, err := a.CreateSession(ctx, u.ID, dev, dev, []byte("r-"+dev), clock.Now().Add(time.Hour), "")
		require.NoError(t, err)
	}
	n, err := a.ResetPassword(ctx, u.ID, "new-hash", "10.0.0.3")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	_, hash, err := st.Users().FindByEmail(ctx, u.Email)
	require.NoError(t, err)
	assert.Equal(t, "new-hash", hash)
	live, err := st.Sessions().List(ctx, storage.SessionFilter{UserID: u.ID, ActiveOnly: true, Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, live)
	_, err = a.ResetPassword(ctx, "nobody", "h", "")
	requireCode(t, audit.ENOTFOUND, err)
}

func TestChangeRole_DropsManagedStores(t *testing.T) {
	ctx := context.Background()
	a, st := openOrgApp(t, newClock())
	m := mustCreateUser(t, a, audit.RoleManager, "m@example.com")
	shopper := mustCreateUser(t, a, audit.RoleShopper, "s@example.com")
	store := &audit.Store{Code: "S-1", Name: "One", Latitude: 55, Longitude: 37, GeofenceMeters: 100}
	require.NoError(t, a.CreateStore(ctx, store))

	require.NoError(t, a.SetManagedStores(ctx, m.ID, []string{store.ID}))
	managed, err := a.ManagedStores(ctx, m.ID)
	require.NoError(t, err)
	require.Len(t, managed, 1)
	requireCode(t, audit.EINVALID, a.SetManagedStores(ctx, shopper.ID, []string{store.ID}))
	requireCode(t, audit.ENOTFOUND, a.SetManagedStores(ctx, m.ID, []string{store.ID, "no-such-store"}))
	managed, err = a.ManagedStores(ctx, m.ID)
	require.NoError(t, err)
	assert.Len(t, managed, 1, "a refused change keeps the stores")

	got, err := a.ChangeRole(ctx, m.ID, audit.RoleAdmin, "")
	require.NoError(t, err)
	assert.Equal(t, audit.RoleAdmin, got.Role)
	managed, err = a.ManagedStores(ctx, m.ID)
	require.NoError(t, err)
	assert.Len(t, managed, 1, "an admin keeps his stores")

	_, err = a.ChangeRole(ctx, m.ID, audit.RoleHR, "")
	require.NoError(t, err)
	managed, err = a.ManagedStores(ctx, m.ID)
	require.NoError(t, err)
	assert.Empty(t, managed, "one who is no longer a manager or admin keeps no stores")
	evs, err := st.SecurityEvents().List(ctx, storage.EventFilter{UserID: m.ID, Kinds: []string{audit.EventRoleChanged}, Limit: 10})
	require.NoError(t, err)
	require.Len(t, evs, 2)
	assert.Equal(t, "admin -> hr", evs[0].Detail)
}
