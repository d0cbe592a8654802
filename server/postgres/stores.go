package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopscore/shopscore/audit"
)

// feedAssignment is the feed kind of an assignment (its audience: the
// shopper who has or had it).
const feedAssignment = "assignment"

// storeScope returns a condition on the store id column col that holds
// only for stores in scope, adding its arguments to a.
func storeScope(a *args, sc audit.Scope, col string) string {
	switch {
	case sc.All:
		return "true"
	case sc.ManagerID != "":
		return col + ` IN (SELECT store_id FROM store_managers WHERE user_id = ` + a.add(sc.ManagerID) + `)`
	case sc.ShopperID != "":
		return col + ` IN (SELECT store_id FROM assignments WHERE shopper_id = ` + a.add(sc.ShopperID) + `)`
	}
	return "false"
}

// codeTaken is the EEXISTS error of a store code in use.
func codeTaken(code string) error {
	return audit.Errorf(audit.EEXISTS, "a store with code %s already exists", code)
}

// Create stores s without managers, assigning ID and CreatedAt
// (storage.Stores). Errors: EEXISTS (the code is taken).
func (r storeRows) Create(ctx context.Context, s *audit.Store) error {
	return r.write(ctx, func(tx *Tx) error {
		id := uuid.NewString()
		_, err := tx.Exec(ctx, `INSERT INTO stores (id, code, name, address, region, latitude, longitude, geofence_meters, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, id, s.Code, s.Name, s.Address, s.Region, s.Latitude, s.Longitude, s.GeofenceMeters, tx.now)
		if isUniqueViolation(err) {
			return codeTaken(s.Code)
		} else if err != nil {
			return fmt.Errorf("insert store: %w", err)
		}
		s.ID, s.CreatedAt = id, tx.now
		return nil
	})
}

// Update replaces the fields of the store s.ID but its managers and
// deactivation (storage.Stores). Errors: EEXISTS (the code is taken).
func (r storeRows) Update(ctx context.Context, s *audit.Store) error {
	_, err := exec(ctx, r.rows, "update store", `UPDATE stores SET code = $1, name = $2, address = $3, region = $4, latitude = $5,
		longitude = $6, geofence_meters = $7 WHERE id = $8`, s.Code, s.Name, s.Address, s.Region, s.Latitude, s.Longitude, s.GeofenceMeters, s.ID)
	if isUniqueViolation(err) {
		return codeTaken(s.Code)
	}
	return err
}

// SetManagers replaces the managers of a store (storage.Stores).
func (r storeRows) SetManagers(ctx context.Context, storeID string, userIDs []string) error {
	return r.write(ctx, func(tx *Tx) error { return replaceStoreManagers(ctx, tx, true, storeID, userIDs) })
}

// replaceStoreManagers replaces the rows of store_managers of one store
// (byStore: key is a store id, others user ids) or of one manager (key a
// user id, others store ids). Errors: ENOTFOUND (one of others does not
// exist).
func replaceStoreManagers(ctx context.Context, tx *Tx, byStore bool, key string, others []string) error {
	keyCol, otherCol := "user_id", "store_id"
	if byStore {
		keyCol, otherCol = otherCol, keyCol
	}
	if _, err := tx.Exec(ctx, `DELETE FROM store_managers WHERE `+keyCol+` = $1`, key); err != nil {
		return fmt.Errorf("replace store managers: %w", err)
	}
	_, err := tx.Exec(ctx, `INSERT INTO store_managers (`+keyCol+`, `+otherCol+`) SELECT $1, unnest($2::text[])
		ON CONFLICT DO NOTHING`, key, others)
	if isForeignKeyViolation(err) {
		return audit.Errorf(audit.ENOTFOUND, "store managers: a store or user does not exist")
	} else if err != nil {
		return fmt.Errorf("insert store manager: %w", err)
	}
	return nil
}

// SetDeactivated closes a store at the transaction's time (keeping an
// earlier closing time) or opens it again (storage.Stores). Errors:
// ENOTFOUND.
func (r storeRows) SetDeactivated(ctx context.Context, id string, deactivated bool) error {
	return r.write(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE stores SET deactivated_at = CASE WHEN $1 THEN COALESCE(deactivated_at, $2) END WHERE id = $3`,
			deactivated, tx.now, id)
		if err != nil {
			return fmt.Errorf("deactivate store: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return audit.Errorf(audit.ENOTFOUND, "store %q not found", id)
		}
		return nil
	})
}

// Touch moves the live assignments of a store in their shoppers' feeds
// (storage.Stores).
func (r storeRows) Touch(ctx context.Context, storeID string) error {
	return r.write(ctx, func(tx *Tx) error {
		rs, err := tx.Query(ctx, `SELECT id, shopper_id FROM assignments
			WHERE store_id = $1 AND shopper_id IS NOT NULL AND state IN ('open', 'accepted')`, storeID)
		if err != nil {
			return fmt.Errorf("store assignments: %w", err)
		}
		live, err := pgx.CollectRows(rs, func(row pgx.CollectableRow) ([2]string, error) {
			var x [2]string
			return x, row.Scan(&x[0], &x[1])
		})
		if err != nil {
			return fmt.Errorf("store assignments: %w", err)
		}
		for _, x := range live {
			if err := touchFeed(ctx, tx, x[1], feedAssignment, x[0]); err != nil {
				return err
			}
		}
		return nil
	})
}

// storeSelect reads stores (aliased s) with their managers' ids and
// names, in the order of the ids.
const storeSelect = `SELECT s.id, s.code, s.name, s.address, s.region, s.latitude, s.longitude, s.geofence_meters, s.created_at,
	COALESCE((SELECT array_agg(m.user_id ORDER BY m.user_id COLLATE "C") FROM store_managers m WHERE m.store_id = s.id), '{}'),
	COALESCE((SELECT array_agg(u.display_name ORDER BY m.user_id COLLATE "C") FROM store_managers m JOIN users u ON u.id = m.user_id
		WHERE m.store_id = s.id), '{}'),
	s.deactivated_at
	FROM stores s`

func scanStore(row pgx.Row) (*audit.Store, error) {
	var s audit.Store
	var deactivated *time.Time
	if err := row.Scan(&s.ID, &s.Code, &s.Name, &s.Address, &s.Region, &s.Latitude, &s.Longitude, &s.GeofenceMeters, &s.CreatedAt,
		&s.ManagerIDs, &s.ManagerNames, &deactivated); err != nil {
		return nil, err
	}
	if len(s.ManagerIDs) == 0 {
		s.ManagerIDs, s.ManagerNames = nil, nil
	}
	s.DeactivatedAt = timeOf(deactivated)
	return &s, nil
}

// Find returns a store in scope with its managers (storage.Stores).
// Errors: ENOTFOUND (also when the store exists outside the scope).
func (r storeRows) Find(ctx context.Context, scope audit.Scope, id string) (*audit.Store, error) {
	return r.findWhere(ctx, scope, "s.id", id, fmt.Sprintf("store %q not found", id))
}

// FindByCode returns a store in scope by its code (storage.Stores).
// Errors: ENOTFOUND (also outside the scope).
func (r storeRows) FindByCode(ctx context.Context, scope audit.Scope, code string) (*audit.Store, error) {
	return r.findWhere(ctx, scope, "s.code", code, "no store with code "+code)
}

// findWhere returns the store in scope whose column col holds value;
// notFound is the message of the ENOTFOUND error when there is none.
func (r storeRows) findWhere(ctx context.Context, scope audit.Scope, col, value, notFound string) (*audit.Store, error) {
	var a args
	q := storeSelect + ` WHERE ` + col + ` = ` + a.add(value) + ` AND ` + storeScope(&a, scope, "s.id")
	return selectOne(ctx, r.rows, "find store", notFound, scanStore, q, a...)
}

// List returns the stores matching f ordered by code (bytewise, as
// SQLite orders them), with managers (storage.Stores).
func (r storeRows) List(ctx context.Context, f audit.StoreFilter) ([]*audit.Store, error) {
	var a args
	q := storeSelect + ` WHERE ` + storeScope(&a, f.Scope, "s.id")
	if f.Region != "" {
		q += ` AND s.region = ` + a.add(f.Region)
	}
	if !f.IncludeDeactivated {
		q += ` AND s.deactivated_at IS NULL`
	}
	if f.Query != "" {
		q += ` AND ` + matchText(&a, f.Query, "s.code", "s.name")
	}
	return selectAll(ctx, r.rows, "list stores", scanStore, q+` ORDER BY s.code COLLATE "C"`, a...)
}
