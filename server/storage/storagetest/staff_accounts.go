package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// StaffAccounts checks storage.Users' employee accounts on a fresh
// database: a user linked to a staff record, one account per record, and
// the invitations by their token's hash, used once. at is the database's
// clock, which the test moves.
func StaffAccounts(t *testing.T, users storage.Users, staff storage.Staff, at *time.Time) {
	ctx := context.Background()
	ivan := &audit.Staff{EmployeeNumber: "E1", Name: "Ivan Sokolov"}
	require.NoError(t, staff.Create(ctx, ivan))

	u := &audit.User{Email: "ivan@example.com", DisplayName: "Ivan Sokolov", Role: audit.RoleStaff, StaffID: ivan.ID}
	require.NoError(t, users.Create(ctx, u, ""))
	got, err := users.FindByStaff(ctx, ivan.ID)
	require.NoError(t, err)
	want := *u
	want.CreatedAt = want.CreatedAt.Truncate(time.Millisecond) // as stored
	assert.Equal(t, want, *got)
	got, err = users.Find(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, ivan.ID, got.StaffID)
	_, hash, err := users.FindByEmail(ctx, "ivan@example.com")
	require.NoError(t, err)
	assert.Empty(t, hash, "no password until he sets one")

	err = users.Create(ctx, &audit.User{Email: "other@example.com", Role: audit.RoleStaff, StaffID: ivan.ID}, "")
	requireCode(t, audit.EEXISTS, err)
	assert.Contains(t, err.Error(), "has an account already")
	manager := &audit.User{Email: "m@example.com", Role: audit.RoleManager}
	require.NoError(t, users.Create(ctx, manager, "h"))
	got, err = users.Find(ctx, manager.ID)
	require.NoError(t, err)
	assert.Empty(t, got.StaffID)
	_, err = users.FindByStaff(ctx, "nobody")
	requireCode(t, audit.ENOTFOUND, err)

	inv := &storage.Invitation{TokenHash: "h1", UserID: u.ID, CreatedBy: manager.ID, ExpiresAt: at.Add(7 * 24 * time.Hour).Truncate(time.Millisecond)}
	require.NoError(t, users.AddInvitation(ctx, inv))
	assert.Equal(t, at.Truncate(time.Millisecond), inv.CreatedAt)
	found, err := users.FindInvitation(ctx, "h1")
	require.NoError(t, err)
	assert.Equal(t, *inv, *found)
	assert.True(t, found.UsedAt.IsZero())
	_, err = users.FindInvitation(ctx, "h2")
	requireCode(t, audit.ENOTFOUND, err)

	*at = at.Add(time.Hour)
	require.NoError(t, users.UseInvitation(ctx, "h1"))
	found, err = users.FindInvitation(ctx, "h1")
	require.NoError(t, err)
	assert.Equal(t, at.Truncate(time.Millisecond), found.UsedAt)
	assert.Equal(t, time.UTC, found.UsedAt.Location())
	requireCode(t, audit.EPRECONDITION, users.UseInvitation(ctx, "h1"))
	requireCode(t, audit.ENOTFOUND, users.UseInvitation(ctx, "h2"))
}
