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

// IntegrationTokens checks storage.IntegrationTokens on a fresh
// database: tokens found by id and by hash, listed newest first, their
// last use stored, revoked once (a second revocation changes nothing).
// at is the database's clock, which the test moves.
func IntegrationTokens(t *testing.T, tokens storage.IntegrationTokens, at *time.Time) {
	ctx := context.Background()
	start := *at
	bi := &storage.IntegrationToken{ID: "t1", Name: "Power BI", Scopes: []string{"reports"}, Hash: "aa11", CreatedBy: "admin-1"}
	require.NoError(t, tokens.Add(ctx, bi))
	assert.Equal(t, start.Truncate(time.Millisecond), bi.CreatedAt.UTC().Truncate(time.Millisecond))
	*at = start.Add(time.Minute)
	ops := &storage.IntegrationToken{ID: "t2", Name: "deploy", Scopes: []string{"reports", "webhooks"}, Hash: "bb22", CreatedBy: "admin-1"}
	require.NoError(t, tokens.Add(ctx, ops))

	requireCode(t, audit.EEXISTS, tokens.Add(ctx, &storage.IntegrationToken{ID: "t1", Name: "again", Scopes: []string{}, Hash: "cc33"}))
	requireCode(t, audit.EEXISTS, tokens.Add(ctx, &storage.IntegrationToken{ID: "t3", Name: "same hash", Scopes: []string{}, Hash: "aa11"}))

	got, err := tokens.FindByHash(ctx, "bb22")
	require.NoError(t, err)
	assert.Equal(t, "t2", got.ID)
	assert.Equal(t, []string{"reports", "webhooks"}, got.Scopes)
	assert.True(t, got.LastUsedAt.IsZero())
	assert.True(t, got.RevokedAt.IsZero())
	_, err = tokens.FindByHash(ctx, "nope")
	requireCode(t, audit.ENOTFOUND, err)
	_, err = tokens.Find(ctx, "nope")
	requireCode(t, audit.ENOTFOUND, err)

	list, err := tokens.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, []string{"t2", "t1"}, []string{list[0].ID, list[1].ID}, "newest first")

	used := start.Add(2 * time.Minute)
	require.NoError(t, tokens.Used(ctx, "t1", used))
	got, err = tokens.Find(ctx, "t1")
	require.NoError(t, err)
	assert.True(t, used.Equal(got.LastUsedAt), "last used %v, want %v", got.LastUsedAt, used)
	requireCode(t, audit.ENOTFOUND, tokens.Used(ctx, "nope", used))

	*at = start.Add(3 * time.Minute)
	require.NoError(t, tokens.Revoke(ctx, "t1", "admin-2"))
	*at = start.Add(4 * time.Minute)
	require.NoError(t, tokens.Revoke(ctx, "t1", "admin-3"))
	got, err = tokens.Find(ctx, "t1")
	require.NoError(t, err)
	assert.True(t, start.Add(3*time.Minute).Equal(got.RevokedAt), "revoked %v: the first revocation stays", got.RevokedAt)
	assert.Equal(t, "admin-2", got.RevokedBy)
	requireCode(t, audit.ENOTFOUND, tokens.Revoke(ctx, "nope", "admin-2"))
	got, err = tokens.Find(ctx, "t2")
	require.NoError(t, err)
	assert.True(t, got.RevokedAt.IsZero(), "the other token lives")
}
