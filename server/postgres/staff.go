package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopscore/shopscore/audit"
)

// numberTaken is the EEXISTS error of an employee number in use.
func numberTaken(number string) error {
	return audit.Errorf(audit.EEXISTS, "staff with employee number %s already exists", number)
}

// Create stores s, assigning ID and CreatedAt (storage.Staff). Errors:
// EEXISTS (the employee number is taken), ENOTFOUND (no such store).
func (r staffRows) Create(ctx context.Context, s *audit.Staff) error {
	return r.write(ctx, func(tx *Tx) error {
		id := uuid.NewString()
		_, err := tx.Exec(ctx, `INSERT INTO staff (id, employee_number, name, position, department, back_office, store_id, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, s.EmployeeNumber, s.Name, s.Position, string(s.Department), s.BackOffice,
			nullString(s.StoreID), tx.now)
		switch {
		case isUniqueViolation(err):
			return numberTaken(s.EmployeeNumber)
		case isForeignKeyViolation(err):
			return audit.Errorf(audit.ENOTFOUND, "store %q not found", s.StoreID)
		case err != nil:
			return fmt.Errorf("insert staff: %w", err)
		}
		s.ID, s.CreatedAt = id, tx.now
		return nil
	})
}

// Update replaces the fields of the employee s.ID but his store and
// deactivation (storage.Staff). Errors: EEXISTS (the number is taken).
func (r staffRows) Update(ctx context.Context, s *audit.Staff) error {
	_, err := exec(ctx, r.rows, "update staff", `UPDATE staff SET employee_number = $1, name = $2, position = $3, department = $4,
		back_office = $5 WHERE id = $6`, s.EmployeeNumber, s.Name, s.Position, string(s.Department), s.BackOffice, s.ID)
	if isUniqueViolation(err) {
		return numberTaken(s.EmployeeNumber)
	}
	return err
}

// SetDeactivated marks an employee gone at the transaction's time
// (keeping an earlier time) or back (storage.Staff).
func (r staffRows) SetDeactivated(ctx context.Context, id string, deactivated bool) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE staff SET deactivated_at = CASE WHEN $1 THEN COALESCE(deactivated_at, $2) END WHERE id = $3`,
			deactivated, tx.now, id); err != nil {
			return fmt.Errorf("deactivate staff: %w", err)
		}
		return nil
	})
}

// staffSelect reads staff (aliased sf) with their store's code and name.
const staffSelect = `SELECT sf.id, sf.employee_number, sf.name, sf.position, sf.department, sf.back_office, COALESCE(sf.store_id, ''),
	sf.created_at, COALESCE(st.code, ''), COALESCE(st.name, ''), sf.deactivated_at, sf.store_since
	FROM staff sf LEFT JOIN stores st ON st.id = sf.store_id`

func scanStaff(row pgx.Row) (*audit.Staff, error) {
	var s audit.Staff
	var dept string
	var deactivated *time.Time
	if err := row.Scan(&s.ID, &s.EmployeeNumber, &s.Name, &s.Position, &dept, &s.BackOffice, &s.StoreID, &s.CreatedAt,
		&s.StoreCode, &s.StoreName, &deactivated, &s.StoreSince); err != nil {
		return nil, err
	}
	s.Department, s.DeactivatedAt = audit.Department(dept), timeOf(deactivated)
	return &s, nil
}

// Find returns an employee of the stores in scope by id (storage.Staff).
// Errors: ENOTFOUND (also outside the scope).
func (r staffRows) Find(ctx context.Context, scope audit.Scope, id string) (*audit.Staff, error) {
	return r.findWhere(ctx, scope, "sf.id", id)
}

// FindByNumber returns an employee of the stores in scope by employee
// number (storage.Staff). Errors: ENOTFOUND (also outside the scope).
func (r staffRows) FindByNumber(ctx context.Context, scope audit.Scope, number string) (*audit.Staff, error) {
	return r.findWhere(ctx, scope, "sf.employee_number", number)
}

// findWhere returns the employee in scope whose column col holds value.
func (r staffRows) findWhere(ctx context.Context, scope audit.Scope, col, value string) (*audit.Staff, error) {
	var a args
	q := staffSelect + ` WHERE ` + col + ` = ` + a.add(value) + ` AND ` + storeScope(&a, scope, "sf.store_id")
	return selectOne(ctx, r.rows, "find staff", fmt.Sprintf("staff %q not found", value), scanStaff, q, a...)
}

// List returns the staff of the stores in scope (all staff, including
// those tied to no store, for a scope of All), by employee number
// (bytewise, as SQLite orders them), after f.AfterNumber, at most f.Limit
// (all if zero) (storage.Staff).
func (r staffRows) List(ctx context.Context, f audit.StaffFilter) ([]*audit.Staff, error) {
	var a args
	q := staffSelect + ` WHERE ` + storeScope(&a, f.Scope, "sf.store_id")
	if f.StoreID != "" {
		q += ` AND sf.store_id = ` + a.add(f.StoreID)
	}
	if !f.IncludeDeactivated {
		q += ` AND sf.deactivated_at IS NULL`
	}
	if f.Query != "" {
		q += ` AND ` + matchText(&a, f.Query, "sf.name", "sf.employee_number")
	}
	if f.AfterNumber != "" {
		q += ` AND sf.employee_number COLLATE "C" > ` + a.add(f.AfterNumber)
	}
	q += ` ORDER BY sf.employee_number COLLATE "C"`
	if f.Limit > 0 {
		q += ` LIMIT ` + a.add(f.Limit)
	}
	return selectAll(ctx, r.rows, "list staff", scanStaff, q, a...)
}

// transferSelect reads transfers (aliased t) with their stores' codes and
// names and the name of the user who made them.
const transferSelect = `SELECT t.id, t.staff_id, COALESCE(t.from_store_id, ''), COALESCE(f.code, ''), COALESCE(f.name, ''),
	t.to_store_id, o.code, o.name, t.effective_date, t.applied_at IS NOT NULL, t.created_by, COALESCE(u.display_name, ''), t.created_at
	FROM staff_transfers t LEFT JOIN stores f ON f.id = t.from_store_id JOIN stores o ON o.id = t.to_store_id
	LEFT JOIN users u ON u.id = t.created_by`

func scanTransfer(row pgx.Row) (audit.StaffTransfer, error) {
	var t audit.StaffTransfer
	err := row.Scan(&t.ID, &t.StaffID, &t.FromStoreID, &t.FromStoreCode, &t.FromStoreName, &t.ToStoreID, &t.ToStoreCode, &t.ToStoreName,
		&t.EffectiveDate, &t.Applied, &t.CreatedBy, &t.CreatedByName, &t.CreatedAt)
	return t, err
}

// AddTransfer stores t, assigning ID and CreatedAt, not yet applied
// (storage.Staff). Errors: ENOTFOUND (no such employee or store).
func (r staffRows) AddTransfer(ctx context.Context, t *audit.StaffTransfer) error {
	return r.write(ctx, func(tx *Tx) error {
		id := uuid.NewString()
		_, err := tx.Exec(ctx, `INSERT INTO staff_transfers (id, staff_id, from_store_id, to_store_id, effective_date, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, t.StaffID, nullString(t.FromStoreID), t.ToStoreID, t.EffectiveDate, t.CreatedBy, tx.now)
		if isForeignKeyViolation(err) {
			return audit.Errorf(audit.ENOTFOUND, "transfer of %q: no such employee or store", t.StaffID)
		} else if err != nil {
			return fmt.Errorf("insert transfer: %w", err)
		}
		t.ID, t.CreatedAt, t.Applied = id, tx.now, false
		return nil
	})
}

// DropPendingTransfers deletes the employee's transfers not yet applied
// (storage.Staff).
func (r staffRows) DropPendingTransfers(ctx context.Context, staffID string) error {
	_, err := exec(ctx, r.rows, "replace pending transfer", `DELETE FROM staff_transfers WHERE staff_id = $1 AND applied_at IS NULL`, staffID)
	return err
}

// FindTransfer returns one transfer (storage.Staff). Errors: ENOTFOUND.
func (r staffRows) FindTransfer(ctx context.Context, id string) (*audit.StaffTransfer, error) {
	return query(ctx, r.rows, func(tx *Tx) (*audit.StaffTransfer, error) {
		t, err := scanTransfer(tx.QueryRow(ctx, transferSelect+` WHERE t.id = $1`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "transfer %q not found", id)
		} else if err != nil {
			return nil, fmt.Errorf("read transfer: %w", err)
		}
		return &t, nil
	})
}

// Transfers returns an employee's transfers newest first, or only those
// not yet applied (storage.Staff).
func (r staffRows) Transfers(ctx context.Context, staffID string, pendingOnly bool) ([]audit.StaffTransfer, error) {
	q := transferSelect + ` WHERE t.staff_id = $1`
	if pendingOnly {
		q += ` AND t.applied_at IS NULL`
	}
	return selectAll(ctx, r.rows, "staff transfers", scanTransfer, q+` ORDER BY t.effective_date COLLATE "C" DESC, t.created_at DESC`, staffID)
}

// DueTransfers returns the transfers not yet applied dated on or before
// day (YYYY-MM-DD), oldest first (storage.Staff).
func (r staffRows) DueTransfers(ctx context.Context, day string) ([]audit.StaffTransfer, error) {
	return selectAll(ctx, r.rows, "due transfers", scanTransfer, transferSelect+` WHERE t.applied_at IS NULL
		AND t.effective_date COLLATE "C" <= $1 ORDER BY t.effective_date COLLATE "C", t.created_at`, day)
}

// ApplyTransfer puts the employee of t at its store from its date on and
// marks it applied at the transaction's time (storage.Staff).
func (r staffRows) ApplyTransfer(ctx context.Context, t audit.StaffTransfer) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE staff SET store_id = $1, store_since = $2 WHERE id = $3`, t.ToStoreID, t.EffectiveDate, t.StaffID); err != nil {
			return fmt.Errorf("apply transfer: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE staff_transfers SET applied_at = $1 WHERE id = $2`, tx.now, t.ID); err != nil {
			return fmt.Errorf("apply transfer: %w", err)
		}
		return nil
	})
}

// StoreAt returns the store staffID worked at on t's day in the
// organisation's time zone, by the rule of server/sqlite's StoreAt: his
// last transfer dated on or before the day, else the store he left by his
// first transfer after it, else his current store; "" for none or an
// unknown employee (storage.Staff).
func (r staffRows) StoreAt(ctx context.Context, staffID string, t time.Time) (string, error) {
	return query(ctx, r.rows, func(tx *Tx) (string, error) {
		var zone string
		if err := tx.QueryRow(ctx, `SELECT time_zone FROM org_settings WHERE id = 1`).Scan(&zone); err != nil {
			return "", fmt.Errorf("read org time zone: %w", err)
		}
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return "", fmt.Errorf("stored time zone %q: %w", zone, err)
		}
		day := t.In(loc).Format(time.DateOnly)
		for _, q := range []string{
			`SELECT to_store_id FROM staff_transfers WHERE staff_id = $1 AND effective_date COLLATE "C" <= $2 ORDER BY effective_date COLLATE "C" DESC, created_at DESC LIMIT 1`,
			`SELECT COALESCE(from_store_id, '') FROM staff_transfers WHERE staff_id = $1 AND effective_date COLLATE "C" > $2 ORDER BY effective_date COLLATE "C", created_at LIMIT 1`,
			`SELECT COALESCE(store_id, '') FROM staff WHERE id = $1 AND $2::text IS NOT NULL`,
		} {
			var store string
			err := tx.QueryRow(ctx, q, staffID, day).Scan(&store)
			if err == nil {
				return store, nil
			} else if !errors.Is(err, pgx.ErrNoRows) {
				return "", fmt.Errorf("staff store at %s: %w", day, err)
			}
		}
		return "", nil
	})
}
