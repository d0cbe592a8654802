package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/server/storage/testdb"
	"github.com/shopscore/shopscore/sync/protocol"
)

// pullFixture is a real SQLite database with a shopper, a store and a
// published checklist, and the use cases over it.
type pullFixture struct {
	db        storage.Storage
	clock     *testdb.Clock
	app       *app.App
	shopper   audit.Principal
	store     *audit.Store
	checklist *audit.Checklist
}

func newPullFixture(t *testing.T, c *audit.Checklist) pullFixture {
	t.Helper()
	ctx := context.Background()
	clock := testdb.NewClock(time.Time{})
	db := testdb.Open(t, clock.Now)
	a := app.New(db, app.Options{Now: clock.Now})
	u := &audit.User{Email: "s@example.com", Role: audit.RoleShopper}
	require.NoError(t, a.CreateUser(ctx, u, "h"))
	store := &audit.Store{Code: "S-1", Name: "Store"}
	require.NoError(t, a.CreateStore(ctx, store))
	v, err := a.SaveDraft(ctx, c, "test")
	require.NoError(t, err)
	_, err = a.PublishVersion(ctx, c.ID, v.Version)
	require.NoError(t, err)
	return pullFixture{db: db, clock: clock, app: a, shopper: audit.Principal{UserID: u.ID, Role: audit.RoleShopper},
		store: store, checklist: c}
}

func checklist(id string, questions int, text string) *audit.Checklist {
	c := &audit.Checklist{ID: id, Name: "Checklist " + id, Channel: audit.ChannelStoreVisit, Sections: []audit.Section{{ID: "s", Title: "Service"}}}
	for i := range questions {
		c.Sections[0].Questions = append(c.Sections[0].Questions, audit.Question{ID: fmt.Sprintf("q%d", i), Type: audit.QuestionYesNo, Text: text})
	}
	return c
}

func (f pullFixture) assign(t *testing.T, shopperID string) *audit.Assignment {
	t.Helper()
	start := time.Now().Add(-time.Hour)
	a := &audit.Assignment{StoreID: f.store.ID, ChecklistID: f.checklist.ID, ShopperID: shopperID, WindowStart: start, WindowEnd: start.Add(48 * time.Hour)}
	require.NoError(t, f.app.CreateAssignment(context.Background(), audit.Scope{All: true}, a))
	return a
}

func removal(c *v1.Change) string {
	r := c.GetAssignmentRemoval()
	if r == nil {
		return ""
	}
	return r.GetAssignmentId() + ":" + r.GetReasonCode().String()
}

func TestApp_Pull(t *testing.T) {
	ctx := context.Background()
	t.Run("Compacts", func(t *testing.T) {
		f := newPullFixture(t, checklist("visit", 1, "Greeted?"))
		a := f.assign(t, f.shopper.UserID)
		page, err := f.app.Pull(ctx, f.shopper, "", 10)
		require.NoError(t, err)
		require.Len(t, page.Changes, 1, "a checklist without unplanned visits is not in the feed")
		up := page.Changes[0].GetAssignmentUpsert()
		require.NotNil(t, up)
		assert.Equal(t, "S-1", up.GetStore().GetCode())
		assert.NotEmpty(t, up.GetChecklist().GetContent(), "with the content the shopper needs offline")
		assert.False(t, page.FullResync)
		cursor := page.NextCursor

		_, err = f.app.CancelAssignment(ctx, audit.Scope{All: true}, a.ID, "")
		require.NoError(t, err)
		page, err = f.app.Pull(ctx, f.shopper, "", 10)
		require.NoError(t, err)
		require.Len(t, page.Changes, 1, "one row per entity")
		assert.Equal(t, a.ID+":REMOVAL_REASON_CANCELLED", removal(page.Changes[0]))
		assert.Equal(t, "cancelled", page.Changes[0].GetAssignmentRemoval().GetReason())

		page, err = f.app.Pull(ctx, f.shopper, cursor, 10)
		require.NoError(t, err)
		require.Len(t, page.Changes, 1, "the row moved past the old cursor")
		page, err = f.app.Pull(ctx, f.shopper, page.NextCursor, 10)
		require.NoError(t, err)
		assert.Empty(t, page.Changes)
		assert.False(t, page.HasMore)
		assert.False(t, page.FullResync)
	})
	t.Run("Removals", func(t *testing.T) {
		f := newPullFixture(t, checklist("visit", 1, "Greeted?"))
		other := &audit.User{Email: "o@example.com", Role: audit.RoleShopper}
		require.NoError(t, f.app.CreateUser(ctx, other, "h"))
		expired := f.assign(t, f.shopper.UserID)
		f.clock.Set(expired.WindowEnd)
		_, err := f.app.ExpireAssignments(ctx)
		require.NoError(t, err)
		f.clock.Set(time.Time{})
		given := f.assign(t, f.shopper.UserID)
		_, err = f.app.ReassignAssignment(ctx, audit.Scope{All: true}, given.ID, other.ID)
		require.NoError(t, err)
		page, err := f.app.Pull(ctx, f.shopper, "", 10)
		require.NoError(t, err)
		var got []string
		for _, c := range page.Changes {
			got = append(got, removal(c))
		}
		assert.ElementsMatch(t, []string{given.ID + ":REMOVAL_REASON_REASSIGNED", expired.ID + ":REMOVAL_REASON_EXPIRED"}, got)
		theirs, err := f.app.Pull(ctx, audit.Principal{UserID: other.ID, Role: audit.RoleShopper}, "", 10)
		require.NoError(t, err)
		require.Len(t, theirs.Changes, 1)
		assert.Equal(t, given.ID, theirs.Changes[0].GetAssignmentUpsert().GetAssignment().GetId(), "the new shopper gets it")
	})
	t.Run("ResetBeyondHead", func(t *testing.T) {
		f := newPullFixture(t, checklist("visit", 1, "Greeted?"))
		f.assign(t, f.shopper.UserID)
		first, err := f.app.Pull(ctx, f.shopper, "", 10)
		require.NoError(t, err)
		epoch, err := f.db.Feed().Epoch(ctx)
		require.NoError(t, err)
		for name, cursor := range map[string]string{
			"ahead of head": protocol.EncodeCursor(epoch, 1<<40),
			// Ahead of a head of either form (PostgreSQL's positions
			// start with a transaction id).
			"far ahead of head": protocol.EncodeCursorAt(epoch, 1<<62, 1<<40),
			"other epoch":       protocol.EncodeCursor("another-database", 1),
			"garbage":           "not a cursor",
		} {
			page, err := f.app.Pull(ctx, f.shopper, cursor, 10)
			require.NoError(t, err, name)
			assert.True(t, page.FullResync, name)
			assert.Len(t, page.Changes, 1, name)
			assert.Equal(t, first.NextCursor, page.NextCursor, name)
		}
	})
	t.Run("PageSize", func(t *testing.T) {
		f := newPullFixture(t, checklist("visit", 1, "Greeted?"))
		for range 3 {
			f.assign(t, f.shopper.UserID)
		}
		page, err := f.app.Pull(ctx, f.shopper, "", 2)
		require.NoError(t, err)
		assert.Len(t, page.Changes, 2)
		assert.True(t, page.HasMore)
		page, err = f.app.Pull(ctx, f.shopper, page.NextCursor, 0)
		require.NoError(t, err)
		assert.Len(t, page.Changes, 1, "0 is the default page size")
		assert.False(t, page.HasMore)
		_, err = f.app.Pull(ctx, f.shopper, "", app.MaxPullPage)
		require.NoError(t, err)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		f := newPullFixture(t, checklist("visit", 1, "Greeted?"))
		for _, n := range []int{-1, app.MaxPullPage + 1} {
			_, err := f.app.Pull(ctx, f.shopper, "", n)
			assert.Equal(t, audit.EINVALID, audit.ErrorCode(err), "page size %d", n)
		}
	})
}

// TestApp_Pull_Budget: a page stops at PullBudget bytes of changes and
// says more follow; the next pages bring the rest, none lost, none twice.
func TestApp_Pull_Budget(t *testing.T) {
	ctx := context.Background()
	// Each assignment carries its checklist's content: about 290 kB here,
	// so twelve of them are well past the budget.
	f := newPullFixture(t, checklist("big", 150, strings.Repeat("Was the fitting room tidy? ", 70)))
	want := map[string]bool{}
	for range 12 {
		want[f.assign(t, f.shopper.UserID).ID] = true
	}
	got := map[string]bool{}
	cursor, pages := "", 0
	for {
		page, err := f.app.Pull(ctx, f.shopper, cursor, app.MaxPullPage)
		require.NoError(t, err)
		pages++
		size := 0
		for _, c := range page.Changes {
			size += proto.Size(c)
			id := c.GetAssignmentUpsert().GetAssignment().GetId()
			assert.False(t, got[id], "assignment %s sent twice", id)
			got[id] = true
		}
		require.NotEmpty(t, page.Changes, "a page holds at least one change")
		assert.LessOrEqual(t, size, app.PullBudget, "page %d", pages)
		cursor = page.NextCursor
		if !page.HasMore {
			break
		}
		require.Less(t, pages, 12, "the pull does not end")
	}
	assert.Equal(t, want, got)
	assert.Greater(t, pages, 1, "twelve large assignments do not fit one page")
}
