package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/shopscore/shopscore/audit"
)

// findStaffWhere returns the employee in scope whose column col holds value.
func findStaffWhere(ctx context.Context, tx *Tx, scope audit.Scope, col, value string) (*audit.Staff, error) {
	cond, args := storeScope(scope, "sf.store_id")
	s, err := scanStaff(tx.QueryRowContext(ctx, staffSelect+` WHERE `+col+` = ? AND `+cond, append([]any{value}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, audit.Errorf(audit.ENOTFOUND, "staff %q not found", value)
	} else if err != nil {
		return nil, fmt.Errorf("find staff: %w", err)
	}
	return s, nil
}

// Find returns an employee of the stores in scope by id (storage.Staff).
// Errors: ENOTFOUND (also outside the scope).
func (r staffRows) Find(ctx context.Context, scope audit.Scope, id string) (*audit.Staff, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.Staff, error) { return findStaffWhere(ctx, tx, scope, "sf.id", id) })
}

// FindByNumber returns an employee of the stores in scope by employee
// number (storage.Staff). Errors: ENOTFOUND (also outside the scope).
func (r staffRows) FindByNumber(ctx context.Context, scope audit.Scope, number string) (*audit.Staff, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.Staff, error) {
		return findStaffWhere(ctx, tx, scope, "sf.employee_number", number)
	})
}

const transferSelect = `SELECT t.id, t.staff_id, COALESCE(t.from_store_id, ''), COALESCE(f.code, ''), COALESCE(f.name, ''),
	t.to_store_id, o.code, o.name, t.effective_date, t.applied_at IS NOT NULL, t.created_by, COALESCE(u.display_name, ''), t.created_at
	FROM staff_transfers t LEFT JOIN stores f ON f.id = t.from_store_id JOIN stores o ON o.id = t.to_store_id
	LEFT JOIN users u ON u.id = t.created_by`

func scanTransfer(row scanner) (audit.StaffTransfer, error) {
	var t audit.StaffTransfer
	var created int64
	err := row.Scan(&t.ID, &t.StaffID, &t.FromStoreID, &t.FromStoreCode, &t.FromStoreName, &t.ToStoreID, &t.ToStoreCode, &t.ToStoreName,
		&t.EffectiveDate, &t.Applied, &t.CreatedBy, &t.CreatedByName, &created)
	t.CreatedAt = fromMillis(created)
	return t, err
}

// Transfers returns an employee's transfers newest first, or only those
// not yet applied (storage.Staff).
func (r staffRows) Transfers(ctx context.Context, staffID string, pendingOnly bool) ([]audit.StaffTransfer, error) {
	q := transferSelect + ` WHERE t.staff_id = ?`
	if pendingOnly {
		q += ` AND t.applied_at IS NULL`
	}
	return selectAll(ctx, r.rows, "staff transfers", scanTransfer, q+` ORDER BY t.effective_date DESC, t.created_at DESC`, staffID)
}

// DueTransfers returns the waiting transfers dated on or before day,
// oldest first (storage.Staff).
func (r staffRows) DueTransfers(ctx context.Context, day string) ([]audit.StaffTransfer, error) {
	return selectAll(ctx, r.rows, "due transfers", scanTransfer,
		transferSelect+` WHERE t.applied_at IS NULL AND t.effective_date <= ? ORDER BY t.effective_date, t.created_at`, day)
}

// FindTransfer returns one transfer (storage.Staff). Errors: ENOTFOUND.
func (r staffRows) FindTransfer(ctx context.Context, id string) (*audit.StaffTransfer, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.StaffTransfer, error) {
		t, err := scanTransfer(tx.QueryRowContext(ctx, transferSelect+` WHERE t.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "transfer %q not found", id)
		} else if err != nil {
			return nil, fmt.Errorf("read transfer: %w", err)
		}
		return &t, nil
	})
}

// Update replaces the fields of the employee s.ID but his store
// (storage.Staff). Errors: EEXISTS (the number is taken).
func (r staffRows) Update(ctx context.Context, s *audit.Staff) error {
	return r.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE staff SET employee_number = ?, name = ?, position = ?, department = ?, back_office = ? WHERE id = ?`,
			s.EmployeeNumber, s.Name, s.Position, string(s.Department), s.BackOffice, s.ID)
		if isUniqueViolation(err) {
			return audit.Errorf(audit.EEXISTS, "staff with employee number %s already exists", s.EmployeeNumber)
		} else if err != nil {
			return fmt.Errorf("update staff: %w", err)
		}
		return nil
	})
}

// SetDeactivated marks an employee as gone (or back) (storage.Staff).
func (r staffRows) SetDeactivated(ctx context.Context, id string, deactivated bool) error {
	return r.write(ctx, func(tx *Tx) error {
		at := sql.NullInt64{Int64: millis(tx.now), Valid: deactivated}
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET deactivated_at = CASE WHEN ? THEN COALESCE(deactivated_at, ?) END WHERE id = ?`,
			deactivated, at, id); err != nil {
			return fmt.Errorf("deactivate staff: %w", err)
		}
		return nil
	})
}

// DropPendingTransfers deletes the employee's transfers not yet applied
// (storage.Staff).
func (r staffRows) DropPendingTransfers(ctx context.Context, staffID string) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_transfers WHERE staff_id = ? AND applied_at IS NULL`, staffID); err != nil {
			return fmt.Errorf("replace pending transfer: %w", err)
		}
		return nil
	})
}

// AddTransfer stores a transfer not yet applied (storage.Staff).
func (r staffRows) AddTransfer(ctx context.Context, t *audit.StaffTransfer) error {
	return r.write(ctx, func(tx *Tx) error {
		t.ID, t.CreatedAt, t.Applied = uuid.NewString(), tx.now, false
		if _, err := tx.ExecContext(ctx, `INSERT INTO staff_transfers (id, staff_id, from_store_id, to_store_id, effective_date, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, t.ID, t.StaffID, nullString(t.FromStoreID), t.ToStoreID, t.EffectiveDate, t.CreatedBy, millis(tx.now)); err != nil {
			return fmt.Errorf("insert transfer: %w", err)
		}
		return nil
	})
}

// ApplyTransfer moves the employee of t to its store and marks it applied
// (storage.Staff).
func (r staffRows) ApplyTransfer(ctx context.Context, t audit.StaffTransfer) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET store_id = ?, store_since = ? WHERE id = ?`, t.ToStoreID, t.EffectiveDate, t.StaffID); err != nil {
			return fmt.Errorf("apply transfer: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE staff_transfers SET applied_at = ? WHERE id = ?`, millis(tx.now), t.ID); err != nil {
			return fmt.Errorf("apply transfer: %w", err)
		}
		return nil
	})
}

// Find returns the organisation's settings (storage.OrgSettings).
func (r orgSettingRows) Find(ctx context.Context) (*audit.OrgSettings, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.OrgSettings, error) {
		var s audit.OrgSettings
		var at int64
		err := tx.QueryRowContext(ctx, `SELECT time_zone, locale, currency, appeal_window_days, action_days_critical, action_days_major,
			review_wait_days, updated_at, updated_by FROM org_settings WHERE id = 1`).
			Scan(&s.TimeZone, &s.Locale, &s.Currency, &s.AppealWindowDays, &s.ActionDaysCritical, &s.ActionDaysMajor, &s.ReviewWaitDays, &at, &s.UpdatedBy)
		if err != nil {
			return nil, fmt.Errorf("read org settings: %w", err)
		}
		if at != 0 {
			s.UpdatedAt = fromMillis(at)
		}
		return &s, nil
	})
}

// Set stores the organisation's settings (storage.OrgSettings).
func (r orgSettingRows) Set(ctx context.Context, s audit.OrgSettings, by string) error {
	return r.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE org_settings SET time_zone = ?, locale = ?, currency = ?, appeal_window_days = ?,
			action_days_critical = ?, action_days_major = ?, review_wait_days = ?, updated_at = ?, updated_by = ? WHERE id = 1`,
			s.TimeZone, s.Locale, s.Currency, s.AppealWindowDays, s.ActionDaysCritical, s.ActionDaysMajor, s.ReviewWaitDays, millis(tx.now), by)
		if err != nil {
			return fmt.Errorf("store org settings: %w", err)
		}
		return nil
	})
}

// staffStoreAt returns the store the employee staffID worked at at time t
// ("" for none, or an unknown employee): the store of his last transfer
// dated on or before t's day in the organisation's time zone, else the
// store he left by his first transfer dated after it, else his current
// store. A visit is judged against the staff of its own day, so one synced
// after the employee moved is not misjudged.
func staffStoreAt(ctx context.Context, tx *Tx, staffID string, t time.Time) (string, error) {
	var zone string
	if err := tx.QueryRowContext(ctx, `SELECT time_zone FROM org_settings WHERE id = 1`).Scan(&zone); err != nil {
		return "", fmt.Errorf("read org time zone: %w", err)
	}
	loc, err := orgLocation(zone)
	if err != nil {
		return "", err
	}
	day := t.In(loc).Format(time.DateOnly)
	for _, q := range []string{
		`SELECT to_store_id FROM staff_transfers WHERE staff_id = ?1 AND effective_date <= ?2 ORDER BY effective_date DESC, created_at DESC LIMIT 1`,
		`SELECT COALESCE(from_store_id, '') FROM staff_transfers WHERE staff_id = ?1 AND effective_date > ?2 ORDER BY effective_date, created_at LIMIT 1`,
		`SELECT COALESCE(store_id, '') FROM staff WHERE id = ?1`,
	} {
		var store string
		err := tx.QueryRowContext(ctx, q, staffID, day).Scan(&store)
		if err == nil {
			return store, nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("staff store at %s: %w", day, err)
		}
	}
	return "", nil
}

// locations caches the time zones LoadLocation has read, by name.
var locations sync.Map

// orgLocation returns the time zone named zone (stored validated).
func orgLocation(zone string) (*time.Location, error) {
	if l, ok := locations.Load(zone); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("stored time zone %q: %w", zone, err)
	}
	locations.Store(zone, l)
	return l, nil
}

// StoreAt returns the store a staff member worked at on t's day
// (storage.Staff).
func (r staffRows) StoreAt(ctx context.Context, staffID string, t time.Time) (string, error) {
	return get(ctx, r.rows, func(tx *Tx) (string, error) { return staffStoreAt(ctx, tx, staffID, t) })
}
