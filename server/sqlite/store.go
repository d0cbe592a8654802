package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/shopscore/shopscore/audit"
)

// CreateStore stores s and its managers, assigning ID and CreatedAt.
// Errors: EINVALID, EEXISTS (the code is taken), ENOTFOUND (a manager).
func (db *DB) CreateStore(ctx context.Context, s *audit.Store) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		s.ID, s.CreatedAt = uuid.NewString(), tx.now
		_, err := tx.ExecContext(ctx, `INSERT INTO stores (id, code, name, address, region, latitude, longitude, geofence_meters, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.ID, s.Code, s.Name, s.Address, s.Region, s.Latitude, s.Longitude, s.GeofenceMeters, millis(tx.now))
		if isUniqueViolation(err) {
			return audit.Errorf(audit.EEXISTS, "a store with code %s already exists", s.Code)
		} else if err != nil {
			return fmt.Errorf("insert store: %w", err)
		}
		for _, m := range s.ManagerIDs {
			u, err := findUserByID(ctx, tx, m)
			if err != nil {
				return err
			}
			if u.Role != audit.RoleManager && u.Role != audit.RoleAdmin {
				return audit.Errorf(audit.EINVALID, "store %s: user %s is a %s, not a manager", s.Code, u.Email, u.Role)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO store_managers (store_id, user_id) VALUES (?, ?)`, s.ID, m); err != nil {
				return fmt.Errorf("insert store manager: %w", err)
			}
		}
		return nil
	})
}

// ListStores returns every store ordered by code, with its managers.
func (db *DB) ListStores(ctx context.Context) ([]*audit.Store, error) {
	var out []*audit.Store
	err := db.view(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, code, name, address, region, latitude, longitude, geofence_meters, created_at,
			COALESCE((SELECT group_concat(user_id) FROM store_managers m WHERE m.store_id = s.id), '')
			FROM stores s ORDER BY code`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s audit.Store
			var created int64
			var managers string
			if err := rows.Scan(&s.ID, &s.Code, &s.Name, &s.Address, &s.Region, &s.Latitude, &s.Longitude, &s.GeofenceMeters, &created, &managers); err != nil {
				return err
			}
			s.CreatedAt = fromMillis(created)
			s.ManagerIDs = splitList(managers)
			out = append(out, &s)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list stores: %w", err)
	}
	return out, nil
}

// CreateStaff stores s, assigning ID and CreatedAt. Errors: EINVALID,
// EEXISTS (the employee number is taken), ENOTFOUND (the store).
func (db *DB) CreateStaff(ctx context.Context, s *audit.Staff) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		s.ID, s.CreatedAt = uuid.NewString(), tx.now
		store := sql.NullString{String: s.StoreID, Valid: s.StoreID != ""}
		if store.Valid {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM stores WHERE id = ?`, s.StoreID).Scan(&n); err != nil {
				return fmt.Errorf("find store: %w", err)
			} else if n == 0 {
				return audit.Errorf(audit.ENOTFOUND, "staff %s: store %q not found", s.EmployeeNumber, s.StoreID)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO staff (id, employee_number, name, position, department, back_office, store_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, s.ID, s.EmployeeNumber, s.Name, s.Position, string(s.Department), s.BackOffice, store, millis(tx.now))
		if isUniqueViolation(err) {
			return audit.Errorf(audit.EEXISTS, "staff with employee number %s already exists", s.EmployeeNumber)
		} else if err != nil {
			return fmt.Errorf("insert staff: %w", err)
		}
		return nil
	})
}

// ListStaff returns every staff member ordered by employee number.
func (db *DB) ListStaff(ctx context.Context) ([]*audit.Staff, error) {
	var out []*audit.Staff
	err := db.view(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, employee_number, name, position, department, back_office, COALESCE(store_id, ''), created_at
			FROM staff ORDER BY employee_number`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s audit.Staff
			var dept string
			var created int64
			if err := rows.Scan(&s.ID, &s.EmployeeNumber, &s.Name, &s.Position, &dept, &s.BackOffice, &s.StoreID, &created); err != nil {
				return err
			}
			s.Department, s.CreatedAt = audit.Department(dept), fromMillis(created)
			out = append(out, &s)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	return out, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
