package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
)

func TestCreateAssignment(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	a := w.assignment(w.storeA, w.s1, 0)
	require.NoError(t, w.app.CreateAssignment(ctx, audit.ScopeOf(w.mA), a))
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, a.ID)
	assert.Equal(t, 1, a.ChecklistVersion, "0 resolves to the latest published, not the draft")
	assert.Equal(t, audit.AssignmentAccepted, a.State)
	assert.Equal(t, audit.ChannelStoreVisit, a.Channel)
	assert.Equal(t, w.clock, a.CreatedAt)
	stored, err := w.db.Assignments().Find(ctx, audit.Scope{All: true}, a.ID)
	require.NoError(t, err)
	assert.Equal(t, a, stored)
	page, err := w.app.Pull(ctx, shopper(w.s1), "", 10)
	require.NoError(t, err)
	require.Len(t, page.Changes, 1, "the shopper's feed has it")
	assert.Equal(t, a.ID, page.Changes[0].GetAssignmentUpsert().GetAssignment().GetId())

	open := w.assignment(w.storeA, "", 1)
	require.NoError(t, w.app.CreateAssignment(ctx, audit.ScopeOf(w.mA), open))
	assert.Equal(t, audit.AssignmentOpen, open.State, "no shopper: open to any")

	refused := map[string]struct {
		code audit.Code
		a    func() *audit.Assignment
	}{
		"OtherManagersStore": {audit.ENOTFOUND, func() *audit.Assignment { return w.assignment(w.storeB, w.s1, 0) }},
		"Draft": {audit.EPRECONDITION, func() *audit.Assignment {
			x := w.assignment(w.storeA, w.s1, 0)
			x.ChecklistVersion = 2
			return x
		}},
		"NoSuchVersion": {audit.ENOTFOUND, func() *audit.Assignment {
			x := w.assignment(w.storeA, w.s1, 0)
			x.ChecklistVersion = 9
			return x
		}},
		"NotAShopper":   {audit.EPRECONDITION, func() *audit.Assignment { return w.assignment(w.storeA, w.mA.UserID, 0) }},
		"NoSuchShopper": {audit.ENOTFOUND, func() *audit.Assignment { return w.assignment(w.storeA, "nobody", 0) }},
		"EmptyWindow": {audit.EINVALID, func() *audit.Assignment {
			x := w.assignment(w.storeA, w.s1, 0)
			x.WindowEnd = x.WindowStart
			return x
		}},
	}
	for name, c := range refused {
		t.Run(name, func(t *testing.T) {
			x := c.a()
			requireCode(t, c.code, w.app.CreateAssignment(ctx, audit.ScopeOf(w.mA), x))
			assert.Empty(t, x.ID, "a refused assignment is not changed")
		})
	}
	t.Run("DeactivatedStore", func(t *testing.T) {
		_, err := w.app.SetStoreDeactivated(ctx, w.storeB.ID, true)
		require.NoError(t, err)
		err = w.app.CreateAssignment(ctx, audit.Scope{All: true}, w.assignment(w.storeB, w.s1, 0))
		requireCode(t, audit.EPRECONDITION, err)
		assert.Contains(t, audit.ErrorMessage(err), "B-1")
	})
	t.Run("DisabledShopper", func(t *testing.T) {
		_, err := w.app.SetUserDisabled(ctx, w.s2, true, "")
		require.NoError(t, err)
		requireCode(t, audit.EPRECONDITION, w.app.CreateAssignment(ctx, audit.Scope{All: true}, w.assignment(w.storeA, w.s2, 0)))
	})
	list, err := w.db.Assignments().List(ctx, storageAll())
	require.NoError(t, err)
	assert.Len(t, list, 2, "refusals stored nothing")
}

func TestCreateAssignments(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	items := []*audit.Assignment{w.assignment(w.storeA, w.s1, 0), w.assignment(w.storeB, w.s1, 0), w.assignment(w.storeA, "", 1)}
	errs, err := w.app.CreateAssignments(ctx, audit.ScopeOf(w.mA), items)
	require.NoError(t, err)
	require.Len(t, errs, 3)
	assert.NoError(t, errs[0])
	requireCode(t, audit.ENOTFOUND, errs[1])
	assert.NoError(t, errs[2])
	list, err := w.db.Assignments().List(ctx, storageAll())
	require.NoError(t, err)
	assert.Len(t, list, 2, "one refused item does not stop the others")
}

func TestUpdateAssignment(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	a1 := w.assignment(w.storeA, w.s1, 0)
	require.NoError(t, w.app.CreateAssignment(ctx, audit.ScopeOf(w.mA), a1))
	w.clock = w.clock.Add(time.Minute)

	got, err := w.app.ReassignAssignment(ctx, audit.ScopeOf(w.mA), a1.ID, w.s2)
	require.NoError(t, err)
	assert.Equal(t, w.s2, got.ShopperID)
	assert.Equal(t, audit.AssignmentAccepted, got.State)
	assert.True(t, got.UpdatedAt.After(got.CreatedAt))
	for _, id := range []string{w.s1, w.s2} {
		page, err := w.app.Pull(ctx, shopper(id), "", 10)
		require.NoError(t, err)
		require.Len(t, page.Changes, 1, "both shoppers' feeds learn of it")
		if id == w.s1 {
			assert.Equal(t, v1.RemovalReason_REMOVAL_REASON_REASSIGNED, page.Changes[0].GetAssignmentRemoval().GetReasonCode(), "it left s1")
		} else {
			assert.Equal(t, a1.ID, page.Changes[0].GetAssignmentUpsert().GetAssignment().GetId(), "it reached s2")
		}
	}

	_, err = w.app.ReassignAssignment(ctx, audit.ScopeOf(w.mA), a1.ID, w.mB.UserID)
	requireCode(t, audit.EPRECONDITION, err)
	still, err := w.db.Assignments().Find(ctx, audit.Scope{All: true}, a1.ID)
	require.NoError(t, err)
	assert.Equal(t, w.s2, still.ShopperID, "a refused update changes nothing")

	_, err = w.app.ReassignAssignment(ctx, audit.ScopeOf(w.mB), a1.ID, "")
	requireCode(t, audit.ENOTFOUND, err)

	open, err := w.app.ReassignAssignment(ctx, audit.Scope{All: true}, a1.ID, "")
	require.NoError(t, err)
	assert.Equal(t, audit.AssignmentOpen, open.State, "without a shopper it is open to any")

	cancelled, err := w.app.CancelAssignment(ctx, audit.Scope{All: true}, a1.ID, "closed")
	require.NoError(t, err)
	assert.Equal(t, audit.AssignmentCancelled, cancelled.State)
	assert.Equal(t, "closed", cancelled.CancelReason)
	_, err = w.app.CancelAssignment(ctx, audit.Scope{All: true}, a1.ID, "again")
	requireCode(t, audit.EPRECONDITION, err)
	_, err = w.app.ReassignAssignment(ctx, audit.Scope{All: true}, a1.ID, w.s1)
	requireCode(t, audit.EPRECONDITION, err)
}

func TestExpireAssignments(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	a := w.assignment(w.storeA, w.s1, 0)
	require.NoError(t, w.app.CreateAssignment(ctx, audit.Scope{All: true}, a))
	cancelled := w.assignment(w.storeA, w.s2, 0)
	require.NoError(t, w.app.CreateAssignment(ctx, audit.Scope{All: true}, cancelled))
	_, err := w.app.CancelAssignment(ctx, audit.Scope{All: true}, cancelled.ID, "")
	require.NoError(t, err)

	w.clock = a.WindowEnd.Add(-time.Second)
	n, err := w.app.ExpireAssignments(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "the window is still open")
	w.clock = a.WindowEnd
	n, err = w.app.ExpireAssignments(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "a cancelled assignment does not expire")
	page, err := w.app.Pull(ctx, shopper(w.s1), "", 10)
	require.NoError(t, err)
	require.Len(t, page.Changes, 1)
	assert.Equal(t, v1.RemovalReason_REMOVAL_REASON_EXPIRED, page.Changes[0].GetAssignmentRemoval().GetReasonCode(), "its tombstone says expired")
	stored, err := w.db.Assignments().Find(ctx, audit.Scope{All: true}, a.ID)
	require.NoError(t, err)
	assert.Equal(t, audit.AssignmentExpired, stored.State)
	assert.Equal(t, a.WindowEnd, stored.UpdatedAt)
	n, err = w.app.ExpireAssignments(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "expired is final")
}

// shopper is the shopper with user id id.
func shopper(id string) audit.Principal { return audit.Principal{UserID: id, Role: audit.RoleShopper} }
