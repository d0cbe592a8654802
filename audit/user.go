package audit

import (
	"context"
	"time"
)

// Role is what a user may do. Authorization is deny-by-default per
// procedure (server/authz.go) and object-level in the queries.
type Role string

// The roles.
const (
	RoleShopper Role = "shopper" // records visits on assigned stores
	RoleManager Role = "manager" // owns stores: checklists, assignments, review, audit reports
	RoleHR      Role = "hr"      // reads scores, runs and approves bonuses
	RoleAdmin   Role = "admin"   // users, devices, keys; everything a manager may do
	// RoleStaff is an audited employee: he sees his own approved visits
	// and pay, nothing else. His user is linked to one staff record
	// (User.StaffID) and made by invitation only.
	RoleStaff Role = "staff"
)

// Roles lists every role, in a stable order.
var Roles = []Role{RoleShopper, RoleManager, RoleHR, RoleAdmin, RoleStaff}

// InvitationTTL is how long an employee's set-password link stays valid.
const InvitationTTL = 7 * 24 * time.Hour

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// User is a person who signs in: a shopper, a manager, HR, an admin or an
// employee.
type User struct {
	ID          string
	Email       string // lower-cased, unique
	DisplayName string
	Role        Role
	Disabled    bool
	CreatedAt   time.Time
	// StaffID is the staff record a user of RoleStaff is (one user per
	// record); empty for every other role.
	StaffID string
}

// Validate returns EINVALID when the user cannot be stored.
func (u *User) Validate() error {
	if err := checkLengths("user", text{"email", u.Email, MaxEmailLen}, text{"display name", u.DisplayName, MaxNameLen}); err != nil {
		return err
	}
	switch {
	case u.Email == "":
		return Errorf(EINVALID, "user: email is required")
	case !validEmail(u.Email):
		return Errorf(EINVALID, "user: %q is not an e-mail address", u.Email)
	case !u.Role.Valid():
		return Errorf(EINVALID, "user: unknown role %q (want one of shopper, manager, hr, admin, staff)", u.Role)
	case u.Role == RoleStaff && u.StaffID == "":
		return Errorf(EINVALID, "user %s: a staff account is made by invitation, linked to an employee (InviteStaff)", u.Email)
	case u.Role != RoleStaff && u.StaffID != "":
		return Errorf(EINVALID, "user %s: only a staff account is linked to an employee, not a %s", u.Email, u.Role)
	}
	return nil
}

func validEmail(s string) bool {
	at := -1
	for i, c := range s {
		switch {
		case c == '@':
			if at >= 0 {
				return false
			}
			at = i
		case c <= ' ' || c == 0x7f:
			return false
		}
	}
	return at > 0 && at < len(s)-1
}

// Principal is the authenticated caller of a request, as established by
// the server's auth interceptor.
type Principal struct {
	UserID string
	Role   Role
	// SessionID is the caller's session (audit.Session.ID), from the
	// access token's "sid" claim; the phone's own id is the session's
	// DeviceID.
	SessionID string
	// TokenID is set when the caller is an integration token (a service
	// account) rather than a user's session: UserID, Role and SessionID
	// are then empty, and Scopes say what the token may reach.
	TokenID string
	Scopes  []TokenScope
}

type principalKey struct{}

// NewContext returns a context carrying p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the caller of the request, if authenticated.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
