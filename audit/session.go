package audit

import "time"

// Session is one device's sign-in. Its refresh tokens form one family:
// revoking the session ends them all, and the next call made with one of
// its access tokens is refused.
type Session struct {
	ID           string
	UserID       string
	DeviceID     string // chosen by the device, stable across logins
	DeviceName   string
	CreatedAt    time.Time
	LastSeenAt   time.Time
	RevokedAt    time.Time // zero while active
	RevokeReason string
	// Read-only: the user's e-mail and name, for people.
	UserEmail, UserName string
}

// Revoked reports whether the session has been revoked.
func (s *Session) Revoked() bool { return !s.RevokedAt.IsZero() }

// SecurityEvent is one line of the security log.
type SecurityEvent struct {
	Seq       int64
	CreatedAt time.Time
	Kind      string // see the Event* constants
	UserID    string
	SessionID string
	Peer      string
	Detail    string
}

// The kinds of security events.
const (
	EventLogin          = "login"
	EventLoginFailed    = "login_failed"
	EventRefresh        = "refresh"
	EventRefreshReuse   = "refresh_reuse"
	EventRefreshRetry   = "refresh_retry"
	EventLogout         = "logout"
	EventSessionRevoked = "session_revoked"
	EventUserDisabled   = "user_disabled"
	EventUserEnabled    = "user_enabled"
	EventKeyRotated     = "key_rotated"
	EventPasswordReset  = "password_reset"
	EventRoleChanged    = "role_changed"
	EventUserCreated    = "user_created"
	EventStaffInvited   = "staff_invited"   // an employee's account and its invitation made
	EventInvitationUsed = "invitation_used" // an employee set his first password from it
)
