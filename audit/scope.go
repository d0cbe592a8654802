package audit

import (
	"context"
)

// Scope is what part of the organisation a caller may see. Storage applies
// it inside its queries, so that object-level authorization cannot be
// forgotten by a handler: a manager's queries only ever touch the stores he
// manages, a shopper's only his own assignments.
type Scope struct {
	All       bool   // admins and HR
	ManagerID string // a manager: the stores he manages
	ShopperID string // a shopper: his assignments and their stores
}

// ScopeOf returns the scope of an authenticated caller.
func ScopeOf(p Principal) Scope {
	switch p.Role {
	case RoleAdmin, RoleHR:
		return Scope{All: true}
	case RoleManager:
		return Scope{ManagerID: p.UserID}
	case RoleShopper:
		return Scope{ShopperID: p.UserID}
	}
	return Scope{} // sees nothing
}

// StoreFilter selects stores.
type StoreFilter struct {
	Scope              Scope
	Region             string // "" for any
	IncludeDeactivated bool
	Query              string // code or name contains, any case
}

// StaffFilter selects staff, by employee number.
type StaffFilter struct {
	Scope              Scope
	StoreID            string // "" for any
	IncludeDeactivated bool
	Query              string // name or employee number contains, any case
	AfterNumber        string // continue after this employee number
	Limit              int    // 0 for all
}

// VersionFilter selects checklist versions.
type VersionFilter struct {
	Channel       Channel // "" for any
	ChecklistID   string  // "" for any
	PublishedOnly bool    // published and retired versions only
}

// OrgStore keeps stores and staff. Errors: EINVALID, EEXISTS, ENOTFOUND
// (including a store outside the scope).
type OrgStore interface {
	CreateStore(ctx context.Context, s *Store) error
	FindStore(ctx context.Context, scope Scope, id string) (*Store, error)
	ListStores(ctx context.Context, f StoreFilter) ([]*Store, error)
	CreateStaff(ctx context.Context, scope Scope, s *Staff) error
	ListStaff(ctx context.Context, f StaffFilter) ([]*Staff, error)
	ListShoppers(ctx context.Context, query string) ([]*User, error)
}

// ChecklistStore keeps checklists and their versions. A published version
// never changes. Errors: EINVALID, ENOTFOUND, EPRECONDITION.
type ChecklistStore interface {
	// SaveDraft stores c as the draft of its checklist: a new checklist's
	// version 1, the next version after the last published one, or in
	// place of an existing draft.
	SaveDraft(ctx context.Context, c *Checklist, by string) (*ChecklistVersion, error)
	PublishVersion(ctx context.Context, checklistID string, version int) (*ChecklistVersion, error)
	// RetireVersion retires a published version for a caller with scope;
	// see Retire for who may. Errors: EFORBIDDEN too.
	RetireVersion(ctx context.Context, scope Scope, checklistID string, version int) (*ChecklistVersion, error)
	// FindVersion returns a version; version 0 is the latest published.
	FindVersion(ctx context.Context, checklistID string, version int) (*ChecklistVersion, error)
	ListVersions(ctx context.Context, f VersionFilter) ([]*ChecklistVersion, error)
}
