package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/server/storage/storagetest"
)

// The nouns of this backend observed as server/sqlite's are: the same
// rows, orders, times and domain errors for the same calls.

func requireCode(t *testing.T, want audit.Code, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, want, audit.ErrorCode(err), "error: %v", err)
}

// clocked opens a fresh database whose clock reads at, which the test
// may move.
func clocked(t *testing.T, at *time.Time) *DB {
	db, _ := open(t)
	db.Now = func() time.Time { return *at }
	return db
}

func mustUser(t *testing.T, db *DB, role audit.Role, email, name string) *audit.User {
	t.Helper()
	u := &audit.User{Email: email, DisplayName: name, Role: role}
	require.NoError(t, db.Users().Create(context.Background(), u, "hash-"+email))
	return u
}

func TestUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)
	db := clocked(t, &at)

	anna := mustUser(t, db, audit.RoleManager, "anna@example.com", "Анна Петрова")
	assert.NotEmpty(t, anna.ID)
	assert.Equal(t, at.Truncate(time.Millisecond), anna.CreatedAt)
	boris := mustUser(t, db, audit.RoleShopper, "boris@example.com", "Борис")
	mustUser(t, db, audit.RoleAdmin, "Zed@example.com", "Zed")
	requireCode(t, audit.EEXISTS, db.Users().Create(ctx, &audit.User{Email: "ANNA@example.com", Role: audit.RoleHR}, "x"))

	got, hash, err := db.Users().FindByEmail(ctx, " Anna@Example.COM ")
	require.NoError(t, err)
	assert.Equal(t, "hash-anna@example.com", hash)
	assert.Equal(t, *anna, *got)
	assert.Equal(t, time.UTC, got.CreatedAt.Location())
	_, _, err = db.Users().FindByEmail(ctx, "nobody@example.com")
	requireCode(t, audit.ENOTFOUND, err)
	_, err = db.Users().Find(ctx, "nobody")
	requireCode(t, audit.ENOTFOUND, err)

	emails := func(f storage.UserFilter) []string {
		list, err := db.Users().List(ctx, f)
		require.NoError(t, err)
		var out []string
		for _, u := range list {
			out = append(out, u.Email)
		}
		return out
	}
	all := []string{"anna@example.com", "boris@example.com", "Zed@example.com"}
	assert.Equal(t, all, emails(storage.UserFilter{}), "ordered by e-mail in any case")
	assert.Equal(t, all[1:], emails(storage.UserFilter{AfterEmail: "ANNA@example.com"}))
	assert.Equal(t, all[:2], emails(storage.UserFilter{Limit: 2}))
	assert.Equal(t, []string{"boris@example.com"}, emails(storage.UserFilter{Role: audit.RoleShopper}))
	assert.Equal(t, []string{"anna@example.com"}, emails(storage.UserFilter{Query: "пЕТРОВ"}), "Cyrillic in any case")
	assert.Equal(t, []string{"Zed@example.com"}, emails(storage.UserFilter{Query: "zed@"}), "e-mail substring in any case")

	require.NoError(t, db.Users().SetDisabled(ctx, boris.ID, true))
	assert.Equal(t, []string{"anna@example.com", "Zed@example.com"}, emails(storage.UserFilter{ActiveOnly: true}))
	require.NoError(t, db.Users().SetRole(ctx, boris.ID, audit.RoleHR))
	require.NoError(t, db.Users().SetPassword(ctx, boris.ID, "new"))
	u, hash, err := db.Users().FindByEmail(ctx, "boris@example.com")
	require.NoError(t, err)
	assert.True(t, u.Disabled)
	assert.Equal(t, audit.RoleHR, u.Role)
	assert.Equal(t, "new", hash)
	requireCode(t, audit.ENOTFOUND, db.Users().SetDisabled(ctx, "nobody", true))
	requireCode(t, audit.ENOTFOUND, db.Users().SetPassword(ctx, "nobody", "x"))
	requireCode(t, audit.ENOTFOUND, db.Users().SetRole(ctx, "nobody", audit.RoleHR))
	n, err := db.Users().Count(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n)

	// A manager's stores, replaced from his side.
	s1, s2 := &audit.Store{Code: "S1", Name: "One"}, &audit.Store{Code: "S2", Name: "Two"}
	require.NoError(t, db.Stores().Create(ctx, s1))
	require.NoError(t, db.Stores().Create(ctx, s2))
	require.NoError(t, db.Users().SetManagedStores(ctx, anna.ID, []string{s1.ID, s2.ID, s1.ID}))
	require.NoError(t, db.Users().SetManagedStores(ctx, anna.ID, []string{s2.ID}))
	list, err := db.Stores().List(ctx, audit.StoreFilter{Scope: audit.Scope{ManagerID: anna.ID}})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "S2", list[0].Code)
	assert.Equal(t, []string{anna.ID}, list[0].ManagerIDs)
	assert.Equal(t, []string{"Анна Петрова"}, list[0].ManagerNames)
	require.NoError(t, db.Users().SetManagedStores(ctx, anna.ID, nil))
	list, err = db.Stores().List(ctx, audit.StoreFilter{Scope: audit.Scope{ManagerID: anna.ID}})
	require.NoError(t, err)
	assert.Empty(t, list)
}

func TestSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 0, 0, 500_000, time.UTC)
	db := clocked(t, &at)
	u := mustUser(t, db, audit.RoleShopper, "s@example.com", "Shopper")
	other := mustUser(t, db, audit.RoleShopper, "o@example.com", "Other")

	requireCode(t, audit.ENOTFOUND, db.Sessions().Create(ctx, &audit.Session{UserID: "nobody", DeviceID: "d"}))
	var made []*audit.Session
	for i := range 3 {
		s := &audit.Session{UserID: u.ID, DeviceID: "phone", DeviceName: "Pixel"}
		require.NoError(t, db.Sessions().Create(ctx, s))
		assert.Equal(t, at.Truncate(time.Millisecond), s.CreatedAt)
		assert.Equal(t, s.CreatedAt, s.LastSeenAt)
		made = append(made, s)
		if i < 1 {
			at = at.Add(time.Second) // the last two share their creation time
		}
	}
	os := &audit.Session{UserID: other.ID, DeviceID: "tablet"}
	require.NoError(t, db.Sessions().Create(ctx, os))

	got, err := db.Sessions().Find(ctx, made[0].ID)
	require.NoError(t, err)
	want := *made[0]
	want.UserEmail, want.UserName = "s@example.com", "Shopper"
	assert.Equal(t, want, *got)
	_, err = db.Sessions().Find(ctx, "nobody")
	requireCode(t, audit.ENOTFOUND, err)

	// Newest first, ties by id, page by page.
	list, err := db.Sessions().List(ctx, storage.SessionFilter{UserID: u.ID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, list, 3)
	assert.Equal(t, made[0].ID, list[2].ID)
	assert.Greater(t, list[0].ID, list[1].ID)
	page, err := db.Sessions().List(ctx, storage.SessionFilter{UserID: u.ID, Before: list[0].CreatedAt, BeforeID: list[0].ID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, page, 2)
	assert.Equal(t, list[1].ID, page[0].ID)
	everyone, err := db.Sessions().List(ctx, storage.SessionFilter{Limit: 10})
	require.NoError(t, err)
	assert.Len(t, everyone, 4)

	at = at.Add(time.Minute)
	require.NoError(t, db.Sessions().Touch(ctx, made[0].ID))
	require.NoError(t, db.Sessions().Revoke(ctx, made[0].ID, "logout"))
	revokedAt := at.Truncate(time.Millisecond)
	at = at.Add(time.Minute)
	require.NoError(t, db.Sessions().Revoke(ctx, made[0].ID, "again"), "a revoked session stays as it was")
	got, err = db.Sessions().Find(ctx, made[0].ID)
	require.NoError(t, err)
	assert.Equal(t, revokedAt, got.LastSeenAt)
	assert.Equal(t, revokedAt, got.RevokedAt)
	assert.Equal(t, "logout", got.RevokeReason)
	n, err := db.Sessions().RevokeUser(ctx, u.ID, "password changed")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	active, err := db.Sessions().List(ctx, storage.SessionFilter{ActiveOnly: true, Limit: 10})
	require.NoError(t, err)
	require.Len(t, active, 1)
	assert.Equal(t, os.ID, active[0].ID)

	owner, revoked, err := db.Sessions().Owner(ctx, made[0].ID, u.ID)
	require.NoError(t, err)
	assert.True(t, revoked)
	assert.Equal(t, audit.User{ID: u.ID, Email: u.Email, DisplayName: u.DisplayName, Role: u.Role}, *owner)
	_, revoked, err = db.Sessions().Owner(ctx, os.ID, other.ID)
	require.NoError(t, err)
	assert.False(t, revoked)
	_, _, err = db.Sessions().Owner(ctx, made[0].ID, other.ID)
	requireCode(t, audit.ENOTFOUND, err)

	// Refresh tokens: stored by hash, used, retired, to the millisecond.
	h1, h2, h3 := []byte("hash-1"), []byte("hash-2"), []byte("hash-3")
	expires := at.Add(30 * 24 * time.Hour)
	for _, h := range [][]byte{h1, h2, h3} {
		require.NoError(t, db.Sessions().AddRefresh(ctx, h, os.ID, expires))
	}
	requireCode(t, audit.ENOTFOUND, db.Sessions().AddRefresh(ctx, []byte("x"), "nobody", expires))
	tok, err := db.Sessions().FindRefresh(ctx, h1)
	require.NoError(t, err)
	assert.Equal(t, storage.RefreshToken{SessionID: os.ID, ExpiresAt: expires.Truncate(time.Millisecond)}, *tok)
	_, err = db.Sessions().FindRefresh(ctx, []byte("none"))
	requireCode(t, audit.ENOTFOUND, err)
	at = at.Add(time.Second)
	require.NoError(t, db.Sessions().UseRefresh(ctx, h1))
	used := at.Truncate(time.Millisecond)
	tok, err = db.Sessions().FindRefresh(ctx, h1)
	require.NoError(t, err)
	assert.Equal(t, used, tok.UsedAt)
	later, err := db.Sessions().RefreshUsedSince(ctx, os.ID, used.Add(900*time.Microsecond), h2)
	require.NoError(t, err)
	assert.True(t, later, "a use within the same millisecond counts")
	later, err = db.Sessions().RefreshUsedSince(ctx, os.ID, used, h1)
	require.NoError(t, err)
	assert.False(t, later, "the excepted token does not count")
	later, err = db.Sessions().RefreshUsedSince(ctx, os.ID, used.Add(time.Millisecond), h2)
	require.NoError(t, err)
	assert.False(t, later)
	at = at.Add(time.Second)
	require.NoError(t, db.Sessions().RetireRefresh(ctx, os.ID))
	for h, want := range map[string]time.Time{"hash-1": used, "hash-2": at.Truncate(time.Millisecond), "hash-3": at.Truncate(time.Millisecond)} {
		tok, err := db.Sessions().FindRefresh(ctx, []byte(h))
		require.NoError(t, err)
		assert.Equal(t, want, tok.UsedAt, h)
	}
}

func TestSecurityEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	db := clocked(t, &at)
	for i, e := range []audit.SecurityEvent{
		{Kind: audit.EventLogin, UserID: "u1", SessionID: "s1", Peer: "10.0.0.1", Detail: "ok"},
		{Kind: audit.EventLoginFailed, UserID: "u2", Peer: "10.0.0.2"},
		{Kind: audit.EventRefresh, UserID: "u1", SessionID: "s1"},
		{Kind: audit.EventLogin, UserID: "u2", SessionID: "s2"},
	} {
		at = time.Date(2026, 3, 1, 9, i, 0, 0, time.UTC)
		require.NoError(t, db.SecurityEvents().Add(ctx, e))
	}
	all, err := db.SecurityEvents().After(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, all, 4)
	assert.Equal(t, audit.SecurityEvent{Seq: all[0].Seq, CreatedAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Kind: audit.EventLogin,
		UserID: "u1", SessionID: "s1", Peer: "10.0.0.1", Detail: "ok"}, all[0])
	rest, err := db.SecurityEvents().After(ctx, all[1].Seq, 1)
	require.NoError(t, err)
	require.Len(t, rest, 1)
	assert.Equal(t, all[2], rest[0])

	seqs := func(f storage.EventFilter) []int64 {
		f.Limit = 10
		list, err := db.SecurityEvents().List(ctx, f)
		require.NoError(t, err)
		var out []int64
		for _, e := range list {
			out = append(out, e.Seq)
		}
		return out
	}
	s := func(i ...int) (out []int64) {
		for _, i := range i {
			out = append(out, all[i].Seq)
		}
		return out
	}
	assert.Equal(t, s(3, 2, 1, 0), seqs(storage.EventFilter{}))
	assert.Equal(t, s(3, 0), seqs(storage.EventFilter{Kinds: []string{audit.EventLogin}}))
	assert.Equal(t, s(3, 1, 0), seqs(storage.EventFilter{Kinds: []string{audit.EventLogin, audit.EventLoginFailed}}))
	assert.Equal(t, s(2, 0), seqs(storage.EventFilter{UserID: "u1"}))
	assert.Equal(t, s(2, 1), seqs(storage.EventFilter{From: all[1].CreatedAt, To: all[3].CreatedAt}))
	assert.Equal(t, s(1, 0), seqs(storage.EventFilter{BeforeSeq: all[2].Seq}))
}

func TestWebhookConformance(t *testing.T) {
	t.Parallel()
	storagetest.RunWebhooks(t, func(t *testing.T) storagetest.WebhookNouns {
		db, url := open(t)
		var mu sync.Mutex
		now := time.Now()
		db.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		return storagetest.WebhookNouns{
			Outbox: db.Outbox(), Endpoints: db.WebhookEndpoints(), Deliveries: db.WebhookDeliveries(),
			Update: func(ctx context.Context, fn func(storage.Outbox, storage.WebhookDeliveries) error) error {
				return db.Update(ctx, func(tx storage.Tx) error { return fn(tx.Outbox(), tx.WebhookDeliveries()) })
			},
			SetNow: func(t time.Time) { mu.Lock(); defer mu.Unlock(); now = t },
			Again: func(t *testing.T) storage.WebhookDeliveries {
				other, err := Open(context.Background(), url)
				require.NoError(t, err)
				other.Now = db.Now
				t.Cleanup(func() { other.Close() })
				return other.WebhookDeliveries()
			},
		}
	})
}

func TestStaffAccounts(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 9, 0, 0, 123_456_789, time.UTC)
	db := clocked(t, &at)
	storagetest.StaffAccounts(t, db.Users(), db.Staff(), &at)
}

// TestNotifications runs the mail outbox's conformance on PostgreSQL.
func TestNotifications(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC)
	db, url := open(t)
	db.Now = func() time.Time { return at }
	storagetest.Notifications(t, db.Users(), db.Notifications(), func(t *testing.T) storage.Notifications {
		other, err := Open(context.Background(), url)
		require.NoError(t, err)
		other.Now = db.Now
		t.Cleanup(func() { other.Close() })
		return other.Notifications()
	}, &at)
}
