package field_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/mobile-client/field"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/migrateto"
	"github.com/shopscore/shopscore/server/postgres"
	"github.com/shopscore/shopscore/server/postgres/pgtest"
	"github.com/shopscore/shopscore/server/servertest"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/sync/protocol"
)

// A phone that synced with a SQLite server, and then recorded a visit
// offline, meets its installation moved to PostgreSQL (shopscore
// migrate-to) and served from the same data folder: it is still signed in,
// its sync pushes the offline visit once, as the seq after the last one
// SQLite applied, and its pull, whose cursor was the SQLite feed's, is a
// full resync that brings back the same assignments. The visit sent
// before the move is on the server once, its photos verified; the next
// sync has nothing to do.
func TestEndToEnd_MoveToPostgres(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	dataDir, phoneDir := t.TempDir(), t.TempDir()
	open := func(t *testing.T, serverURL string) *field.Client {
		c, err := field.OpenConfig(field.Config{Dir: phoneDir, ServerURL: serverURL, MaxAttempts: 4,
			Backoff: protocol.Backoff{Base: 5 * time.Millisecond, Max: 50 * time.Millisecond}})
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	}
	var sent, offline string
	var before []string
	t.Run("on SQLite", func(t *testing.T) {
		run := servertest.Run(t, servertest.SQLite(t, server.Config{DataDir: dataDir}))
		c := open(t, run.URL)
		_, err := c.Login(ctx, demo.Users[audit.RoleShopper], demoPassword)
		require.NoError(t, err)
		_, err = c.Pull(ctx)
		require.NoError(t, err)
		sent = recordStoreVisit(t, c, demoStoreVisit(t, c))
		require.NoError(t, c.Submit(ctx, sent))
		res, err := c.Sync(ctx, nil)
		require.NoError(t, err)
		require.Equal(t, 1, res.Pushed)
		require.Empty(t, res.PhotoErrors)
		before = assignmentIDs(t, c)

		us, err := c.UnplannedChecklists(ctx)
		require.NoError(t, err)
		for _, u := range us {
			if u.ChecklistID == "email-enquiry" && len(u.Stores) > 0 && offline == "" {
				offline, err = c.StartUnplannedVisit(ctx, u.ChecklistID, u.Stores[0].ID)
				require.NoError(t, err)
			}
		}
		require.NotEmpty(t, offline, "the demo feed offers an unplanned e-mail checklist")
		_, err = c.AnswerText(ctx, offline, "reply_hours", "5")
		require.NoError(t, err)
		require.NoError(t, c.Submit(ctx, offline))
	})

	report, err := migrateto.Run(ctx, migrateto.Options{SQLite: servertest.DBPath(dataDir), Postgres: url})
	require.NoError(t, err)
	require.True(t, report.OK())
	pg, err := postgres.Open(ctx, url)
	require.NoError(t, err)
	run := servertest.Run(t, server.Config{DataDir: dataDir, Storage: pg})
	c := open(t, run.URL)

	res, err := c.Sync(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Pushed, "the offline visit, once")
	assert.Zero(t, res.Rejected)
	assert.True(t, res.Pull.FullResync, "the SQLite feed's cursor means nothing here")
	assert.Equal(t, before, assignmentIDs(t, c))
	for _, id := range []string{sent, offline} {
		d, err := c.Visit(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, field.StateSent, d.State, id)
		require.NotNil(t, d.Receipt, id)
		for _, p := range d.Photos {
			assert.True(t, p.Verified, "%s %s[%d]", id, p.QuestionID, p.Index)
		}
	}
	shopper, _, err := pg.Users().FindByEmail(ctx, demo.Users[audit.RoleShopper])
	require.NoError(t, err)
	visits, err := pg.Visits().List(ctx, storage.VisitFilter{Scope: audit.Scope{All: true}, ShopperID: shopper.ID})
	require.NoError(t, err)
	var ids []string
	for _, v := range visits {
		ids = append(ids, v.ID)
	}
	assert.ElementsMatch(t, []string{sent, offline}, ids)

	res, err = c.Sync(ctx, nil)
	require.NoError(t, err)
	assert.Zero(t, res.Pushed)
	assert.False(t, res.Pull.FullResync)
	assert.Zero(t, res.Pull.Changes)
}

func assignmentIDs(t *testing.T, c *field.Client) []string {
	as, err := c.Assignments(context.Background())
	require.NoError(t, err)
	var ids []string
	for _, a := range as {
		ids = append(ids, a.ID)
	}
	return ids
}
