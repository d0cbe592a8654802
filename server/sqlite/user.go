package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/shopscore/shopscore/audit"
)

// CreateUser stores u with its password hash, assigning ID and CreatedAt.
// Errors: EINVALID, EEXISTS (the e-mail is taken).
func (db *DB) CreateUser(ctx context.Context, u *audit.User, passwordHash string) error {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if err := u.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		u.ID = uuid.NewString()
		u.CreatedAt = tx.now
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, email, display_name, role, password_hash, disabled, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, u.ID, u.Email, u.DisplayName, string(u.Role), passwordHash, u.Disabled, millis(u.CreatedAt))
		if isUniqueViolation(err) {
			return audit.Errorf(audit.EEXISTS, "a user with e-mail %s already exists", u.Email)
		} else if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		return addEvent(ctx, tx, audit.SecurityEvent{Kind: audit.EventUserCreated, UserID: u.ID, Detail: string(u.Role)})
	})
}

const userColumns = `id, email, display_name, role, disabled, created_at`

func scanUser(row scanner, extra ...any) (*audit.User, error) {
	var u audit.User
	var role string
	var created int64
	dest := append([]any{&u.ID, &u.Email, &u.DisplayName, &role, &u.Disabled, &created}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	u.Role = audit.Role(role)
	u.CreatedAt = fromMillis(created)
	return &u, nil
}

// FindUserByID returns the user with the given id. Errors: ENOTFOUND.
func (db *DB) FindUserByID(ctx context.Context, id string) (*audit.User, error) {
	var u *audit.User
	err := db.view(ctx, func(tx *Tx) error {
		var err error
		u, err = findUserByID(ctx, tx, id)
		return err
	})
	return u, err
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

// FindUserByEmail returns the user with the given e-mail (case-insensitive)
// and his password hash. Errors: ENOTFOUND.
func (db *DB) FindUserByEmail(ctx context.Context, email string) (*audit.User, string, error) {
	var hash string
	var u *audit.User
	err := db.view(ctx, func(tx *Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE email = ?`,
			strings.ToLower(strings.TrimSpace(email))), &hash)
		if errors.Is(err, sql.ErrNoRows) {
			return audit.Errorf(audit.ENOTFOUND, "no user with e-mail %s", email)
		}
		return err
	})
	return u, hash, err
}

// UserFilter selects users, ordered by e-mail.
type UserFilter struct {
	Role       audit.Role // only this role, when set
	Query      string     // only those whose e-mail or name contains it (any case), when set
	ActiveOnly bool       // leave out disabled users
	AfterEmail string     // continue after this e-mail; "" for the first page
	Limit      int        // at most this many; 0 for all
}

// ListUsers returns the users matching f, ordered by e-mail.
func (db *DB) ListUsers(ctx context.Context, f UserFilter) ([]*audit.User, error) {
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
	return list(ctx, db, "list users", scanUserRow, q, args...)
}

func scanUserRow(row scanner) (*audit.User, error) { return scanUser(row) }

// SetUserDisabled disables or enables a user. Disabling also revokes every
// session of the user, so his next call is refused. Errors: ENOTFOUND.
func (db *DB) SetUserDisabled(ctx context.Context, id string, disabled bool, peer string) (*audit.User, error) {
	var u *audit.User
	err := db.update(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET disabled = ? WHERE id = ?`, disabled, id)
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return audit.Errorf(audit.ENOTFOUND, "user %q not found", id)
		}
		kind := audit.EventUserEnabled
		if disabled {
			kind = audit.EventUserDisabled
			if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ?, revoke_reason = 'user disabled'
				WHERE user_id = ? AND revoked_at IS NULL`, millis(tx.now), id); err != nil {
				return fmt.Errorf("revoke sessions: %w", err)
			}
		}
		if err := addEvent(ctx, tx, audit.SecurityEvent{Kind: kind, UserID: id, Peer: peer}); err != nil {
			return err
		}
		u, err = findUserByID(ctx, tx, id)
		return err
	})
	return u, err
}

// SetPassword replaces a user's password hash. Errors: ENOTFOUND.
func (db *DB) SetPassword(ctx context.Context, id, passwordHash string) error {
	return db.update(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, id)
		if err != nil {
			return fmt.Errorf("update password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return audit.Errorf(audit.ENOTFOUND, "user %q not found", id)
		}
		return nil
	})
}

// CountUsers returns the number of users.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := db.view(ctx, func(tx *Tx) error {
		return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	})
	return n, err
}

// ResetPassword replaces a user's password hash and revokes all his
// sessions, recording the event; it returns how many sessions it revoked.
// Errors: ENOTFOUND.
func (db *DB) ResetPassword(ctx context.Context, id, passwordHash, peer string) (int, error) {
	n := 0
	err := db.update(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, id)
		if err != nil {
			return fmt.Errorf("update password: %w", err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return audit.Errorf(audit.ENOTFOUND, "user %q not found", id)
		}
		res, err = tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ?, revoke_reason = 'password reset'
			WHERE user_id = ? AND revoked_at IS NULL`, millis(tx.now), id)
		if err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		k, _ := res.RowsAffected()
		n = int(k)
		return addEvent(ctx, tx, audit.SecurityEvent{Kind: audit.EventPasswordReset, UserID: id, Peer: peer})
	})
	return n, err
}

// ChangeRole gives a user another role; one who is no longer a manager or
// admin keeps no stores. Errors: ENOTFOUND.
func (db *DB) ChangeRole(ctx context.Context, id string, role audit.Role, peer string) (*audit.User, error) {
	var u *audit.User
	err := db.update(ctx, func(tx *Tx) error {
		old, err := findUserByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ? WHERE id = ?`, string(role), id); err != nil {
			return fmt.Errorf("change role: %w", err)
		}
		if role != audit.RoleManager && role != audit.RoleAdmin {
			if _, err := tx.ExecContext(ctx, `DELETE FROM store_managers WHERE user_id = ?`, id); err != nil {
				return fmt.Errorf("drop managed stores: %w", err)
			}
		}
		if err := addEvent(ctx, tx, audit.SecurityEvent{Kind: audit.EventRoleChanged, UserID: id, Peer: peer,
			Detail: string(old.Role) + " -> " + string(role)}); err != nil {
			return err
		}
		u, err = findUserByID(ctx, tx, id)
		return err
	})
	return u, err
}

// SetManagedStores replaces the stores a manager manages. Errors:
// ENOTFOUND (the user or a store), EINVALID (not a manager).
func (db *DB) SetManagedStores(ctx context.Context, userID string, storeIDs []string) error {
	return db.update(ctx, func(tx *Tx) error {
		u, err := findUserByID(ctx, tx, userID)
		if err != nil {
			return err
		}
		if u.Role != audit.RoleManager {
			return audit.Errorf(audit.EINVALID, "user %s is a %s; only a manager manages stores", u.Email, u.Role)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM store_managers WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("replace managed stores: %w", err)
		}
		for _, id := range storeIDs {
			if _, err := findStore(ctx, tx, audit.Scope{All: true}, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO store_managers (store_id, user_id) VALUES (?, ?)`, id, userID); err != nil {
				return fmt.Errorf("insert store manager: %w", err)
			}
		}
		return nil
	})
}

// ManagedStores returns the stores a user manages, by code.
func (db *DB) ManagedStores(ctx context.Context, userID string) ([]*audit.Store, error) {
	return db.ListStores(ctx, audit.StoreFilter{Scope: audit.Scope{ManagerID: userID}, IncludeDeactivated: true})
}
