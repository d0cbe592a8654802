package field_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/mobile-client/field"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/servertest"
)

// A device offline for longer than the server keeps mutation results,
// with a push the server applied but whose answers it never received
// (docs/DESIGN.md §3, retention): the server prunes the results, the
// device's replay is answered FailedPrecondition with applied_seq, and
// the device resets: it pulls everything, takes the visits the server
// holds as done, and sends again, with a new seq, only what the server
// never stored. Each visit is on the server once; none is lost.
func TestEndToEnd_ResetAfterRetention(t *testing.T) {
	ctx := context.Background()
	var skew atomic.Int64 // how far the server's clock is ahead
	run := servertest.Run(t, server.Config{
		Now:               func() time.Time { return time.Now().Add(time.Duration(skew.Load())) },
		ExpireEvery:       20 * time.Millisecond,
		MutationRetention: time.Minute,
	})
	c, dir := MustOpenField(t, run.URL)
	_, err := c.Login(ctx, demo.Users[audit.RoleShopper], demoPassword)
	require.NoError(t, err)
	_, err = c.Pull(ctx)
	require.NoError(t, err)
	us, err := c.UnplannedChecklists(ctx)
	require.NoError(t, err)
	var checklist, store string
	for _, u := range us {
		if u.ChecklistID == "email-enquiry" && len(u.Stores) > 0 {
			checklist, store = u.ChecklistID, u.Stores[0].ID
		}
	}
	require.NotEmpty(t, checklist, "the demo feed offers no unplanned e-mail checklist: %+v", us)
	record := func(c *field.Client, hours string) string {
		id, err := c.StartUnplannedVisit(ctx, checklist, store)
		require.NoError(t, err)
		_, err = c.AnswerText(ctx, id, "reply_hours", hours)
		require.NoError(t, err)
		require.NoError(t, c.Submit(ctx, id))
		return id
	}
	first, second := record(c, "6"), record(c, "7")
	require.NoError(t, c.Close())

	// The phone's database as it was before its push was answered: both
	// visits pending. The copy in dir pushes (the server applies seqs 1
	// and 2); the phone never hears of it, records a third visit
	// offline, and comes back after the retention.
	phoneDir := t.TempDir()
	copyDir(t, dir, phoneDir)
	sent, err := field.Open(dir, run.URL)
	require.NoError(t, err)
	n, err := sent.Push(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.NoError(t, sent.Close())
	phone, err := field.Open(phoneDir, run.URL)
	require.NoError(t, err)
	defer phone.Close()
	third := record(phone, "8")

	serverDB := servertest.Inspect(t, run.DataDir)
	count := func(q string, args ...any) int {
		var n int
		require.NoError(t, serverDB.QueryRow(q, args...).Scan(&n))
		return n
	}
	require.Equal(t, 2, count(`SELECT COUNT(*) FROM sync_mutations`))
	skew.Store(int64(2 * time.Minute))
	require.Eventually(t, func() bool { return count(`SELECT COUNT(*) FROM sync_mutations`) == 0 }, 10*time.Second, 20*time.Millisecond,
		"the results older than the retention are pruned")

	res, err := phone.Sync(ctx, nil)
	require.NoError(t, err)
	assert.Zero(t, res.Rejected)
	for _, id := range []string{first, second, third} {
		assert.Equal(t, 1, count(`SELECT COUNT(*) FROM visits WHERE id = ?`, id), "visit %s on the server", id)
		d, err := phone.Visit(ctx, id)
		require.NoError(t, err)
		require.NotNil(t, d.Receipt, "visit %s has its receipt", id)
		assert.Equal(t, field.StateSent, d.State)
	}
	assert.Equal(t, 3, count(`SELECT COUNT(*) FROM visits`))
	// The third visit went with a new seq after the server's two.
	assert.Equal(t, 3, count(`SELECT MAX(last_seq) FROM device_seqs`))
	st, err := phone.Status(ctx)
	require.NoError(t, err)
	assert.Empty(t, st.Pending)
}
