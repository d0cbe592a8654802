package app

import (
	"context"
	"slices"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// CreateStore adds a store and its managers, assigning ID and CreatedAt.
// Errors: EINVALID, EEXISTS (the code is taken), ENOTFOUND (a manager).
func (a *App) CreateStore(ctx context.Context, s *audit.Store) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return a.st.Update(ctx, func(tx storage.Tx) error {
		if err := tx.Stores().Create(ctx, s); err != nil {
			return err
		}
		return setStoreManagers(ctx, tx, s)
	})
}

// setStoreManagers makes s.ManagerIDs the managers of the store s. Errors:
// ENOTFOUND (a user), EINVALID (not a manager or admin).
func setStoreManagers(ctx context.Context, tx storage.Tx, s *audit.Store) error {
	for _, m := range s.ManagerIDs {
		u, err := tx.Users().Find(ctx, m)
		if err != nil {
			return err
		}
		if u.Role != audit.RoleManager && u.Role != audit.RoleAdmin {
			return audit.Errorf(audit.EINVALID, "store %s: user %s is a %s, not a manager", s.Code, u.Email, u.Role)
		}
	}
	return tx.Stores().SetManagers(ctx, s.ID, s.ManagerIDs)
}

// UpdateStore replaces the editable fields of the store s.ID in scope:
// code, name, address, region, position, geofence, and its managers when
// setManagers; the store's live assignments move in the feeds. Errors:
// EINVALID, EEXISTS (the code is taken), ENOTFOUND, EFORBIDDEN (managers
// changed without setManagers).
func (a *App) UpdateStore(ctx context.Context, scope audit.Scope, s *audit.Store, setManagers bool) (*audit.Store, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var out *audit.Store
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		old, err := tx.Stores().Find(ctx, scope, s.ID)
		if err != nil {
			return err
		}
		if err := tx.Stores().Update(ctx, s); err != nil {
			return err
		}
		want := slices.Sorted(slices.Values(s.ManagerIDs))
		if !slices.Equal(slices.Compact(want), old.ManagerIDs) {
			if !setManagers {
				return audit.Errorf(audit.EFORBIDDEN, "store %s: only an admin may change a store's managers", old.Code)
			}
			if err := setStoreManagers(ctx, tx, s); err != nil {
				return err
			}
		}
		if err := tx.Stores().Touch(ctx, s.ID); err != nil {
			return err
		}
		out, err = tx.Stores().Find(ctx, audit.Scope{All: true}, s.ID)
		return err
	})
	return out, err
}

// SetStoreDeactivated closes (or opens again) a store. Its visits, staff
// and history stay. Errors: ENOTFOUND.
func (a *App) SetStoreDeactivated(ctx context.Context, id string, deactivated bool) (*audit.Store, error) {
	var out *audit.Store
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		if err := tx.Stores().SetDeactivated(ctx, id, deactivated); err != nil {
			return err
		}
		var err error
		out, err = tx.Stores().Find(ctx, audit.Scope{All: true}, id)
		return err
	})
	return out, err
}
