package app

import (
	"context"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// CreateSession opens a session for a user on a device, from peer, and
// stores its first refresh token (by hash). Errors: ENOTFOUND (no such
// user).
func (a *App) CreateSession(ctx context.Context, userID, deviceID, deviceName string, refreshHash []byte, refreshExpiry time.Time, peer string) (*audit.Session, error) {
	s := &audit.Session{UserID: userID, DeviceID: deviceID, DeviceName: deviceName}
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		if err := tx.Sessions().Create(ctx, s); err != nil {
			return err
		}
		if err := tx.Sessions().AddRefresh(ctx, refreshHash, s.ID, refreshExpiry); err != nil {
			return err
		}
		return tx.SecurityEvents().Add(ctx, audit.SecurityEvent{Kind: audit.EventLogin, UserID: userID, SessionID: s.ID, Peer: peer, Detail: deviceID})
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// RotateRefresh exchanges the refresh token with hash oldHash, presented by
// device deviceID from peer, for a new one with hash newHash. The old
// token is marked used in the same transaction. Presenting a used token
// again is reuse: the whole session is revoked (committed) and
// EUNAUTHORIZED returned. Any other problem (unknown, expired, revoked,
// another device, a disabled user) is EUNAUTHORIZED too, with the cause in
// the message for the log.
//
// One presentation of a used token is not reuse: the same device's retry
// within retryGrace of the rotation, while no token the rotation issued has
// been used yet. That is a client whose answer was lost on the way back (or
// two tabs of one browser refreshing at once): the tokens it never received
// are retired and a new one is issued, recorded as EventRefreshRetry. Once
// any later token of the session has been used, or the grace has passed,
// the old token is reuse as above.
func (a *App) RotateRefresh(ctx context.Context, oldHash []byte, deviceID string, newHash []byte, newExpiry time.Time, retryGrace time.Duration, peer string) (*audit.Session, *audit.User, error) {
	var (
		sess   *audit.Session
		user   *audit.User
		denial error
	)
	deny := func(msg string) error {
		denial = audit.Errorf(audit.EUNAUTHORIZED, "%s", msg)
		return nil // what the transaction did so far is kept
	}
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		sessions := tx.Sessions()
		tok, err := sessions.FindRefresh(ctx, oldHash)
		if audit.ErrorCode(err) == audit.ENOTFOUND {
			return deny("invalid refresh token")
		} else if err != nil {
			return err
		}
		if sess, err = sessions.Find(ctx, tok.SessionID); err != nil {
			return err
		}
		now := tx.Now()
		used := !tok.UsedAt.IsZero()
		retry := false
		if used && sess.DeviceID == deviceID && !sess.Revoked() && now.UnixMilli()-tok.UsedAt.UnixMilli() < retryGrace.Milliseconds() {
			later, err := sessions.RefreshUsedSince(ctx, sess.ID, tok.UsedAt, oldHash)
			if err != nil {
				return err
			}
			retry = !later
		}
		switch {
		case sess.Revoked():
			return deny("session revoked")
		case used && !retry:
			deny("refresh token reused; session revoked")
			if err := sessions.Revoke(ctx, sess.ID, "refresh token reuse"); err != nil {
				return err
			}
			return tx.SecurityEvents().Add(ctx, audit.SecurityEvent{Kind: audit.EventRefreshReuse, UserID: sess.UserID, SessionID: sess.ID, Peer: peer})
		case sess.DeviceID != deviceID:
			return deny("refresh token belongs to another device")
		case now.UnixMilli() >= tok.ExpiresAt.UnixMilli():
			return deny("refresh token expired")
		}
		if user, err = tx.Users().Find(ctx, sess.UserID); err != nil {
			return err
		}
		if user.Disabled {
			return deny("user disabled")
		}
		kind := audit.EventRefresh
		if retry {
			// The tokens the lost answer carried are retired unused.
			kind = audit.EventRefreshRetry
			err = sessions.RetireRefresh(ctx, sess.ID)
		} else {
			err = sessions.UseRefresh(ctx, oldHash)
		}
		if err != nil {
			return err
		}
		if err := sessions.AddRefresh(ctx, newHash, sess.ID, newExpiry); err != nil {
			return err
		}
		if err := sessions.Touch(ctx, sess.ID); err != nil {
			return err
		}
		sess.LastSeenAt = now
		return tx.SecurityEvents().Add(ctx, audit.SecurityEvent{Kind: kind, UserID: sess.UserID, SessionID: sess.ID, Peer: peer})
	})
	if err != nil {
		return nil, nil, err
	}
	if denial != nil {
		return nil, nil, denial
	}
	return sess, user, nil
}

// RevokeSession revokes a session and all its refresh tokens, from peer;
// revoking a revoked session changes nothing. kind is the security event
// to record (EventLogout or EventSessionRevoked). Errors: ENOTFOUND.
func (a *App) RevokeSession(ctx context.Context, id, kind, reason, peer string) (*audit.Session, error) {
	var s *audit.Session
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		old, err := tx.Sessions().Find(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.Sessions().Revoke(ctx, id, reason); err != nil {
			return err
		}
		if err := tx.SecurityEvents().Add(ctx, audit.SecurityEvent{Kind: kind, UserID: old.UserID, SessionID: id, Peer: peer, Detail: reason}); err != nil {
			return err
		}
		s, err = tx.Sessions().Find(ctx, id)
		return err
	})
	return s, err
}

// Authenticate checks, for an access token already verified, that its
// session is still active and its user enabled, and returns the user as
// stored now (so a role change applies at once). Errors: EUNAUTHORIZED.
func (a *App) Authenticate(ctx context.Context, sessionID, userID string) (*audit.User, error) {
	u, revoked, err := a.st.Sessions().Owner(ctx, sessionID, userID)
	switch {
	case audit.ErrorCode(err) == audit.ENOTFOUND:
		return nil, audit.Errorf(audit.EUNAUTHORIZED, "unknown session")
	case err != nil:
		return nil, err
	case revoked:
		return nil, audit.Errorf(audit.EUNAUTHORIZED, "session revoked")
	case u.Disabled:
		return nil, audit.Errorf(audit.EUNAUTHORIZED, "user disabled")
	}
	return u, nil
}
