package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/server/storage/storagetest"
)

// MustOpenDB opens a fresh database in a temporary folder and closes it when
// the test ends.
func MustOpenDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "test.db"))
	require.NoError(tb, db.Open())
	tb.Cleanup(func() { require.NoError(tb, db.Close()) })
	return db
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Harness {
		db := MustOpenDB(t)
		return storagetest.Harness{
			Storage: db, Assignments: db.Assignments(),
			CreateUser: func(ctx context.Context, role audit.Role, email string) (string, error) {
				u := &audit.User{Email: email, Role: role}
				err := app.New(db, app.Options{}).CreateUser(ctx, u, "not-a-real-hash")
				return u.ID, err
			},
		}
	})
}

// TestAppealsConformance runs the conformance suite of storage.Appeals;
// visits and verified bytes are stored with raw SQL, as on PostgreSQL.
func TestAppealsConformance(t *testing.T) {
	h, _ := appealsHarness(t)
	storagetest.TestAppeals(t, h)
}

// TestActionsConformance runs the conformance suite of storage.Actions
// over the appeals' harness.
func TestActionsConformance(t *testing.T) {
	h, db := appealsHarness(t)
	storagetest.TestActions(t, storagetest.ActionsHarness{AppealsHarness: h, Actions: db.Actions()})
}

// appealsHarness is a fresh database for the appeals' and the actions'
// conformance suites.
func appealsHarness(t *testing.T) (storagetest.AppealsHarness, *sqlite.DB) {
	at := new(time.Time)
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "test.db"))
	db.Now = func() time.Time { return *at }
	require.NoError(t, db.Open())
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	ctx := context.Background()
	exec := func(t *testing.T, q string, args ...any) {
		t.Helper()
		tx, err := db.BeginTx(ctx)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, q, args...)
		require.NoError(t, err)
		require.NoError(t, tx.Commit())
	}
	return storagetest.AppealsHarness{
		Users: db.Users(), Stores: db.Stores(), Staff: db.Staff(), OrgSettings: db.OrgSettings(), Appeals: db.Appeals(), Clock: at,
		Visit: func(t *testing.T, id, store, staffID, shopper, reviewer string, started time.Time) {
			ms := started.UnixMilli()
			exec(t, `INSERT OR IGNORE INTO checklists (id, created_at) VALUES ('c', ?)`, ms)
			exec(t, `INSERT OR IGNORE INTO checklist_versions (checklist_id, version, name, channel, state, content, content_hash, question_count, created_at)
				VALUES ('c', 1, 'C', 'store_visit', 'published', '{}', 'h', 1, ?)`, ms)
			exec(t, `INSERT INTO visits (id, shopper_id, store_id, checklist_id, checklist_version, content_hash, channel, body, digest,
				state, score, started_at, received_at, device_id, session_id, mutation_id)
				VALUES (?1, ?2, ?3, 'c', 1, 'h', 'store_visit', ?4, 'd', 'approved', '{}', ?5, ?5, 'dev', 'sess', 'm-' || ?1)`,
				id, shopper, store, `{"StaffID":"`+staffID+`"}`, ms)
			for _, tr := range storagetest.AppealHistory(shopper, reviewer) {
				exec(t, `INSERT INTO visit_transitions (visit_id, from_state, to_state, actor_id, actor_role, at) VALUES (?, ?, ?, ?, ?, ?)`,
					id, string(tr.From), string(tr.To), tr.ActorID, tr.ActorRole, ms)
			}
		},
		Verified: func(t *testing.T, sha string) {
			exec(t, `INSERT INTO verified_blobs (sha256, size, content_type, verified_at) VALUES (?, 10, 'image/jpeg', ?)`, sha, at.UnixMilli())
		},
	}, db
}

// TestChecklistVersions_ImmutableInSchema shows that the schema itself
// refuses to change a published version, whatever code runs against it.
func TestChecklistVersions_ImmutableInSchema(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	_, err := app.New(db, app.Options{}).SaveDraft(ctx, storagetest.Checklist("c", "q"), "me")
	require.NoError(t, err)
	_, err = app.New(db, app.Options{}).PublishVersion(ctx, "c", 1)
	require.NoError(t, err)

	for name, stmt := range map[string]string{
		"content":   `UPDATE checklist_versions SET content = '{}' WHERE checklist_id = 'c'`,
		"hash":      `UPDATE checklist_versions SET content_hash = 'x' WHERE checklist_id = 'c'`,
		"unpublish": `UPDATE checklist_versions SET state = 'draft' WHERE checklist_id = 'c'`,
		"delete":    `DELETE FROM checklist_versions WHERE checklist_id = 'c'`,
	} {
		t.Run(name, func(t *testing.T) {
			tx, err := db.BeginTx(ctx)
			require.NoError(t, err)
			defer tx.Rollback()
			_, err = tx.ExecContext(ctx, stmt)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "immutable")
		})
	}
	v, err := db.Checklists().Find(ctx, "c", 1)
	require.NoError(t, err)
	assert.NoError(t, v.Verify())
}

// TestDB_Reopen applies migrations once and keeps data across reopening.
func TestDB_Reopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	db := sqlite.NewDB(path)
	require.NoError(t, db.Open())
	ctx := context.Background()
	require.NoError(t, app.New(db, app.Options{}).CreateUser(ctx, &audit.User{Email: "a@example.com", Role: audit.RoleAdmin}, "h"))
	first, err := db.Migrations(ctx)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	db = sqlite.NewDB(path)
	require.NoError(t, db.Open())
	defer db.Close()
	again, err := db.Migrations(ctx)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	n, err := db.Users().Count(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

// TestDB_Checkpointer: a commit reaches the database file itself soon
// after it is made, through the checkpointer, without waiting for the WAL
// to grow to SQLite's threshold (1000 pages) and without the writer
// copying it: a copy of the database file alone, without its WAL, holds
// the new row.
func TestDB_Checkpointer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := sqlite.NewDB(filepath.Join(dir, "test.db"))
	require.NoError(t, db.Open())
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	u := &audit.User{Email: "checkpointed@example.com", Role: audit.RoleShopper}
	require.NoError(t, app.New(db, app.Options{}).CreateUser(ctx, u, "h"))

	copied := filepath.Join(dir, "copy.db")
	found := func() bool {
		b, err := os.ReadFile(db.Path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(copied, b, 0o600))
		c, err := sql.Open("sqlite3", "file:"+copied+"?mode=ro")
		require.NoError(t, err)
		defer c.Close()
		var n int
		if err := c.QueryRow(`SELECT COUNT(*) FROM users WHERE email = ?`, u.Email).Scan(&n); err != nil {
			return false
		}
		return n == 1
	}
	require.Eventually(t, found, 5*time.Second, 20*time.Millisecond, "the database file holds the commit")
}

func TestSigningKeys(t *testing.T) { storagetest.SigningKeys(t, MustOpenDB(t).SigningKeys()) }

func TestRateLimits(t *testing.T) { storagetest.RateLimits(t, MustOpenDB(t).RateLimits()) }
func TestWebhookConformance(t *testing.T) {
	storagetest.RunWebhooks(t, func(t *testing.T) storagetest.WebhookNouns {
		db := MustOpenDB(t)
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
				other := sqlite.NewDB(db.Path)
				other.Now = db.Now
				require.NoError(t, other.Open())
				t.Cleanup(func() { require.NoError(t, other.Close()) })
				return other.WebhookDeliveries()
			},
		}
	})
}

// TestStaffAccounts runs the employee accounts' conformance on SQLite,
// whose migration 0016 widened the users' role check in place: a fresh
// database and one reopened after it both take the new role and still
// refuse an unknown one.
func TestStaffAccounts(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 123_456_789, time.UTC)
	db := MustOpenDB(t)
	db.Now = func() time.Time { return at }
	storagetest.StaffAccounts(t, db.Users(), db.Staff(), &at)
	err := db.Users().Create(context.Background(), &audit.User{Email: "x@example.com", Role: "boss"}, "h")
	require.ErrorContains(t, err, "CHECK constraint failed")

	require.NoError(t, db.Close())
	require.NoError(t, db.Open())
	require.NoError(t, db.Users().Create(context.Background(), &audit.User{Email: "y@example.com", Role: audit.RoleStaff}, "h"))
	err = db.Users().Create(context.Background(), &audit.User{Email: "z@example.com", Role: "boss"}, "h")
	require.ErrorContains(t, err, "CHECK constraint failed")
}

// TestIntegrationTokens runs the integration tokens' conformance on SQLite.
func TestIntegrationTokens(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	db := MustOpenDB(t)
	db.Now = func() time.Time { return at }
	storagetest.IntegrationTokens(t, db.IntegrationTokens(), &at)
}

// TestNotifications runs the mail outbox's conformance on SQLite.
func TestNotifications(t *testing.T) {
	at := time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC)
	db := MustOpenDB(t)
	db.Now = func() time.Time { return at }
	storagetest.Notifications(t, db.Users(), db.Notifications(), func(t *testing.T) storage.Notifications {
		other := sqlite.NewDB(db.Path)
		other.Now = db.Now
		require.NoError(t, other.Open())
		t.Cleanup(func() { require.NoError(t, other.Close()) })
		return other.Notifications()
	}, &at)
}
