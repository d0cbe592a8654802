package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/servertest"
)

// TestConsole_CorrectiveAction: on the demo data, a failed price-tag check
// at MSK-01 opens an action for the store's manager; he finds it under
// "My actions", starts it and closes it with a note and a photo in the
// console (hashed in the browser, uploaded and verified); the next passing
// visit verifies it.
func TestConsole_CorrectiveAction(t *testing.T) {
	needBrowser(t)
	srv := servertest.Run(t, server.Config{
		Console:   mustConsole(t),
		LoginRate: server.Rate{Burst: 100, Every: time.Second},
	})
	ctx := context.Background()
	require.NoError(t, demo.SeedReports(ctx, srv.Server))
	visit, err := demo.FailedPriceCheck(ctx, srv.Server, time.Now().Add(-3*time.Hour), true)
	require.NoError(t, err)
	manager, _, err := srv.Server.Storage().Users().FindByEmail(ctx, demo.Users[audit.RoleManager])
	require.NoError(t, err)
	me := audit.Principal{UserID: manager.ID, Role: audit.RoleManager}
	opened, err := srv.Server.App().ListActions(ctx, me, app.ActionList{VisitID: visit})
	require.NoError(t, err)
	require.Len(t, opened, 1, "the failed critical question opened one action")

	res := journey(t, srv.URL, "action", map[string]string{"SHOPSCORE_VISIT": visit})
	assert.Equal(t, true, res["done"])

	got, err := srv.Server.App().GetAction(ctx, me, opened[0].ID)
	require.NoError(t, err)
	assert.Equal(t, audit.ActionDone, got.State)
	require.Len(t, got.Proof, 1)
	assert.True(t, got.Proof[0].Verified, "the photo went through the verified path")
	_, err = demo.FailedPriceCheck(ctx, srv.Server, time.Now().Add(-time.Hour), false)
	require.NoError(t, err)
	got, err = srv.Server.App().GetAction(ctx, me, opened[0].ID)
	require.NoError(t, err)
	assert.Equal(t, audit.ActionVerified, got.State, "the next passing visit verified it")
}
