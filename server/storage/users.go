package storage

import (
	"context"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// Users keeps user accounts, their roles, passwords and managed stores,
// the staff record an employee's account is linked to, and the
// invitations that let an employee set his first password.
// E-mails are stored as the caller gives them (app normalises them);
// FindByEmail compares them in any case. Errors: ENOTFOUND (no such user),
// EEXISTS (the e-mail is taken, or the staff record has an account).
type Users interface {
	// Create stores u with its password hash (empty: he cannot sign in
	// until he has one), assigning ID and CreatedAt (the transaction's
	// time), linked to u.StaffID when set.
	Create(ctx context.Context, u *audit.User, passwordHash string) error
	// FindByStaff returns the user linked to a staff record. Errors:
	// ENOTFOUND (the record has no account).
	FindByStaff(ctx context.Context, staffID string) (*audit.User, error)
	// AddInvitation stores inv, created at the transaction's time.
	AddInvitation(ctx context.Context, inv *Invitation) error
	// FindInvitation returns the invitation whose token hashes to
	// tokenHash. Errors: ENOTFOUND.
	FindInvitation(ctx context.Context, tokenHash string) (*Invitation, error)
	// UseInvitation marks the invitation used at the transaction's time.
	// Errors: ENOTFOUND, EPRECONDITION (it was used already).
	UseInvitation(ctx context.Context, tokenHash string) error
	// Find returns the user with the given id.
	Find(ctx context.Context, id string) (*audit.User, error)
	// FindByEmail returns the user with the given e-mail (any case) and
	// his password hash.
	FindByEmail(ctx context.Context, email string) (*audit.User, string, error)
	// List returns the users matching f, ordered by e-mail.
	List(ctx context.Context, f UserFilter) ([]*audit.User, error)
	// Count returns the number of users.
	Count(ctx context.Context) (int, error)
	// SetDisabled disables or enables a user.
	SetDisabled(ctx context.Context, id string, disabled bool) error
	// SetPassword replaces a user's password hash.
	SetPassword(ctx context.Context, id, passwordHash string) error
	// SetRole gives a user another role.
	SetRole(ctx context.Context, id string, role audit.Role) error
	// SetManagedStores replaces the stores a user manages by storeIDs
	// (none: he manages none); the caller checks the user and stores.
	SetManagedStores(ctx context.Context, userID string, storeIDs []string) error
}

// UserFilter selects users, ordered by e-mail.
type UserFilter struct {
	Role       audit.Role // only this role, when set
	Query      string     // only those whose e-mail or name contains it (any case), when set
	ActiveOnly bool       // leave out disabled users
	AfterEmail string     // continue after this e-mail; "" for the first page
	Limit      int        // at most this many; 0 for all
}

// Invitation is a one-time link that lets the user it names set his
// password: only the SHA-256 of its token is stored.
type Invitation struct {
	TokenHash string // hex SHA-256 of the token
	UserID    string
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero while unused
}
