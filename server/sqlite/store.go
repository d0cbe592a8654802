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

// storeScope returns an SQL condition on the store id column col that
// holds only for stores in scope, with its arguments.
func storeScope(sc audit.Scope, col string) (string, []any) {
	switch {
	case sc.All:
		return "1", nil
	case sc.ManagerID != "":
		return col + ` IN (SELECT store_id FROM store_managers WHERE user_id = ?)`, []any{sc.ManagerID}
	case sc.ShopperID != "":
		return col + ` IN (SELECT store_id FROM assignments WHERE shopper_id = ?)`, []any{sc.ShopperID}
	}
	return "0", nil
}

// insertStore stores s without managers, assigning ID and CreatedAt.
// Errors: EEXISTS (the code is taken).
func insertStore(ctx context.Context, tx *Tx, s *audit.Store) error {
	s.ID, s.CreatedAt = uuid.NewString(), tx.now
	_, err := tx.ExecContext(ctx, `INSERT INTO stores (id, code, name, address, region, latitude, longitude, geofence_meters, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.ID, s.Code, s.Name, s.Address, s.Region, s.Latitude, s.Longitude, s.GeofenceMeters, millis(tx.now))
	if isUniqueViolation(err) {
		return audit.Errorf(audit.EEXISTS, "a store with code %s already exists", s.Code)
	} else if err != nil {
		return fmt.Errorf("insert store: %w", err)
	}
	return nil
}

// updateStoreFields replaces the editable fields of the store s.ID but its
// managers. Errors: EEXISTS (the code is taken).
func updateStoreFields(ctx context.Context, tx *Tx, s *audit.Store) error {
	_, err := tx.ExecContext(ctx, `UPDATE stores SET code = ?, name = ?, address = ?, region = ?, latitude = ?, longitude = ?, geofence_meters = ?
		WHERE id = ?`, s.Code, s.Name, s.Address, s.Region, s.Latitude, s.Longitude, s.GeofenceMeters, s.ID)
	if isUniqueViolation(err) {
		return audit.Errorf(audit.EEXISTS, "a store with code %s already exists", s.Code)
	} else if err != nil {
		return fmt.Errorf("update store: %w", err)
	}
	return nil
}

// Create stores s without managers (storage.Stores). Errors: EEXISTS.
func (r storeRows) Create(ctx context.Context, s *audit.Store) error {
	return r.write(ctx, func(tx *Tx) error { return insertStore(ctx, tx, s) })
}

// Update replaces the fields of the store s.ID but its managers
// (storage.Stores). Errors: EEXISTS.
func (r storeRows) Update(ctx context.Context, s *audit.Store) error {
	return r.write(ctx, func(tx *Tx) error { return updateStoreFields(ctx, tx, s) })
}

// SetManagers replaces the managers of a store (storage.Stores).
func (r storeRows) SetManagers(ctx context.Context, storeID string, userIDs []string) error {
	return r.write(ctx, func(tx *Tx) error { return replaceStoreManagers(ctx, tx, true, storeID, userIDs) })
}

// replaceStoreManagers replaces the rows of store_managers of one store
// (byStore: key is a store id, others user ids) or of one manager (key a
// user id, others store ids).
func replaceStoreManagers(ctx context.Context, tx *Tx, byStore bool, key string, others []string) error {
	del := `DELETE FROM store_managers WHERE user_id = ?`
	if byStore {
		del = `DELETE FROM store_managers WHERE store_id = ?`
	}
	if _, err := tx.ExecContext(ctx, del, key); err != nil {
		return fmt.Errorf("replace store managers: %w", err)
	}
	for _, other := range others {
		store, user := other, key
		if byStore {
			store, user = key, other
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO store_managers (store_id, user_id) VALUES (?, ?)`, store, user); err != nil {
			return fmt.Errorf("insert store manager: %w", err)
		}
	}
	return nil
}

// SetDeactivated closes (or opens again) a store (storage.Stores). Errors:
// ENOTFOUND.
func (r storeRows) SetDeactivated(ctx context.Context, id string, deactivated bool) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := findStore(ctx, tx, audit.Scope{All: true}, id); err != nil {
			return err
		}
		at := sql.NullInt64{Int64: millis(tx.now), Valid: deactivated}
		if _, err := tx.ExecContext(ctx, `UPDATE stores SET deactivated_at = CASE WHEN ? THEN COALESCE(deactivated_at, ?) END WHERE id = ?`,
			deactivated, at, id); err != nil {
			return fmt.Errorf("deactivate store: %w", err)
		}
		return nil
	})
}

// Touch moves the store's live assignments in the feeds (storage.Stores).
func (r storeRows) Touch(ctx context.Context, storeID string) error {
	return r.write(ctx, func(tx *Tx) error { return touchStoreAssignments(ctx, tx, storeID) })
}

const storeSelect = `SELECT id, code, name, address, region, latitude, longitude, geofence_meters, created_at,
	COALESCE((SELECT group_concat(user_id, char(31)) FROM (SELECT m.user_id FROM store_managers m WHERE m.store_id = s.id ORDER BY m.user_id)), ''),
	COALESCE((SELECT group_concat(display_name, char(31)) FROM (SELECT u.display_name FROM store_managers m JOIN users u ON u.id = m.user_id
		WHERE m.store_id = s.id ORDER BY m.user_id)), ''),
	COALESCE(deactivated_at, 0)
	FROM stores s`

func scanStore(row scanner) (*audit.Store, error) {
	var s audit.Store
	var created int64
	var managers, names string
	var deactivated int64
	if err := row.Scan(&s.ID, &s.Code, &s.Name, &s.Address, &s.Region, &s.Latitude, &s.Longitude, &s.GeofenceMeters, &created, &managers,
		&names, &deactivated); err != nil {
		return nil, err
	}
	s.CreatedAt = fromMillis(created)
	if managers != "" {
		s.ManagerIDs = strings.Split(managers, "\x1f")
		s.ManagerNames = strings.Split(names, "\x1f")
	}
	if deactivated != 0 {
		s.DeactivatedAt = fromMillis(deactivated)
	}
	return &s, nil
}

// Find returns a store in scope (storage.Stores). Errors: ENOTFOUND (also when the
// store exists outside the scope: a caller learns nothing of it).
func (r storeRows) Find(ctx context.Context, scope audit.Scope, id string) (*audit.Store, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.Store, error) { return findStore(ctx, tx, scope, id) })
}

func findStore(ctx context.Context, tx *Tx, scope audit.Scope, id string) (*audit.Store, error) {
	return findStoreWhere(ctx, tx, scope, "s.id", id, fmt.Sprintf("store %q not found", id))
}

// findStoreWhere returns the store in scope whose column col holds value;
// notFound is the message of the ENOTFOUND error when there is none.
func findStoreWhere(ctx context.Context, tx *Tx, scope audit.Scope, col, value, notFound string) (*audit.Store, error) {
	cond, args := storeScope(scope, "s.id")
	s, err := scanStore(tx.QueryRowContext(ctx, storeSelect+` WHERE `+col+` = ? AND `+cond, append([]any{value}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, audit.Errorf(audit.ENOTFOUND, "%s", notFound)
	} else if err != nil {
		return nil, fmt.Errorf("find store: %w", err)
	}
	return s, nil
}

// FindByCode returns a store in scope by its code (storage.Stores).
// Errors: ENOTFOUND (also outside the scope).
func (r storeRows) FindByCode(ctx context.Context, scope audit.Scope, code string) (*audit.Store, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.Store, error) {
		return findStoreWhere(ctx, tx, scope, "s.code", code, noStoreCode(code))
	})
}

// noStoreCode says that no store in the caller's scope has the code,
// whether one outside it does or none at all.
func noStoreCode(code string) string { return "no store with code " + code }

// List returns the stores in scope ordered by code, with managers
// (storage.Stores).
func (r storeRows) List(ctx context.Context, f audit.StoreFilter) ([]*audit.Store, error) {
	cond, args := storeScope(f.Scope, "s.id")
	q := storeSelect + ` WHERE ` + cond
	if f.Region != "" {
		q += ` AND s.region = ?`
		args = append(args, f.Region)
	}
	if !f.IncludeDeactivated {
		q += ` AND s.deactivated_at IS NULL`
	}
	if f.Query != "" {
		cond, qargs := matchText(f.Query, "s.code", "s.name")
		q += ` AND ` + cond
		args = append(args, qargs...)
	}
	return selectAll(ctx, r.rows, "list stores", scanStore, q+` ORDER BY s.code`, args...)
}

// Create stores s (storage.Staff). Errors: EEXISTS.
func (r staffRows) Create(ctx context.Context, s *audit.Staff) error {
	return r.write(ctx, func(tx *Tx) error { return insertStaff(ctx, tx, s) })
}

// insertStaff stores s, assigning ID and CreatedAt; the caller checks its
// store and moves the store's assignments in the feeds. Errors: EEXISTS
// (the employee number is taken).
func insertStaff(ctx context.Context, tx *Tx, s *audit.Staff) error {
	s.ID, s.CreatedAt = uuid.NewString(), tx.now
	_, err := tx.ExecContext(ctx, `INSERT INTO staff (id, employee_number, name, position, department, back_office, store_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, s.ID, s.EmployeeNumber, s.Name, s.Position, string(s.Department), s.BackOffice, nullString(s.StoreID), millis(tx.now))
	if isUniqueViolation(err) {
		return audit.Errorf(audit.EEXISTS, "staff with employee number %s already exists", s.EmployeeNumber)
	} else if err != nil {
		return fmt.Errorf("insert staff: %w", err)
	}
	return nil
}

// touchStoreAssignments moves the live assignments of a store in their
// shoppers' feeds, so that phones pull the store's new staff list with them.
func touchStoreAssignments(ctx context.Context, tx *Tx, storeID string) error {
	type row struct{ id, shopper string }
	rows, err := queryAll(ctx, tx, func(r scanner) (row, error) {
		var x row
		return x, r.Scan(&x.id, &x.shopper)
	}, `SELECT id, shopper_id FROM assignments WHERE store_id = ? AND shopper_id IS NOT NULL AND state IN ('open', 'accepted')`, storeID)
	if err != nil {
		return fmt.Errorf("store assignments: %w", err)
	}
	for _, r := range rows {
		if err := touchFeed(ctx, tx, r.shopper, feedAssignment, r.id); err != nil {
			return err
		}
	}
	return nil
}

// staffSelect reads staff (aliased sf) with their store's code and name.
const staffSelect = `SELECT sf.id, sf.employee_number, sf.name, sf.position, sf.department, sf.back_office, COALESCE(sf.store_id, ''),
	sf.created_at, COALESCE(st.code, ''), COALESCE(st.name, ''), COALESCE(sf.deactivated_at, 0), sf.store_since
	FROM staff sf LEFT JOIN stores st ON st.id = sf.store_id`

// List returns the staff of the stores in scope (all staff, including
// those tied to no store, for a scope of All), by employee number, after
// f.AfterNumber, at most f.Limit (all if zero) (storage.Staff).
func (r staffRows) List(ctx context.Context, f audit.StaffFilter) ([]*audit.Staff, error) {
	cond, args := storeScope(f.Scope, "sf.store_id")
	q := staffSelect + ` WHERE ` + cond
	add := func(clause string, v ...any) {
		q += ` AND ` + clause
		args = append(args, v...)
	}
	if f.StoreID != "" {
		add(`sf.store_id = ?`, f.StoreID)
	}
	if !f.IncludeDeactivated {
		add(`sf.deactivated_at IS NULL`)
	}
	if f.Query != "" {
		cond, qargs := matchText(f.Query, "sf.name", "sf.employee_number")
		add(cond, qargs...)
	}
	if f.AfterNumber != "" {
		add(`sf.employee_number > ?`, f.AfterNumber)
	}
	q += ` ORDER BY sf.employee_number`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	return selectAll(ctx, r.rows, "list staff", scanStaff, q, args...)
}

func scanStaff(row scanner) (*audit.Staff, error) {
	var s audit.Staff
	var dept string
	var created, deactivated int64
	if err := row.Scan(&s.ID, &s.EmployeeNumber, &s.Name, &s.Position, &dept, &s.BackOffice, &s.StoreID, &created,
		&s.StoreCode, &s.StoreName, &deactivated, &s.StoreSince); err != nil {
		return nil, err
	}
	s.Department, s.CreatedAt = audit.Department(dept), fromMillis(created)
	if deactivated != 0 {
		s.DeactivatedAt = fromMillis(deactivated)
	}
	return &s, nil
}
