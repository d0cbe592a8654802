package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Create stores u with its password hash, assigning ID and CreatedAt
// (storage.Users). Errors: EEXISTS (the e-mail is taken).
func (r userRows) Create(ctx context.Context, u *audit.User, passwordHash string) error {
	return r.write(ctx, func(tx *Tx) error {
		u.ID = uuid.NewString()
		u.CreatedAt = tx.now
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, email, display_name, role, password_hash, disabled, created_at, staff_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, u.ID, u.Email, u.DisplayName, string(u.Role), passwordHash, u.Disabled, millis(u.CreatedAt),
			nullString(u.StaffID))
		if isUniqueViolation(err) && strings.Contains(err.Error(), "staff_id") {
			return audit.Errorf(audit.EEXISTS, "staff record %q has an account already", u.StaffID)
		} else if isUniqueViolation(err) {
			return audit.Errorf(audit.EEXISTS, "a user with e-mail %s already exists", u.Email)
		} else if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		return nil
	})
}

const userColumns = `id, email, display_name, role, disabled, created_at, COALESCE(staff_id, '')`

func scanUser(row scanner, extra ...any) (*audit.User, error) {
	var u audit.User
	var role string
	var created int64
	dest := append([]any{&u.ID, &u.Email, &u.DisplayName, &role, &u.Disabled, &created, &u.StaffID}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	u.Role = audit.Role(role)
	u.CreatedAt = fromMillis(created)
	return &u, nil
}

// Find returns the user with the given id (storage.Users). Errors:
// ENOTFOUND.
func (r userRows) Find(ctx context.Context, id string) (*audit.User, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.User, error) { return findUserByID(ctx, tx, id) })
}

func findUserByID(ctx context.Context, tx *Tx, id string) (*audit.User, error) {
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, audit.Errorf(audit.ENOTFOUND, "user %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// FindByEmail returns the user with the given e-mail (case-insensitive)
// and his password hash (storage.Users). Errors: ENOTFOUND.
func (r userRows) FindByEmail(ctx context.Context, email string) (*audit.User, string, error) {
	var hash string
	u, err := get(ctx, r.rows, func(tx *Tx) (*audit.User, error) {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE email = ?`,
			strings.ToLower(strings.TrimSpace(email))), &hash)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "no user with e-mail %s", email)
		}
		return u, err
	})
	if err != nil {
		return nil, "", err
	}
	return u, hash, nil
}

// List returns the users matching f, ordered by e-mail (storage.Users).
func (r userRows) List(ctx context.Context, f storage.UserFilter) ([]*audit.User, error) {
	q := `SELECT ` + userColumns + ` FROM users WHERE email > ?`
	args := []any{f.AfterEmail}
	if f.Role != "" {
		q += ` AND role = ?`
		args = append(args, string(f.Role))
	}
	if f.ActiveOnly {
		q += ` AND disabled = 0`
	}
	if f.Query != "" {
		cond, qargs := matchText(f.Query, "email", "display_name")
		q += ` AND ` + cond
		args = append(args, qargs...)
	}
	q += ` ORDER BY email`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	return selectAll(ctx, r.rows, "list users", scanUserRow, q, args...)
}

func scanUserRow(row scanner) (*audit.User, error) { return scanUser(row) }

// selectAll is queryAll in the rows' transaction, its error naming what.
func selectAll[T any](ctx context.Context, r rows, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	out, err := get(ctx, r, func(tx *Tx) ([]T, error) { return queryAll(ctx, tx, scan, query, args...) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// Count returns the number of users (storage.Users).
func (r userRows) Count(ctx context.Context) (int, error) {
	return get(ctx, r.rows, func(tx *Tx) (int, error) {
		var n int
		return n, tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	})
}

// setUser runs an UPDATE of one user by id (the last argument). Errors:
// ENOTFOUND.
func (r userRows) setUser(ctx context.Context, what, stmt string, args ...any) error {
	return r.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, stmt, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return audit.Errorf(audit.ENOTFOUND, "user %q not found", args[len(args)-1])
		}
		return nil
	})
}

// SetDisabled disables or enables a user (storage.Users). Errors:
// ENOTFOUND.
func (r userRows) SetDisabled(ctx context.Context, id string, disabled bool) error {
	return r.setUser(ctx, "update user", `UPDATE users SET disabled = ? WHERE id = ?`, disabled, id)
}

// SetPassword replaces a user's password hash (storage.Users). Errors:
// ENOTFOUND.
func (r userRows) SetPassword(ctx context.Context, id, passwordHash string) error {
	return r.setUser(ctx, "update password", `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, id)
}

// SetRole gives a user another role (storage.Users). Errors: ENOTFOUND.
func (r userRows) SetRole(ctx context.Context, id string, role audit.Role) error {
	return r.setUser(ctx, "change role", `UPDATE users SET role = ? WHERE id = ?`, string(role), id)
}

// SetManagedStores replaces the stores a user manages (storage.Users).
func (r userRows) SetManagedStores(ctx context.Context, userID string, storeIDs []string) error {
	return r.write(ctx, func(tx *Tx) error { return replaceStoreManagers(ctx, tx, false, userID, storeIDs) })
}

// FindByStaff returns the user linked to a staff record (storage.Users).
// Errors: ENOTFOUND.
func (r userRows) FindByStaff(ctx context.Context, staffID string) (*audit.User, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.User, error) {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE staff_id = ?`, staffID))
		if errors.Is(err, sql.ErrNoRows) {
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
		inv.CreatedAt = fromMillis(millis(tx.now)) // as it reads back
		_, err := tx.ExecContext(ctx, `INSERT INTO user_invitations (token_hash, user_id, created_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, inv.TokenHash, inv.UserID, inv.CreatedBy, millis(inv.CreatedAt), millis(inv.ExpiresAt))
		if err != nil {
			return fmt.Errorf("insert invitation: %w", err)
		}
		return nil
	})
}

// FindInvitation returns an invitation by its token's hash
// (storage.Users). Errors: ENOTFOUND.
func (r userRows) FindInvitation(ctx context.Context, tokenHash string) (*storage.Invitation, error) {
	return get(ctx, r.rows, func(tx *Tx) (*storage.Invitation, error) {
		var inv storage.Invitation
		var created, expires int64
		var used sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT token_hash, user_id, created_by, created_at, expires_at, used_at
			FROM user_invitations WHERE token_hash = ?`, tokenHash).Scan(&inv.TokenHash, &inv.UserID, &inv.CreatedBy, &created, &expires, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "no such invitation")
		} else if err != nil {
			return nil, fmt.Errorf("find invitation: %w", err)
		}
		inv.CreatedAt, inv.ExpiresAt = fromMillis(created), fromMillis(expires)
		if used.Valid {
			inv.UsedAt = fromMillis(used.Int64)
		}
		return &inv, nil
	})
}

// UseInvitation marks an invitation used at the transaction's time
// (storage.Users). Errors: ENOTFOUND, EPRECONDITION (used already).
func (r userRows) UseInvitation(ctx context.Context, tokenHash string) error {
	return r.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE user_invitations SET used_at = ? WHERE token_hash = ? AND used_at IS NULL`, millis(tx.now), tokenHash)
		if err != nil {
			return fmt.Errorf("use invitation: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM user_invitations WHERE token_hash = ?`, tokenHash).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return audit.Errorf(audit.ENOTFOUND, "no such invitation")
		} else if err != nil {
			return fmt.Errorf("use invitation: %w", err)
		}
		return audit.Errorf(audit.EPRECONDITION, "the invitation was used already")
	})
}
