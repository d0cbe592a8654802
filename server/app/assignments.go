package app

import (
	"context"
	"fmt"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// CreateAssignment creates a in scope: its store must be in scope and
// active, its checklist version (0: the latest published) published, its
// shopper, when it names one, an active shopper. It is stored open, or
// accepted when it names a shopper, with the version's channel, and
// reaches the shopper's sync feed in the same transaction. a receives its
// id, version, channel, state and times. Errors: EINVALID, ENOTFOUND,
// EPRECONDITION.
func (a *App) CreateAssignment(ctx context.Context, scope audit.Scope, as *audit.Assignment) error {
	return a.st.Update(ctx, func(tx storage.Tx) error { return createAssignment(ctx, tx, scope, as) })
}

// CreateAssignments creates many assignments in one transaction, judging
// each as CreateAssignment does; one refused item does not stop the
// others. It returns one error (or nil) per item, in order; the error
// return is for the transaction as a whole (a storage failure stores
// none of them).
func (a *App) CreateAssignments(ctx context.Context, scope audit.Scope, as []*audit.Assignment) ([]error, error) {
	var errs []error
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		errs = make([]error, len(as))
		for i, x := range as {
			err := createAssignment(ctx, tx, scope, x)
			if audit.ErrorCode(err) == audit.EINTERNAL {
				return err
			}
			errs[i] = err
		}
		return nil
	})
	return errs, err
}

// createAssignment is CreateAssignment in tx. Every rule is judged before
// anything is stored, so a refused item leaves tx as it was.
func createAssignment(ctx context.Context, tx storage.Tx, scope audit.Scope, as *audit.Assignment) error {
	refs, err := tx.Assignments().Refs(ctx, scope, &audit.Assignment{StoreID: as.StoreID, ChecklistID: as.ChecklistID,
		ChecklistVersion: as.ChecklistVersion, ShopperID: as.ShopperID})
	if err != nil {
		return err
	}
	if refs.Store == nil || refs.Checklist == nil {
		return as.Validate() // names no store or no checklist: EINVALID
	}
	if !refs.Store.DeactivatedAt.IsZero() {
		return audit.Errorf(audit.EPRECONDITION, "store %s is deactivated; it takes no new assignments", refs.Store.Code)
	}
	v := refs.Checklist
	if v.State != audit.VersionPublished {
		return audit.Errorf(audit.EPRECONDITION, "checklist %s version %d is %s; only a published version can be assigned", v.ChecklistID, v.Version, v.State)
	}
	next := *as
	next.ID, next.ChecklistVersion, next.Channel = newID(), v.Version, v.Content.Channel
	next.State = audit.AssignmentOpen
	if next.ShopperID != "" {
		if err := checkShopper(refs.Shopper); err != nil {
			return err
		}
		next.State = audit.AssignmentAccepted
	}
	next.CreatedAt, next.UpdatedAt = tx.Now(), tx.Now()
	if err := next.Validate(); err != nil {
		return err
	}
	if err := tx.Assignments().Create(ctx, &next); err != nil {
		return err
	}
	if err := touchAssignmentFeeds(ctx, tx, "", &next); err != nil {
		return err
	}
	*as = next
	return nil
}

// touchAssignmentFeeds writes an assignment's row in the sync feed of the
// shopper it left (his next pull gets its tombstone) and of the shopper it
// names now (an upsert), in the caller's transaction: every change of an
// assignment reaches the phones it concerns (docs/DESIGN.md §3).
func touchAssignmentFeeds(ctx context.Context, tx storage.Tx, oldShopper string, as *audit.Assignment) error {
	if oldShopper != "" {
		if err := tx.Feed().Touch(ctx, oldShopper, storage.FeedKindAssignment, as.ID); err != nil {
			return err
		}
	}
	if as.ShopperID != "" && as.ShopperID != oldShopper {
		return tx.Feed().Touch(ctx, as.ShopperID, storage.FeedKindAssignment, as.ID)
	}
	return nil
}

// checkShopper returns EPRECONDITION unless u is an active shopper.
func checkShopper(u *audit.User) error {
	switch {
	case u.Role != audit.RoleShopper:
		return audit.Errorf(audit.EPRECONDITION, "user %s is a %s, not a shopper", u.Email, u.Role)
	case u.Disabled:
		return audit.Errorf(audit.EPRECONDITION, "shopper %s is disabled", u.Email)
	}
	return nil
}

// CancelAssignment cancels an assignment in scope, with reason, through
// its life cycle (audit.Assignment.Transition). Errors: ENOTFOUND,
// EPRECONDITION (already final).
func (a *App) CancelAssignment(ctx context.Context, scope audit.Scope, id, reason string) (*audit.Assignment, error) {
	return a.updateAssignment(ctx, scope, id, func(as *audit.Assignment) error {
		as.CancelReason = reason
		return as.Transition(audit.AssignmentCancelled)
	})
}

// ReassignAssignment gives an open or accepted assignment in scope to
// shopper, an active shopper, who holds it accepted; with no shopper it is
// open to any again. Errors: ENOTFOUND, EPRECONDITION.
func (a *App) ReassignAssignment(ctx context.Context, scope audit.Scope, id, shopper string) (*audit.Assignment, error) {
	return a.updateAssignment(ctx, scope, id, func(as *audit.Assignment) error {
		if as.State != audit.AssignmentOpen && as.State != audit.AssignmentAccepted {
			return audit.Errorf(audit.EPRECONDITION, "assignment %s is %s; only an open or accepted assignment can be reassigned", as.ID, as.State)
		}
		as.ShopperID = shopper
		if as.ShopperID == "" {
			as.State = audit.AssignmentOpen
		} else {
			as.State = audit.AssignmentAccepted
		}
		return nil
	})
}

// updateAssignment reads an assignment in scope, lets change change it,
// checks the result (a new shopper must be an active one) and stores it,
// in one transaction; nothing is stored when change or a check refuses.
func (a *App) updateAssignment(ctx context.Context, scope audit.Scope, id string, change func(*audit.Assignment) error) (*audit.Assignment, error) {
	var out *audit.Assignment
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		as, err := tx.Assignments().Find(ctx, scope, id)
		if err != nil {
			return err
		}
		old := as.ShopperID
		if err := change(as); err != nil {
			return err
		}
		if as.ShopperID != old && as.ShopperID != "" {
			refs, err := tx.Assignments().Refs(ctx, audit.Scope{All: true}, &audit.Assignment{ShopperID: as.ShopperID})
			if err != nil {
				return err
			}
			if err := checkShopper(refs.Shopper); err != nil {
				return err
			}
		}
		as.UpdatedAt = tx.Now()
		if err := as.Validate(); err != nil {
			return err
		}
		if err := tx.Assignments().Update(ctx, as); err != nil {
			return err
		}
		if err := touchAssignmentFeeds(ctx, tx, old, as); err != nil {
			return err
		}
		out = as
		return nil
	})
	return out, err
}

// ExpireAssignments moves every open or accepted assignment whose window
// ended at or before the transaction's time to the expired state, through
// its life cycle, and writes each one's row in its shopper's sync feed (a
// tombstone on his next pull), in one transaction. A visit recorded for
// it before the window closed is still accepted when it arrives, flagged
// assignment_expired. It returns how many assignments expired.
func (a *App) ExpireAssignments(ctx context.Context) (int, error) {
	n := 0
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		due, err := tx.Assignments().Due(ctx, tx.Now())
		if err != nil {
			return err
		}
		for _, as := range due {
			if err := as.Transition(audit.AssignmentExpired); err != nil {
				return fmt.Errorf("storage found assignment %s due though it cannot expire: %v", as.ID, err)
			}
			as.UpdatedAt = tx.Now()
			if err := tx.Assignments().Update(ctx, as); err != nil {
				return err
			}
			if err := touchAssignmentFeeds(ctx, tx, as.ShopperID, as); err != nil {
				return err
			}
		}
		n = len(due)
		return nil
	})
	return n, err
}
