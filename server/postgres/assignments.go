package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

const assignmentColumns = `a.id, a.store_id, a.checklist_id, a.checklist_version, a.channel, a.window_start, a.window_end,
	COALESCE(a.shopper_id, ''), a.state, a.cancel_reason, a.created_by, a.created_at, a.updated_at`

func scanAssignment(row pgx.Row) (*audit.Assignment, error) {
	var a audit.Assignment
	var channel, state string
	if err := row.Scan(&a.ID, &a.StoreID, &a.ChecklistID, &a.ChecklistVersion, &channel, &a.WindowStart, &a.WindowEnd,
		&a.ShopperID, &state, &a.CancelReason, &a.CreatedBy, &a.CreatedAt, &a.UpdatedAt); err != nil {
		return nil, err
	}
	a.Channel, a.State = audit.Channel(channel), audit.AssignmentState(state)
	return &a, nil
}

// assignmentScope returns the condition selecting the assignments
// (aliased a) in scope, a manager's stores or a shopper's own, adding its
// arguments to q.
func assignmentScope(q *args, sc audit.Scope) string {
	if sc.ShopperID != "" {
		return `a.shopper_id = ` + q.add(sc.ShopperID)
	}
	return storeScope(q, sc, "a.store_id")
}

// Create stores a as it is (storage.Assignments).
func (r assignmentRows) Create(ctx context.Context, a *audit.Assignment) error {
	_, err := exec(ctx, r.rows, "insert assignment", `INSERT INTO assignments (id, store_id, checklist_id, checklist_version, channel,
		window_start, window_end, shopper_id, state, cancel_reason, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		a.ID, a.StoreID, a.ChecklistID, a.ChecklistVersion, string(a.Channel), ms(a.WindowStart), ms(a.WindowEnd),
		nullString(a.ShopperID), string(a.State), a.CancelReason, a.CreatedBy, ms(a.CreatedAt), ms(a.UpdatedAt))
	return err
}

// Find returns an assignment in scope (storage.Assignments). Errors:
// ENOTFOUND (also outside the scope).
func (r assignmentRows) Find(ctx context.Context, scope audit.Scope, id string) (*audit.Assignment, error) {
	var q args
	stmt := `SELECT ` + assignmentColumns + ` FROM assignments a WHERE a.id = ` + q.add(id) + ` AND ` + assignmentScope(&q, scope)
	return selectOne(ctx, r.rows, "find assignment", fmt.Sprintf("assignment %q not found", id), scanAssignment, stmt, q...)
}

// Update writes a's shopper, state, cancel reason and update time over
// the stored assignment (storage.Assignments). Errors: ENOTFOUND.
func (r assignmentRows) Update(ctx context.Context, a *audit.Assignment) error {
	n, err := exec(ctx, r.rows, "update assignment", `UPDATE assignments SET shopper_id = $1, state = $2, cancel_reason = $3, updated_at = $4
		WHERE id = $5`, nullString(a.ShopperID), string(a.State), a.CancelReason, ms(a.UpdatedAt), a.ID)
	if err == nil && n == 0 {
		return audit.Errorf(audit.ENOTFOUND, "assignment %q not found", a.ID)
	}
	return err
}

// SetStateFrom stores an assignment's shopper and state, stamped with the
// transaction's time, while it is in state from (storage.Assignments).
// The UPDATE's condition is read under the row's lock: of two
// transactions moving the same assignment from the same state, the second
// waits for the first and then finds it moved (or, SERIALIZABLE, is run
// again).
func (r assignmentRows) SetStateFrom(ctx context.Context, a *audit.Assignment, from audit.AssignmentState) (bool, error) {
	changed := false
	err := r.write(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE assignments SET shopper_id = $1, state = $2, updated_at = $3 WHERE id = $4 AND state = $5`,
			nullString(a.ShopperID), string(a.State), tx.now, a.ID, string(from))
		if err != nil {
			return fmt.Errorf("set assignment %s %s: %w", a.ID, a.State, err)
		}
		changed = tag.RowsAffected() == 1
		return nil
	})
	return changed, err
}

// List returns the assignments in scope matching f, by window start then
// id (bytewise, as SQLite orders them), at most f.Limit (100 if zero)
// (storage.Assignments).
func (r assignmentRows) List(ctx context.Context, f storage.AssignmentFilter) ([]*audit.Assignment, error) {
	var q args
	stmt := `SELECT ` + assignmentColumns + ` FROM assignments a WHERE ` + assignmentScope(&q, f.Scope)
	if f.StoreID != "" {
		stmt += ` AND a.store_id = ` + q.add(f.StoreID)
	}
	if f.ShopperID != "" {
		stmt += ` AND a.shopper_id = ` + q.add(f.ShopperID)
	}
	if f.ChecklistID != "" {
		stmt += ` AND a.checklist_id = ` + q.add(f.ChecklistID)
	}
	if f.State != "" {
		stmt += ` AND a.state = ` + q.add(string(f.State))
	}
	if !f.From.IsZero() {
		stmt += ` AND a.window_end > ` + q.add(ms(f.From))
	}
	if !f.To.IsZero() {
		stmt += ` AND a.window_start < ` + q.add(ms(f.To))
	}
	if !f.AfterTime.IsZero() || f.AfterID != "" {
		at := q.add(ms(f.AfterTime))
		stmt += ` AND (a.window_start > ` + at + ` OR (a.window_start = ` + at + ` AND a.id COLLATE "C" > ` + q.add(f.AfterID) + `))`
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	stmt += ` ORDER BY a.window_start, a.id COLLATE "C" LIMIT ` + q.add(limit)
	return selectAll(ctx, r.rows, "list assignments", scanAssignment, stmt, q...)
}

// dueQuery selects the assignments whose window has ended at or before
// $1 and that may still expire. Its state condition is the predicate of
// the partial index assignments_expiry, word for word, so that the
// planner can read that index alone (by window end) instead of every
// assignment ever made.
const dueQuery = `SELECT ` + assignmentColumns + ` FROM assignments a
	WHERE state IN ('open', 'accepted') AND window_end <= $1 ORDER BY window_end`

// dueClaim makes a write transaction's Due claim the rows it returns.
// Several servers expire assignments at the same moment: FOR UPDATE locks
// each due row for the transaction that read it, and SKIP LOCKED makes
// the others pass over the rows already claimed instead of waiting for
// them, so each assignment is expired, and its feed rows written, by one
// transaction only. (SERIALIZABLE alone would also keep it once, by
// aborting the second expiry when the first commits; the claim spares
// that wait and the run again.) A row claimed by a transaction that then
// rolls back is due again at the next expiry.
const dueClaim = ` FOR UPDATE OF a SKIP LOCKED`

// Due returns the open or accepted assignments whose window ended at or
// before now, by window end (storage.Assignments). In a write
// transaction it returns only those no other transaction holds, and
// holds them until it ends (dueClaim).
func (r assignmentRows) Due(ctx context.Context, now time.Time) ([]*audit.Assignment, error) {
	stmt := dueQuery
	if r.tx != nil && !r.tx.readOnly {
		stmt += dueClaim
	}
	return selectAll(ctx, r.rows, "due assignments", scanAssignment, stmt, ms(now))
}

// Refs returns the store in scope, the checklist version and the shopper
// a names, in one snapshot (storage.Assignments). Errors: ENOTFOUND.
func (r assignmentRows) Refs(ctx context.Context, scope audit.Scope, a *audit.Assignment) (*storage.AssignmentRefs, error) {
	return query(ctx, r.rows, func(tx *Tx) (*storage.AssignmentRefs, error) {
		var out storage.AssignmentRefs
		var err error
		if a.StoreID != "" {
			if out.Store, err = (storeRows{in(tx.db, tx)}).Find(ctx, scope, a.StoreID); err != nil {
				return nil, err
			}
		}
		if a.ChecklistID != "" {
			if out.Checklist, err = findVersion(ctx, tx, a.ChecklistID, a.ChecklistVersion); err != nil {
				return nil, err
			}
		}
		if a.ShopperID != "" {
			if out.Shopper, err = findUser(ctx, tx, a.ShopperID); err != nil {
				return nil, err
			}
		}
		return &out, nil
	})
}
