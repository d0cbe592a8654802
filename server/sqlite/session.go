package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopscore/shopscore/audit"
)

// CreateSession opens a session for a user on a device and stores its first
// refresh token (by hash). Errors: ENOTFOUND (no such user).
func (db *DB) CreateSession(ctx context.Context, userID, deviceID, deviceName string, refreshHash []byte, refreshExpiry time.Time, peer string) (*audit.Session, error) {
	s := &audit.Session{ID: uuid.NewString(), UserID: userID, DeviceID: deviceID, DeviceName: deviceName}
	err := db.update(ctx, func(tx *Tx) error {
		s.CreatedAt, s.LastSeenAt = tx.now, tx.now
		if _, err := findUserByID(ctx, tx, userID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, device_id, device_name, created_at, last_seen_at)
			VALUES (?, ?, ?, ?, ?, ?)`, s.ID, userID, deviceID, deviceName, millis(tx.now), millis(tx.now)); err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		if err := insertRefresh(ctx, tx, refreshHash, s.ID, refreshExpiry); err != nil {
			return err
		}
		return addEvent(ctx, tx, audit.SecurityEvent{Kind: audit.EventLogin, UserID: userID, SessionID: s.ID, Peer: peer, Detail: deviceID})
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func insertRefresh(ctx context.Context, tx *Tx, hash []byte, sessionID string, expiry time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		hash, sessionID, millis(tx.now), millis(expiry)); err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

// RotateRefresh exchanges the refresh token with hash oldHash, presented by
// device deviceID, for a new one with hash newHash. The old token is marked
// used in the same transaction. Presenting a used token again is reuse: the
// whole session is revoked (committed) and EUNAUTHORIZED returned. Any other
// problem (unknown, expired, revoked, another device, a disabled user) is
// EUNAUTHORIZED too, with the cause in the message for the log.
//
// One presentation of a used token is not reuse: the same device's retry
// within retryGrace of the rotation, while no token the rotation issued has
// been used yet. That is a client whose answer was lost on the way back (or
// two tabs of one browser refreshing at once): the tokens it never received
// are retired and a new one is issued, recorded as EventRefreshRetry. Once
// any later token of the session has been used, or the grace has passed,
// the old token is reuse as above.
func (db *DB) RotateRefresh(ctx context.Context, oldHash []byte, deviceID string, newHash []byte, newExpiry time.Time, retryGrace time.Duration, peer string) (*audit.Session, *audit.User, error) {
	var (
		sess   *audit.Session
		user   *audit.User
		denial error
	)
	err := db.update(ctx, func(tx *Tx) error {
		var sessionID string
		var expires int64
		var used sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT session_id, expires_at, used_at FROM refresh_tokens WHERE hash = ?`, oldHash).
			Scan(&sessionID, &expires, &used)
		if errors.Is(err, sql.ErrNoRows) {
			denial = audit.Errorf(audit.EUNAUTHORIZED, "invalid refresh token")
			return nil
		} else if err != nil {
			return fmt.Errorf("find refresh token: %w", err)
		}
		if sess, err = findSession(ctx, tx, sessionID); err != nil {
			return err
		}
		retry := false
		if used.Valid && sess.DeviceID == deviceID && !sess.Revoked() && tx.now.UnixMilli()-used.Int64 < retryGrace.Milliseconds() {
			var later int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM refresh_tokens WHERE session_id = ? AND used_at > ?`,
				sess.ID, used.Int64).Scan(&later); err != nil {
				return fmt.Errorf("find later refresh: %w", err)
			}
			retry = later == 0
		}
		switch {
		case sess.Revoked():
			denial = audit.Errorf(audit.EUNAUTHORIZED, "session revoked")
			return nil
		case used.Valid && !retry:
			denial = audit.Errorf(audit.EUNAUTHORIZED, "refresh token reused; session revoked")
			if err := revokeSession(ctx, tx, sess.ID, "refresh token reuse"); err != nil {
				return err
			}
			return addEvent(ctx, tx, audit.SecurityEvent{Kind: audit.EventRefreshReuse, UserID: sess.UserID, SessionID: sess.ID, Peer: peer})
		case sess.DeviceID != deviceID:
			denial = audit.Errorf(audit.EUNAUTHORIZED, "refresh token belongs to another device")
			return nil
		case tx.now.UnixMilli() >= expires:
			denial = audit.Errorf(audit.EUNAUTHORIZED, "refresh token expired")
			return nil
		}
		if user, err = findUserByID(ctx, tx, sess.UserID); err != nil {
			return err
		}
		if user.Disabled {
			denial = audit.Errorf(audit.EUNAUTHORIZED, "user disabled")
			return nil
		}
		kind := audit.EventRefresh
		if retry {
			// The tokens the lost answer carried are retired unused.
			kind = audit.EventRefreshRetry
			if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE session_id = ? AND used_at IS NULL`,
				millis(tx.now), sess.ID); err != nil {
				return fmt.Errorf("retire unreceived refresh tokens: %w", err)
			}
		} else if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE hash = ?`, millis(tx.now), oldHash); err != nil {
			return fmt.Errorf("mark refresh token used: %w", err)
		}
		if err := insertRefresh(ctx, tx, newHash, sess.ID, newExpiry); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, millis(tx.now), sess.ID); err != nil {
			return fmt.Errorf("touch session: %w", err)
		}
		sess.LastSeenAt = tx.now
		return addEvent(ctx, tx, audit.SecurityEvent{Kind: kind, UserID: sess.UserID, SessionID: sess.ID, Peer: peer})
	})
	if err != nil {
		return nil, nil, err
	}
	if denial != nil {
		return nil, nil, denial
	}
	return sess, user, nil
}

// sessionSelect reads sessions (aliased s) with their user's e-mail and name.
const sessionSelect = `SELECT s.id, s.user_id, s.device_id, s.device_name, s.created_at, s.last_seen_at, s.revoked_at, s.revoke_reason,
	COALESCE(u.email, ''), COALESCE(u.display_name, '') FROM sessions s LEFT JOIN users u ON u.id = s.user_id`

func scanSession(row scanner) (*audit.Session, error) {
	var s audit.Session
	var created, seen int64
	var revoked sql.NullInt64
	if err := row.Scan(&s.ID, &s.UserID, &s.DeviceID, &s.DeviceName, &created, &seen, &revoked, &s.RevokeReason,
		&s.UserEmail, &s.UserName); err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastSeenAt, s.RevokedAt = fromMillis(created), fromMillis(seen), fromNullMillis(revoked)
	return &s, nil
}

func findSession(ctx context.Context, tx *Tx, id string) (*audit.Session, error) {
	s, err := scanSession(tx.QueryRowContext(ctx, sessionSelect+` WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, audit.Errorf(audit.ENOTFOUND, "session %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	return s, nil
}

func revokeSession(ctx context.Context, tx *Tx, id, reason string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL`,
		millis(tx.now), reason, id); err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// RevokeSession revokes a session and all its refresh tokens; revoking a
// revoked session changes nothing. kind is the security event to record
// (EventLogout or EventSessionRevoked). Errors: ENOTFOUND.
func (db *DB) RevokeSession(ctx context.Context, id, kind, reason, peer string) (*audit.Session, error) {
	var s *audit.Session
	err := db.update(ctx, func(tx *Tx) error {
		var err error
		if s, err = findSession(ctx, tx, id); err != nil {
			return err
		}
		if err := revokeSession(ctx, tx, id, reason); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, audit.SecurityEvent{Kind: kind, UserID: s.UserID, SessionID: id, Peer: peer, Detail: reason}); err != nil {
			return err
		}
		s, err = findSession(ctx, tx, id)
		return err
	})
	return s, err
}

// Authenticate checks, for an access token already verified, that its
// session is still active and its user enabled, and returns the user as
// stored now (so a role change applies at once). Errors: EUNAUTHORIZED.
func (db *DB) Authenticate(ctx context.Context, sessionID, userID string) (*audit.User, error) {
	var u audit.User
	var role string
	var disabled bool
	var revoked sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT u.id, u.email, u.display_name, u.role, u.disabled, s.revoked_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ? AND s.user_id = ?`, sessionID, userID).
		Scan(&u.ID, &u.Email, &u.DisplayName, &role, &disabled, &revoked)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, audit.Errorf(audit.EUNAUTHORIZED, "unknown session")
	case err != nil:
		return nil, fmt.Errorf("authenticate: %w", err)
	case revoked.Valid:
		return nil, audit.Errorf(audit.EUNAUTHORIZED, "session revoked")
	case disabled:
		return nil, audit.Errorf(audit.EUNAUTHORIZED, "user disabled")
	}
	u.Role = audit.Role(role)
	return &u, nil
}

// SessionFilter selects sessions, newest first.
type SessionFilter struct {
	UserID     string // only this user's, when set
	ActiveOnly bool   // leave out revoked sessions
	// Continue after the session (Before, BeforeID) of the previous page;
	// the zero time for the first page.
	Before   time.Time
	BeforeID string
	Limit    int
}

// ListSessions returns up to f.Limit sessions matching f, newest first,
// with their users' e-mails and names.
func (db *DB) ListSessions(ctx context.Context, f SessionFilter) ([]*audit.Session, error) {
	q := sessionSelect + ` WHERE (? = '' OR s.user_id = ?)`
	args := []any{f.UserID, f.UserID}
	if f.ActiveOnly {
		q += ` AND s.revoked_at IS NULL`
	}
	if !f.Before.IsZero() {
		q += ` AND (s.created_at < ? OR (s.created_at = ? AND s.id < ?))`
		args = append(args, millis(f.Before), millis(f.Before), f.BeforeID)
	}
	q += ` ORDER BY s.created_at DESC, s.id DESC LIMIT ?`
	return list(ctx, db, "list sessions", scanSession, q, append(args, f.Limit)...)
}

// FindSession returns one session. Errors: ENOTFOUND.
func (db *DB) FindSession(ctx context.Context, id string) (*audit.Session, error) {
	var s *audit.Session
	err := db.view(ctx, func(tx *Tx) error {
		var err error
		s, err = findSession(ctx, tx, id)
		return err
	})
	return s, err
}
