package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
)

func TestRotateRefresh(t *testing.T) {
	ctx := context.Background()
	const grace = 30 * time.Second
	type fixture struct {
		clock *testClock
		user  *audit.User
		sess  *audit.Session
	}
	open := func(t *testing.T) (*fixture, func(old, next string, device string) (*audit.Session, error)) {
		clock := newClock()
		a, _ := openOrgApp(t, clock)
		f := &fixture{clock: clock, user: mustCreateUser(t, a, audit.RoleShopper, "s@example.com")}
		var err error
		f.sess, err = a.CreateSession(ctx, f.user.ID, "phone", "Phone", []byte("t0"), clock.Now().Add(time.Hour), "")
		require.NoError(t, err)
		return f, func(old, next, device string) (*audit.Session, error) {
			s, u, err := a.RotateRefresh(ctx, []byte(old), device, []byte(next), clock.Now().Add(time.Hour), grace, "10.0.0.1")
			if err == nil {
				assert.Equal(t, f.user.ID, u.ID)
			}
			return s, err
		}
	}

	t.Run("Rotates", func(t *testing.T) {
		f, rotate := open(t)
		f.clock.Advance(time.Minute)
		s, err := rotate("t0", "t1", "phone")
		require.NoError(t, err)
		assert.Equal(t, f.sess.ID, s.ID)
		assert.Equal(t, f.clock.Now(), s.LastSeenAt)
		_, err = rotate("t1", "t2", "phone")
		require.NoError(t, err)
	})
	t.Run("ReuseRevokes", func(t *testing.T) {
		f, rotate := open(t)
		_, err := rotate("t0", "t1", "phone")
		require.NoError(t, err)
		f.clock.Advance(grace) // the grace has passed
		_, err = rotate("t0", "t2", "phone")
		requireCode(t, audit.EUNAUTHORIZED, err)
		assert.Contains(t, err.Error(), "reused")
		_, err = rotate("t1", "t3", "phone")
		requireCode(t, audit.EUNAUTHORIZED, err)
		assert.Contains(t, err.Error(), "session revoked", "the reuse revoked the session, and that was committed")
	})
	t.Run("RetryWithinGrace", func(t *testing.T) {
		f, rotate := open(t)
		_, err := rotate("t0", "t1", "phone")
		require.NoError(t, err)
		f.clock.Advance(grace - time.Second)
		_, err = rotate("t0", "t1b", "phone") // the answer carrying t1 was lost
		require.NoError(t, err)
		f.clock.Advance(time.Second)
		_, err = rotate("t1b", "t2", "phone")
		require.NoError(t, err)
		_, err = rotate("t0", "t3", "phone")
		requireCode(t, audit.EUNAUTHORIZED, err) // a later token was used: no longer a retry
		assert.Contains(t, err.Error(), "reused")
	})
	t.Run("RetryAfterLaterUse", func(t *testing.T) {
		f, rotate := open(t)
		_, err := rotate("t0", "t1", "phone")
		require.NoError(t, err)
		f.clock.Advance(time.Second)
		_, err = rotate("t1", "t2", "phone")
		require.NoError(t, err)
		_, err = rotate("t0", "t3", "phone")
		requireCode(t, audit.EUNAUTHORIZED, err)
		assert.Contains(t, err.Error(), "reused")
	})
	t.Run("ReuseWithinOneMillisecond", func(t *testing.T) {
		// A fast device can rotate, retry and rotate again within one
		// millisecond, the resolution of stored times: the later use
		// still counts, and the old token presented again is reuse.
		_, rotate := open(t) // the clock does not move
		_, err := rotate("t0", "t1", "phone")
		require.NoError(t, err)
		_, err = rotate("t0", "t1b", "phone") // the answer carrying t1 was lost
		require.NoError(t, err)
		_, err = rotate("t1b", "t2", "phone")
		require.NoError(t, err)
		_, err = rotate("t0", "t3", "phone")
		requireCode(t, audit.EUNAUTHORIZED, err)
		assert.Contains(t, err.Error(), "reused")
		_, err = rotate("t2", "t4", "phone")
		requireCode(t, audit.EUNAUTHORIZED, err)
		assert.Contains(t, err.Error(), "session revoked")
	})
	t.Run("RetryFromAnotherDevice", func(t *testing.T) {
		_, rotate := open(t)
		_, err := rotate("t0", "t1", "phone")
		require.NoError(t, err)
		_, err = rotate("t0", "t2", "laptop")
		requireCode(t, audit.EUNAUTHORIZED, err)
		assert.Contains(t, err.Error(), "reused")
	})
	t.Run("Refused", func(t *testing.T) {
		f, rotate := open(t)
		_, err := rotate("unknown", "t1", "phone")
		requireCode(t, audit.EUNAUTHORIZED, err)
		_, err = rotate("t0", "t1", "laptop")
		requireCode(t, audit.EUNAUTHORIZED, err)
		assert.Contains(t, err.Error(), "another device")
		f.clock.Advance(time.Hour)
		_, err = rotate("t0", "t1", "phone")
		requireCode(t, audit.EUNAUTHORIZED, err)
		assert.Contains(t, err.Error(), "expired")
	})
}

func TestRevokeSessionAndAuthenticate(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	a, st := openOrgApp(t, clock)
	u := mustCreateUser(t, a, audit.RoleManager, "m@example.com")
	other := mustCreateUser(t, a, audit.RoleManager, "o@example.com")
	s, err := a.CreateSession(ctx, u.ID, "phone", "Phone", []byte("t0"), clock.Now().Add(time.Hour), "")
	require.NoError(t, err)

	got, err := a.Authenticate(ctx, s.ID, u.ID)
	require.NoError(t, err)
	assert.Equal(t, audit.RoleManager, got.Role)
	_, err = a.ChangeRole(ctx, u.ID, audit.RoleHR, "")
	require.NoError(t, err)
	got, err = a.Authenticate(ctx, s.ID, u.ID)
	require.NoError(t, err)
	assert.Equal(t, audit.RoleHR, got.Role, "a role change applies at once")
	_, err = a.Authenticate(ctx, s.ID, other.ID)
	requireCode(t, audit.EUNAUTHORIZED, err)

	clock.Advance(time.Minute)
	r, err := a.RevokeSession(ctx, s.ID, audit.EventLogout, "logout", "")
	require.NoError(t, err)
	assert.Equal(t, clock.Now(), r.RevokedAt)
	clock.Advance(time.Minute)
	again, err := a.RevokeSession(ctx, s.ID, audit.EventLogout, "logout", "")
	require.NoError(t, err)
	assert.Equal(t, r.RevokedAt, again.RevokedAt, "revoking a revoked session changes nothing")
	_, err = a.Authenticate(ctx, s.ID, u.ID)
	requireCode(t, audit.EUNAUTHORIZED, err)
	_, err = a.RevokeSession(ctx, "nope", audit.EventLogout, "logout", "")
	requireCode(t, audit.ENOTFOUND, err)
	assert.Contains(t, eventKinds(t, st, u.ID), audit.EventLogout)
}
