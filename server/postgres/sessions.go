package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Create stores a session, assigning ID, CreatedAt and LastSeenAt
// (storage.Sessions). Errors: ENOTFOUND (no such user).
func (r sessionRows) Create(ctx context.Context, s *audit.Session) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := findUser(ctx, tx, s.UserID); err != nil {
			return err
		}
		id := uuid.NewString()
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (id, user_id, device_id, device_name, created_at, last_seen_at)
			VALUES ($1, $2, $3, $4, $5, $5)`, id, s.UserID, s.DeviceID, s.DeviceName, tx.now); err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		s.ID, s.CreatedAt, s.LastSeenAt = id, tx.now, tx.now
		return nil
	})
}

// AddRefresh stores a refresh token by its hash (storage.Sessions).
// Errors: ENOTFOUND (no such session).
func (r sessionRows) AddRefresh(ctx context.Context, hash []byte, sessionID string, expires time.Time) error {
	return r.write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			hash, sessionID, tx.now, ms(expires))
		if isForeignKeyViolation(err) {
			return audit.Errorf(audit.ENOTFOUND, "session %q not found", sessionID)
		} else if err != nil {
			return fmt.Errorf("insert refresh token: %w", err)
		}
		return nil
	})
}

// FindRefresh returns the refresh token with the given hash
// (storage.Sessions). Errors: ENOTFOUND.
func (r sessionRows) FindRefresh(ctx context.Context, hash []byte) (*storage.RefreshToken, error) {
	return query(ctx, r.rows, func(tx *Tx) (*storage.RefreshToken, error) {
		var t storage.RefreshToken
		var used *time.Time
		err := tx.QueryRow(ctx, `SELECT session_id, expires_at, used_at FROM refresh_tokens WHERE hash = $1`, hash).
			Scan(&t.SessionID, &t.ExpiresAt, &used)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "no such refresh token")
		} else if err != nil {
			return nil, fmt.Errorf("find refresh token: %w", err)
		}
		t.UsedAt = timeOf(used)
		return &t, nil
	})
}

// RefreshUsedSince reports whether another token of the session was used
// at or after t, to the millisecond (storage.Sessions).
func (r sessionRows) RefreshUsedSince(ctx context.Context, sessionID string, t time.Time, except []byte) (bool, error) {
	return query(ctx, r.rows, func(tx *Tx) (bool, error) {
		var later bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM refresh_tokens WHERE session_id = $1 AND used_at >= $2 AND hash <> $3)`,
			sessionID, ms(t), except).Scan(&later); err != nil {
			return false, fmt.Errorf("find later refresh: %w", err)
		}
		return later, nil
	})
}

// UseRefresh marks a token used (storage.Sessions).
func (r sessionRows) UseRefresh(ctx context.Context, hash []byte) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET used_at = $1 WHERE hash = $2`, tx.now, hash); err != nil {
			return fmt.Errorf("mark refresh token used: %w", err)
		}
		return nil
	})
}

// RetireRefresh marks the session's unused tokens used (storage.Sessions).
func (r sessionRows) RetireRefresh(ctx context.Context, sessionID string) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET used_at = $1 WHERE session_id = $2 AND used_at IS NULL`,
			tx.now, sessionID); err != nil {
			return fmt.Errorf("retire unreceived refresh tokens: %w", err)
		}
		return nil
	})
}

// Touch records that the session was seen now (storage.Sessions).
func (r sessionRows) Touch(ctx context.Context, id string) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, tx.now, id); err != nil {
			return fmt.Errorf("touch session: %w", err)
		}
		return nil
	})
}

// sessionSelect reads sessions (aliased s) with their user's e-mail and name.
const sessionSelect = `SELECT s.id, s.user_id, s.device_id, s.device_name, s.created_at, s.last_seen_at, s.revoked_at, s.revoke_reason,
	COALESCE(u.email, ''), COALESCE(u.display_name, '') FROM sessions s LEFT JOIN users u ON u.id = s.user_id`

func scanSession(row pgx.Row) (*audit.Session, error) {
	var s audit.Session
	var revoked *time.Time
	if err := row.Scan(&s.ID, &s.UserID, &s.DeviceID, &s.DeviceName, &s.CreatedAt, &s.LastSeenAt, &revoked, &s.RevokeReason,
		&s.UserEmail, &s.UserName); err != nil {
		return nil, err
	}
	s.RevokedAt = timeOf(revoked)
	return &s, nil
}

// Find returns one session (storage.Sessions). Errors: ENOTFOUND.
func (r sessionRows) Find(ctx context.Context, id string) (*audit.Session, error) {
	return query(ctx, r.rows, func(tx *Tx) (*audit.Session, error) {
		s, err := scanSession(tx.QueryRow(ctx, sessionSelect+` WHERE s.id = $1`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "session %q not found", id)
		} else if err != nil {
			return nil, fmt.Errorf("find session: %w", err)
		}
		return s, nil
	})
}

// Revoke revokes a live session (storage.Sessions).
func (r sessionRows) Revoke(ctx context.Context, id, reason string) error {
	_, err := r.revoke(ctx, "id", id, reason)
	return err
}

// RevokeUser revokes every live session of a user (storage.Sessions).
func (r sessionRows) RevokeUser(ctx context.Context, userID, reason string) (int, error) {
	n, err := r.revoke(ctx, "user_id", userID, reason)
	return int(n), err
}

// revoke revokes the live sessions whose column col holds value.
func (r sessionRows) revoke(ctx context.Context, col, value, reason string) (int64, error) {
	var n int64
	err := r.write(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = $1, revoke_reason = $2 WHERE `+col+` = $3 AND revoked_at IS NULL`,
			tx.now, reason, value)
		if err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		n = tag.RowsAffected()
		return nil
	})
	return n, err
}

// Owner returns the user of a session and whether it is revoked
// (storage.Sessions). On the database it is one query on the pool, with
// no transaction: every authenticated call makes it. Errors: ENOTFOUND.
func (r sessionRows) Owner(ctx context.Context, sessionID, userID string) (*audit.User, bool, error) {
	var q interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	} = r.db.pool
	if r.tx != nil {
		q = r.tx
	}
	var u audit.User
	var role string
	var revoked bool
	err := q.QueryRow(ctx, `SELECT u.id, u.email, u.display_name, u.role, u.disabled, s.revoked_at IS NOT NULL
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.user_id = $2`, sessionID, userID).
		Scan(&u.ID, &u.Email, &u.DisplayName, &role, &u.Disabled, &revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, audit.Errorf(audit.ENOTFOUND, "unknown session")
	} else if err != nil {
		return nil, false, fmt.Errorf("authenticate: %w", err)
	}
	u.Role = audit.Role(role)
	return &u, revoked, nil
}

// List returns up to f.Limit sessions matching f, newest first
// (storage.Sessions).
func (r sessionRows) List(ctx context.Context, f storage.SessionFilter) ([]*audit.Session, error) {
	var a args
	q := sessionSelect + ` WHERE true`
	if f.UserID != "" {
		q += ` AND s.user_id = ` + a.add(f.UserID)
	}
	if f.ActiveOnly {
		q += ` AND s.revoked_at IS NULL`
	}
	if !f.Before.IsZero() {
		q += ` AND (s.created_at, s.id COLLATE "C") < (` + a.add(ms(f.Before)) + `, ` + a.add(f.BeforeID) + `::text COLLATE "C")`
	}
	q += ` ORDER BY s.created_at DESC, s.id COLLATE "C" DESC LIMIT ` + a.add(f.Limit)
	return selectAll(ctx, r.rows, "list sessions", scanSession, q, a...)
}
