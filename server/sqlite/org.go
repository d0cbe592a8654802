package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/shopscore/shopscore/audit"
)

// UpdateStore replaces the editable fields of the store s.ID in scope:
// code, name, address, region, position, geofence, and its managers when
// setManagers. Errors: EINVALID, EEXISTS (the code is taken), ENOTFOUND,
// EFORBIDDEN (managers changed without setManagers).
func (db *DB) UpdateStore(ctx context.Context, scope audit.Scope, s *audit.Store, setManagers bool) (*audit.Store, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var out *audit.Store
	err := db.update(ctx, func(tx *Tx) error {
		old, err := findStore(ctx, tx, scope, s.ID)
		if err != nil {
			return err
		}
		if err := updateStoreFields(ctx, tx, s); err != nil {
			return err
		}
		want := slices.Sorted(slices.Values(s.ManagerIDs))
		if !slices.Equal(slices.Compact(want), old.ManagerIDs) {
			if !setManagers {
				return audit.Errorf(audit.EFORBIDDEN, "store %s: only an admin may change a store's managers", old.Code)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM store_managers WHERE store_id = ?`, s.ID); err != nil {
				return fmt.Errorf("update store managers: %w", err)
			}
			if err := addStoreManagers(ctx, tx, s.ID, s.Code, s.ManagerIDs); err != nil {
				return err
			}
		}
		if err := touchStoreAssignments(ctx, tx, s.ID); err != nil {
			return err
		}
		out, err = findStore(ctx, tx, audit.Scope{All: true}, s.ID)
		return err
	})
	return out, err
}

// SetStoreDeactivated closes (or opens again) a store. Its visits, staff and
// history stay. Errors: ENOTFOUND.
func (db *DB) SetStoreDeactivated(ctx context.Context, id string, deactivated bool) (*audit.Store, error) {
	var out *audit.Store
	err := db.update(ctx, func(tx *Tx) error {
		if _, err := findStore(ctx, tx, audit.Scope{All: true}, id); err != nil {
			return err
		}
		at := sql.NullInt64{Int64: millis(tx.now), Valid: deactivated}
		if _, err := tx.ExecContext(ctx, `UPDATE stores SET deactivated_at = CASE WHEN ? THEN COALESCE(deactivated_at, ?) END WHERE id = ?`,
			deactivated, at, id); err != nil {
			return fmt.Errorf("deactivate store: %w", err)
		}
		var err error
		out, err = findStore(ctx, tx, audit.Scope{All: true}, id)
		return err
	})
	return out, err
}

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

// FindStaff returns an employee of the stores in scope by id or, when id
// is empty, by employee number, with his transfers newest first. Errors:
// ENOTFOUND (also outside the scope).
func (db *DB) FindStaff(ctx context.Context, scope audit.Scope, id, number string) (*audit.Staff, []audit.StaffTransfer, error) {
	var s *audit.Staff
	var ts []audit.StaffTransfer
	err := db.view(ctx, func(tx *Tx) error {
		var err error
		if id != "" {
			s, err = findStaffWhere(ctx, tx, scope, "sf.id", id)
		} else {
			s, err = findStaffWhere(ctx, tx, scope, "sf.employee_number", number)
		}
		if err != nil {
			return err
		}
		ts, err = staffTransfers(ctx, tx, s.ID, false)
		return err
	})
	return s, ts, err
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

// staffTransfers returns an employee's transfers newest first, or only
// those not yet applied.
func staffTransfers(ctx context.Context, tx *Tx, staffID string, pendingOnly bool) ([]audit.StaffTransfer, error) {
	q := transferSelect + ` WHERE t.staff_id = ?`
	if pendingOnly {
		q += ` AND t.applied_at IS NULL`
	}
	out, err := queryAll(ctx, tx, scanTransfer, q+` ORDER BY t.effective_date DESC, t.created_at DESC`, staffID)
	if err != nil {
		return nil, fmt.Errorf("staff transfers: %w", err)
	}
	return out, nil
}

// PendingTransfer returns the employee's transfer waiting for its day, if
// any.
func (db *DB) PendingTransfer(ctx context.Context, staffID string) (*audit.StaffTransfer, error) {
	var out *audit.StaffTransfer
	err := db.view(ctx, func(tx *Tx) error {
		ts, err := staffTransfers(ctx, tx, staffID, true)
		if len(ts) > 0 {
			out = &ts[0]
		}
		return err
	})
	return out, err
}

// UpdateStaff replaces the editable fields of the employee s.ID in scope:
// employee number, name, position, department, back office. Errors:
// EINVALID, EEXISTS (the number is taken), ENOTFOUND.
func (db *DB) UpdateStaff(ctx context.Context, scope audit.Scope, s *audit.Staff) (*audit.Staff, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var out *audit.Staff
	err := db.update(ctx, func(tx *Tx) error {
		old, err := findStaffWhere(ctx, tx, scope, "sf.id", s.ID)
		if err != nil {
			return err
		}
		if err := updateStaffFields(ctx, tx, s); err != nil {
			return err
		}
		if old.StoreID != "" {
			if err := touchStoreAssignments(ctx, tx, old.StoreID); err != nil {
				return err
			}
		}
		out, err = findStaffWhere(ctx, tx, audit.Scope{All: true}, "sf.id", s.ID)
		return err
	})
	return out, err
}

// updateStaffFields replaces the editable fields of the employee s.ID but
// his store. Errors: EEXISTS (the number is taken).
func updateStaffFields(ctx context.Context, tx *Tx, s *audit.Staff) error {
	_, err := tx.ExecContext(ctx, `UPDATE staff SET employee_number = ?, name = ?, position = ?, department = ?, back_office = ? WHERE id = ?`,
		s.EmployeeNumber, s.Name, s.Position, string(s.Department), s.BackOffice, s.ID)
	if isUniqueViolation(err) {
		return audit.Errorf(audit.EEXISTS, "staff with employee number %s already exists", s.EmployeeNumber)
	} else if err != nil {
		return fmt.Errorf("update staff: %w", err)
	}
	return nil
}

// SetStaffDeactivated marks an employee of the stores in scope as gone (or
// back). Visits naming him stay. Errors: ENOTFOUND.
func (db *DB) SetStaffDeactivated(ctx context.Context, scope audit.Scope, id string, deactivated bool) (*audit.Staff, error) {
	var out *audit.Staff
	err := db.update(ctx, func(tx *Tx) error {
		old, err := findStaffWhere(ctx, tx, scope, "sf.id", id)
		if err != nil {
			return err
		}
		at := sql.NullInt64{Int64: millis(tx.now), Valid: deactivated}
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET deactivated_at = CASE WHEN ? THEN COALESCE(deactivated_at, ?) END WHERE id = ?`,
			deactivated, at, id); err != nil {
			return fmt.Errorf("deactivate staff: %w", err)
		}
		if old.StoreID != "" {
			if err := touchStoreAssignments(ctx, tx, old.StoreID); err != nil {
				return err
			}
		}
		out, err = findStaffWhere(ctx, tx, audit.Scope{All: true}, "sf.id", id)
		return err
	})
	return out, err
}

// TransferStaff records the move of an employee of the stores in scope to
// the store toStoreID (also in scope) from date on; a date not after today
// applies at once. A transfer not yet applied is replaced. Errors:
// ENOTFOUND, EPRECONDITION (the target store or the employee is
// deactivated, or he is at that store already).
func (db *DB) TransferStaff(ctx context.Context, scope audit.Scope, staffID, toStoreID, date, today, by string) (*audit.Staff, *audit.StaffTransfer, error) {
	var out *audit.Staff
	var tr audit.StaffTransfer
	err := db.update(ctx, func(tx *Tx) error {
		s, err := findStaffWhere(ctx, tx, scope, "sf.id", staffID)
		if err != nil {
			return err
		}
		to, err := findStore(ctx, tx, scope, toStoreID)
		if err != nil {
			return err
		}
		id, err := transfer(ctx, tx, s, to, date, today, by)
		if err != nil {
			return err
		}
		if tr, err = scanTransfer(tx.QueryRowContext(ctx, transferSelect+` WHERE t.id = ?`, id)); err != nil {
			return fmt.Errorf("read transfer: %w", err)
		}
		out, err = findStaffWhere(ctx, tx, audit.Scope{All: true}, "sf.id", staffID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return out, &tr, nil
}

// transfer records the move of employee s to store to from date on,
// replacing a transfer not yet applied, and applies it when date is not
// after today; it returns the transfer's id. Errors: EPRECONDITION (the
// store or the employee is deactivated, or he is at that store already).
func transfer(ctx context.Context, tx *Tx, s *audit.Staff, to *audit.Store, date, today, by string) (string, error) {
	switch {
	case !to.DeactivatedAt.IsZero():
		return "", audit.Errorf(audit.EPRECONDITION, "store %s is deactivated", to.Code)
	case !s.DeactivatedAt.IsZero():
		return "", audit.Errorf(audit.EPRECONDITION, "staff %s is deactivated; reactivate him first", s.EmployeeNumber)
	case s.StoreID == to.ID:
		return "", audit.Errorf(audit.EPRECONDITION, "staff %s already works at %s", s.EmployeeNumber, to.Code)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM staff_transfers WHERE staff_id = ? AND applied_at IS NULL`, s.ID); err != nil {
		return "", fmt.Errorf("replace pending transfer: %w", err)
	}
	id := uuid.NewString()
	if _, err := tx.ExecContext(ctx, `INSERT INTO staff_transfers (id, staff_id, from_store_id, to_store_id, effective_date, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, s.ID, nullString(s.StoreID), to.ID, date, by, millis(tx.now)); err != nil {
		return "", fmt.Errorf("insert transfer: %w", err)
	}
	if date <= today {
		if err := applyTransfer(ctx, tx, id); err != nil {
			return "", err
		}
	}
	return id, nil
}

// applyTransfer moves the employee of transfer id to its store, and both
// stores' live assignments in their shoppers' feeds (phones pull the new
// staff lists).
func applyTransfer(ctx context.Context, tx *Tx, id string) error {
	var staffID, from, to, date string
	if err := tx.QueryRowContext(ctx, `SELECT staff_id, COALESCE(from_store_id, ''), to_store_id, effective_date FROM staff_transfers WHERE id = ?`, id).
		Scan(&staffID, &from, &to, &date); err != nil {
		return fmt.Errorf("read transfer: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE staff SET store_id = ?, store_since = ? WHERE id = ?`, to, date, staffID); err != nil {
		return fmt.Errorf("apply transfer: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE staff_transfers SET applied_at = ? WHERE id = ?`, millis(tx.now), id); err != nil {
		return fmt.Errorf("apply transfer: %w", err)
	}
	for _, st := range []string{from, to} {
		if st == "" {
			continue
		}
		if err := touchStoreAssignments(ctx, tx, st); err != nil {
			return err
		}
	}
	return nil
}

// ApplyDueTransfers applies every transfer dated today or earlier that is
// still waiting, and returns how many it applied.
func (db *DB) ApplyDueTransfers(ctx context.Context, today string) (int, error) {
	n := 0
	err := db.update(ctx, func(tx *Tx) error {
		ids, err := queryAll(ctx, tx, func(r scanner) (string, error) {
			var id string
			return id, r.Scan(&id)
		}, `SELECT id FROM staff_transfers WHERE applied_at IS NULL AND effective_date <= ? ORDER BY effective_date, created_at`, today)
		if err != nil {
			return fmt.Errorf("due transfers: %w", err)
		}
		for _, id := range ids {
			if err := applyTransfer(ctx, tx, id); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}

// Find returns the organisation's settings (storage.OrgSettings).
func (r orgSettingRows) Find(ctx context.Context) (*audit.OrgSettings, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.OrgSettings, error) {
		var s audit.OrgSettings
		var at int64
		err := tx.QueryRowContext(ctx, `SELECT time_zone, locale, currency, updated_at, updated_by FROM org_settings WHERE id = 1`).
			Scan(&s.TimeZone, &s.Locale, &s.Currency, &at, &s.UpdatedBy)
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
		_, err := tx.ExecContext(ctx, `UPDATE org_settings SET time_zone = ?, locale = ?, currency = ?, updated_at = ?, updated_by = ? WHERE id = 1`,
			s.TimeZone, s.Locale, s.Currency, millis(tx.now), by)
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
