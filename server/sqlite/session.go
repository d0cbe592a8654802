package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Create stores a session, assigning ID, CreatedAt and LastSeenAt
// (storage.Sessions). Errors: ENOTFOUND (no such user).
func (r sessionRows) Create(ctx context.Context, s *audit.Session) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := findUserByID(ctx, tx, s.UserID); err != nil {
			return err
		}
		s.ID, s.CreatedAt, s.LastSeenAt = uuid.NewString(), tx.now, tx.now
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, device_id, device_name, created_at, last_seen_at)
			VALUES (?, ?, ?, ?, ?, ?)`, s.ID, s.UserID, s.DeviceID, s.DeviceName, millis(tx.now), millis(tx.now)); err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		return nil
	})
}

// AddRefresh stores a refresh token by its hash (storage.Sessions).
func (r sessionRows) AddRefresh(ctx context.Context, hash []byte, sessionID string, expires time.Time) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			hash, sessionID, millis(tx.now), millis(expires)); err != nil {
			return fmt.Errorf("insert refresh token: %w", err)
		}
		return nil
	})
}

// FindRefresh returns the refresh token with the given hash
// (storage.Sessions). Errors: ENOTFOUND.
func (r sessionRows) FindRefresh(ctx context.Context, hash []byte) (*storage.RefreshToken, error) {
	return get(ctx, r.rows, func(tx *Tx) (*storage.RefreshToken, error) {
		var t storage.RefreshToken
		var expires int64
		var used sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT session_id, expires_at, used_at FROM refresh_tokens WHERE hash = ?`, hash).
			Scan(&t.SessionID, &expires, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "no such refresh token")
		} else if err != nil {
			return nil, fmt.Errorf("find refresh token: %w", err)
		}
		t.ExpiresAt, t.UsedAt = fromMillis(expires), fromNullMillis(used)
		return &t, nil
	})
}

// RefreshUsedSince reports whether another token of the session was used at or after t
// (storage.Sessions).
func (r sessionRows) RefreshUsedSince(ctx context.Context, sessionID string, t time.Time, except []byte) (bool, error) {
	return get(ctx, r.rows, func(tx *Tx) (bool, error) {
		var later int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM refresh_tokens WHERE session_id = ? AND used_at >= ? AND hash <> ?`,
			sessionID, millis(t), except).Scan(&later); err != nil {
			return false, fmt.Errorf("find later refresh: %w", err)
		}
		return later > 0, nil
	})
}

// UseRefresh marks a token used (storage.Sessions).
func (r sessionRows) UseRefresh(ctx context.Context, hash []byte) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE hash = ?`, millis(tx.now), hash); err != nil {
			return fmt.Errorf("mark refresh token used: %w", err)
		}
		return nil
	})
}

// RetireRefresh marks the session's unused tokens used (storage.Sessions).
func (r sessionRows) RetireRefresh(ctx context.Context, sessionID string) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE session_id = ? AND used_at IS NULL`,
			millis(tx.now), sessionID); err != nil {
			return fmt.Errorf("retire unreceived refresh tokens: %w", err)
		}
		return nil
	})
}

// Touch records that the session was seen now (storage.Sessions).
func (r sessionRows) Touch(ctx context.Context, id string) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, millis(tx.now), id); err != nil {
			return fmt.Errorf("touch session: %w", err)
		}
		return nil
	})
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

// Find returns one session (storage.Sessions). Errors: ENOTFOUND.
func (r sessionRows) Find(ctx context.Context, id string) (*audit.Session, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.Session, error) {
		s, err := scanSession(tx.QueryRowContext(ctx, sessionSelect+` WHERE s.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "session %q not found", id)
		} else if err != nil {
			return nil, fmt.Errorf("find session: %w", err)
		}
		return s, nil
	})
}

// Revoke revokes a live session (storage.Sessions).
func (r sessionRows) Revoke(ctx context.Context, id, reason string) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL`,
			millis(tx.now), reason, id); err != nil {
			return fmt.Errorf("revoke session: %w", err)
		}
		return nil
	})
}

// RevokeUser revokes every live session of a user (storage.Sessions).
func (r sessionRows) RevokeUser(ctx context.Context, userID, reason string) (int, error) {
	return put(ctx, r.rows, func(tx *Tx) (int, error) {
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE user_id = ? AND revoked_at IS NULL`,
			millis(tx.now), reason, userID)
		if err != nil {
			return 0, fmt.Errorf("revoke sessions: %w", err)
		}
		n, _ := res.RowsAffected()
		return int(n), nil
	})
}

// Owner returns the user of a session and whether it is revoked
// (storage.Sessions). On the database it is one query on a reader, with
// no transaction: every authenticated call makes it. Errors: ENOTFOUND.
func (r sessionRows) Owner(ctx context.Context, sessionID, userID string) (*audit.User, bool, error) {
	var q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	} = r.db.read
	if r.tx != nil {
		q = r.tx
	}
	var u audit.User
	var role string
	var revoked sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT u.id, u.email, u.display_name, u.role, u.disabled, s.revoked_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ? AND s.user_id = ?`, sessionID, userID).
		Scan(&u.ID, &u.Email, &u.DisplayName, &role, &u.Disabled, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, audit.Errorf(audit.ENOTFOUND, "unknown session")
	} else if err != nil {
		return nil, false, fmt.Errorf("authenticate: %w", err)
	}
	u.Role = audit.Role(role)
	return &u, revoked.Valid, nil
}

// List returns up to f.Limit sessions matching f, newest first
// (storage.Sessions).
func (r sessionRows) List(ctx context.Context, f storage.SessionFilter) ([]*audit.Session, error) {
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
	return selectAll(ctx, r.rows, "list sessions", scanSession, q, append(args, f.Limit)...)
}
