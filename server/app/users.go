package app

import (
	"context"
	"strings"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// CreateUser adds u with its password hash, its e-mail in lower case,
// and records the event. Errors: EINVALID, EEXISTS (the e-mail is taken).
func (a *App) CreateUser(ctx context.Context, u *audit.User, passwordHash string) error {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if err := u.Validate(); err != nil {
		return err
	}
	return a.st.Update(ctx, func(tx storage.Tx) error {
		if err := tx.Users().Create(ctx, u, passwordHash); err != nil {
			return err
		}
		return tx.SecurityEvents().Add(ctx, audit.SecurityEvent{Kind: audit.EventUserCreated, UserID: u.ID, Detail: string(u.Role)})
	})
}

// SetUserDisabled disables or enables a user, from peer. Disabling also
// revokes every session of the user, so his next call is refused. Errors:
// ENOTFOUND.
func (a *App) SetUserDisabled(ctx context.Context, id string, disabled bool, peer string) (*audit.User, error) {
	var u *audit.User
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		if err := tx.Users().SetDisabled(ctx, id, disabled); err != nil {
			return err
		}
		kind := audit.EventUserEnabled
		if disabled {
			kind = audit.EventUserDisabled
			if _, err := tx.Sessions().RevokeUser(ctx, id, "user disabled"); err != nil {
				return err
			}
		}
		if err := tx.SecurityEvents().Add(ctx, audit.SecurityEvent{Kind: kind, UserID: id, Peer: peer}); err != nil {
			return err
		}
		var err error
		u, err = tx.Users().Find(ctx, id)
		return err
	})
	return u, err
}

// ResetPassword replaces a user's password hash and revokes all his
// sessions, recording the event; it returns how many sessions it revoked.
// Errors: ENOTFOUND.
func (a *App) ResetPassword(ctx context.Context, id, passwordHash, peer string) (int, error) {
	n := 0
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		if err := tx.Users().SetPassword(ctx, id, passwordHash); err != nil {
			return err
		}
		var err error
		if n, err = tx.Sessions().RevokeUser(ctx, id, "password reset"); err != nil {
			return err
		}
		return tx.SecurityEvents().Add(ctx, audit.SecurityEvent{Kind: audit.EventPasswordReset, UserID: id, Peer: peer})
	})
	return n, err
}

// ChangeRole gives a user another role; one who is no longer a manager or
// admin keeps no stores. An employee's account (audit.RoleStaff) neither
// gets nor leaves its role this way. Errors: ENOTFOUND, EINVALID.
func (a *App) ChangeRole(ctx context.Context, id string, role audit.Role, peer string) (*audit.User, error) {
	var u *audit.User
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		old, err := tx.Users().Find(ctx, id)
		if err != nil {
			return err
		}
		if (role == audit.RoleStaff) != (old.Role == audit.RoleStaff) && role != old.Role {
			return audit.Errorf(audit.EINVALID, "user %s: an employee's account is made by invitation and keeps its role; "+
				"the role cannot change between %s and %s", old.Email, old.Role, role)
		}
		if err := tx.Users().SetRole(ctx, id, role); err != nil {
			return err
		}
		if role != audit.RoleManager && role != audit.RoleAdmin {
			if err := tx.Users().SetManagedStores(ctx, id, nil); err != nil {
				return err
			}
		}
		if err := tx.SecurityEvents().Add(ctx, audit.SecurityEvent{Kind: audit.EventRoleChanged, UserID: id, Peer: peer,
			Detail: string(old.Role) + " -> " + string(role)}); err != nil {
			return err
		}
		u, err = tx.Users().Find(ctx, id)
		return err
	})
	return u, err
}

// SetManagedStores replaces the stores a manager manages. Errors:
// ENOTFOUND (the user or a store), EINVALID (not a manager).
func (a *App) SetManagedStores(ctx context.Context, userID string, storeIDs []string) error {
	return a.st.Update(ctx, func(tx storage.Tx) error {
		u, err := tx.Users().Find(ctx, userID)
		if err != nil {
			return err
		}
		if u.Role != audit.RoleManager {
			return audit.Errorf(audit.EINVALID, "user %s is a %s; only a manager manages stores", u.Email, u.Role)
		}
		for _, id := range storeIDs {
			if _, err := tx.Stores().Find(ctx, audit.Scope{All: true}, id); err != nil {
				return err
			}
		}
		return tx.Users().SetManagedStores(ctx, userID, storeIDs)
	})
}

// ManagedStores returns the stores a user manages, by code, closed ones
// too.
func (a *App) ManagedStores(ctx context.Context, userID string) ([]*audit.Store, error) {
	return a.st.Stores().List(ctx, audit.StoreFilter{Scope: audit.Scope{ManagerID: userID}, IncludeDeactivated: true})
}

// ListShoppers returns the active shoppers by e-mail, those whose name or
// e-mail contains query when it is not empty.
func (a *App) ListShoppers(ctx context.Context, query string) ([]*audit.User, error) {
	return a.st.Users().List(ctx, storage.UserFilter{Role: audit.RoleShopper, Query: query, ActiveOnly: true})
}
