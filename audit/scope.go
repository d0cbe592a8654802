package audit

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
	if p.HasScope(ScopeReports) {
		// A BI token reads the reports of every store.
		return Scope{All: true}
	}
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
