package storage

import (
	"context"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// Sessions keeps sign-in sessions and their refresh tokens (by hash).
// Errors: ENOTFOUND (no such session, token or user).
type Sessions interface {
	// Create stores s, assigning ID, CreatedAt and LastSeenAt (the
	// transaction's time).
	Create(ctx context.Context, s *audit.Session) error
	// Find returns one session with its user's e-mail and name.
	Find(ctx context.Context, id string) (*audit.Session, error)
	// List returns up to f.Limit sessions matching f, newest first, with
	// their users' e-mails and names.
	List(ctx context.Context, f SessionFilter) ([]*audit.Session, error)
	// Touch sets the session's LastSeenAt to the transaction's time.
	Touch(ctx context.Context, id string) error
	// Revoke marks the session revoked for reason at the transaction's
	// time; a revoked session stays as it was.
	Revoke(ctx context.Context, id, reason string) error
	// RevokeUser revokes every live session of a user for reason and
	// returns how many it revoked.
	RevokeUser(ctx context.Context, userID, reason string) (int, error)
	// Owner returns, for a session of the user userID, the user as stored
	// now and whether the session is revoked: the check behind every
	// authenticated call. ENOTFOUND: no such session of that user.
	Owner(ctx context.Context, sessionID, userID string) (u *audit.User, revoked bool, err error)

	// AddRefresh stores a refresh token of the session by its hash.
	AddRefresh(ctx context.Context, hash []byte, sessionID string, expires time.Time) error
	// FindRefresh returns the refresh token with the given hash.
	FindRefresh(ctx context.Context, hash []byte) (*RefreshToken, error)
	// RefreshUsedSince reports whether a refresh token of the session
	// other than the one with hash except was used (or retired) at t or
	// later. Times have millisecond resolution: a later use within the
	// same millisecond counts too.
	RefreshUsedSince(ctx context.Context, sessionID string, t time.Time, except []byte) (bool, error)
	// UseRefresh marks the token with the given hash used at the
	// transaction's time.
	UseRefresh(ctx context.Context, hash []byte) error
	// RetireRefresh marks every unused token of the session used at the
	// transaction's time.
	RetireRefresh(ctx context.Context, sessionID string) error
}

// RefreshToken is a stored refresh token.
type RefreshToken struct {
	SessionID string
	ExpiresAt time.Time
	UsedAt    time.Time // zero while unused
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
