package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

var _ storage.Assignments = assignmentRows{}

const assignmentColumns = `a.id, a.store_id, a.checklist_id, a.checklist_version, a.channel, a.window_start, a.window_end,
	COALESCE(a.shopper_id, ''), a.state, a.cancel_reason, a.created_by, a.created_at, a.updated_at`

func scanAssignment(row scanner) (*audit.Assignment, error) {
	var a audit.Assignment
	var channel, state string
	var start, end, created, updated int64
	if err := row.Scan(&a.ID, &a.StoreID, &a.ChecklistID, &a.ChecklistVersion, &channel, &start, &end,
		&a.ShopperID, &state, &a.CancelReason, &a.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	a.Channel, a.State = audit.Channel(channel), audit.AssignmentState(state)
	a.WindowStart, a.WindowEnd = fromMillis(start), fromMillis(end)
	a.CreatedAt, a.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &a, nil
}

// assignmentScope returns the SQL condition selecting the assignments
// (aliased a) in scope: a manager's stores, or a shopper's own.
func assignmentScope(sc audit.Scope) (string, []any) {
	if sc.ShopperID != "" {
		return `a.shopper_id = ?`, []any{sc.ShopperID}
	}
	return storeScope(sc, "a.store_id")
}

// shopperColumn is the stored form of an assignment's shopper: NULL while
// it is open to any.
func shopperColumn(id string) sql.NullString { return sql.NullString{String: id, Valid: id != ""} }

// Create stores a (storage.Assignments).
func (r assignmentRows) Create(ctx context.Context, a *audit.Assignment) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO assignments (id, store_id, checklist_id, checklist_version, channel, window_start, window_end,
		shopper_id, state, cancel_reason, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.StoreID, a.ChecklistID, a.ChecklistVersion, string(a.Channel), millis(a.WindowStart), millis(a.WindowEnd),
			shopperColumn(a.ShopperID), string(a.State), a.CancelReason, a.CreatedBy,
			millis(a.CreatedAt), millis(a.UpdatedAt)); err != nil {
			return fmt.Errorf("insert assignment: %w", err)
		}
		return nil
	})
}

// Find returns an assignment in scope (storage.Assignments).
func (r assignmentRows) Find(ctx context.Context, scope audit.Scope, id string) (*audit.Assignment, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.Assignment, error) { return findAssignment(ctx, tx, scope, id) })
}

func findAssignment(ctx context.Context, tx *Tx, scope audit.Scope, id string) (*audit.Assignment, error) {
	cond, args := assignmentScope(scope)
	a, err := scanAssignment(tx.QueryRowContext(ctx, `SELECT `+assignmentColumns+` FROM assignments a WHERE a.id = ? AND `+cond,
		append([]any{id}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, audit.Errorf(audit.ENOTFOUND, "assignment %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find assignment: %w", err)
	}
	return a, nil
}

// Update writes a over the stored assignment (storage.Assignments).
func (r assignmentRows) Update(ctx context.Context, a *audit.Assignment) error {
	return r.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE assignments SET shopper_id = ?, state = ?, cancel_reason = ?, updated_at = ? WHERE id = ?`,
			shopperColumn(a.ShopperID), string(a.State), a.CancelReason, millis(a.UpdatedAt), a.ID)
		if err != nil {
			return fmt.Errorf("update assignment: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("update assignment: %w", err)
		} else if n == 0 {
			return audit.Errorf(audit.ENOTFOUND, "assignment %q not found", a.ID)
		}
		return nil
	})
}

// List returns the assignments in scope matching f, by window start then
// id, at most f.Limit (100 if zero) (storage.Assignments).
func (r assignmentRows) List(ctx context.Context, f storage.AssignmentFilter) ([]*audit.Assignment, error) {
	cond, args := assignmentScope(f.Scope)
	q := `SELECT ` + assignmentColumns + ` FROM assignments a WHERE ` + cond
	add := func(clause string, v ...any) {
		q += ` AND ` + clause
		args = append(args, v...)
	}
	if f.StoreID != "" {
		add(`a.store_id = ?`, f.StoreID)
	}
	if f.ShopperID != "" {
		add(`a.shopper_id = ?`, f.ShopperID)
	}
	if f.ChecklistID != "" {
		add(`a.checklist_id = ?`, f.ChecklistID)
	}
	if f.State != "" {
		add(`a.state = ?`, string(f.State))
	}
	if !f.From.IsZero() {
		add(`a.window_end > ?`, millis(f.From))
	}
	if !f.To.IsZero() {
		add(`a.window_start < ?`, millis(f.To))
	}
	if !f.AfterTime.IsZero() || f.AfterID != "" {
		add(`(a.window_start > ? OR (a.window_start = ? AND a.id > ?))`, millis(f.AfterTime), millis(f.AfterTime), f.AfterID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += ` ORDER BY a.window_start, a.id LIMIT ?`
	return get(ctx, r.rows, func(tx *Tx) ([]*audit.Assignment, error) {
		out, err := queryAll(ctx, tx, scanAssignment, q, append(args, limit)...)
		if err != nil {
			return nil, fmt.Errorf("list assignments: %w", err)
		}
		return out, nil
	})
}

// dueQuery selects the assignments whose window has ended and that may
// still expire; its state condition is the one of the partial index
// assignments_expiry, word for word, so that SQLite reads that index.
const dueQuery = `SELECT ` + assignmentColumns + ` FROM assignments a
	WHERE state IN ('open', 'accepted') AND window_end <= ? ORDER BY window_end`

// Due returns the open or accepted assignments whose window ended at or
// before now (storage.Assignments).
func (r assignmentRows) Due(ctx context.Context, now time.Time) ([]*audit.Assignment, error) {
	return get(ctx, r.rows, func(tx *Tx) ([]*audit.Assignment, error) {
		out, err := queryAll(ctx, tx, scanAssignment, dueQuery, millis(now))
		if err != nil {
			return nil, fmt.Errorf("due assignments: %w", err)
		}
		return out, nil
	})
}

// Refs returns the store, checklist version and shopper a names
// (storage.Assignments).
func (r assignmentRows) Refs(ctx context.Context, scope audit.Scope, a *audit.Assignment) (*storage.AssignmentRefs, error) {
	return get(ctx, r.rows, func(tx *Tx) (*storage.AssignmentRefs, error) {
		var out storage.AssignmentRefs
		var err error
		if a.StoreID != "" {
			if out.Store, err = findStore(ctx, tx, scope, a.StoreID); err != nil {
				return nil, err
			}
		}
		if a.ChecklistID != "" {
			if out.Checklist, err = findVersion(ctx, tx, a.ChecklistID, a.ChecklistVersion); err != nil {
				return nil, err
			}
		}
		if a.ShopperID != "" {
			if out.Shopper, err = findUserByID(ctx, tx, a.ShopperID); err != nil {
				return nil, err
			}
		}
		return &out, nil
	})
}

// SetStateFrom stores an assignment's shopper and state while it is in
// state from (storage.Assignments).
func (r assignmentRows) SetStateFrom(ctx context.Context, a *audit.Assignment, from audit.AssignmentState) (bool, error) {
	return put(ctx, r.rows, func(tx *Tx) (bool, error) {
		res, err := tx.ExecContext(ctx, `UPDATE assignments SET shopper_id = ?, state = ?, updated_at = ? WHERE id = ? AND state = ?`,
			nullString(a.ShopperID), string(a.State), millis(tx.now), a.ID, string(from))
		if err != nil {
			return false, fmt.Errorf("set assignment %s %s: %w", a.ID, a.State, err)
		}
		n, err := res.RowsAffected()
		return n == 1, err
	})
}
