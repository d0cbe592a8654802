package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Create stores u with its password hash, assigning ID and CreatedAt
// (storage.Users). Errors: EEXISTS (the e-mail is taken, in any case).
func (r userRows) Create(ctx context.Context, u *audit.User, passwordHash string) error {
	return r.write(ctx, func(tx *Tx) error {
		id := uuid.NewString()
		_, err := tx.Exec(ctx, `INSERT INTO users (id, email, display_name, role, password_hash, disabled, created_at, staff_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, u.Email, u.DisplayName, string(u.Role), passwordHash, u.Disabled, tx.now,
			nullString(u.StaffID))
		if isUniqueViolation(err) && strings.Contains(err.Error(), "users_staff") {
			return audit.Errorf(audit.EEXISTS, "staff record %q has an account already", u.StaffID)
		} else if isUniqueViolation(err) {
			return audit.Errorf(audit.EEXISTS, "a user with e-mail %s already exists", u.Email)
		} else if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		u.ID, u.CreatedAt = id, tx.now
		return nil
	})
}

const userColumns = `id, email, display_name, role, disabled, created_at, COALESCE(staff_id, '')`

func scanUser(row pgx.Row, extra ...any) (*audit.User, error) {
	var u audit.User
	var role string
	if err := row.Scan(append([]any{&u.ID, &u.Email, &u.DisplayName, &role, &u.Disabled, &u.CreatedAt, &u.StaffID}, extra...)...); err != nil {
		return nil, err
	}
	u.Role = audit.Role(role)
	return &u, nil
}

// Find returns the user with the given id (storage.Users). Errors:
// ENOTFOUND.
func (r userRows) Find(ctx context.Context, id string) (*audit.User, error) {
	return query(ctx, r.rows, func(tx *Tx) (*audit.User, error) { return findUser(ctx, tx, id) })
}

func findUser(ctx context.Context, tx *Tx, id string) (*audit.User, error) {
	u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, audit.Errorf(audit.ENOTFOUND, "user %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// FindByEmail returns the user with the given e-mail (the column's
// collation compares it in any case) and his password hash
// (storage.Users). Errors: ENOTFOUND.
func (r userRows) FindByEmail(ctx context.Context, email string) (*audit.User, string, error) {
	var hash string
	u, err := query(ctx, r.rows, func(tx *Tx) (*audit.User, error) {
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE email = $1`,
			strings.TrimSpace(email)), &hash)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "no user with e-mail %s", email)
		} else if err != nil {
			return nil, fmt.Errorf("find user: %w", err)
		}
		return u, nil
	})
	if err != nil {
		return nil, "", err
	}
	return u, hash, nil
}

// emailOrder is the order of users by e-mail: SQLite's NOCASE, which
// folds ASCII letters only and compares bytes, is lower() under the "C"
// collation.
const emailOrder = `lower(email COLLATE "C")`

// List returns the users matching f, ordered by e-mail (storage.Users).
func (r userRows) List(ctx context.Context, f storage.UserFilter) ([]*audit.User, error) {
	var a args
	q := `SELECT ` + userColumns + ` FROM users WHERE ` + emailOrder + ` > lower(` + a.add(f.AfterEmail) + `::text COLLATE "C")`
	if f.Role != "" {
		q += ` AND role = ` + a.add(string(f.Role))
	}
	if f.ActiveOnly {
		q += ` AND NOT disabled`
	}
	if f.Query != "" {
		q += ` AND ` + matchText(&a, f.Query, "email", "display_name")
	}
	q += ` ORDER BY ` + emailOrder
	if f.Limit > 0 {
		q += ` LIMIT ` + a.add(f.Limit)
	}
	return selectAll(ctx, r.rows, "list users", func(row pgx.Row) (*audit.User, error) { return scanUser(row) }, q, a...)
}

// Count returns the number of users (storage.Users).
func (r userRows) Count(ctx context.Context) (int, error) {
	return query(ctx, r.rows, func(tx *Tx) (int, error) {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
			return 0, fmt.Errorf("count users: %w", err)
		}
		return n, nil
	})
}

// setUser changes one column of the user id. Errors: ENOTFOUND.
func (r userRows) setUser(ctx context.Context, what, column string, value any, id string) error {
	n, err := exec(ctx, r.rows, what, `UPDATE users SET `+column+` = $1 WHERE id = $2`, value, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return audit.Errorf(audit.ENOTFOUND, "user %q not found", id)
	}
	return nil
}

// SetDisabled disables or enables a user (storage.Users). Errors:
// ENOTFOUND.
func (r userRows) SetDisabled(ctx context.Context, id string, disabled bool) error {
	return r.setUser(ctx, "update user", "disabled", disabled, id)
}

// SetPassword replaces a user's password hash (storage.Users). Errors:
// ENOTFOUND.
func (r userRows) SetPassword(ctx context.Context, id, passwordHash string) error {
	return r.setUser(ctx, "update password", "password_hash", passwordHash, id)
}

// SetRole gives a user another role (storage.Users). Errors: ENOTFOUND.
func (r userRows) SetRole(ctx context.Context, id string, role audit.Role) error {
	return r.setUser(ctx, "change role", "role", string(role), id)
}

// SetManagedStores replaces the stores a user manages (storage.Users).
func (r userRows) SetManagedStores(ctx context.Context, userID string, storeIDs []string) error {
	return r.write(ctx, func(tx *Tx) error { return replaceStoreManagers(ctx, tx, false, userID, storeIDs) })
}

// FindByStaff returns the user linked to a staff record (storage.Users).
// Errors: ENOTFOUND.
func (r userRows) FindByStaff(ctx context.Context, staffID string) (*audit.User, error) {
	return query(ctx, r.rows, func(tx *Tx) (*audit.User, error) {
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE staff_id = $1`, staffID))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "staff record %q has no account", staffID)
		} else if err != nil {
			return nil, fmt.Errorf("find user by staff: %w", err)
		}
		return u, nil
	})
}

// AddInvitation stores inv, created at the transaction's time
// (storage.Users).
func (r userRows) AddInvitation(ctx context.Context, inv *storage.Invitation) error {
	return r.write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO user_invitations (token_hash, user_id, created_by, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5)`, inv.TokenHash, inv.UserID, inv.CreatedBy, tx.now, inv.ExpiresAt)
		if err != nil {
			return fmt.Errorf("insert invitation: %w", err)
		}
		inv.CreatedAt = tx.now
		return nil
	})
}

// FindInvitation returns an invitation by its token's hash
// (storage.Users). Errors: ENOTFOUND.
func (r userRows) FindInvitation(ctx context.Context, tokenHash string) (*storage.Invitation, error) {
	return query(ctx, r.rows, func(tx *Tx) (*storage.Invitation, error) {
		var inv storage.Invitation
		var used *time.Time
		err := tx.QueryRow(ctx, `SELECT token_hash, user_id, created_by, created_at, expires_at, used_at
			FROM user_invitations WHERE token_hash = $1`, tokenHash).Scan(&inv.TokenHash, &inv.UserID, &inv.CreatedBy, &inv.CreatedAt, &inv.ExpiresAt, &used)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "no such invitation")
		} else if err != nil {
			return nil, fmt.Errorf("find invitation: %w", err)
		}
		if used != nil {
			inv.UsedAt = *used
		}
		return &inv, nil
	})
}

// UseInvitation marks an invitation used at the transaction's time
// (storage.Users). Errors: ENOTFOUND, EPRECONDITION (used already).
func (r userRows) UseInvitation(ctx context.Context, tokenHash string) error {
	return r.write(ctx, func(tx *Tx) error {
		var used *time.Time
		err := tx.QueryRow(ctx, `SELECT used_at FROM user_invitations WHERE token_hash = $1 FOR UPDATE`, tokenHash).Scan(&used)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return audit.Errorf(audit.ENOTFOUND, "no such invitation")
		case err != nil:
			return fmt.Errorf("use invitation: %w", err)
		case used != nil:
			return audit.Errorf(audit.EPRECONDITION, "the invitation was used already")
		}
		if _, err := tx.Exec(ctx, `UPDATE user_invitations SET used_at = $1 WHERE token_hash = $2`, tx.now, tokenHash); err != nil {
			return fmt.Errorf("use invitation: %w", err)
		}
		return nil
	})
}
