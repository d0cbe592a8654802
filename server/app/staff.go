package app

import (
	"context"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// CreateStaff adds an employee, assigning ID and CreatedAt; his store must
// be in scope, and only a caller who sees all may add one with no store.
// The store's live assignments move in the feeds. Errors: EINVALID,
// EEXISTS (the employee number is taken), ENOTFOUND (the store, or a store
// outside the scope).
func (a *App) CreateStaff(ctx context.Context, scope audit.Scope, s *audit.Staff) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if s.StoreID == "" && !scope.All {
		return audit.Errorf(audit.EINVALID, "staff %s: store_id is required", s.EmployeeNumber)
	}
	return a.st.Update(ctx, func(tx storage.Tx) error {
		if s.StoreID != "" {
			if _, err := tx.Stores().Find(ctx, scope, s.StoreID); err != nil {
				return err
			}
		}
		if err := tx.Staff().Create(ctx, s); err != nil {
			return err
		}
		if s.StoreID != "" {
			return tx.Stores().Touch(ctx, s.StoreID)
		}
		return nil
	})
}

// FindStaff returns an employee of the stores in scope by id or, when id
// is empty, by employee number, with his transfers newest first. Errors:
// ENOTFOUND (also outside the scope).
func (a *App) FindStaff(ctx context.Context, scope audit.Scope, id, number string) (*audit.Staff, []audit.StaffTransfer, error) {
	var s *audit.Staff
	var ts []audit.StaffTransfer
	err := a.st.View(ctx, func(tx storage.Tx) error {
		var err error
		if id != "" {
			s, err = tx.Staff().Find(ctx, scope, id)
		} else {
			s, err = tx.Staff().FindByNumber(ctx, scope, number)
		}
		if err != nil {
			return err
		}
		ts, err = tx.Staff().Transfers(ctx, s.ID, false)
		return err
	})
	return s, ts, err
}

// PendingTransfer returns the employee's transfer waiting for its day, if
// any.
func (a *App) PendingTransfer(ctx context.Context, staffID string) (*audit.StaffTransfer, error) {
	ts, err := a.st.Staff().Transfers(ctx, staffID, true)
	if err != nil || len(ts) == 0 {
		return nil, err
	}
	return &ts[0], nil
}

// UpdateStaff replaces the editable fields of the employee s.ID in scope:
// employee number, name, position, department, back office. Errors:
// EINVALID, EEXISTS (the number is taken), ENOTFOUND.
func (a *App) UpdateStaff(ctx context.Context, scope audit.Scope, s *audit.Staff) (*audit.Staff, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return a.changeStaff(ctx, scope, s.ID, func(tx storage.Tx) error { return tx.Staff().Update(ctx, s) })
}

// SetStaffDeactivated marks an employee of the stores in scope as gone (or
// back). Visits naming him stay. Errors: ENOTFOUND.
func (a *App) SetStaffDeactivated(ctx context.Context, scope audit.Scope, id string, deactivated bool) (*audit.Staff, error) {
	return a.changeStaff(ctx, scope, id, func(tx storage.Tx) error { return tx.Staff().SetDeactivated(ctx, id, deactivated) })
}

// changeStaff runs change on the employee id of the stores in scope, moves
// his store's live assignments in the feeds and returns him as changed.
func (a *App) changeStaff(ctx context.Context, scope audit.Scope, id string, change func(storage.Tx) error) (*audit.Staff, error) {
	var out *audit.Staff
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		old, err := tx.Staff().Find(ctx, scope, id)
		if err != nil {
			return err
		}
		if err := change(tx); err != nil {
			return err
		}
		if old.StoreID != "" {
			if err := tx.Stores().Touch(ctx, old.StoreID); err != nil {
				return err
			}
		}
		out, err = tx.Staff().Find(ctx, audit.Scope{All: true}, id)
		return err
	})
	return out, err
}

// TransferStaff records, for the user by, the move of an employee of the
// stores in scope to the store toStoreID (also in scope) from date on
// (YYYY-MM-DD; "" for today in the organisation's time zone); a date not
// after today applies at once. A transfer not yet applied is replaced.
// Errors: EINVALID (the date), ENOTFOUND, EPRECONDITION (the target store
// or the employee is deactivated, or he is at that store already).
func (a *App) TransferStaff(ctx context.Context, scope audit.Scope, staffID, toStoreID, date, by string) (*audit.Staff, *audit.StaffTransfer, error) {
	if date != "" {
		if _, err := time.Parse(time.DateOnly, date); err != nil {
			return nil, nil, audit.Errorf(audit.EINVALID, "effective_date: %q is not a date YYYY-MM-DD", date)
		}
	}
	var out *audit.Staff
	var tr *audit.StaffTransfer
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		today, err := a.orgToday(ctx, tx)
		if err != nil {
			return err
		}
		if date == "" {
			date = today
		}
		s, err := tx.Staff().Find(ctx, scope, staffID)
		if err != nil {
			return err
		}
		to, err := tx.Stores().Find(ctx, scope, toStoreID)
		if err != nil {
			return err
		}
		id, err := transfer(ctx, tx, s, to, date, today, by)
		if err != nil {
			return err
		}
		if tr, err = tx.Staff().FindTransfer(ctx, id); err != nil {
			return err
		}
		out, err = tx.Staff().Find(ctx, audit.Scope{All: true}, staffID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return out, tr, nil
}

// transfer records the move of employee s to store to from date on,
// replacing a transfer not yet applied, and applies it when date is not
// after today; it returns the transfer's id. Errors: EPRECONDITION (the
// store or the employee is deactivated, or he is at that store already).
func transfer(ctx context.Context, tx storage.Tx, s *audit.Staff, to *audit.Store, date, today, by string) (string, error) {
	switch {
	case !to.DeactivatedAt.IsZero():
		return "", audit.Errorf(audit.EPRECONDITION, "store %s is deactivated", to.Code)
	case !s.DeactivatedAt.IsZero():
		return "", audit.Errorf(audit.EPRECONDITION, "staff %s is deactivated; reactivate him first", s.EmployeeNumber)
	case s.StoreID == to.ID:
		return "", audit.Errorf(audit.EPRECONDITION, "staff %s already works at %s", s.EmployeeNumber, to.Code)
	}
	if err := tx.Staff().DropPendingTransfers(ctx, s.ID); err != nil {
		return "", err
	}
	t := &audit.StaffTransfer{StaffID: s.ID, FromStoreID: s.StoreID, ToStoreID: to.ID, EffectiveDate: date, CreatedBy: by}
	if err := tx.Staff().AddTransfer(ctx, t); err != nil {
		return "", err
	}
	if date <= today {
		if err := applyTransfer(ctx, tx, *t); err != nil {
			return "", err
		}
	}
	return t.ID, nil
}

// applyTransfer moves the employee of t to its store, and both stores'
// live assignments in their shoppers' feeds (phones pull the new staff
// lists).
func applyTransfer(ctx context.Context, tx storage.Tx, t audit.StaffTransfer) error {
	if err := tx.Staff().ApplyTransfer(ctx, t); err != nil {
		return err
	}
	for _, st := range []string{t.FromStoreID, t.ToStoreID} {
		if st == "" {
			continue
		}
		if err := tx.Stores().Touch(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

// ApplyDueTransfers applies every transfer dated today (in the
// organisation's time zone) or earlier that is still waiting, and returns
// how many it applied.
func (a *App) ApplyDueTransfers(ctx context.Context) (int, error) {
	n := 0
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		today, err := a.orgToday(ctx, tx)
		if err != nil {
			return err
		}
		due, err := tx.Staff().DueTransfers(ctx, today)
		if err != nil {
			return err
		}
		for _, t := range due {
			if err := applyTransfer(ctx, tx, t); err != nil {
				return err
			}
		}
		n = len(due)
		return nil
	})
	return n, err
}

// orgToday returns today's date, YYYY-MM-DD, in the organisation's time
// zone as tx sees it.
func (a *App) orgToday(ctx context.Context, tx storage.Tx) (string, error) {
	st, err := tx.OrgSettings().Find(ctx)
	if err != nil {
		return "", err
	}
	loc, err := time.LoadLocation(st.TimeZone)
	if err != nil {
		return "", audit.Errorf(audit.EINTERNAL, "stored time zone %q: %v", st.TimeZone, err)
	}
	return a.now().In(loc).Format(time.DateOnly), nil
}
