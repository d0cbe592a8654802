package app

import (
	"context"
	"maps"
	"slices"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// The fields of a store or staff import that a file may carry; a field
// the file has no column for keeps its stored value.
const (
	FieldCode           = "code"
	FieldName           = "name"
	FieldAddress        = "address"
	FieldRegion         = "region"
	FieldLatitude       = "latitude"
	FieldLongitude      = "longitude"
	FieldGeofenceMeters = "geofence_meters"

	FieldEmployeeNumber = "employee_number"
	FieldStoreCode      = "store_code"
	FieldPosition       = "position"
	FieldDepartment     = "department"
	FieldBackOffice     = "back_office"
)

// StoreImportRow is one row of a store import: the store it describes and
// the file row it came from.
type StoreImportRow struct {
	Line  int
	Store audit.Store
}

// StaffImportRow is one row of a staff import: the employee it describes,
// the code of his store ("" when the file gives none) and the file row.
type StaffImportRow struct {
	Line      int
	Staff     audit.Staff
	StoreCode string
}

// ImportResult counts what an import did (or, validating only, would do).
type ImportResult struct {
	Created, Updated, Unchanged int
	// Transferred counts the updated employees whose store changed.
	Transferred int
}

// importProblems collects the problems of an import's rows; Path is the
// field, which the caller turns into its column.
type importProblems audit.PackErrors

func (p *importProblems) add(line int, field string, err error) {
	*p = append(*p, audit.PackError{Line: line, Path: field, Msg: audit.ErrorMessage(err)})
}

// storesByCode returns the stores in scope by code, closed ones too.
func storesByCode(ctx context.Context, tx storage.Tx, scope audit.Scope) (map[string]*audit.Store, error) {
	list, err := tx.Stores().List(ctx, audit.StoreFilter{Scope: scope, IncludeDeactivated: true})
	if err != nil {
		return nil, err
	}
	out := make(map[string]*audit.Store, len(list))
	for _, st := range list {
		out[st.Code] = st
	}
	return out, nil
}

// take sets *dst to v when the import's file has a column for field; a
// field it has none for keeps its stored value.
func take[T any](fields map[string]bool, field string, dst *T, v T) {
	if fields[field] {
		*dst = v
	}
}

// ImportStores creates the stores of rows whose code is new and updates
// the others (only the fields in fields; their managers stay), all in one
// transaction, rolled back when dryRun or when any row has a problem. A
// store changed moves its live assignments in the feeds. Rows must be
// valid and their codes distinct (the caller parses the file). Errors:
// audit.PackErrors (EINVALID) listing every row's problem with its line and
// field.
func (a *App) ImportStores(ctx context.Context, rows []StoreImportRow, fields map[string]bool, dryRun bool) (ImportResult, error) {
	var res ImportResult
	err := a.updateOrTrial(dryRun)(ctx, func(tx storage.Tx) error {
		res = ImportResult{}
		var problems importProblems
		stores, err := storesByCode(ctx, tx, audit.Scope{All: true})
		if err != nil {
			return err
		}
		for _, r := range rows {
			s := r.Store
			old := stores[s.Code]
			if old == nil {
				if err := tx.Stores().Create(ctx, &s); err != nil {
					problems.add(r.Line, FieldCode, err)
				}
				res.Created++
				continue
			}
			next := *old
			take(fields, FieldName, &next.Name, s.Name)
			take(fields, FieldAddress, &next.Address, s.Address)
			take(fields, FieldRegion, &next.Region, s.Region)
			take(fields, FieldLatitude, &next.Latitude, s.Latitude)
			take(fields, FieldLongitude, &next.Longitude, s.Longitude)
			take(fields, FieldGeofenceMeters, &next.GeofenceMeters, s.GeofenceMeters)
			if next.Name == old.Name && next.Address == old.Address && next.Region == old.Region && next.Latitude == old.Latitude &&
				next.Longitude == old.Longitude && next.GeofenceMeters == old.GeofenceMeters {
				res.Unchanged++
				continue
			}
			if err := next.Validate(); err != nil {
				problems.add(r.Line, "", err)
				continue
			}
			if err := tx.Stores().Update(ctx, &next); err != nil {
				return err
			}
			if err := tx.Stores().Touch(ctx, next.ID); err != nil {
				return err
			}
			res.Updated++
		}
		if len(problems) > 0 {
			return audit.PackErrors(problems)
		}
		return nil
	})
	return res, err
}

// ImportStaff creates the employees of rows whose employee number is new
// and updates the others (only the fields in fields), all in one
// transaction, rolled back when dryRun or when any row has a problem. A
// store code other than an employee's store moves him there from today in
// the organisation's time zone (a transfer, as TransferStaff records it, by
// the user by); an empty one
// keeps him where he is. Every store named and every employee updated
// must be in scope, so a manager imports only into his stores, and a new
// employee needs a store unless scope is All. Rows must be valid and
// their numbers distinct (the caller parses the file). Errors:
// audit.PackErrors (EINVALID) listing every row's problem with its line
// and field.
func (a *App) ImportStaff(ctx context.Context, scope audit.Scope, rows []StaffImportRow, fields map[string]bool, by string, dryRun bool) (ImportResult, error) {
	var res ImportResult
	err := a.updateOrTrial(dryRun)(ctx, func(tx storage.Tx) error {
		res = ImportResult{}
		var problems importProblems
		today, err := a.orgToday(ctx, tx)
		if err != nil {
			return err
		}
		stores, err := storesByCode(ctx, tx, scope) // the stores in scope
		if err != nil {
			return err
		}
		scoped := make(map[string]bool, len(stores)) // by id
		for _, st := range stores {
			scoped[st.ID] = true
		}
		all, err := tx.Staff().List(ctx, audit.StaffFilter{Scope: audit.Scope{All: true}, IncludeDeactivated: true})
		if err != nil {
			return err
		}
		staff := make(map[string]*audit.Staff, len(all)) // by employee number
		for _, s := range all {
			staff[s.EmployeeNumber] = s
		}
		touched := map[string]bool{} // store ids whose staff lists changed
		for _, r := range rows {
			var to *audit.Store
			if r.StoreCode != "" {
				if to = stores[r.StoreCode]; to == nil {
					problems.add(r.Line, FieldStoreCode, audit.Errorf(audit.ENOTFOUND, "no store with code %s", r.StoreCode))
					continue
				}
			}
			old := staff[r.Staff.EmployeeNumber]
			if old == nil {
				s := r.Staff
				switch {
				case to == nil && !scope.All:
					problems.add(r.Line, FieldStoreCode, audit.Errorf(audit.EINVALID, "a new employee needs the code of one of your stores"))
					continue
				case to != nil && !to.DeactivatedAt.IsZero():
					problems.add(r.Line, FieldStoreCode, audit.Errorf(audit.EINVALID, "store %s is deactivated", to.Code))
					continue
				case to != nil:
					s.StoreID = to.ID
					touched[to.ID] = true
				}
				if err := tx.Staff().Create(ctx, &s); err != nil {
					problems.add(r.Line, FieldEmployeeNumber, err)
				}
				res.Created++
				continue
			}
			if !scope.All && !scoped[old.StoreID] {
				problems.add(r.Line, FieldEmployeeNumber, audit.Errorf(audit.EINVALID,
					"employee %s is not on the staff of your stores", old.EmployeeNumber))
				continue
			}
			next := *old
			take(fields, FieldName, &next.Name, r.Staff.Name)
			take(fields, FieldPosition, &next.Position, r.Staff.Position)
			take(fields, FieldDepartment, &next.Department, r.Staff.Department)
			take(fields, FieldBackOffice, &next.BackOffice, r.Staff.BackOffice)
			moves := to != nil && to.ID != old.StoreID
			if next.Name == old.Name && next.Position == old.Position && next.Department == old.Department && next.BackOffice == old.BackOffice && !moves {
				res.Unchanged++
				continue
			}
			if err := tx.Staff().Update(ctx, &next); err != nil {
				return err
			}
			if old.StoreID != "" {
				touched[old.StoreID] = true
			}
			if moves {
				if _, err := transfer(ctx, tx, old, to, today, today, by); err != nil {
					if audit.ErrorCode(err) != audit.EPRECONDITION {
						return err
					}
					problems.add(r.Line, FieldStoreCode, err)
					continue
				}
				res.Transferred++
			}
			res.Updated++
		}
		if len(problems) > 0 {
			return audit.PackErrors(problems)
		}
		for _, id := range slices.Sorted(maps.Keys(touched)) {
			if err := tx.Stores().Touch(ctx, id); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}
