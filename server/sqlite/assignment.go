package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopscore/shopscore/audit"
)

var _ audit.AssignmentStore = (*DB)(nil)

const assignmentColumns = `a.id, a.store_id, a.checklist_id, a.checklist_version, a.channel, a.window_start, a.window_end,
	COALESCE(a.shopper_id, ''), a.state, a.cancel_reason, a.created_by, a.created_at, a.updated_at`

func scanAssignment(row interface{ Scan(...any) error }) (*audit.Assignment, error) {
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

// checkShopper returns EPRECONDITION unless id is an active shopper, and
// ENOTFOUND if there is no such user.
func checkShopper(ctx context.Context, tx *Tx, id string) error {
	u, err := findUserByID(ctx, tx, id)
	if err != nil {
		return err
	}
	switch {
	case u.Role != audit.RoleShopper:
		return audit.Errorf(audit.EPRECONDITION, "user %s is a %s, not a shopper", u.Email, u.Role)
	case u.Disabled:
		return audit.Errorf(audit.EPRECONDITION, "shopper %s is disabled", u.Email)
	}
	return nil
}

// CreateAssignment stores a in the open state (accepted when it names a
// shopper), resolving version 0 to the latest published version, and
// writes it to the shopper's sync feed in the same transaction. The store
// must be in scope, the version published, the shopper an active shopper.
// Errors: EINVALID, ENOTFOUND, EPRECONDITION.
func (db *DB) CreateAssignment(ctx context.Context, scope audit.Scope, a *audit.Assignment) error {
	return db.update(ctx, func(tx *Tx) error {
		return createAssignment(ctx, tx, scope, a)
	})
}

func createAssignment(ctx context.Context, tx *Tx, scope audit.Scope, a *audit.Assignment) error {
	st, err := findStore(ctx, tx, scope, a.StoreID)
	if err != nil {
		return err
	}
	if !st.DeactivatedAt.IsZero() {
		return audit.Errorf(audit.EPRECONDITION, "store %s is deactivated; it takes no new assignments", st.Code)
	}
	v, err := findVersion(ctx, tx, a.ChecklistID, a.ChecklistVersion)
	if err != nil {
		return err
	}
	if v.State != audit.VersionPublished {
		return audit.Errorf(audit.EPRECONDITION, "checklist %s version %d is %s; only a published version can be assigned", v.ChecklistID, v.Version, v.State)
	}
	a.ID, a.ChecklistVersion, a.Channel = uuid.NewString(), v.Version, v.Content.Channel
	a.State = audit.AssignmentOpen
	if a.ShopperID != "" {
		if err := checkShopper(ctx, tx, a.ShopperID); err != nil {
			return err
		}
		a.State = audit.AssignmentAccepted
	}
	a.CreatedAt, a.UpdatedAt = tx.now, tx.now
	if err := a.Validate(); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO assignments (id, store_id, checklist_id, checklist_version, channel, window_start, window_end,
		shopper_id, state, cancel_reason, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.StoreID, a.ChecklistID, a.ChecklistVersion, string(a.Channel), millis(a.WindowStart), millis(a.WindowEnd),
		sql.NullString{String: a.ShopperID, Valid: a.ShopperID != ""}, string(a.State), a.CancelReason, a.CreatedBy,
		millis(tx.now), millis(tx.now)); err != nil {
		return fmt.Errorf("insert assignment: %w", err)
	}
	if a.ShopperID != "" {
		return touchFeed(ctx, tx, a.ShopperID, feedAssignment, a.ID)
	}
	return nil
}

// FindAssignment returns an assignment in scope. Errors: ENOTFOUND.
func (db *DB) FindAssignment(ctx context.Context, scope audit.Scope, id string) (*audit.Assignment, error) {
	var a *audit.Assignment
	err := db.view(ctx, func(tx *Tx) error {
		var err error
		a, err = findAssignment(ctx, tx, scope, id)
		return err
	})
	return a, err
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

// UpdateAssignment reads an assignment in scope, lets fn change it, checks
// the result, and writes it back in the same transaction, together with
// the sync feed rows of its old and new shopper. fn may change the state
// (through Transition), the shopper and the cancel reason. Errors:
// ENOTFOUND, and whatever fn or validation returns.
func (db *DB) UpdateAssignment(ctx context.Context, scope audit.Scope, id string, fn func(*audit.Assignment) error) (*audit.Assignment, error) {
	var a *audit.Assignment
	err := db.update(ctx, func(tx *Tx) error {
		var err error
		if a, err = findAssignment(ctx, tx, scope, id); err != nil {
			return err
		}
		old := *a
		if err := fn(a); err != nil {
			return err
		}
		if a.ShopperID != old.ShopperID && a.ShopperID != "" {
			if err := checkShopper(ctx, tx, a.ShopperID); err != nil {
				return err
			}
		}
		a.UpdatedAt = tx.now
		if err := a.Validate(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE assignments SET shopper_id = ?, state = ?, cancel_reason = ?, updated_at = ? WHERE id = ?`,
			sql.NullString{String: a.ShopperID, Valid: a.ShopperID != ""}, string(a.State), a.CancelReason, millis(tx.now), id)
		if err != nil {
			return fmt.Errorf("update assignment: %w", err)
		}
		// Both shoppers' devices learn of the change: the old one pulls a
		// tombstone when the assignment left him, the new one an upsert.
		if old.ShopperID != "" {
			if err := touchFeed(ctx, tx, old.ShopperID, feedAssignment, id); err != nil {
				return err
			}
		}
		if a.ShopperID != "" && a.ShopperID != old.ShopperID {
			return touchFeed(ctx, tx, a.ShopperID, feedAssignment, id)
		}
		return nil
	})
	return a, err
}

// ListAssignments returns the assignments in scope matching f, by window
// start then id, at most f.Limit (100 if zero).
func (db *DB) ListAssignments(ctx context.Context, f audit.AssignmentFilter) ([]*audit.Assignment, error) {
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
	args = append(args, limit)
	var out []*audit.Assignment
	err := db.view(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAssignment(rows)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list assignments: %w", err)
	}
	return out, nil
}

// CreateAssignments creates many assignments in one transaction, each
// under its own savepoint, so that one refused item does not stop the
// others. It returns one error (or nil) per item, in order; the error
// return is for the transaction as a whole.
func (db *DB) CreateAssignments(ctx context.Context, scope audit.Scope, as []*audit.Assignment) ([]error, error) {
	errs := make([]error, len(as))
	err := db.update(ctx, func(tx *Tx) error {
		for i, a := range as {
			if _, err := tx.ExecContext(ctx, `SAVEPOINT item`); err != nil {
				return fmt.Errorf("savepoint: %w", err)
			}
			if errs[i] = createAssignment(ctx, tx, scope, a); errs[i] != nil {
				if _, err := tx.ExecContext(ctx, `ROLLBACK TO item`); err != nil {
					return fmt.Errorf("rollback to savepoint: %w", err)
				}
			}
			if _, err := tx.ExecContext(ctx, `RELEASE item`); err != nil {
				return fmt.Errorf("release savepoint: %w", err)
			}
		}
		return nil
	})
	return errs, err
}

// expireQuery expires the due assignments; its state condition is the one
// of the partial index assignments_expiry, word for word, so that SQLite
// reads that index.
const expireQuery = `UPDATE assignments SET state = 'expired', updated_at = ?
	WHERE state IN ('open', 'accepted') AND window_end <= ? RETURNING id, COALESCE(shopper_id, '')`

// ExpireAssignments moves every open or accepted assignment whose window
// ended at or before now to the expired state, and writes each one's row
// in its shopper's sync feed (a tombstone on his next pull), in one
// transaction. A visit recorded for it before the window closed is still
// accepted when it arrives, flagged assignment_expired. It returns how
// many assignments expired.
func (db *DB) ExpireAssignments(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := db.update(ctx, func(tx *Tx) error {
		n = 0
		rows, err := tx.QueryContext(ctx, expireQuery, millis(tx.now), millis(now))
		if err != nil {
			return fmt.Errorf("expire assignments: %w", err)
		}
		type expired struct{ id, shopper string }
		var es []expired
		for rows.Next() {
			var e expired
			if err := rows.Scan(&e.id, &e.shopper); err != nil {
				rows.Close()
				return err
			}
			es = append(es, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("expire assignments: %w", err)
		}
		for _, e := range es {
			if e.shopper == "" {
				continue
			}
			if err := touchFeed(ctx, tx, e.shopper, feedAssignment, e.id); err != nil {
				return err
			}
		}
		n = len(es)
		return nil
	})
	return n, err
}
