package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/notify"
	"github.com/shopscore/shopscore/server/servertest"
	"github.com/shopscore/shopscore/server/storage"
)

// TestConsole_NotificationSettings: a manager sets his own e-mail
// language and the daily digest under "My e-mail", and finds them so in
// Russian; the server stores them as his.
func TestConsole_NotificationSettings(t *testing.T) {
	needBrowser(t)
	srv := servertest.Run(t, server.Config{
		Console:   mustConsole(t),
		LoginRate: server.Rate{Burst: 100, Every: time.Second},
		// Configured (nothing is queued by this journey, so nothing is sent).
		Mail: server.Mail{SMTP: notify.Config{Host: "127.0.0.1", Port: 2525, TLS: notify.TLSNone, From: "shopscore <noreply@shopscore.test>"}},
	})
	res := journey(t, srv.URL, "notifications", nil)
	assert.Equal(t, true, res["saved"])

	ctx := context.Background()
	manager, _, err := srv.Server.Storage().Users().FindByEmail(ctx, demo.Users[audit.RoleManager])
	require.NoError(t, err)
	got, err := srv.Server.App().NotificationPrefs(ctx, manager.ID)
	require.NoError(t, err)
	assert.Equal(t, storage.NotificationPrefs{Language: "en", Digest: true}, got)
}
